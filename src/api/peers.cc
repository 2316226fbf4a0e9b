#include "api/peers.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "stix/stix.h"

namespace kizuna::api {
namespace {

namespace json = boost::json;

json::array StringArray(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

// "DIR/kizuna.toml: peer[3].url: expected …" → "url: expected …": the
// message is about the entry being added, whatever its index in the file.
std::string PeerMessage(const std::string& message, size_t new_index) {
  const std::string marker = ": peer[" + std::to_string(new_index) + "].";
  size_t at = message.find(marker);
  if (at == std::string::npos) return message;
  return message.substr(at + marker.size());
}

}  // namespace

std::string PeerJson(const node::PeerConfig& peer, std::string_view status_json) {
  json::object out;
  out["name"] = peer.name;
  out["url"] = peer.url;
  out["org"] = peer.org.empty() ? peer.name : peer.org;
  out["max_tlp"] = std::string(stix::TlpName(peer.max_tlp));
  out["kind"] = node::PeerKindName(peer.kind);
  out["public_key"] = peer.public_key;
  out["unsigned"] = peer.unsigned_partner;
  out["pull"] = StringArray(peer.pull);
  out["into"] = peer.into;
  out["share"] = StringArray(peer.share);
  out["push"] = std::string(node::PushModeName(peer.push));
  out["push_to"] = peer.push_to;
  out["reshare"] = peer.reshare;
  out["sightings"] = node::SightingShareName(peer.sightings);
  out["stream"] = peer.stream;
  out["poll_seconds"] = peer.poll_seconds;
  out["ca_file"] = peer.ca_file;
  out["pinned_cert_sha256"] = peer.pinned_cert_sha256;
  json::value status = nullptr;
  if (!status_json.empty()) {
    boost::system::error_code ec;
    json::value parsed = json::parse(status_json, ec);
    if (!ec && parsed.is_object()) {
      parsed.get_object().erase("name");  // shown above
      parsed.get_object().erase("url");
      status = std::move(parsed);
    }
  }
  out["status"] = std::move(status);
  return json::serialize(out);
}

Result<node::PeerConfig> PeerFromJson(std::string_view body) {
  auto parsed = stix::ParseJson(body, 8);
  if (!parsed.ok()) return InvalidArgument("invalid JSON: " + parsed.status().message());
  if (!parsed->is_object()) return InvalidArgument("the body must be a JSON object");
  const json::object& o = parsed->get_object();
  node::PeerConfig peer;
  Status error;
  auto fail = [&](std::string_view key, std::string_view what) {
    if (error.ok()) error = InvalidArgument(std::string(key) + ": " + std::string(what));
  };
  auto string = [&](std::string_view key, std::string* out) {
    const json::value* v = o.if_contains(key);
    if (!v) return;
    if (!v->is_string()) return fail(key, "expected a string");
    *out = std::string(v->get_string());
  };
  auto strings = [&](std::string_view key, std::vector<std::string>* out) {
    const json::value* v = o.if_contains(key);
    if (!v) return;
    if (!v->is_array()) return fail(key, "expected a list of strings");
    out->clear();
    for (const json::value& item : v->get_array()) {
      if (!item.is_string()) return fail(key, "expected a list of strings");
      out->emplace_back(item.get_string());
    }
  };
  auto boolean = [&](std::string_view key, bool* out) {
    const json::value* v = o.if_contains(key);
    if (!v) return;
    if (!v->is_bool()) return fail(key, "expected true or false");
    *out = v->get_bool();
  };
  static const std::set<std::string, std::less<>> kKeys = {
      "name",     "url",          "token",   "public_key",
      "org",      "max_tlp",      "pull",    "into",
      "share",    "push",         "push_to", "reshare",
      "stream",   "poll_seconds", "ca_file", "pinned_cert_sha256",
      "unsigned", "sightings",    "kind"};
  for (const auto& [key, value] : o) {
    if (!kKeys.count(std::string_view(key))) fail(key, "unknown key");
  }
  for (const char* key : {"name", "url", "token"}) {
    if (!o.contains(key)) fail(key, "required");
  }
  string("name", &peer.name);
  string("url", &peer.url);
  string("token", &peer.token);
  string("public_key", &peer.public_key);
  std::string kind;
  string("kind", &kind);
  if (kind == "misp") {
    peer.kind = node::PeerKind::kMisp;
  } else if (!kind.empty() && kind != "taxii") {
    fail("kind", "must be taxii or misp");
  }
  string("org", &peer.org);
  std::string text;
  string("max_tlp", &text);
  if (!text.empty()) {
    auto tlp = stix::ParseTlp(text);
    if (!tlp.ok() || *tlp == stix::Tlp::kNone) {
      fail("max_tlp", "must be clear, green, amber or amber+strict");
    } else {
      peer.max_tlp = *tlp;
    }
  }
  strings("pull", &peer.pull);
  string("into", &peer.into);
  strings("share", &peer.share);
  text.clear();
  string("push", &text);
  if (text == "always") {
    peer.push = node::PushMode::kAlways;
  } else if (text == "never") {
    peer.push = node::PushMode::kNever;
  } else if (!text.empty() && text != "auto") {
    fail("push", "must be auto, always or never");
  }
  string("push_to", &peer.push_to);
  boolean("reshare", &peer.reshare);
  text.clear();
  string("sightings", &text);
  if (text == "received") {
    peer.sightings = node::SightingShare::kReceived;
  } else if (!text.empty() && text != "producer") {
    fail("sightings", "must be producer or received");
  }
  boolean("stream", &peer.stream);
  boolean("unsigned", &peer.unsigned_partner);
  if (const json::value* v = o.if_contains("poll_seconds")) {
    if (!v->is_int64() && !v->is_uint64()) {
      fail("poll_seconds", "expected a whole number of seconds");
    } else {
      int64_t n = v->is_int64()
                      ? v->get_int64()
                      : static_cast<int64_t>(std::min<uint64_t>(v->get_uint64(), 1u << 30));
      if (n < 1 || n > 86400) {
        fail("poll_seconds", "must be between 1 and 86400");
      } else {
        peer.poll_seconds = static_cast<int>(n);
      }
    }
  }
  string("ca_file", &peer.ca_file);
  string("pinned_cert_sha256", &peer.pinned_cert_sha256);
  if (!error.ok()) return error;
  return peer;
}

Status AddPeer(const std::string& config_path, const node::PeerConfig& peer, store::Store* store) {
  if (peer.kind == node::PeerKind::kTaxii && peer.public_key.empty() && !peer.unsigned_partner) {
    return InvalidArgument(
        "public_key: the partner's Ed25519 key is required (`kizuna identity` on its node); "
        "for a plain TAXII server that signs nothing, mark it unsigned");
  }
  if (store) {
    std::vector<std::pair<const char*, std::string>> collections = {{"into", peer.into}};
    for (const std::string& c : peer.share) collections.emplace_back("share", c);
    for (const auto& [key, name] : collections) {
      if (name.empty()) continue;  // the config check names it
      auto found = store->GetCollection(name);
      if (found.ok()) continue;
      if (found.status().code() != Code::kNotFound) return found.status();
      return InvalidArgument(std::string(key) + ": this node has no collection '" + name +
                             "' (see `kizuna collection list`)");
    }
  }
  KIZUNA_ASSIGN_OR_RETURN(node::NodeConfig config, node::LoadConfig(config_path));
  // The partner's users must not be this node's own team: they would read
  // everything (RED included) and this node's writes would be taken as the
  // partner's.
  if ((peer.org.empty() ? peer.name : peer.org) == config.name) {
    return InvalidArgument(std::string(peer.org.empty() ? "name" : "org") + ": '" + config.name +
                           "' is this node's own organization; the partner's users need one of "
                           "their own (set org)");
  }
  for (const node::PeerConfig& existing : config.peers) {
    if (existing.name == peer.name) {
      return AlreadyExists("a peer named '" + peer.name + "' already exists (remove it first)");
    }
  }
  Status added = node::AddPeerToConfigFile(config_path, peer);
  if (!added.ok() && added.code() == Code::kInvalidArgument) {
    return InvalidArgument(PeerMessage(added.message(), config.peers.size()));
  }
  return added;
}

}  // namespace kizuna::api
