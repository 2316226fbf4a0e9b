// TAXII 2.1 as a platform module: every path under /taxii2/ goes to the
// TaxiiService (which answers the standard's own 404/405/406s). The daemon
// applies the node's boundary rules and signatures around it.
#pragma once

#include "platform/module.h"
#include "platform/services.h"
#include "taxii/taxii.h"

namespace kizuna::taxii {

class TaxiiModule final : public platform::Module {
 public:
  explicit TaxiiModule(const platform::NodeServices* services) : services_(services) {}
  std::string_view name() const override { return "taxii"; }
  void AddRoutes(platform::RouteTable& routes) override {
    auto handle = [this](const http::Request& request, const store::User& user,
                         const platform::PathParams&) {
      return services_->taxii->Handle(request, user);
    };
    for (const char* method : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}) {
      // A POST (an import: validation of up to limits.max_objects_per_request
      // objects and the store's write) runs on the server's import lane, so
      // that large imports cannot hold the I/O threads, and matching that
      // fills the work lane cannot keep a partner's push waiting or
      // refused. Not rate-limited: partners push in bursts, and the size
      // limits bound each request.
      routes.Add(method, "/taxii2/{path...}", handle,
                 {.lane = std::string_view(method) == "POST" ? platform::Lane::kImport
                                                             : platform::Lane::kIo});
    }
  }

 private:
  const platform::NodeServices* services_;
};

}  // namespace kizuna::taxii
