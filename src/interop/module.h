// The interop module: what kizuna exchanges with partners and tools that do
// not speak TAXII. Indicator lists in (`kizuna import --format text|csv`,
// POST /api/v1/interop/import), exports for the tools that enforce
// indicators (`kizuna export --format suricata-rules|…`, GET
// /api/v1/interop/export/{format}, with ETag and Last-Modified so a sensor
// polls cheaply), and the STIX bundles `kizuna import` / `export` always
// took; and public advisories (advisories.h), the one public part. Every
// export asks the sharing decision: over HTTP the fetcher sees what TAXII
// would give it, on the command line the operator's --max-tlp, and the
// public only TLP:CLEAR.
//
// Thread-safety: as platform::Module; the export cache has its own mutex.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "platform/module.h"
#include "platform/services.h"

namespace kizuna::interop {

class InteropModule final : public platform::Module {
 public:
  // `services` may be nullptr (the CLI: commands only).
  explicit InteropModule(const platform::NodeServices* services) : services_(services) {}
  std::string_view name() const override { return "interop"; }
  void AddRoutes(platform::RouteTable& routes) override;
  void AddCommands(CLI::App& app, int* exit_code) override;

 private:
  http::Response Export(const http::Request& request, const store::User& user,
                        std::string_view format);
  http::Response Import(const http::Request& request, const store::User& user);
  // The public pages: the index (id ""), one advisory, or "feed.atom".
  http::Response Advisories(const http::Request& request, const std::string& id);
  // Publishes the body's report, or takes `unpublish_id` off the pages.
  http::Response Publish(const http::Request& request, const store::User& user,
                         const std::string& unpublish_id);

  const platform::NodeServices* services_;
  // (user, format and query) -> the last body's ETag and since when it is
  // that: Last-Modified is when the export last changed, which a deletion
  // or a narrower sharing decision changes too.
  struct Seen {
    std::string etag;
    int64_t since_us = 0;
  };
  std::mutex seen_mutex_;
  std::map<std::string, Seen> seen_;
};

}  // namespace kizuna::interop
