// Interop on a real node: indicator lists imported by the command and the
// REST API (bad lines reported with their numbers, a second import adding
// nothing), enforcement exports by the command and over HTTP (the fetcher
// sees what TAXII would give it; ETag and If-Modified-Since answered 304
// until the export changes), the RPZ zone checked by BIND's named-checkzone,
// a list's GREEN indicators reaching a federated partner, and the public
// advisories (no credentials; nothing above CLEAR, ever).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "stix/stix.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(InteropE2e, ListsInEnforcementOutSharingDecisionAndConditionalFetches) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  ASSERT_TRUE(b.Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  TempDir scratch;

  // A plain list, defanged, with a bad line, by the command: GREEN.
  const std::string list = scratch.path() + "/c2.txt";
  WriteFile(list,
            "# botnet C2, 2026-11\n"
            "198[.]51[.]100[.]71\n"
            "hxxp://c2[.]evil-green[.]example/gate.php\n"
            "evil-green(dot)example\n"
            "this line is no indicator\n"
            "2001:db8::71\n");
  CommandResult imported = RunKizuna({"import", a.dir(), list, "--tlp", "green", "--producer",
                                      "Botnet Feed", "--confidence", "80"});
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  EXPECT_NE(
      imported.out.find("(text): 6 lines, 4 indicators (1 domain, 1 ipv4, 1 ipv6, 1 url): 4 added"),
      std::string::npos)
      << imported.out;
  EXPECT_NE(imported.err.find(list + ":5: 'this' is not an IP address"), std::string::npos)
      << imported.err;
  // The same list again: nothing new.
  imported = RunKizuna({"import", a.dir(), list, "--tlp", "green", "--producer", "Botnet Feed",
                        "--confidence", "80"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find(": 0 added, 4 already present"), std::string::npos) << imported.out;

  // A CSV by the REST API: AMBER.
  const std::string csv =
      "ioc,type,confidence,comment\n"
      "198.51.100.72,ip,90,insider's scanner\n"
      "evil-amber.example,domain,70,lookalike\n"
      "198.51.100.73,domain,50,mislabelled\n";
  http::Response posted = a.Request("POST", "/api/v1/interop/import?tlp=amber&format=csv",
                                    a.admin_key(), csv, {{"Content-Type", "text/csv"}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  json::object summary = json::parse(posted.body).as_object();
  EXPECT_EQ(summary.at("added"), 2) << summary;
  EXPECT_EQ(summary.at("rejected"), 1) << summary;
  EXPECT_EQ(summary.at("errors").as_array()[0].at("line"), 4) << summary;
  // Only the home team imports lists.
  const std::string outsider = a.AddUser("ISP-X", "noc");
  EXPECT_EQ(a.Request("POST", "/api/v1/interop/import", outsider, "198.51.100.99\n").status, 403);
  EXPECT_EQ(
      a.Request("POST", "/api/v1/interop/import?tlp=purple", a.admin_key(), "x.example\n").status,
      400);

  // The home team's IP blocklist holds both; an outside organization's only GREEN.
  http::Response home = a.Get("/api/v1/interop/export/ip-blocklist");
  ASSERT_EQ(home.status, 200) << home.body;
  EXPECT_NE(home.body.find("\n198.51.100.71\n"), std::string::npos) << home.body;
  EXPECT_NE(home.body.find("\n198.51.100.72\n"), std::string::npos) << home.body;
  EXPECT_NE(home.body.find("\n2001:db8::71\n"), std::string::npos) << home.body;
  http::Response outside = a.Request("GET", "/api/v1/interop/export/ip-blocklist", outsider);
  ASSERT_EQ(outside.status, 200) << outside.body;
  EXPECT_NE(outside.body.find("\n198.51.100.71\n"), std::string::npos) << outside.body;
  EXPECT_EQ(outside.body.find("198.51.100.72"), std::string::npos)
      << "AMBER is not the outsider's: " << outside.body;
  // Filters: the domain names with confidence 75 or more.
  http::Response confident = a.Get("/api/v1/interop/export/domain-blocklist?min_confidence=75");
  ASSERT_EQ(confident.status, 200);
  EXPECT_NE(confident.body.find("\nevil-green.example\n"), std::string::npos) << confident.body;
  EXPECT_EQ(confident.body.find("evil-amber.example"), std::string::npos) << confident.body;
  EXPECT_EQ(a.Get("/api/v1/interop/export/no-such-format").status, 404);
  EXPECT_EQ(a.Get("/api/v1/interop/export/rpz?tlp=red").status, 400);
  EXPECT_EQ(a.Request("GET", "/api/v1/interop/export/rpz", "kz_0000000000000000_not-a-key").status,
            401);

  // A sensor polling: 304 while nothing changed, by ETag or by date.
  const std::string etag(home.headers.Get("ETag"));
  const std::string last_modified(home.headers.Get("Last-Modified"));
  ASSERT_FALSE(etag.empty());
  ASSERT_FALSE(last_modified.empty());
  http::Response again = a.Request("GET", "/api/v1/interop/export/ip-blocklist", a.admin_key(), "",
                                   {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  again = a.Request("GET", "/api/v1/interop/export/ip-blocklist", a.admin_key(), "",
                    {{"If-Modified-Since", last_modified}});
  EXPECT_EQ(again.status, 304);
  ASSERT_EQ(a.Request("POST", "/api/v1/interop/import?tlp=green", a.admin_key(), "198.51.100.74\n")
                .status,
            200);
  again = a.Request("GET", "/api/v1/interop/export/ip-blocklist", a.admin_key(), "",
                    {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("\n198.51.100.74\n"), std::string::npos);
  EXPECT_NE(std::string(again.headers.Get("ETag")), etag);

  // The RPZ zone, as BIND reads it, by the command and over HTTP.
  const std::string zone = scratch.path() + "/rpz.zone";
  CommandResult exported = RunKizuna({"export", a.dir(), "--format", "rpz", "-o", zone});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::ifstream zone_in(zone);
  const std::string zone_text((std::istreambuf_iterator<char>(zone_in)), {});
  EXPECT_NE(zone_text.find("\nevil-amber.example CNAME .\n*.evil-amber.example CNAME .\n"),
            std::string::npos)
      << zone_text;
  EXPECT_NE(zone_text.find("\n32.71.100.51.198.rpz-ip CNAME .\n"), std::string::npos) << zone_text;
  CommandResult checked = RunProgram("named-checkzone", {"rpz.cert-a.example", zone});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err << zone_text;
  EXPECT_NE(checked.out.find("OK"), std::string::npos) << checked.out;
  http::Response served = a.Get("/api/v1/interop/export/rpz?action=nodata");
  ASSERT_EQ(served.status, 200);
  const std::string served_zone = scratch.path() + "/served.zone";
  WriteFile(served_zone, served.body);
  checked = RunProgram("named-checkzone", {"rpz.cert-a.example", served_zone});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err << served.body;
  EXPECT_NE(served.body.find("evil-green.example CNAME *."), std::string::npos) << served.body;

  // The command's ceiling: --max-tlp green leaves AMBER out.
  exported = RunKizuna({"export", a.dir(), "--format", "suricata-rules", "--max-tlp", "green"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("alert ip any any <> [198.51.100.71] any"), std::string::npos)
      << exported.out;
  EXPECT_NE(exported.out.find("dns.query; dotprefix; content:\".evil-green.example\""),
            std::string::npos);
  EXPECT_EQ(exported.out.find("198.51.100.72"), std::string::npos) << exported.out;
  exported = RunKizuna({"export", a.dir(), "--format", "zeek-intel", "--type", "url"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("c2.evil-green.example/gate.php\tIntel::URL\t"), std::string::npos)
      << exported.out;
  EXPECT_EQ(RunKizuna({"export", a.dir(), "--format", "nonsense"}).exit_code == 0, false);

  // A partner's sensor fetching the export is audited as that export, apart
  // from the partner's TAXII reads; the home team's own fetches are not.
  const std::string partner_sensor = a.AddUser("cert-b", "sensor");
  http::Response fetched = a.Request("GET", "/api/v1/interop/export/ip-blocklist", partner_sensor);
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  EXPECT_NE(fetched.body.find("\n198.51.100.71\n"), std::string::npos) << fetched.body;
  size_t exported_lines = 0, home_lines = 0;
  std::istringstream audit(AuditLog(a));
  for (std::string line; std::getline(audit, line);) {
    json::object entry = json::parse(line).as_object();
    if (entry.at("channel") != "export/ip-blocklist") continue;
    ++exported_lines;
    EXPECT_EQ(entry.at("peer"), "cert-b") << line;
    EXPECT_EQ(entry.at("direction"), "sent") << line;
    home_lines += entry.at("peer") == "CERT-A";
  }
  EXPECT_GE(exported_lines, 4u) << "one line per indicator the partner's sensor received";
  EXPECT_EQ(home_lines, 0u);

  // The list's GREEN indicators are shared like any other: B receives them,
  // and B's own sensors' blocklist holds them.
  const std::string green_ip = "198.51.100.71";
  EXPECT_TRUE(WaitUntil([&] {
    http::Response theirs = b.Get("/api/v1/interop/export/ip-blocklist");
    return theirs.status == 200 && theirs.body.find("\n" + green_ip + "\n") != std::string::npos;
  })) << b.Get("/api/v1/interop/export/ip-blocklist").body;
  const std::string log = AuditLog(a);
  EXPECT_TRUE(log.find(R"("peer":"cert-b","channel":"read")") != std::string::npos ||
              log.find(R"("peer":"cert-b","channel":"stream")") != std::string::npos)
      << "B's TAXII reads keep their own channel: " << log;
}

std::string Report(const std::string& n, const std::string& name, stix::Tlp tlp,
                   const std::string& modified, const std::vector<std::string>& refs) {
  json::array object_refs;
  for (const std::string& r : refs) object_refs.emplace_back(r);
  json::object report{
      {"type", "report"},
      {"spec_version", "2.1"},
      {"id", "report--00000000-0000-4000-8000-0000000000" + n},
      {"created", "2026-11-30T00:00:00.000Z"},
      {"modified", modified},
      {"published", "2026-11-30T00:00:00Z"},
      {"name", name},
      {"description", "Mirai variants <script>alert(1)</script> scanning 23/tcp"},
      {"report_types", json::array{"threat-report"}},
      {"object_refs", std::move(object_refs)},
      {"external_references",
       json::array{json::object{{"source_name", "bad link"}, {"url", "javascript:alert(1)"}}}},
      {"object_marking_refs", json::array{json::string(stix::TlpMarkingId(tlp))}}};
  return json::serialize(report);
}

TEST(InteropE2e, PublicAdvisoriesShowClearReportsOnlyWithoutSignIn) {
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  const std::string clear_ind = IndicatorId(81), amber_ind = IndicatorId(82);
  Post(a, {Indicator(81, stix::Tlp::kClear, R"(,"name":"public c2 address")"),
           Indicator(82, stix::Tlp::kAmber, R"(,"name":"amber insider lead")"),
           Report("91", "Advisory: Mirai wave", stix::Tlp::kClear, "2026-11-30T00:00:00.000Z",
                  {clear_ind, amber_ind}),
           Report("92", "Amber situation report", stix::Tlp::kAmber, "2026-11-30T00:00:00.000Z",
                  {amber_ind})});
  const std::string clear_report = "report--00000000-0000-4000-8000-000000000091";
  const std::string amber_report = "report--00000000-0000-4000-8000-000000000092";

  // Only what the public may have can be published.
  CommandResult refused = RunKizuna({"advisory", "publish", a.dir(), amber_report});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("the public may not have it"), std::string::npos) << refused.err;
  CommandResult published = RunKizuna({"advisory", "publish", a.dir(), clear_report});
  ASSERT_EQ(published.exit_code, 0) << published.err;
  const std::string outsider = a.AddUser("ISP-X", "noc");
  EXPECT_EQ(a.Request("POST", "/api/v1/interop/advisories", outsider,
                      R"({"report":")" + amber_report + "\"}")
                .status,
            403);
  EXPECT_EQ(a.Post("/api/v1/interop/advisories", R"({"report":")" + amber_report + "\"}").status,
            409);

  // No credentials: the index, the page and the feed.
  http::Response index = a.Request("GET", "/api/v1/interop/advisories", "");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_NE(index.body.find("Advisory: Mirai wave"), std::string::npos) << index.body;
  EXPECT_EQ(index.body.find("Amber situation report"), std::string::npos);
  EXPECT_NE(std::string(index.headers.Get("Content-Security-Policy")).find("default-src 'none'"),
            std::string::npos);
  http::Response page = a.Request("GET", "/api/v1/interop/advisories/" + clear_report, "");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("public c2 address"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("amber insider lead"), std::string::npos)
      << "an AMBER object it refers to: " << page.body;
  EXPECT_EQ(page.body.find(amber_ind), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos) << "escaped";
  EXPECT_EQ(page.body.find("href=\"javascript:"), std::string::npos) << "no script links";
  EXPECT_EQ(a.Request("GET", "/api/v1/interop/advisories/" + amber_report, "").status, 404);
  EXPECT_EQ(a.Request("GET", "/api/v1/interop/advisories/" + clear_ind, "").status, 404);
  http::Response feed = a.Request("GET", "/api/v1/interop/advisories/feed.atom", "");
  ASSERT_EQ(feed.status, 200);
  EXPECT_EQ(feed.headers.Get("Content-Type"), "application/atom+xml; charset=utf-8");
  EXPECT_NE(feed.body.find("<id>urn:uuid:00000000-0000-4000-8000-000000000091</id>"),
            std::string::npos)
      << feed.body;
  EXPECT_EQ(feed.body.find("Amber situation report"), std::string::npos);
  TempDir scratch;
  const std::string feed_file = scratch.path() + "/feed.atom";
  WriteFile(feed_file, feed.body);
  CommandResult parsed = RunProgram(
      "/usr/bin/python3",
      {"-c",
       "import sys, xml.etree.ElementTree as E; f = E.parse(sys.argv[1]).getroot(); "
       "a = '{http://www.w3.org/2005/Atom}'; "
       "print(f.tag, len(f.findall(a + 'entry')), f.find(a + 'entry').find(a + 'title').text)",
       feed_file});
  EXPECT_EQ(parsed.out, "{http://www.w3.org/2005/Atom}feed 1 Advisory: Mirai wave\n") << parsed.err;

  // Re-marked AMBER by a new version: gone from every public page at once.
  Post(a, {Report("91", "Advisory: Mirai wave", stix::Tlp::kAmber, "2026-11-30T01:00:00.000Z",
                  {clear_ind})});
  index = a.Request("GET", "/api/v1/interop/advisories", "");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.body.find("Mirai wave"), std::string::npos) << index.body;
  EXPECT_EQ(a.Request("GET", "/api/v1/interop/advisories/" + clear_report, "").status, 404);
  EXPECT_EQ(a.Request("GET", "/api/v1/interop/advisories/feed.atom", "").body.find("Mirai wave"),
            std::string::npos);
  CommandResult listed = RunKizuna({"advisory", "list", a.dir()});
  EXPECT_NE(listed.out.find(clear_report + "\tnot shown"), std::string::npos) << listed.out;
  EXPECT_EQ(RunKizuna({"advisory", "unpublish", a.dir(), clear_report}).exit_code, 0);
  EXPECT_NE(RunKizuna({"advisory", "unpublish", a.dir(), clear_report}).exit_code, 0);
}

std::string MispEvent(const std::string& uuid, const std::string& info, int64_t timestamp,
                      const std::string& ip, const std::string& tlp_tag) {
  json::object event{
      {"uuid", uuid},
      {"info", info},
      {"date", "2026-11-30"},
      {"timestamp", std::to_string(timestamp)},
      {"published", true},
      {"publish_timestamp", std::to_string(timestamp)},
      {"analysis", "2"},
      {"threat_level_id", "2"},
      {"Orgc", json::object{{"name", "CIRCL"}, {"uuid", "55f6ea5e-2c60-40e5-964f-47a8950d210f"}}},
      {"Tag", json::array{json::object{{"name", tlp_tag}}}},
      {"Attribute",
       json::array{
           json::object{{"uuid", uuid.substr(0, 24) + "0000" + uuid.substr(35, 1) + "000a001"},
                        {"type", "ip-dst"},
                        {"category", "Network activity"},
                        {"value", ip},
                        {"to_ids", true},
                        {"timestamp", std::to_string(timestamp)}},
           json::object{{"uuid", uuid.substr(0, 24) + "0000" + uuid.substr(35, 1) + "000a002"},
                        {"type", "text"},
                        {"category", "Other"},
                        {"value", "no STIX for this"},
                        {"timestamp", std::to_string(timestamp)}}}}};
  return json::serialize(json::object{{"Event", std::move(event)}});
}

TEST(InteropE2e, MispFeedImportedIncrementallyAndItsIndicatorsEnforced) {
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  TempDir feed;
  const std::string one = "aa000000-0000-4000-8000-000000000001",
                    two = "aa000000-0000-4000-8000-000000000002";
  auto write_feed = [&](int64_t second_timestamp) {
    WriteFile(feed.path() + "/" + one + ".json",
              MispEvent(one, "first event", 1796000000, "198.51.100.81", "tlp:green"));
    WriteFile(feed.path() + "/" + two + ".json",
              MispEvent(two, "second event", second_timestamp, "198.51.100.82", "tlp:amber"));
    json::object manifest{{one, json::object{{"info", "first event"}, {"timestamp", 1796000000}}},
                          {two, json::object{{"info", "second event"},
                                             {"timestamp", std::to_string(second_timestamp)}}}};
    WriteFile(feed.path() + "/manifest.json", json::serialize(manifest));
  };
  write_feed(1796000000);
  CommandResult first = RunKizuna({"import", a.dir(), feed.path()});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("(misp feed): 2 events (0 unchanged), 4 attributes, 0 sightings"),
            std::string::npos)
      << first.out;
  EXPECT_NE(first.err.find("(text): no STIX equivalent, kept as x-misp-attribute"),
            std::string::npos)
      << first.err;
  std::map<std::string, int> versions = Versions(a);
  EXPECT_TRUE(versions.contains("report--" + one));
  EXPECT_TRUE(versions.contains("indicator--aa000000-0000-4000-8000-00001000a001"));
  // Nothing changed: nothing read again.
  CommandResult again = RunKizuna({"import", a.dir(), feed.path()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("0 events (2 unchanged)"), std::string::npos) << again.out;
  // The second event changed: only it is read.
  write_feed(1796000500);
  again = RunKizuna({"import", a.dir(), feed.path()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("1 events (1 unchanged)"), std::string::npos) << again.out;
  EXPECT_EQ(Versions(a).at("report--" + two), 2);
  // Its indicators are enforced like any other, at their TLP.
  http::Response home = a.Get("/api/v1/interop/export/ip-blocklist?tlp=green");
  ASSERT_EQ(home.status, 200);
  EXPECT_NE(home.body.find("\n198.51.100.81\n"), std::string::npos) << home.body;
  EXPECT_EQ(home.body.find("198.51.100.82"), std::string::npos) << "tlp:amber: " << home.body;
  // The events are CIRCL's, not ours: stored under their creator's origin,
  // they are not handed on to an outside organization (as a partner's
  // objects are not, without [sharing] reshare).
  const std::string outsider = a.AddUser("ISP-X", "noc");
  http::Response theirs = a.Request("GET", "/api/v1/interop/export/ip-blocklist", outsider);
  ASSERT_EQ(theirs.status, 200);
  EXPECT_EQ(theirs.body.find("198.51.100.81"), std::string::npos) << theirs.body;
  // An event that claims this node as its creator, or that would version
  // one of the home team's objects, is refused.
  const std::string home_identity(
      json::parse(RunKizuna({"identity", a.dir()}).out).at("identity").as_string());
  const std::string forged = feed.path() + "/forged.json";
  std::string forged_event = MispEvent("aa000000-0000-4000-8000-000000000009", "forged", 1796000000,
                                       "198.51.100.89", "tlp:clear");
  const std::string circl = "55f6ea5e-2c60-40e5-964f-47a8950d210f";
  forged_event.replace(forged_event.find(circl), circl.size(), home_identity.substr(10));
  WriteFile(forged, forged_event);
  CommandResult refused = RunKizuna({"import", a.dir(), forged});
  EXPECT_NE(refused.err.find("claims this node's identity"), std::string::npos) << refused.err;
  Post(a, {Indicator(77, stix::Tlp::kGreen, R"(,"name":"home indicator")")});
  std::string hijack = MispEvent("aa000000-0000-4000-8000-000000000010", "hijack", 1796000000,
                                 "198.51.100.90", "tlp:clear");
  const std::string attribute_uuid = "aa000000-0000-4000-8000-00000000a001";  // its ip-dst
  ASSERT_NE(hijack.find(attribute_uuid), std::string::npos) << hijack;
  hijack.replace(hijack.find(attribute_uuid), attribute_uuid.size(), IndicatorId(77).substr(11));
  WriteFile(forged, hijack);
  refused = RunKizuna({"import", a.dir(), forged});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.err.find(IndicatorId(77)), std::string::npos) << refused.err;
  EXPECT_EQ(Versions(a).at(IndicatorId(77)), 1) << "the home team's indicator is untouched";
  // A single event file, and a file that is no event.
  const std::string single = feed.path() + "/single.json";
  WriteFile(single, MispEvent("aa000000-0000-4000-8000-000000000003", "single", 1796000000,
                              "198.51.100.83", "tlp:clear"));
  CommandResult file = RunKizuna({"import", a.dir(), single});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_NE(file.out.find("(misp event): 1 events"), std::string::npos) << file.out;
  // Out again as a MISP feed, at most GREEN: the AMBER event stays home,
  // and another node (or a MISP instance) reads the feed.
  TempDir out;
  const std::string exported_feed = out.path() + "/feed";
  CommandResult exported = RunKizuna(
      {"export", a.dir(), "--format", "misp-feed", "--max-tlp", "green", "-o", exported_feed});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::ifstream manifest_in(exported_feed + "/manifest.json");
  const json::object manifest =
      json::parse(std::string((std::istreambuf_iterator<char>(manifest_in)), {})).as_object();
  EXPECT_TRUE(manifest.contains(one)) << manifest;
  EXPECT_FALSE(manifest.contains(two)) << "tlp:amber stays home: " << manifest;
  EXPECT_EQ(manifest.at(one).at("timestamp"), 1796000000);
  std::ifstream hashes_in(exported_feed + "/hashes.csv");
  const std::string hashes((std::istreambuf_iterator<char>(hashes_in)), {});
  EXPECT_NE(hashes.find("590f1dc294d478e6b9976b6359b5d980," + one + "\n"), std::string::npos)
      << "md5 of 198.51.100.81: " << hashes;
  NodeProcess b("CERT-B");
  ASSERT_TRUE(b.Start(&error)) << error;
  CommandResult read_back = RunKizuna({"import", b.dir(), exported_feed});
  ASSERT_EQ(read_back.exit_code, 0) << read_back.out << read_back.err;
  EXPECT_NE(read_back.out.find("(misp feed): "), std::string::npos) << read_back.out;
  http::Response blocklist = b.Get("/api/v1/interop/export/ip-blocklist");
  EXPECT_NE(blocklist.body.find("\n198.51.100.81\n"), std::string::npos) << blocklist.body;
  EXPECT_EQ(blocklist.body.find("198.51.100.82"), std::string::npos) << blocklist.body;
  CommandResult json_out = RunKizuna({"export", a.dir(), "--format", "misp", "--max-tlp", "green"});
  ASSERT_EQ(json_out.exit_code, 0) << json_out.err;
  const json::value response = json::parse(json_out.out);
  EXPECT_GE(response.at("response").as_array().size(), 1u);
  EXPECT_EQ(RunKizuna({"export", a.dir(), "--format", "misp-feed"}).exit_code == 0, false)
      << "a feed needs -o DIR";

  WriteFile(single, R"({"Event": {"info": "no uuid"}})");
  file = RunKizuna({"import", a.dir(), single, "--format", "misp"});
  EXPECT_NE(file.err.find("single.json: the event's uuid is not a UUID"), std::string::npos)
      << file.err;
}

}  // namespace
}  // namespace kizuna::e2e
