// The team directory across three real nodes: each team sets its own entry
// with `kizuna directory set`; every partner's node holds the same entries
// (`kizuna directory show --json`, GET /api/v1/coordination/directory); a
// partner cannot change another team's entry, by federation or on its own
// node.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// Team name -> its entry, as `kizuna directory show DIR --json` lists it.
std::map<std::string, json::object> Directory(NodeProcess& node) {
  std::map<std::string, json::object> out;
  CommandResult r = RunKizuna({"directory", "show", node.dir(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  boost::system::error_code ec;
  json::value v = json::parse(r.out, ec);
  if (ec || !v.is_object()) return out;
  for (const json::value& team : v.at("teams").as_array()) {
    out[std::string(team.at("name").as_string())] = team.as_object();
  }
  return out;
}

std::string Identity(NodeProcess& node) {
  auto r = node.Get("/api/v1/node");
  return std::string(json::parse(r.body).at("identity").as_string());
}

// The entry's fields that every node must hold alike (not own/peer/stale).
std::string Shared(json::object entry) {
  entry.erase("own");
  entry.erase("peer");
  entry.erase("stale");
  return json::serialize(entry);
}

TEST(CoordinationE2e, EveryPartnerHoldsEachTeamsOwnEntryAndNoOneElseChangesIt) {
  NodeProcess a("CERT-A"), b("CERT-B"), c("CERT-C");
  std::string error;
  for (NodeProcess* node : {&a, &b, &c}) ASSERT_TRUE(node->Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  Federate(a, "cert-a", c, "cert-c");
  Federate(b, "cert-b", c, "cert-c");

  CommandResult set_a =
      RunKizuna({"directory",
                 "set",
                 a.dir(),
                 "--country",
                 "JP",
                 "--kind",
                 "national-csirt",
                 "--asn",
                 "AS64500",
                 "--asn",
                 "2500",
                 "--prefix",
                 "192.0.2.0/24",
                 "--domain",
                 "cert-a.example",
                 "--constituency-country",
                 "JP",
                 "--contact",
                 "role=primary;name=Desk;email=desk@cert-a.example;phone=+81-3-0000-0000",
                 "--contact",
                 "role=emergency;name=Duty;email=duty@cert-a.example;pgp=" + std::string(40, 'A'),
                 "--contact",
                 "role=24x7;phone=+81-3-0000-0001",
                 "--time-zone",
                 "Asia/Tokyo",
                 "--hours",
                 "Mon-Fri 09:00-18:00",
                 "--node-url",
                 a.base_url()});
  ASSERT_EQ(set_a.exit_code, 0) << set_a.err;
  CommandResult set_b = RunKizuna(
      {"directory", "set", b.dir(), "--country", "ES", "--kind", "national-csirt", "--contact",
       "role=primary;email=desk@cert-b.example", "--time-zone", "Europe/Madrid"});
  ASSERT_EQ(set_b.exit_code, 0) << set_b.err;
  // A bad field is refused and changes nothing.
  CommandResult bad = RunKizuna({"directory", "set", b.dir(), "--country", "Spain"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("country"), std::string::npos) << bad.err;

  ASSERT_TRUE(WaitUntil(
      [&] {
        for (NodeProcess* node : {&a, &b, &c}) {
          auto teams = Directory(*node);
          if (!teams.contains("CERT-A") || !teams.contains("CERT-B")) return false;
        }
        return true;
      },
      30s))
      << a.ServerLog() << b.ServerLog() << c.ServerLog();
  auto at_a = Directory(a), at_b = Directory(b), at_c = Directory(c);
  EXPECT_EQ(at_a["CERT-A"].at("own"), true);
  EXPECT_EQ(at_b["CERT-A"].at("peer"), "cert-a");
  EXPECT_EQ(at_c["CERT-A"].at("peer"), "cert-a");
  EXPECT_EQ(at_c["CERT-B"].at("peer"), "cert-b");
  EXPECT_EQ(Shared(at_b["CERT-A"]), Shared(at_a["CERT-A"]));
  EXPECT_EQ(Shared(at_c["CERT-A"]), Shared(at_a["CERT-A"]));
  EXPECT_EQ(Shared(at_a["CERT-B"]), Shared(at_b["CERT-B"]));
  EXPECT_EQ(Shared(at_c["CERT-B"]), Shared(at_b["CERT-B"]));
  const json::object& entry = at_c["CERT-A"];
  EXPECT_EQ(entry.at("country"), "JP");
  EXPECT_EQ(entry.at("constituency").at("asns"), (json::array{2500, 64500}));
  EXPECT_EQ(entry.at("contacts").as_array().size(), 3u);
  EXPECT_EQ(entry.at("contacts").at(1).at("email"), "duty@cert-a.example");
  EXPECT_EQ(entry.at("time_zone"), "Asia/Tokyo");
  EXPECT_EQ(entry.at("stale"), false);
  EXPECT_EQ(entry.at("id"), Identity(a).c_str());
  EXPECT_FALSE(at_c.contains("CERT-C"));  // C set nothing

  // The REST API lists the same teams.
  auto listed = c.Get("/api/v1/coordination/directory");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(json::parse(listed.body).at("teams").as_array().size(), 2u);
  auto one = c.Get("/api/v1/coordination/directory/" + Identity(a));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(json::parse(one.body).at("name"), "CERT-A");
  // A user of another organization, without a grant on the collection,
  // reads no one's contacts; a member of the home team does.
  const std::string outsider = c.AddUser("isp-x", "reader");
  EXPECT_EQ(c.Request("GET", "/api/v1/coordination/directory", outsider).status, 403);
  const std::string member = c.AddUser("CERT-C", "analyst");
  auto as_member = c.Request("GET", "/api/v1/coordination/directory", member);
  ASSERT_EQ(as_member.status, 200) << as_member.body;
  EXPECT_EQ(json::parse(as_member.body).at("teams").as_array().size(), 2u);

  // B forges a newer version of A's entry (another emergency desk) on its
  // own node, where it then travels to C. Neither B's directory nor C's
  // takes it: A's entry comes from A alone.
  json::value forged =
      json::parse(c.Get("/taxii2/root/collections/coordination/objects/" + Identity(a) + "/").body);
  ASSERT_TRUE(forged.is_object()) << "A's entry is not in C's coordination collection";
  json::object identity = forged.at("objects").at(0).as_object();
  auto& extension = identity.at("extensions").as_object().begin()->value().as_object();
  extension["contacts"] =
      json::array{json::object{{"role", "emergency"}, {"email", "attacker@cert-b.example"}}};
  identity["modified"] = "2099-01-01T00:00:00.000Z";
  auto posted = b.Post(kObjects, json::serialize(json::object{{"objects", json::array{identity}}}));
  EXPECT_LT(posted.status, 300) << posted.body;
  // A later change of A's reaches everyone; the forgery still reaches no one.
  ASSERT_EQ(RunKizuna({"directory", "set", a.dir(), "--hours", "Mon-Fri 08:00-20:00", "--clear",
                       "domains"})
                .exit_code,
            0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Directory(b)["CERT-A"].at("operating_hours") == "Mon-Fri 08:00-20:00" &&
               Directory(c)["CERT-A"].at("operating_hours") == "Mon-Fri 08:00-20:00";
      },
      30s))
      << b.ServerLog() << c.ServerLog();
  for (NodeProcess* node : {&a, &b, &c}) {
    const std::string text = json::serialize(json::value_from(Directory(*node)));
    EXPECT_EQ(text.find("attacker@"), std::string::npos) << text;
  }
  // --clear emptied A's domains everywhere; its ASNs stayed.
  EXPECT_TRUE(Directory(b)["CERT-A"].at("constituency").at("domains").as_array().empty());
  EXPECT_EQ(Directory(c)["CERT-A"].at("constituency").at("asns"), (json::array{2500, 64500}));
  EXPECT_NE(RunKizuna({"directory", "set", a.dir(), "--clear", "everything"}).exit_code, 0);

  // What else a partner puts in its coordination collection (here an
  // indicator) does not join ours: it follows the peer's `into`.
  auto put = b.Post("/taxii2/root/collections/coordination/objects/",
                    json::serialize(json::object{
                        {"objects", json::array{json::parse(Indicator(7, stix::Tlp::kGreen))}}}));
  ASSERT_EQ(put.status, 202) << put.body;
  ASSERT_TRUE(WaitUntil(
      [&] { return a.Get(std::string(kObjects) + IndicatorId(7) + "/").status == 200; }, 30s))
      << a.ServerLog();
  EXPECT_EQ(a.Get("/taxii2/root/collections/coordination/objects/" + IndicatorId(7) + "/").status,
            404);
}

}  // namespace
}  // namespace kizuna::e2e
