// Federation end to end: real `kizuna serve` processes on loopback that
// federate through [[peer]] entries, and in-test TAXII servers standing in
// for a plain (non-kizuna) partner, a tampering middlebox and a partner that
// sends garbage.
#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/encoding.h"
#include "federation/signing.h"
#include "http/sse.h"
#include "node/config.h"
#include "stix/stix.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using stix::Tlp;
// ---------------------------------------------------------------------------

TEST(Federation, TwoNodesShareBothWaysOverTheLiveStreamAndNothingEchoes) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  ASSERT_TRUE(b.Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");

  Post(a, {Indicator(1, Tlp::kGreen)});
  ASSERT_TRUE(WaitUntil([&] { return Has(b, 1); })) << b.ServerLog();
  Post(b, {Indicator(2, Tlp::kAmber)});
  ASSERT_TRUE(WaitUntil([&] { return Has(a, 2); })) << a.ServerLog();

  // Live: once subscribed, a new object arrives (how fast is measured by
  // bench/federation_bench's stream case, not asserted here).
  Post(a, {Indicator(3, Tlp::kClear)});
  ASSERT_TRUE(WaitUntil([&] { return Has(b, 3); })) << b.ServerLog();

  // New versions travel too; (id, modified) keeps every delivery idempotent.
  Post(a, {Indicator(1, Tlp::kGreen, "", "2026-11-23T01:00:00.000Z")});
  ASSERT_TRUE(WaitUntil([&] { return Versions(b)[IndicatorId(1)] == 2; }));
  // A sentinel from b after b stored the new version: b's stream to a is in
  // store order, so once a has it, a has also been offered whatever b would
  // echo of version 2 (nothing, as the audit log checks below).
  Post(b, {Indicator(4, Tlp::kClear)});
  ASSERT_TRUE(WaitUntil([&] { return Has(a, 4); })) << a.ServerLog();
  auto on_a = Versions(a);
  auto on_b = Versions(b);
  EXPECT_EQ(on_a, on_b);
  EXPECT_EQ(on_a[IndicatorId(1)], 2);
  EXPECT_EQ(on_a[IndicatorId(2)], 1);

  // Objects arrive exactly as made (created_by_ref and all).
  const std::string one = std::string(kObjects) + IndicatorId(2) + "/";
  EXPECT_EQ(a.Get(one).body, b.Get(one).body);

  // Provenance: b records that cert-a delivered what a made, and never
  // sends it back; both audit logs tell what crossed.
  std::string audit_a = AuditLog(a);
  std::string audit_b = AuditLog(b);
  EXPECT_NE(audit_b.find("\"direction\":\"received\",\"peer\":\"cert-a\""), std::string::npos);
  EXPECT_NE(audit_a.find("\"direction\":\"sent\",\"peer\":\"cert-b\""), std::string::npos);
  for (int n : {1, 3}) {
    std::string own = "\"id\":\"" + IndicatorId(n) + "\"";
    for (size_t at = audit_a.find(own); at != std::string::npos; at = audit_a.find(own, at + 1)) {
      size_t line = audit_a.rfind('\n', at);
      std::string entry = audit_a.substr(line == std::string::npos ? 0 : line + 1, at - line);
      EXPECT_EQ(entry.find("\"direction\":\"received\""), std::string::npos)
          << "a received its own object back: " << entry;
    }
  }
}

TEST(Federation, TlpAndSharingGroupsAtTheBoundaryForEveryLevel) {
  NodeProcess a("CERT-A"), b("CERT-B"), c("CERT-C");
  std::string error;
  for (NodeProcess* n : {&a, &b, &c}) ASSERT_TRUE(n->Start(&error)) << error;
  // b may get up to AMBER+STRICT and is in group "asean"; c up to GREEN.
  Federate(a, "cert-a", b, "cert-b", [](node::PeerConfig& p) { p.max_tlp = Tlp::kAmberStrict; });
  Federate(a, "cert-a", c, "cert-c", [](node::PeerConfig& p) { p.max_tlp = Tlp::kGreen; });
  WriteFile(a.dir() + "/kizuna.toml",
            ReadFile(a.dir() + "/kizuna.toml") +
                "\n[[sharing.group]]\nname = \"asean\"\nmembers = [\"cert-b\"]\n");
  ASSERT_TRUE(node::LoadConfig(a.dir() + "/kizuna.toml").ok());
  // Policy applies to what is sent from now on: the node picks it up first.
  ASSERT_TRUE(a.WaitForConfig()) << a.ServerLog();

  const std::string asean = ",\"x_kizuna_sharing_groups\":[\"asean\"]";
  Post(a, {
              Indicator(10, Tlp::kClear), Indicator(11, Tlp::kGreen), Indicator(12, Tlp::kAmber),
              Indicator(13, Tlp::kAmberStrict),         // no group names anyone: stays
              Indicator(14, Tlp::kAmberStrict, asean),  // to b only
              Indicator(15, Tlp::kRed),                 // never leaves
              Indicator(16, Tlp::kNone),                // default AMBER
              Indicator(17, Tlp::kGreen, asean),        // b only
              Indicator(18, Tlp::kRed, asean),          // never leaves
          });
  // TLP 1.0 markings count as their TLP 2.0 levels.
  auto tlp1 = [](int n, Tlp tlp) {
    std::string object = Indicator(n, Tlp::kNone);
    object.pop_back();
    return object + ",\"object_marking_refs\":[\"" + std::string(stix::Tlp1MarkingId(tlp)) + "\"]}";
  };
  Post(a, {tlp1(20, Tlp::kClear), tlp1(21, Tlp::kAmber), tlp1(22, Tlp::kRed)});
  // A sentinel posted last: the stream is in store order, so when it has
  // arrived, everything before it has been sent or withheld.
  Post(a, {Indicator(19, Tlp::kClear)});
  ASSERT_TRUE(WaitUntil([&] { return Has(b, 19) && Has(c, 19); }))
      << a.ServerLog() << b.ServerLog() << c.ServerLog();

  auto ids = [](std::map<std::string, int> versions) {
    std::set<std::string> out;
    for (const auto& [id, count] : versions) out.insert(id);
    return out;
  };
  auto expected = [](std::initializer_list<int> ns) {
    std::set<std::string> out;
    for (int n : ns) out.insert(IndicatorId(n));
    return out;
  };
  EXPECT_EQ(ids(Versions(b)), expected({10, 11, 12, 14, 16, 17, 19, 20, 21}));
  EXPECT_EQ(ids(Versions(c)), expected({10, 11, 19, 20}));

  // The same rules hold for a partner reading a's TAXII directly, and for a
  // user of an organization that is no peer (external: up to GREEN).
  std::string b_key_at_a;
  {
    auto loaded = node::LoadConfig(b.dir() + "/kizuna.toml");
    ASSERT_TRUE(loaded.ok());
    b_key_at_a = loaded->peers[0].token;
  }
  EXPECT_EQ(ids(Versions(a, b_key_at_a)), expected({10, 11, 12, 14, 16, 17, 19, 20, 21}));
  std::string isp = a.AddUser("ISP-X", "abuse");
  EXPECT_EQ(ids(Versions(a, isp)), expected({10, 11, 19, 20}));
  http::Response red = a.Request("GET", std::string(kObjects) + IndicatorId(15) + "/", isp);
  EXPECT_EQ(red.status, 404) << "a withheld object does not reveal itself";
  EXPECT_EQ(ids(Versions(a)).size(), 13u) << "the home team sees everything";
}

TEST(Federation, SignaturesAreRequiredAndTamperingIsRefused) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  ASSERT_TRUE(b.Start(&error)) << error;
  // b knows a as a peer with a's key; a's writes to b must be signed.
  std::string a_key_at_b = b.AddUser("cert-a", "node");
  AddPeer(b, PeerEntry("cert-a", a.base_url(), a.AddUser("cert-b", "node"), PublicKeyOf(a)));
  ASSERT_TRUE(b.WaitForConfig()) << b.ServerLog();

  const std::string body = Envelope({Indicator(30, Tlp::kGreen)});
  http::Response unsigned_post = b.Request("POST", kObjects, a_key_at_b, body);
  EXPECT_EQ(unsigned_post.status, 403) << unsigned_post.body;

  // Sign with a's own secret key (what a's node does when it pushes).
  std::string secret = *Base64Decode(TrimmedFile(a.dir() + "/identity.key"));
  ASSERT_EQ(secret.size(), 64u);
  auto sign = [&](const std::string& message) {
    unsigned char signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), reinterpret_cast<const unsigned char*>(secret.data()));
    return Base64Encode(std::string_view(reinterpret_cast<char*>(signature), sizeof signature));
  };
  const std::string tampered = Envelope({Indicator(31, Tlp::kGreen)});
  http::Response forged = b.Request("POST", kObjects, a_key_at_b, tampered,
                                    {{federation::kSignatureHeader, sign(body)}});
  EXPECT_EQ(forged.status, 403) << "a signature of another body";
  EXPECT_NE(forged.body.find("signature"), std::string::npos);
  http::Response good =
      b.Request("POST", kObjects, a_key_at_b, body, {{federation::kSignatureHeader, sign(body)}});
  EXPECT_EQ(good.status, 202) << good.body;
  EXPECT_TRUE(Has(b, 30));
  EXPECT_FALSE(Has(b, 31));
  http::Response deleted =
      b.Request("DELETE", std::string(kObjects) + IndicatorId(30) + "/", a_key_at_b);
  EXPECT_EQ(deleted.status, 403) << "a partner's account may not delete";
  EXPECT_TRUE(Has(b, 30));
  EXPECT_NE(AuditLog(b).find("rejected: "), std::string::npos);
}

// The live stream endpoint itself, as any SSE client sees it.
TEST(Federation, TheLiveStreamIsAuthorizedFilteredAndResumable) {
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  Post(a, {Indicator(90, Tlp::kGreen), Indicator(91, Tlp::kRed)});
  const std::string url = a.Url("/api/v1/collections/default/stream");
  // Reads `count` events with the given key and Last-Event-ID. It gives up
  // (and says so in *gave_up) after 30 s, or after 10 s without a byte (then
  // *status is -1); the node sends a keep-alive only every 15 s. `opened`
  // runs once the stream has told its entitlement (it is open).
  auto read_events = [&](const std::string& key, const std::string& last_id, size_t count,
                         int* status, bool* gave_up = nullptr,
                         const std::function<void()>& opened = {}) {
    std::vector<http::SseEvent> events;
    http::SseParser parser;
    http::Client client;
    http::Headers headers;
    if (!key.empty()) headers.Set("Authorization", "Bearer " + key);
    if (!last_id.empty()) headers.Set("Last-Event-ID", last_id);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    if (gave_up) *gave_up = false;
    auto head = client.Stream(
        "GET", url, headers,
        [&](std::string_view bytes) {
          std::vector<http::SseEvent> fed;
          EXPECT_TRUE(parser.Feed(bytes, &fed).ok());
          for (http::SseEvent& event : fed) {
            // The stream opens by telling the reader its entitlement.
            if (event.event == "entitlement") {
              EXPECT_TRUE(events.empty()) << "the entitlement comes first";
              EXPECT_FALSE(event.data.empty());
              if (opened) opened();
              continue;
            }
            events.push_back(std::move(event));
          }
          if (std::chrono::steady_clock::now() >= deadline) {
            if (gave_up) *gave_up = true;
            return false;
          }
          return events.size() < count;
        },
        10000);
    *status = head.ok() ? head->status : -1;
    return events;
  };
  int status = 0;
  read_events("", "0", 1, &status);
  EXPECT_EQ(status, 401);
  std::string outsider = a.AddUser("ISP-X", "abuse");
  ASSERT_EQ(a.Post("/api/v1/collections", R"({"title":"internal","alias":"internal"})").status,
            201);
  {
    http::Client client;
    http::Headers headers;
    headers.Set("Authorization", "Bearer " + outsider);
    auto denied = client.Send("GET", a.Url("/api/v1/collections/internal/stream"), headers);
    ASSERT_TRUE(denied.ok());
    EXPECT_EQ(denied->status, 404) << "no grant on that collection: as if there were none";
  }

  // From the start (Last-Event-ID 0): the home team sees both, the outsider
  // (external: up to GREEN) only the GREEN one; every event is signed.
  std::vector<http::SseEvent> home = read_events(a.admin_key(), "0", 1, &status);
  ASSERT_EQ(status, 200);
  ASSERT_GE(home.size(), 1u);
  EXPECT_EQ(home[0].event, "objects");
  EXPECT_NE(home[0].data.find(IndicatorId(90)), std::string::npos);
  EXPECT_NE(home[0].data.find(IndicatorId(91)), std::string::npos);
  ASSERT_NE(home[0].Field("signature"), nullptr);
  EXPECT_TRUE(
      federation::VerifySignature(PublicKeyOf(a), home[0].data, *home[0].Field("signature")));
  std::vector<http::SseEvent> outside = read_events(outsider, "0", 1, &status);
  ASSERT_GE(outside.size(), 1u);
  EXPECT_NE(outside[0].data.find(IndicatorId(90)), std::string::npos);
  EXPECT_EQ(outside[0].data.find(IndicatorId(91)), std::string::npos) << "RED leaked to the stream";

  // Resuming after the last event id gives only what came later (here: what
  // is posted while the stream is open).
  std::atomic<bool> resumed_open{false};
  std::thread later([&] {
    ASSERT_TRUE(WaitUntil([&] { return resumed_open.load(); }, 30s));
    Post(a, {Indicator(92, Tlp::kGreen)});
  });
  std::vector<http::SseEvent> resumed =
      read_events(a.admin_key(), home.back().id, 1, &status, nullptr, [&] { resumed_open = true; });
  later.join();
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_NE(resumed[0].data.find(IndicatorId(92)), std::string::npos);
  EXPECT_EQ(resumed[0].data.find(IndicatorId(90)), std::string::npos);
  EXPECT_GT(std::stoll(resumed[0].id), std::stoll(home.back().id));
  read_events(a.admin_key(), "not-a-number", 1, &status);
  EXPECT_EQ(status, 400);

  // An open stream ends when its account is disabled (not only new requests
  // fail): the node ends it (200, and the body complete) rather than the
  // reader giving up or timing out (the node re-authorizes once a second).
  std::atomic<bool> open{false};
  std::thread disable([&] {
    ASSERT_TRUE(WaitUntil([&] { return open.load(); }, 30s));
    CommandResult r = RunKizuna({"user", "disable", a.dir(), "--org", "ISP-X", "--name", "abuse"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  });
  bool gave_up = false;
  read_events(outsider, "", 1000, &status, &gave_up, [&] { open = true; });  // nothing new comes
  disable.join();
  EXPECT_EQ(status, 200) << "the stream outlived the account (-1: 10 s without an end)";
  EXPECT_FALSE(gave_up) << "the stream outlived the account (30 s)";
}

// A middlebox between a and its partner b that rewrites the indicator in
// every page but passes b's signature on.
TEST(Federation, APageAlteredInTransitIsRefusedAndStoresNothing) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  ASSERT_TRUE(b.Start(&error)) << error;
  Post(b, {Indicator(40, Tlp::kGreen)});
  std::string b_url = b.base_url();
  std::atomic<int> tampered{0};
  std::string proxy_url;
  auto proxy = http::Server::Start({}, [&](const http::Request& request) {
    http::Client client;
    http::Headers headers;
    for (const auto& [name, value] : request.headers.fields()) {
      if (strcasecmp(name.c_str(), "Host") != 0) headers.Add(name, value);
    }
    auto answer = client.Send(request.method, b_url + request.target, headers, request.body);
    if (!answer.ok()) return http::ErrorResponse(502, "Bad gateway", answer.status().message());
    http::Response out = std::move(answer).value();
    // Keep a talking to the middlebox (discovery names b's own URL).
    for (size_t at = out.body.find(b_url); at != std::string::npos; at = out.body.find(b_url, at)) {
      out.body.replace(at, b_url.size(), proxy_url);
    }
    size_t at = out.body.find("203.0.113.40");
    if (at != std::string::npos) {
      out.body.replace(at, 12, "198.51.100.9");
      ++tampered;
    }
    return out;
  });
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  proxy_url = "http://127.0.0.1:" + std::to_string((*proxy)->port());
  std::string a_key_at_b = b.AddUser("cert-a", "node");
  AddPeerBack(b, "cert-a", a, "cert-b");  // b serves a as its partner
  node::PeerConfig peer = PeerEntry("cert-b", proxy_url, a_key_at_b, PublicKeyOf(b));
  peer.stream = false;
  peer.poll_seconds = 1;
  AddPeer(a, peer);
  ASSERT_TRUE(WaitUntil([&] { return tampered.load() >= 2; })) << a.ServerLog();
  // a refused the page (its log and `kizuna peer list` say so) ...
  EXPECT_TRUE(WaitUntil([&] {
    return a.ServerLog().find("signature does not match") != std::string::npos;
  })) << a.ServerLog();
  ASSERT_TRUE(WaitUntil([&] {
    json::object peer = PeerStatus(a, "cert-b");
    return peer.contains("status") && peer.at("status").is_object() &&
           peer.at("status").as_object().at("rejected").to_number<int64_t>() > 0;
  }));
  // ... and stored nothing of it.
  EXPECT_FALSE(Has(a, 40)) << "the altered indicator was stored";
  json::object status = PeerStatus(a, "cert-b").at("status").as_object();
  EXPECT_NE(std::string(status.at("last_error").as_string()).find("signature"), std::string::npos);
  (*proxy)->Stop();
}

TEST(Federation, APeerKilledMidSyncIsRetriedAndResumedWithNothingLostOrRepeated) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  ASSERT_TRUE(b.Start(&error)) << error;
  b.PinPort();
  // 6,000 objects at b, in 3 posts.
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<std::string> objects;
    for (int i = 0; i < 2000; ++i)
      objects.push_back(Indicator(1000 + batch * 2000 + i, Tlp::kGreen));
    Post(b, objects);
  }
  Federate(a, "cert-a", b, "cert-b", [](node::PeerConfig& p) { p.poll_seconds = 1; });
  // Kill the receiving node in the middle of its pull, then start it again.
  ASSERT_TRUE(WaitUntil([&] { return !Versions(a).empty(); }, 30s));
  a.Kill();
  ASSERT_TRUE(a.Start(&error)) << error;
  // Now kill the partner, add to it while it is down, and bring it back.
  b.Kill();
  {
    std::vector<std::string> objects;
    for (int i = 0; i < 50; ++i) objects.push_back(Indicator(9000 + i, Tlp::kGreen));
    std::string envelope = Envelope(objects);
    WriteFile(b.dir() + "/more.json",
              "{\"type\":\"bundle\",\"id\":\"bundle--" + Uuid(77) + "\"," + envelope.substr(1));
  }
  CommandResult imported = RunKizuna({"import", b.dir(), b.dir() + "/more.json"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  // a has found its partner dead (and retries) before it comes back.
  ASSERT_TRUE(WaitUntil(
      [&] { return PeerLastError(a, "cert-b").find("cannot connect") != std::string::npos; }, 30s))
      << json::serialize(PeerStatus(a, "cert-b")) << a.ServerLog();
  ASSERT_TRUE(b.Start(&error)) << error;
  ASSERT_TRUE(WaitUntil([&] { return Versions(a).size() == 6050; }, 60s))
      << Versions(a).size() << "\n"
      << a.ServerLog();
  for (const auto& [id, count] : Versions(a)) ASSERT_EQ(count, 1) << id << " stored twice";
}

TEST(Federation, AMeshOfThreeConvergesWithoutDuplicatesOrLoops) {
  NodeProcess a("CERT-A"), b("CERT-B"), c("CERT-C");
  std::string error;
  for (NodeProcess* n : {&a, &b, &c}) ASSERT_TRUE(n->Start(&error)) << error;
  auto reshare = [](node::PeerConfig& p) { p.reshare = true; };
  Federate(a, "cert-a", b, "cert-b", reshare, reshare);
  Federate(b, "cert-b", c, "cert-c", reshare, reshare);
  Federate(a, "cert-a", c, "cert-c", reshare, reshare);

  Post(a, {Indicator(50, Tlp::kGreen), Indicator(51, Tlp::kAmber)});
  Post(b, {Indicator(52, Tlp::kClear)});
  Post(c, {Indicator(53, Tlp::kGreen), Indicator(50, Tlp::kGreen)});  // 50 also made at c
  Post(c, {Indicator(54, Tlp::kGreen, "", "2026-11-24T00:00:00.000Z")});
  Post(c, {Indicator(54, Tlp::kGreen)});  // an older version of 54, by its producer
  // Six versions of five objects (54 has two), the same ones everywhere.
  auto converged_at = [&](size_t count) {
    auto va = VersionSet(a);
    return va.size() == count && va == VersionSet(b) && va == VersionSet(c);
  };
  ASSERT_TRUE(WaitUntil([&] { return converged_at(6); }, 30s))
      << a.ServerLog() << b.ServerLog() << c.ServerLog();
  auto versions = Versions(a);
  EXPECT_EQ(versions[IndicatorId(54)], 2);
  EXPECT_EQ(versions[IndicatorId(50)], 1);
  // No loops: once converged, nothing more crosses. What was in flight at
  // convergence settles first (the audit logs stay unchanged for 1 s); then
  // a new object from each node travels every path a loop would take, and
  // once all three have arrived everywhere, the objects from before have
  // added nothing more.
  auto audit_lines = [&] { return CountOf(AuditLog(a) + AuditLog(b) + AuditLog(c), "\n"); };
  size_t lines = audit_lines();
  auto quiet_since = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitUntil(
      [&] {
        size_t now = audit_lines();
        if (now != lines) {
          lines = now;
          quiet_since = std::chrono::steady_clock::now();
        }
        return std::chrono::steady_clock::now() - quiet_since >= 1s;
      },
      30s))
      << "the audit logs keep growing: a loop";
  auto earlier_lines = [&] {
    size_t count = 0;
    for (int n = 50; n <= 54; ++n) {
      count += CountOf(AuditLog(a) + AuditLog(b) + AuditLog(c), IndicatorId(n));
    }
    return count;
  };
  const size_t earlier = earlier_lines();
  Post(a, {Indicator(55, Tlp::kGreen)});
  Post(b, {Indicator(56, Tlp::kGreen)});
  Post(c, {Indicator(57, Tlp::kGreen)});
  ASSERT_TRUE(WaitUntil([&] { return converged_at(9); }, 30s));
  EXPECT_EQ(earlier_lines(), earlier);
  EXPECT_TRUE(converged_at(9));
}

// A plain TAXII 2.1 server (not kizuna) as the partner: it serves one
// collection whose pages hold garbage, and accepts pushes.
class PlainTaxiiPartner {
 public:
  PlainTaxiiPartner() {
    auto started = http::Server::Start({}, [this](const http::Request& r) { return Handle(r); });
    if (!started.ok()) throw std::runtime_error(started.status().ToString());
    server_ = std::move(started).value();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  ~PlainTaxiiPartner() { server_->Stop(); }
  const std::string& url() const { return url_; }

  std::vector<std::pair<std::string, std::string>> pushes() {  // (body, signature)
    std::lock_guard lock(mutex_);
    return pushes_;
  }
  int garbage_pages_served() const { return garbage_served_.load(); }

 private:
  static http::Response Json(int status, const std::string& body) {
    http::Response r;
    r.status = status;
    r.headers.Set("Content-Type", "application/taxii+json;version=2.1");
    r.body = body;
    return r;
  }

  http::Response Handle(const http::Request& r) {
    if (r.headers.Get("Authorization") != "Bearer partner-token") {
      return http::ErrorResponse(401, "Unauthorized");
    }
    const std::string collection = "/api1/collections/" + kCollection + "/";
    if (r.path == "/taxii2/") {
      return Json(200, "{\"title\":\"plain\",\"api_roots\":[\"" + url_ + "/api1/\"]}");
    }
    if (r.path == "/api1/collections/") {
      return Json(200, "{\"collections\":[{\"id\":\"" + kCollection +
                           "\",\"title\":\"feed\",\"can_read\":true,\"can_write\":true}]}");
    }
    if (r.path == collection + "objects/" && r.method == "GET") {
      if (r.Query("next") == "page2") {
        ++garbage_served_;
        return Json(200, "this is not JSON {");
      }
      // One good object, one that is not STIX, one with a bad pattern.
      std::string bad_pattern = Indicator(61, Tlp::kGreen);
      bad_pattern.replace(bad_pattern.find("[ipv4"), 5, "[[[[[");
      http::Response page =
          Json(200, "{\"more\":true,\"next\":\"page2\",\"objects\":[" + Indicator(60, Tlp::kGreen) +
                        ",{\"type\":\"indicator\",\"id\":\"garbage\"}," + bad_pattern + "]}");
      page.headers.Set("X-TAXII-Date-Added-First", "2026-11-23T00:00:00.000001Z");
      page.headers.Set("X-TAXII-Date-Added-Last", "2026-11-23T00:00:00.000003Z");
      return page;
    }
    if (r.path == collection + "objects/" && r.method == "POST") {
      std::lock_guard lock(mutex_);
      pushes_.emplace_back(r.body, std::string(r.headers.Get(federation::kSignatureHeader)));
      return Json(202,
                  "{\"id\":\"status-1\",\"status\":\"pending\",\"total_count\":1,"
                  "\"success_count\":0,\"failure_count\":0,\"pending_count\":1}");
    }
    if (r.path == "/api1/status/status-1/") {
      return Json(200,
                  "{\"id\":\"status-1\",\"status\":\"complete\",\"total_count\":1,"
                  "\"success_count\":1,\"failure_count\":0,\"pending_count\":0}");
    }
    return http::ErrorResponse(404, "Not found");
  }

  inline static const std::string kCollection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
  std::unique_ptr<http::Server> server_;
  std::string url_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> pushes_;
  std::atomic<int> garbage_served_{0};
};

TEST(Federation, APlainTaxiiPartnerGetsPushesAndItsGarbageIsRefused) {
  PlainTaxiiPartner partner;
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  Post(a, {Indicator(70, Tlp::kGreen), Indicator(71, Tlp::kRed), Indicator(72, Tlp::kAmber)});
  node::PeerConfig peer = PeerEntry("plain", partner.url(), "partner-token", "");
  peer.max_tlp = Tlp::kGreen;
  peer.poll_seconds = 1;
  AddPeer(a, peer);

  ASSERT_TRUE(WaitUntil([&] { return !partner.pushes().empty() && Has(a, 60); })) << a.ServerLog();
  ASSERT_TRUE(WaitUntil([&] { return partner.garbage_pages_served() >= 1; }));
  // The good object is stored; the garbage is not, and the node goes on.
  auto versions = Versions(a);
  EXPECT_TRUE(versions.count(IndicatorId(60)));
  EXPECT_FALSE(versions.count(IndicatorId(61)));
  EXPECT_FALSE(versions.count("garbage"));
  EXPECT_EQ(a.Get("/taxii2/").status, 200) << "the node is still serving";
  std::string audit = AuditLog(a);
  EXPECT_NE(audit.find("\"peer\":\"plain\""), std::string::npos);
  EXPECT_NE(audit.find("rejected: "), std::string::npos);

  // What was pushed: GREEN only (RED never leaves, AMBER is above the peer's
  // limit), the object it delivered is not echoed, signed with a's key.
  std::string all_pushed;
  for (const auto& [body, signature] : partner.pushes()) {
    all_pushed += body;
    EXPECT_TRUE(federation::VerifySignature(PublicKeyOf(a), body, signature));
  }
  EXPECT_NE(all_pushed.find(IndicatorId(70)), std::string::npos);
  EXPECT_EQ(all_pushed.find(IndicatorId(71)), std::string::npos);
  EXPECT_EQ(all_pushed.find(IndicatorId(72)), std::string::npos);
  EXPECT_EQ(all_pushed.find(IndicatorId(60)), std::string::npos) << "echoed back to its sender";
  // Posting more at a is pushed promptly, not at the next poll.
  Post(a, {Indicator(73, Tlp::kClear)});
  ASSERT_TRUE(WaitUntil([&] {
    std::string pushed;
    for (const auto& [body, signature] : partner.pushes()) pushed += body;
    return pushed.find(IndicatorId(73)) != std::string::npos;
  }));
}

// Partners that misbehave on purpose: one whose discovery points at another
// server (it would get our token), one that repeats the same page forever.
TEST(Federation, AMisbehavingPartnerCannotRedirectOrFloodUs) {
  std::atomic<int> pages{0};
  std::atomic<int> elsewhere_hits{0};
  auto elsewhere = http::Server::Start({}, [&](const http::Request&) {
    ++elsewhere_hits;
    return http::ErrorResponse(404, "Not found");
  });
  ASSERT_TRUE(elsewhere.ok());
  const std::string elsewhere_url = "http://127.0.0.1:" + std::to_string((*elsewhere)->port());
  std::string url;
  auto partner = http::Server::Start({}, [&](const http::Request& r) {
    http::Response out;
    out.headers.Set("Content-Type", "application/taxii+json;version=2.1");
    if (r.path == "/taxii2/") {
      // Redirecting discovery for the peer named "redirect", honest for "repeat".
      bool redirect = r.headers.Get("Authorization") == "Bearer redirect";
      out.body = "{\"api_roots\":[\"" + (redirect ? elsewhere_url : url) + "/api1/\"]}";
    } else if (r.path == "/api1/collections/") {
      out.body =
          R"({"collections":[{"id":"91a7b528-80eb-42ed-a74d-c6fbd5a26116","title":"feed","can_read":true,"can_write":false}]})";
    } else if (r.path == "/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/") {
      ++pages;
      out.body =
          "{\"more\":true,\"next\":\"again\",\"objects\":[" + Indicator(95, Tlp::kGreen) + "]}";
      out.headers.Set("X-TAXII-Date-Added-Last", "2026-11-23T00:00:00.000001Z");
    } else {
      return http::ErrorResponse(404, "Not found");
    }
    return out;
  });
  ASSERT_TRUE(partner.ok());
  url = "http://127.0.0.1:" + std::to_string((*partner)->port());
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  node::PeerConfig redirect = PeerEntry("redirect", url, "redirect", "");
  redirect.poll_seconds = 1;
  node::PeerConfig repeat = PeerEntry("repeat", url, "repeat", "");
  repeat.poll_seconds = 1;
  const auto added = std::chrono::steady_clock::now();
  AddPeer(a, redirect);
  AddPeer(a, repeat);
  ASSERT_TRUE(WaitUntil([&] { return Has(a, 95); }));
  // The redirecting discovery is refused round after round (the log says so
  // each time), and the other server never hears from us.
  ASSERT_TRUE(WaitUntil([&] { return CountOf(a.ServerLog(), "another server") >= 2; }, 30s))
      << a.ServerLog();
  EXPECT_EQ(elsewhere_hits.load(), 0) << "followed discovery to another server";
  // Once per poll round (poll_seconds = 1), not a flood: each round stops
  // when a page brings nothing new, so at most 2 pages per round, and at most
  // one round begins per second (a slow machine only makes fewer). A few
  // more rounds go by first, to show that they stay that small.
  const int seen_pages = pages.load();
  ASSERT_TRUE(WaitUntil([&] { return pages.load() >= seen_pages + 2; }, 30s));
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - added)
          .count();
  EXPECT_LE(pages.load(), 2 * (seconds + 2)) << "pages requested in " << seconds << " s";
  std::string audit = AuditLog(a);
  EXPECT_EQ(CountOf(audit, "\"outcome\":\"received\""), 1u);
  EXPECT_LE(CountOf(audit, "already-present"), static_cast<size_t>(pages.load()));
  (*partner)->Stop();
  (*elsewhere)->Stop();
}

TEST(Federation, NodesTalkTlsWithAPinnedOrTrustedCertificateOnly) {
  NodeProcess a("CERT-A"), b("CERT-B");
  TestCertificate cert = MakeTestCertificate(b.dir());
  b.UseTls(cert.cert_file, cert.key_file);
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  ASSERT_TRUE(b.Start(&error)) << error;
  ASSERT_EQ(b.base_url().rfind("https://", 0), 0u) << b.base_url();
  Post(b, {Indicator(80, Tlp::kGreen)});
  std::string a_key_at_b = b.AddUser("cert-a", "node");
  std::string a_key_at_b2 = b.AddUser("cert-a", "node2");
  AddPeerBack(b, "cert-a", a, "cert-b");  // b serves a as its partner
  // A wrong pin: refused.
  node::PeerConfig wrong = PeerEntry("cert-b", b.base_url(), a_key_at_b, PublicKeyOf(b));
  wrong.pinned_cert_sha256 = std::string(64, 'a');
  wrong.poll_seconds = 1;
  AddPeer(a, wrong);
  ASSERT_TRUE(WaitUntil(
      [&] { return PeerLastError(a, "cert-b").find("pinned") != std::string::npos; }, 30s))
      << json::serialize(PeerStatus(a, "cert-b")) << a.ServerLog();
  EXPECT_FALSE(Has(a, 80));
  // The right pin: synced.
  ASSERT_TRUE(node::RemovePeerFromConfigFile(a.dir() + "/kizuna.toml", "cert-b").ok());
  node::PeerConfig pinned = wrong;
  pinned.pinned_cert_sha256 = cert.sha256;
  AddPeer(a, pinned);
  ASSERT_TRUE(WaitUntil([&] { return Has(a, 80); })) << a.ServerLog();
  // A trusted CA file works as well (here the self-signed certificate is its own CA).
  ASSERT_TRUE(node::RemovePeerFromConfigFile(a.dir() + "/kizuna.toml", "cert-b").ok());
  Post(b, {Indicator(81, Tlp::kGreen)});
  node::PeerConfig trusted = PeerEntry("cert-b", b.base_url(), a_key_at_b2, PublicKeyOf(b));
  trusted.ca_file = cert.cert_file;
  AddPeer(a, trusted);
  ASSERT_TRUE(WaitUntil([&] { return Has(a, 81); })) << a.ServerLog();
}

}  // namespace
}  // namespace kizuna::e2e
