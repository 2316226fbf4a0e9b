// Sightings reach the producer (issue 10), over three real federated nodes:
// an indicator cert-a made reaches cert-b and cert-c; cert-b's sightings of
// it go to cert-a only (cert-c, which also holds the indicator, gets none by
// default), counted up without duplicates as cert-b keeps seeing it; a RED
// sighting never leaves cert-b; and cert-a's matches and indicator view say
// who sighted it, how often and when.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using stix::Tlp;
using namespace std::chrono_literals;

const std::string kSightings = "/taxii2/root/collections/sightings/objects/";

std::string Identity(NodeProcess& node) {
  auto r = node.Get("/api/v1/node");
  return std::string(json::parse(r.body).at("identity").as_string());
}

// The node's "sighted by" view of an indicator: observer identity -> entry.
std::map<std::string, json::object> SightedBy(NodeProcess& node, const std::string& indicator) {
  std::map<std::string, json::object> out;
  auto r = node.Get("/api/v1/indicators/" + indicator + "/sightings");
  if (r.status != 200) return out;
  const json::value answer = json::parse(r.body);
  for (const json::value& by : answer.at("sighted_by").as_array()) {
    out[std::string(by.at("identity").as_string())] = by.as_object();
  }
  return out;
}

// Sighting ids in a node's sightings collection.
std::set<std::string> SightingIds(NodeProcess& node) {
  std::set<std::string> ids;
  auto r = node.Get(kSightings + "?match[type]=sighting&match[version]=all");
  EXPECT_EQ(r.status, 200) << r.body;
  json::value page = json::parse(r.body);
  if (!page.as_object().contains("objects")) return ids;
  for (const json::value& o : page.at("objects").as_array()) {
    ids.insert(std::string(o.at("id").as_string()));
  }
  return ids;
}

// Matches `address` at `node` and records sightings; returns the sighting ids.
std::vector<std::string> Sight(NodeProcess& node, const std::string& address) {
  auto r = node.Post("/api/v1/match", R"({"sighting":true,"observables":[")" + address + "\"]}");
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<std::string> ids;
  json::value answer = json::parse(r.body);
  if (!answer.as_object().contains("sightings")) return ids;
  for (const json::value& id : answer.at("sightings").as_array()) {
    ids.emplace_back(id.as_string());
  }
  return ids;
}

TEST(Sightings, ReachTheProducerAndNoOneElse) {
  NodeProcess a("CERT-A"), b("CERT-B"), c("CERT-C");
  std::string error;
  for (NodeProcess* node : {&a, &b, &c}) ASSERT_TRUE(node->Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  Federate(a, "cert-a", c, "cert-c");
  Federate(b, "cert-b", c, "cert-c");
  const std::string b_identity = Identity(b);

  Post(a, {Indicator(60, Tlp::kGreen)});  // [ipv4-addr:value = '203.0.113.60']
  ASSERT_TRUE(WaitUntil([&] { return Has(b, 60) && Has(c, 60); }, 30s))
      << b.ServerLog() << c.ServerLog();
  const std::string indicator = IndicatorId(60);

  // cert-b sees it: cert-a, its producer, learns who, how often, when.
  std::vector<std::string> first = Sight(b, "203.0.113.60");
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(WaitUntil([&] { return SightedBy(a, indicator).count(b_identity) > 0; }, 30s))
      << a.ServerLog() << b.ServerLog();
  json::object by_b = SightedBy(a, indicator)[b_identity];
  EXPECT_EQ(by_b.at("count").as_int64(), 1);
  EXPECT_EQ(by_b.at("name").as_string(), "CERT-B");
  EXPECT_EQ(by_b.at("via"), json::array{"cert-b"});
  EXPECT_TRUE(by_b.contains("first_seen") && by_b.contains("last_seen"));

  // It keeps seeing it: new versions of the same sighting, counted once each.
  Sight(b, "203.0.113.60");
  EXPECT_EQ(Sight(b, "203.0.113.60"), first);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto by = SightedBy(a, indicator);
        return by.count(b_identity) && by[b_identity].at("count").as_int64() == 3;
      },
      30s))
      << a.ServerLog();
  EXPECT_EQ(SightedBy(a, indicator)[b_identity].at("sightings").as_int64(), 1);

  // A RED sighting stays at cert-b. A later GREEN one is the barrier: cert-b's
  // sightings collection reaches cert-a in store order.
  const std::string red_id = "sighting--7b0c2f1e-3d4a-4b5c-8d6e-9f0a1b2c3d4e";
  auto red = b.Post(
      kSightings,
      Envelope(
          {R"({"type":"sighting","spec_version":"2.1","id":")" + red_id +
           R"(","created":"2026-11-24T00:00:00.000Z","modified":"2026-11-24T00:00:00.000Z","sighting_of_ref":")" +
           indicator + R"(","count":100,"where_sighted_refs":[")" + b_identity +
           R"("],"object_marking_refs":[")" + std::string(stix::TlpMarkingId(Tlp::kRed)) +
           R"("]})"}));
  ASSERT_EQ(red.status, 202) << red.body;
  Sight(b, "203.0.113.60");
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto by = SightedBy(a, indicator);
        return by.count(b_identity) && by[b_identity].at("count").as_int64() == 4;
      },
      30s))
      << a.ServerLog();
  EXPECT_EQ(SightingIds(a).count(red_id), 0u);

  // cert-c holds the indicator too, but cert-b's sightings of it are cert-a's
  // business. Barrier: cert-b sights an indicator cert-c made, later in the
  // same collection; once cert-c has that one, it has been offered the rest.
  Post(c, {Indicator(61, Tlp::kGreen)});
  ASSERT_TRUE(WaitUntil([&] { return Has(b, 61); }, 30s)) << b.ServerLog();
  std::vector<std::string> of_c = Sight(b, "203.0.113.61");
  ASSERT_EQ(of_c.size(), 1u);
  ASSERT_TRUE(WaitUntil([&] { return SightingIds(c).count(of_c[0]) > 0; }, 30s))
      << c.ServerLog() << b.ServerLog();
  EXPECT_EQ(SightingIds(c).count(first[0]), 0u);
  EXPECT_EQ(SightedBy(c, indicator).count(b_identity), 0u);
  // And cert-a does not get the sighting of cert-c's indicator.
  EXPECT_EQ(SightingIds(a).count(of_c[0]), 0u);

  // cert-a's own match answers say who sighted what it matched.
  auto matched = a.Post("/api/v1/match", R"({"observables":["203.0.113.60"]})");
  ASSERT_EQ(matched.status, 200) << matched.body;
  const json::value answer = json::parse(matched.body);
  const json::value& match = answer.at("results").at(0).at("matches").at(0);
  ASSERT_TRUE(match.as_object().contains("sighted_by")) << matched.body;
  EXPECT_EQ(match.at("sighted_by").at(0).at("identity").as_string(), b_identity);
  EXPECT_EQ(match.at("sighted_by").at(0).at("count").as_int64(), 4);
}

}  // namespace
}  // namespace kizuna::e2e
