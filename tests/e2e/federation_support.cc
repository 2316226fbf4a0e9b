#include "tests/e2e/federation_support.h"

#include "common/time.h"

#include <gtest/gtest.h>

#include <cctype>
#include <thread>

namespace kizuna::e2e {

namespace json = boost::json;
using namespace std::chrono_literals;
using stix::Tlp;

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

std::string PublicKeyOf(const NodeProcess& node) {
  CommandResult r = RunKizuna({"identity", node.dir()});
  if (r.exit_code != 0) throw std::runtime_error("kizuna identity failed: " + r.err);
  return std::string(json::parse(r.out).as_object().at("public_key").as_string());
}

std::string Uuid(int n) {
  char text[64];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012d", n);
  return text;
}

// An indicator; tlp kNone leaves it unmarked. `extra` is appended inside the object.
std::string Indicator(int n, Tlp tlp, const std::string& extra, const std::string& modified) {
  std::string marking;
  if (tlp != Tlp::kNone) {
    marking = ",\"object_marking_refs\":[\"" + std::string(stix::TlpMarkingId(tlp)) + "\"]";
  }
  return "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--" + Uuid(n) +
         "\",\"created\":\"2026-11-23T00:00:00.000Z\",\"modified\":\"" + modified +
         "\",\"pattern\":\"[ipv4-addr:value = '203.0.113." + std::to_string(n % 250) +
         "']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-11-23T00:00:00Z\"" + marking +
         extra + "}";
}

std::string TrimmedFile(const std::string& path) {
  std::string text = ReadFile(path);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::string IndicatorId(int n) { return "indicator--" + Uuid(n); }

void Post(NodeProcess& node, const std::vector<std::string>& objects) {
  http::Response r = node.Post(kObjects, Envelope(objects));
  ASSERT_EQ(r.status, 202) << r.body;
  json::object status = json::parse(r.body).as_object();
  ASSERT_EQ(status.at("failure_count").as_int64(), 0) << r.body;
}

// Every stored version in a node's default collection, id -> count of versions.
std::map<std::string, int> Versions(NodeProcess& node, const std::string& key) {
  std::map<std::string, int> versions;
  std::string next;
  for (int pages = 0; pages < 1000; ++pages) {
    std::string path = std::string(kObjects) + "?match[version]=all&limit=1000";
    if (!next.empty()) path += "&next=" + next;
    http::Response r = node.Request("GET", path, key.empty() ? node.admin_key() : key);
    if (r.status != 200 || r.body == "{}") break;
    json::object page = json::parse(r.body).as_object();
    if (page.contains("objects")) {
      for (const auto& o : page.at("objects").as_array()) {
        ++versions[std::string(o.as_object().at("id").as_string())];
      }
    }
    if (!page.at("more").as_bool()) break;
    next = std::string(page.at("next").as_string());
  }
  return versions;
}

std::set<std::string> VersionSet(NodeProcess& node) {
  std::set<std::string> versions;
  std::string next;
  for (int pages = 0; pages < 1000; ++pages) {
    std::string path = std::string(kObjects) + "?match[version]=all&limit=1000";
    if (!next.empty()) path += "&next=" + next;
    http::Response r = node.Request("GET", path, node.admin_key());
    if (r.status != 200 || r.body == "{}") break;
    json::object page = json::parse(r.body).as_object();
    if (page.contains("objects")) {
      for (const auto& o : page.at("objects").as_array()) {
        const json::object& object = o.as_object();
        std::string modified =
            object.contains("modified") ? std::string(object.at("modified").as_string()) : "";
        versions.insert(std::string(object.at("id").as_string()) + "@" + modified);
      }
    }
    if (!page.at("more").as_bool()) break;
    next = std::string(page.at("next").as_string());
  }
  return versions;
}

bool Has(NodeProcess& node, int n) { return Versions(node).count(IndicatorId(n)) > 0; }

node::PeerConfig PeerEntry(const std::string& name, const std::string& url,
                           const std::string& token, const std::string& public_key) {
  node::PeerConfig peer;
  peer.name = name;
  peer.url = url;
  peer.token = token;
  peer.public_key = public_key;
  peer.unsigned_partner = public_key.empty();  // a plain TAXII server in the test
  return peer;
}

void AddPeer(NodeProcess& node, const node::PeerConfig& peer) {
  Status added = node::AddPeerToConfigFile(node.dir() + "/kizuna.toml", peer);
  ASSERT_TRUE(added.ok()) << added.ToString();
}

// Makes `a` (known to `b` as a_name) and `b` (known to `a` as b_name) peers of
// each other, both ways, as two teams would with `kizuna user add` and
// `kizuna peer add`. `tune` adjusts each side's entry (a's entry for b first).
void Federate(NodeProcess& a, const std::string& a_name, NodeProcess& b, const std::string& b_name,
              const std::function<void(node::PeerConfig&)>& tune_a,
              const std::function<void(node::PeerConfig&)>& tune_b) {
  std::string a_key_at_b = b.AddUser(a_name, "node");
  std::string b_key_at_a = a.AddUser(b_name, "node");
  node::PeerConfig for_a = PeerEntry(b_name, b.base_url(), a_key_at_b, PublicKeyOf(b));
  node::PeerConfig for_b = PeerEntry(a_name, a.base_url(), b_key_at_a, PublicKeyOf(a));
  if (tune_a) tune_a(for_a);
  if (tune_b) tune_b(for_b);
  AddPeer(a, for_a);
  AddPeer(b, for_b);
}

void AddPeerBack(NodeProcess& node, const std::string& partner_name, NodeProcess& partner,
                 const std::string& node_name) {
  std::string key_at_partner = partner.AddUser(node_name, "node-back");
  AddPeer(node, PeerEntry(partner_name, partner.base_url(), key_at_partner, PublicKeyOf(partner)));
}

std::string AuditLog(const NodeProcess& node) { return ReadFile(node.dir() + "/audit.log"); }

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

json::object PeerStatus(NodeProcess& node, const std::string& peer) {
  CommandResult r = RunKizuna({"peer", "list", node.dir(), "--json"});
  if (r.exit_code == 0) {
    boost::system::error_code ec;
    json::value list = json::parse(r.out, ec);
    if (!ec && list.is_array()) {
      for (const auto& p : list.as_array()) {
        if (p.is_object() && p.as_object().contains("name") &&
            p.as_object().at("name").as_string() == peer) {
          return p.as_object();
        }
      }
    }
  }
  return {};
}

json::object StatusOf(NodeProcess& node, const std::string& peer) {
  json::object entry = PeerStatus(node, peer);
  if (!entry.contains("status") || !entry.at("status").is_object()) return {};
  return entry.at("status").as_object();
}

namespace {
std::string StringField(const json::object& object, const char* key) {
  const json::value* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : "";
}
}  // namespace

std::string PeerState(NodeProcess& node, const std::string& peer) {
  return StringField(StatusOf(node, peer), "state");
}

std::string PeerLastError(NodeProcess& node, const std::string& peer) {
  return StringField(StatusOf(node, peer), "last_error");
}

boost::json::object JsonOut(const CommandResult& result) {
  EXPECT_EQ(result.exit_code, 0) << result.err;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(result.out, ec);
  EXPECT_FALSE(ec) << result.out;
  return ec || !v.is_object() ? boost::json::object() : v.as_object();
}

size_t DirectoryTeams(NodeProcess& node) {
  boost::json::object shown = JsonOut(RunKizuna({"directory", "show", node.dir(), "--json"}));
  return shown.contains("teams") ? shown.at("teams").as_array().size() : 0;
}

int64_t TimestampOf(const boost::json::value& value) {
  if (!value.is_string()) {
    ADD_FAILURE() << "not a timestamp: " << value;
    return 0;
  }
  auto parsed = ParseTimestamp(std::string(value.get_string()));
  EXPECT_TRUE(parsed.ok()) << value;
  return parsed.ok() ? *parsed : 0;
}

}  // namespace kizuna::e2e
