// The web console (issue 14): the analyst's and coordinator's pages, served
// by the node at `/`. The page and its assets are public (they hold no
// data); everything shown comes from the REST API and TAXII, called by the
// page with the session cookie a sign-in gives (auth/sessions.h), so every
// permission and sharing decision of the API applies unchanged.
//
// Routes:
//   GET  /                          the console's page (public)
//   GET  /console/assets/{name}     its scripts, styles and Chart.js (public;
//                                   cached: the page names them by content hash)
//   POST /api/v1/console/session    sign-in with an API key (public; the
//                                   failure limits of API keys apply)
//   GET  /api/v1/console/session    who is signed in, and the CSRF token
//   DELETE /api/v1/console/session  sign-out
//   GET  /api/v1/console/objects    search (objects.h)
//   GET  /api/v1/console/objects/{id}   an object's versions and links
//   GET  /api/v1/console/summary    the dashboard's counts
//   GET  /api/v1/console/audit      the federation audit log (home admins)
//
// A partner node's account cannot sign in; the search, object and summary
// reads are rate-limited per user like matching ([limits] heavy_*), and show
// who produced a version only to the home team.
//
// Config ([console] in kizuna.toml): session_idle_minutes (60, 1 to 1440),
// session_hours (12, 1 to 168): a session ends after that long without a
// request, and that long after sign-in.
//
// Every response of the page and its assets carries a Content-Security-
// Policy without inline script, and frame, sniffing and referrer denials.
// Thread-safety: as platform::Module; the handlers only read.
#pragma once

#include <map>
#include <string>

#include "platform/module.h"
#include "platform/services.h"

namespace kizuna::console {

class ConsoleModule final : public platform::Module {
 public:
  explicit ConsoleModule(const platform::NodeServices* services);
  std::string_view name() const override { return "console"; }
  Status Configure(node::ConfigSection& section) override;
  void AddRoutes(platform::RouteTable& routes) override;
  Status Start() override;

 private:
  struct Asset {
    std::string content_type;
    std::string_view bytes;
    std::string etag;  // "\"<hash>\""
  };
  http::Response Page() const;
  http::Response AssetResponse(const http::Request& request, const std::string& name) const;
  http::Response SignIn(const http::Request& request);
  http::Response SessionInfo(const http::Request& request, const store::User& user);
  http::Response SignOut(const http::Request& request);
  http::Response Objects(const http::Request& request, const store::User& user);
  http::Response Object(const store::User& user, const std::string& id);
  http::Response Summary(const store::User& user);
  // The federation audit log, newest first (?peer=, ?last= up to 10,000;
  // default 100): the home team's admins only.
  http::Response Audit(const http::Request& request, const store::User& user);
  bool IsHome(const store::User& user) const;
  bool BrowserUsesTls(const http::Request& request) const;

  const platform::NodeServices* services_;
  int session_idle_minutes_ = 60;
  int session_hours_ = 12;
  std::map<std::string, Asset, std::less<>> assets_;
  std::string page_;  // index.html with the assets' hashes in their URLs
};

// The headers every console page and asset carries.
void SetConsoleSecurityHeaders(http::Response& response);

}  // namespace kizuna::console
