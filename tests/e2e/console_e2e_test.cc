// The web console's server side on a real node, without a browser: the page
// and its headers, sign-in, the session cookie standing for its API key (and
// ending with it), CSRF protection of every change made with the cookie, and
// the search and object pages showing an outside organization's user nothing
// that TAXII would not give it. tests/e2e/console_browser_e2e_test.cc drives
// the same through Chromium.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "http/sse.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

struct SignedIn {
  std::string cookie;  // "kizuna_session=…"
  std::string csrf;
};

SignedIn SignIn(NodeProcess& node, const std::string& key) {
  http::Response r =
      node.Request("POST", "/api/v1/console/session", "", "{\"api_key\":\"" + key + "\"}",
                   {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200) return {};
  const std::string set_cookie(r.headers.Get("Set-Cookie"));
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_EQ(r.body.find(key), std::string::npos) << "the key is not echoed";
  return {set_cookie.substr(0, set_cookie.find(';')),
          std::string(json::parse(r.body).at("csrf_token").as_string())};
}

// The ids a search answered.
std::set<std::string> Found(const std::string& body) {
  std::set<std::string> ids;
  if (body.empty()) return ids;
  const json::value parsed = json::parse(body);
  for (const json::value& o : parsed.at("objects").as_array()) {
    ids.insert(std::string(o.at("id").as_string()));
  }
  return ids;
}

http::Response WithCookie(NodeProcess& node, const std::string& method, const std::string& path,
                          const SignedIn& session, const std::string& body = "",
                          std::map<std::string, std::string> headers = {}) {
  headers["Cookie"] = session.cookie;
  return node.Request(method, path, "", body, headers);
}

TEST(ConsoleE2e, ThePageIsPublicWithAStrictPolicyAndCachedAssets) {
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  http::Response page = a.Request("GET", "/", "", "", {{"Accept", "text/html"}});
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.headers.Get("Content-Type"), "text/html; charset=utf-8");
  const std::string csp(page.headers.Get("Content-Security-Policy"));
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(page.headers.Get("X-Content-Type-Options"), "nosniff");
  // No inline script: every <script> names its file.
  for (size_t at = page.body.find("<script"); at != std::string::npos;
       at = page.body.find("<script", at + 1)) {
    EXPECT_NE(page.body.substr(at, page.body.find('>', at) - at).find(" src="), std::string::npos);
  }
  const size_t app = page.body.find("/console/assets/app.js?v=");
  ASSERT_NE(app, std::string::npos) << page.body;
  const std::string url = page.body.substr(app, page.body.find('"', app) - app);
  http::Response script = a.Request("GET", url, "", "", {{"Accept", "*/*"}});
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.headers.Get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(script.headers.Get("Cache-Control").find("immutable"), std::string::npos);
  const std::string etag(script.headers.Get("ETag"));
  EXPECT_EQ(url.substr(url.find("?v=") + 3), etag.substr(1, etag.size() - 2));
  EXPECT_EQ(a.Request("GET", url, "", "", {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(a.Request("GET", "/console/assets/chart.min.js", "").status, 200);
  EXPECT_EQ(a.Request("GET", "/console/assets/nothing.js", "").status, 404);
  EXPECT_EQ(a.Request("GET", "/console/assets/index.html", "").status, 404);
  EXPECT_EQ(a.Request("GET", "/elsewhere", "").status, 404);
}

TEST(ConsoleE2e, ASessionStandsForItsKeyAndChangesNeedTheCsrfToken) {
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  const std::string member = a.AddUser("CERT-A", "analyst");

  http::Response wrong = a.Request("POST", "/api/v1/console/session", "",
                                   R"({"api_key":"kz_0000000000000000_wrong"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_FALSE(wrong.headers.Has("Set-Cookie"));
  EXPECT_EQ(a.Request("POST", "/api/v1/console/session", "", R"({"api_key":")" + member + "\"}",
                      {{"Origin", "http://127.0.0.1:1"}})
                .status,
            403)
      << "another origin cannot sign the browser in";

  const SignedIn session = SignIn(a, member);
  ASSERT_FALSE(session.cookie.empty());
  http::Response whoami = WithCookie(a, "GET", "/api/v1/console/session", session);
  ASSERT_EQ(whoami.status, 200) << whoami.body;
  json::object info = json::parse(whoami.body).as_object();
  EXPECT_EQ(info.at("user").at("name"), "analyst");
  EXPECT_EQ(info.at("csrf_token"), session.csrf.c_str());
  EXPECT_EQ(
      a.Request("GET", "/api/v1/whoami", "", "", {{"Cookie", "kizuna_session=forged"}}).status,
      401);

  EXPECT_EQ(WithCookie(a, "GET", "/api/v1/console/audit", session).status, 403)
      << "the audit log is the home team's admins'";
  EXPECT_EQ(a.Get("/api/v1/console/audit?direction=received").status, 200);
  EXPECT_EQ(a.Get("/api/v1/console/audit?direction=sideways").status, 400);
  // A change made with the cookie: refused without the token, with a wrong
  // one, and from another origin; taken with the token from the node's own.
  const std::string object = Envelope({Indicator(1, stix::Tlp::kGreen)});
  EXPECT_EQ(WithCookie(a, "POST", kObjects, session, object).status, 403);
  EXPECT_EQ(WithCookie(a, "POST", kObjects, session, object, {{"X-CSRF-Token", session.csrf + "x"}})
                .status,
            403);
  EXPECT_EQ(WithCookie(a, "POST", kObjects, session, object,
                       {{"X-CSRF-Token", session.csrf}, {"Origin", "http://127.0.0.1:1"}})
                .status,
            403);
  EXPECT_FALSE(Has(a, 1)) << "nothing refused was stored";
  // A key the browser keeps (Basic authentication) is refused from another
  // origin's page too; the browser is never asked for one.
  EXPECT_EQ(a.Request("POST", kObjects, member, object, {{"Origin", "http://127.0.0.1:1"}}).status,
            403);
  EXPECT_FALSE(Has(a, 1));
  http::Response challenge =
      a.Request("GET", "/api/v1/whoami", "", "", {{"Sec-Fetch-Mode", "cors"}});
  EXPECT_EQ(challenge.status, 401);
  EXPECT_FALSE(challenge.headers.Has("WWW-Authenticate"));
  EXPECT_TRUE(a.Request("GET", "/api/v1/whoami", "").headers.Has("WWW-Authenticate"))
      << "TAXII clients still get the challenge";
  http::Response taken = WithCookie(a, "POST", kObjects, session, object,
                                    {{"X-CSRF-Token", session.csrf}, {"Origin", a.base_url()}});
  EXPECT_EQ(taken.status, 202) << taken.body;
  EXPECT_TRUE(Has(a, 1));

  // Revoking the key ends the session at once.
  const std::string key_id = member.substr(3, 16);
  ASSERT_EQ(a.Request("DELETE", "/api/v1/keys/" + key_id, a.admin_key()).status, 200);
  EXPECT_EQ(WithCookie(a, "GET", "/api/v1/whoami", session).status, 401);

  // Sign-out ends it too (and needs the token, like every change).
  const SignedIn admin = SignIn(a, a.admin_key());
  EXPECT_EQ(WithCookie(a, "DELETE", "/api/v1/console/session", admin).status, 403);
  http::Response out =
      WithCookie(a, "DELETE", "/api/v1/console/session", admin, "", {{"X-CSRF-Token", admin.csrf}});
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.headers.Get("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(WithCookie(a, "GET", "/api/v1/whoami", admin).status, 401);
}

TEST(ConsoleE2e, AStreamOpenedWithASessionEndsAtSignOut) {
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  const SignedIn session = SignIn(a, a.admin_key());
  std::atomic<bool> opened{false};
  int status = 0;
  std::chrono::steady_clock::time_point ended;
  std::thread reader([&] {
    http::Client client;
    http::Headers headers;
    headers.Set("Cookie", session.cookie);
    http::SseParser parser;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    auto head = client.Stream(
        "GET", a.Url("/api/v1/collections/default/stream"), headers,
        [&](std::string_view bytes) {
          std::vector<http::SseEvent> events;
          EXPECT_TRUE(parser.Feed(bytes, &events).ok());
          for (const http::SseEvent& event : events) {
            if (event.event == "entitlement") opened = true;
          }
          return std::chrono::steady_clock::now() < give_up;
        },
        70000);
    status = head.ok() ? head->status : -1;
    ended = std::chrono::steady_clock::now();
  });
  ASSERT_TRUE(WaitUntil([&] { return opened.load(); }));
  const auto out_at = std::chrono::steady_clock::now();
  ASSERT_EQ(WithCookie(a, "DELETE", "/api/v1/console/session", session, "",
                       {{"X-CSRF-Token", session.csrf}})
                .status,
            204);
  reader.join();
  EXPECT_EQ(status, 200);
  // The node asks about once a second whether the reader may go on.
  EXPECT_LT(ended - out_at, std::chrono::seconds(15)) << "the stream outlived the session";
}

TEST(ConsoleE2e, ReadsAreRateLimitedAndPublicLinksIgnoreTheSession) {
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  const SignedIn session = SignIn(a, a.admin_key());
  // [limits] heavy_burst (20) at once, then heavy_requests_per_second (5).
  int limited = 0;
  for (int i = 0; i < 40; ++i) {
    const int status = WithCookie(a, "GET", "/api/v1/console/summary", session).status;
    EXPECT_TRUE(status == 200 || status == 429) << status;
    if (status == 429) ++limited;
  }
  EXPECT_GT(limited, 0);
  // An e-mailed link's form carries no CSRF token: the session's cookie is
  // not used there (a forged token is then simply unknown, 404, not 403).
  EXPECT_EQ(WithCookie(a, "POST", "/api/v1/coordination/drills/ack/forged-token", session).status,
            404);
}

TEST(ConsoleE2e, BehindAProxyThatEndsTlsThePublicUrlIsTheOrigin) {
  NodeProcess a("CERT-A");
  std::string toml = ReadFile(a.dir() + "/kizuna.toml");
  const size_t at = toml.find("public_url = \"\"");
  ASSERT_NE(at, std::string::npos);
  toml.replace(at, 15, "public_url = \"https://cti.example/\"");
  std::ofstream(a.dir() + "/kizuna.toml", std::ios::trunc) << toml;
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  http::Response r =
      a.Request("POST", "/api/v1/console/session", "", "{\"api_key\":\"" + a.admin_key() + "\"}",
                {{"Origin", "https://cti.example"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string cookie(r.headers.Get("Set-Cookie"));
  EXPECT_EQ(cookie.rfind("__Host-kizuna_session=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  const SignedIn session{cookie.substr(0, cookie.find(';')),
                         std::string(json::parse(r.body).at("csrf_token").as_string())};
  EXPECT_EQ(WithCookie(a, "GET", "/api/v1/whoami", session).status, 200);
  EXPECT_EQ(
      WithCookie(a, "GET", "/api/v1/whoami", {"kizuna_session=" + session.cookie.substr(22), ""})
          .status,
      401)
      << "only the __Host- cookie counts when browsers use TLS";
  const std::string object = Envelope({Indicator(41, stix::Tlp::kGreen)});
  EXPECT_EQ(WithCookie(a, "POST", kObjects, session, object,
                       {{"X-CSRF-Token", session.csrf}, {"Origin", "https://cti.example"}})
                .status,
            202);
  EXPECT_EQ(WithCookie(a, "POST", kObjects, session, object,
                       {{"X-CSRF-Token", session.csrf}, {"Origin", a.base_url()}})
                .status,
            202)
      << "the address the request was sent to is the node's too";
  EXPECT_EQ(WithCookie(a, "POST", kObjects, session, object,
                       {{"X-CSRF-Token", session.csrf}, {"Origin", "https://cti.example.evil"}})
                .status,
            403);
}

TEST(ConsoleE2e, APartnerNodesAccountHasNoConsole) {
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  const std::string partner_key = a.AddUser("cert-b", "node");
  AddPeer(a, PeerEntry("cert-b", "http://127.0.0.1:9", "unused", ""));
  ASSERT_TRUE(a.WaitForConfig());
  http::Response r =
      a.Request("POST", "/api/v1/console/session", "", "{\"api_key\":\"" + partner_key + "\"}");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_FALSE(r.headers.Has("Set-Cookie"));
}

TEST(ConsoleE2e, TheGraphNamesNoPartnersObjectAnOutsiderMayNotSee) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  ASSERT_TRUE(b.Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  // B's GREEN indicator reaches A; A does not pass a partner's intel on to
  // other organizations (no reshare).
  Post(b, {Indicator(31, stix::Tlp::kGreen, ",\"name\":\"partner-green-secret\"")});
  ASSERT_TRUE(WaitUntil([&] { return Has(a, 31); }));
  Post(a, {Indicator(32, stix::Tlp::kGreen, ",\"name\":\"ours-green\""),
           R"({"type":"relationship","spec_version":"2.1","id":"relationship--)" + Uuid(33) +
               R"(","created":"2026-11-23T00:00:00.000Z","modified":"2026-11-23T00:00:00.000Z",)"
               R"("relationship_type":"related-to","source_ref":")" +
               IndicatorId(32) + R"(","target_ref":")" + IndicatorId(31) +
               R"(","object_marking_refs":[")" +
               std::string(stix::TlpMarkingId(stix::Tlp::kGreen)) + R"("]})"});
  const SignedIn home = SignIn(a, a.admin_key());
  const SignedIn outsider = SignIn(a, a.AddUser("ISP-X", "abuse"));
  ASSERT_EQ(WithCookie(a, "GET", "/api/v1/console/objects/" + IndicatorId(31), outsider).status,
            404)
      << "the outsider may not see B's indicator";
  http::Response ours =
      WithCookie(a, "GET", "/api/v1/console/objects/" + IndicatorId(32), outsider);
  ASSERT_EQ(ours.status, 200) << ours.body;
  EXPECT_EQ(ours.body.find("partner-green-secret"), std::string::npos) << ours.body;
  EXPECT_NE(ours.body.find("related-to"), std::string::npos) << "the link itself is visible";
  ours = WithCookie(a, "GET", "/api/v1/console/objects/" + IndicatorId(32), home);
  EXPECT_NE(ours.body.find("partner-green-secret"), std::string::npos) << ours.body;
  // Who supplied an object is the home team's to know.
  http::Response found = WithCookie(a, "GET", "/api/v1/console/objects?q=ours-green", outsider);
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(found.body.find("\"producer\":\"home\""), std::string::npos) << found.body;
  found = WithCookie(a, "GET", "/api/v1/console/objects?q=partner-green-secret", home);
  EXPECT_NE(found.body.find("\"producer\":\"cert-b\""), std::string::npos) << found.body;
}

TEST(ConsoleE2e, AnOutsiderFindsNothingItMayNotSee) {
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  const std::string green_name = ",\"name\":\"console-green-marker\"";
  const std::string amber_name = ",\"name\":\"console-amber-marker\"";
  Post(a,
       {Indicator(11, stix::Tlp::kGreen, green_name), Indicator(12, stix::Tlp::kAmber, amber_name),
        R"({"type":"relationship","spec_version":"2.1","id":"relationship--)" + Uuid(13) +
            R"(","created":"2026-11-23T00:00:00.000Z","modified":"2026-11-23T00:00:00.000Z",)"
            R"("relationship_type":"related-to","source_ref":")" +
            IndicatorId(11) + R"(","target_ref":")" + IndicatorId(12) +
            R"(","object_marking_refs":[")" + std::string(stix::TlpMarkingId(stix::Tlp::kAmber)) +
            R"("]})"});
  const SignedIn home = SignIn(a, a.admin_key());
  const SignedIn outsider = SignIn(a, a.AddUser("ISP-X", "abuse"));

  auto search = [&](const SignedIn& who, const std::string& query) {
    http::Response r = WithCookie(a, "GET", "/api/v1/console/objects?" + query, who);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.body : "";
  };
  EXPECT_NE(search(home, "q=console-amber-marker").find(IndicatorId(12)), std::string::npos);
  EXPECT_NE(search(home, "tlp=amber").find(IndicatorId(12)), std::string::npos);
  EXPECT_EQ(Found(search(home, "tlp=amber")),
            (std::set<std::string>{IndicatorId(12), "relationship--" + Uuid(13)}));
  EXPECT_NE(search(outsider, "q=console-green-marker").find(IndicatorId(11)), std::string::npos);
  for (const char* query : {"", "q=console-amber-marker", "tlp=amber", "type=indicator",
                            "type=relationship", "producer=home"}) {
    const std::string found = search(outsider, query);
    EXPECT_EQ(found.find(IndicatorId(12)), std::string::npos) << query;
    EXPECT_EQ(found.find("console-amber-marker"), std::string::npos) << query;
    EXPECT_EQ(found.find(Uuid(13)), std::string::npos) << query;
  }
  EXPECT_EQ(WithCookie(a, "GET", "/api/v1/console/objects?tlp=purple", outsider).status, 400);

  // The object page: the AMBER object is as absent as one that never was,
  // and the GREEN one's page shows no link through the AMBER relationship.
  http::Response hidden =
      WithCookie(a, "GET", "/api/v1/console/objects/" + IndicatorId(12), outsider);
  http::Response missing =
      WithCookie(a, "GET", "/api/v1/console/objects/" + IndicatorId(99), outsider);
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(hidden.body).at("title"), json::parse(missing.body).at("title"));
  http::Response green =
      WithCookie(a, "GET", "/api/v1/console/objects/" + IndicatorId(11), outsider);
  ASSERT_EQ(green.status, 200) << green.body;
  EXPECT_EQ(green.body.find(IndicatorId(12)), std::string::npos) << green.body;
  http::Response linked = WithCookie(a, "GET", "/api/v1/console/objects/" + IndicatorId(11), home);
  ASSERT_EQ(linked.status, 200);
  json::object graph = json::parse(linked.body).at("graph").as_object();
  ASSERT_EQ(graph.at("edges").as_array().size(), 1u) << linked.body;
  EXPECT_EQ(graph.at("edges").as_array()[0].at("target"), IndicatorId(12).c_str());
  EXPECT_EQ(graph.at("edges").as_array()[0].at("label"), "related-to");

  // The dashboard's counts, likewise.
  auto by_tlp = [&](const SignedIn& who, const std::string& tlp) -> int64_t {
    http::Response summary = WithCookie(a, "GET", "/api/v1/console/summary", who);
    EXPECT_EQ(summary.status, 200);
    const json::value parsed = json::parse(summary.body);
    for (const json::value& pair : parsed.at("by_tlp").as_array()) {
      if (pair.as_array()[0] == tlp.c_str()) return pair.as_array()[1].as_int64();
    }
    return 0;
  };
  EXPECT_EQ(by_tlp(home, "amber"), 2);
  EXPECT_EQ(by_tlp(outsider, "amber"), 0);
  EXPECT_EQ(by_tlp(outsider, "green"), 1);
}

}  // namespace
}  // namespace kizuna::e2e
