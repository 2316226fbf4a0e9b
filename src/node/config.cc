#include "node/config.h"

#include "common/encoding.h"
#include "common/files.h"
#include "node/config_section_impl.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace kizuna::node {
namespace {

// Config errors are shown as one line; a parser may quote the offending
// characters (a newline, a control byte) verbatim.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

bool IsPeerName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

void ParseGroups(ConfigSection& sharing, std::vector<SharingGroup>* groups) {
  std::set<std::string> names;
  for (ConfigSection& r : sharing.Tables("group")) {
    SharingGroup group;
    r.String("name", &group.name);
    r.StringList("members", &group.members);
    r.RejectUnknown();
    if (!IsPeerName(group.name)) r.Fail("name", "must be 1-64 letters, digits, '-', '_' or '.'");
    if (!names.insert(group.name).second) r.Fail("name", "'" + group.name + "' is defined twice");
    groups->push_back(std::move(group));
  }
}

void ParsePeers(ConfigSection& root, std::vector<PeerConfig>* peers) {
  std::set<std::string> names;
  for (ConfigSection& r : root.Tables("peer")) {
    PeerConfig peer;
    r.String("name", &peer.name);
    std::string kind;
    r.String("kind", &kind);
    r.String("url", &peer.url);
    r.String("token", &peer.token);
    r.String("public_key", &peer.public_key);
    r.Bool("unsigned", &peer.unsigned_partner);
    r.String("org", &peer.org);
    r.Tlp("max_tlp", &peer.max_tlp, /*allow_red=*/false);
    r.StringList("pull", &peer.pull);
    r.String("into", &peer.into);
    r.StringList("share", &peer.share);
    std::string push;
    r.String("push", &push);
    r.String("push_to", &peer.push_to);
    r.Bool("reshare", &peer.reshare);
    std::string sightings;
    r.String("sightings", &sightings);
    r.Bool("stream", &peer.stream);
    r.Integer("poll_seconds", &peer.poll_seconds, 1, 86400);
    r.String("ca_file", &peer.ca_file);
    r.String("pinned_cert_sha256", &peer.pinned_cert_sha256);
    r.RejectUnknown();
    if (!IsPeerName(peer.name)) r.Fail("name", "must be 1-64 letters, digits, '-', '_' or '.'");
    if (!names.insert(peer.name).second) r.Fail("name", "'" + peer.name + "' is defined twice");
    if (peer.url.rfind("http://", 0) != 0 && peer.url.rfind("https://", 0) != 0) {
      r.Fail("url", "expected an http:// or https:// URL, got '" + peer.url + "'");
    }
    while (peer.url.size() > 1 && peer.url.back() == '/') peer.url.pop_back();
    if (peer.token.empty()) r.Fail("token", "the API key to use at the partner is required");
    if (kind == "" || kind == "taxii") {
      peer.kind = PeerKind::kTaxii;
    } else if (kind == "misp") {
      peer.kind = PeerKind::kMisp;
    } else {
      r.Fail("kind", "must be taxii or misp");
    }
    if (peer.kind == PeerKind::kMisp) {
      // MISP signs nothing: what it sends is audited as unsigned.
      if (!peer.public_key.empty()) r.Fail("public_key", "a MISP instance has no signing key");
      if (peer.unsigned_partner) r.Fail("unsigned", "a MISP instance is always unsigned");
    } else if (!peer.public_key.empty()) {
      auto key = Base64Decode(peer.public_key);
      if (!key || key->size() != 32) r.Fail("public_key", "expected a base64 Ed25519 key");
      if (peer.unsigned_partner) r.Fail("unsigned", "a partner with a public_key signs");
    } else if (!peer.unsigned_partner) {
      r.Fail("public_key",
             "the partner's Ed25519 key is required (`kizuna identity` on its node); for a "
             "plain TAXII server that signs nothing set unsigned = true");
    }
    if (peer.org.empty()) peer.org = peer.name;
    if (peer.into.empty()) r.Fail("into", "must name one of this node's collections");
    if (push == "" || push == "auto") {
      peer.push = PushMode::kAuto;
    } else if (push == "always") {
      peer.push = PushMode::kAlways;
    } else if (push == "never") {
      peer.push = PushMode::kNever;
    } else {
      r.Fail("push", "must be auto, always or never");
    }
    if (sightings == "" || sightings == "producer") {
      peer.sightings = SightingShare::kProducer;
    } else if (sightings == "received") {
      peer.sightings = SightingShare::kReceived;
    } else {
      r.Fail("sightings", "must be producer or received");
    }
    if (!peer.pinned_cert_sha256.empty()) {
      bool hex = peer.pinned_cert_sha256.size() == 64;
      for (char c : peer.pinned_cert_sha256)
        hex = hex && std::isxdigit(static_cast<unsigned char>(c));
      if (!hex)
        r.Fail("pinned_cert_sha256", "expected 64 hex digits (SHA-256 of the DER certificate)");
    }
    peers->push_back(std::move(peer));
  }
}

void CheckGroupMembers(const NodeConfig& config, Status* error) {
  for (size_t i = 0; i < config.peers.size(); ++i) {
    // The home organization sees everything: a partner must never be it.
    if (config.peers[i].org == config.name && error->ok()) {
      *error = InvalidArgument(fmt::format(
          "peer[{}].org: '{}' is this node's own organization (name); give the peer its own", i,
          config.name));
    }
  }
  std::set<std::string> peers;
  for (const PeerConfig& peer : config.peers) peers.insert(peer.name);
  for (size_t i = 0; i < config.sharing.groups.size(); ++i) {
    for (const std::string& member : config.sharing.groups[i].members) {
      if (!peers.count(member) && error->ok()) {
        *error = InvalidArgument(
            fmt::format("sharing.group[{}].members: '{}' is not a peer", i, member));
      }
    }
  }
}

// A TOML basic string.
std::string TomlString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string TomlStringList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + TomlString(items[i]);
  return out + "]";
}

std::string PeerToml(const PeerConfig& peer) {
  std::string out = "\n[[peer]]\n";
  out += "name = " + TomlString(peer.name) + "\n";
  if (peer.kind != PeerKind::kTaxii) out += "kind = " + TomlString(PeerKindName(peer.kind)) + "\n";
  out += "url = " + TomlString(peer.url) + "\n";
  out += "token = " + TomlString(peer.token) + "\n";
  if (peer.kind == PeerKind::kTaxii) out += "public_key = " + TomlString(peer.public_key) + "\n";
  if (peer.unsigned_partner) out += "unsigned = true\n";
  if (!peer.org.empty() && peer.org != peer.name) out += "org = " + TomlString(peer.org) + "\n";
  out += "max_tlp = " + TomlString(stix::TlpName(peer.max_tlp)) + "\n";
  if (!peer.pull.empty()) out += "pull = " + TomlStringList(peer.pull) + "\n";
  if (peer.into != "default") out += "into = " + TomlString(peer.into) + "\n";
  if (peer.share != std::vector<std::string>{"default"}) {
    out += "share = " + TomlStringList(peer.share) + "\n";
  }
  if (peer.push != PushMode::kAuto) out += "push = " + TomlString(PushModeName(peer.push)) + "\n";
  if (!peer.push_to.empty()) out += "push_to = " + TomlString(peer.push_to) + "\n";
  if (peer.reshare) out += "reshare = true\n";
  if (peer.sightings != SightingShare::kProducer) {
    out += "sightings = " + TomlString(SightingShareName(peer.sightings)) + "\n";
  }
  if (!peer.stream) out += "stream = false\n";
  if (peer.poll_seconds != 30) out += fmt::format("poll_seconds = {}\n", peer.poll_seconds);
  if (!peer.ca_file.empty()) out += "ca_file = " + TomlString(peer.ca_file) + "\n";
  if (!peer.pinned_cert_sha256.empty()) {
    out += "pinned_cert_sha256 = " + TomlString(peer.pinned_cert_sha256) + "\n";
  }
  return out;
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return IoError("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::string_view PeerKindName(PeerKind kind) { return kind == PeerKind::kMisp ? "misp" : "taxii"; }

std::string_view SightingShareName(SightingShare share) {
  return share == SightingShare::kReceived ? "received" : "producer";
}

std::string_view PushModeName(PushMode mode) {
  switch (mode) {
    case PushMode::kAuto:
      return "auto";
    case PushMode::kAlways:
      return "always";
    case PushMode::kNever:
      return "never";
  }
  return "auto";
}

Status AddPeerToConfigFile(const std::string& path, const PeerConfig& peer) {
  KIZUNA_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += PeerToml(peer);
  KIZUNA_ASSIGN_OR_RETURN(NodeConfig checked, ParseConfig(text, path));
  (void)checked;
  return ReplaceFileDurably(path, text, 0600);  // readable by its owner only
}

Status RemovePeerFromConfigFile(const std::string& path, const std::string& name) {
  KIZUNA_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  KIZUNA_ASSIGN_OR_RETURN(NodeConfig before, ParseConfig(text, path));
  // Cut the [[peer]] block (from its header to the next table header) whose
  // name is `name`; comments and other entries stay as the operator wrote them.
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto is_header = [](const std::string& line) {
    size_t first = line.find_first_not_of(" \t");
    return first != std::string::npos && line[first] == '[';
  };
  std::string out;
  bool removed = false;
  for (size_t i = 0; i < lines.size();) {
    size_t end = i + 1;
    if (is_header(lines[i]) && lines[i].find("[[peer]]") != std::string::npos) {
      while (end < lines.size() && !is_header(lines[end])) ++end;
      std::string block;
      for (size_t j = i; j < end; ++j) block += lines[j] + "\n";
      auto parsed = ParseConfig("name = \"x\"\n" + block, path);
      if (parsed.ok() && parsed->peers.size() == 1 && parsed->peers[0].name == name) {
        removed = true;
        i = end;
        continue;
      }
    }
    for (size_t j = i; j < end; ++j) out += lines[j] + "\n";
    i = end;
  }
  if (!removed) return NotFound("no peer named '" + name + "' in " + path);
  KIZUNA_ASSIGN_OR_RETURN(NodeConfig after, ParseConfig(out, path));
  if (after.peers.size() + 1 != before.peers.size()) {
    return FailedPrecondition("cannot remove peer '" + name + "' from " + path +
                              " by itself; edit the file");
  }
  return ReplaceFileDurably(path, out, 0600);
}

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

Status ParseListen(std::string_view text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return InvalidArgument(fmt::format("expected HOST:PORT, got '{}'", text));
  }
  std::string_view h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int value = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || value > 65535) {
      return InvalidArgument(fmt::format("expected HOST:PORT, got '{}'", text));
    }
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return InvalidArgument(fmt::format("port out of range in '{}'", text));
  *host = std::string(h);
  *port = static_cast<uint16_t>(value);
  return Status::Ok();
}

std::string DefaultConfigText(const std::string& name, const std::string& host, uint16_t port) {
  std::string listen = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format(R"(# kizuna node configuration. Every key is shown with its default.
# Paths are relative to this file's directory.

# The team that runs this node (shown to partners, used as the STIX identity name).
name = "{name}"

[server]
# Address and port to listen on. TAXII 2.1 is served at /taxii2/, the REST API
# at /api/v1/.
listen = "{listen}:{port}"
# I/O threads.
threads = 4
# TLS certificate chain and private key (PEM). When both are set the node
# speaks HTTPS only.
tls_cert = ""
tls_key = ""
# Plain HTTP is refused on non-loopback addresses unless this is true.
allow_plain_http = false
# The base URL partners use to reach this node, e.g. "https://cti.example.org:8443".
# Empty: derived from each request's Host header.
public_url = ""
# Seconds a client may take to send one request (headers and body).
read_timeout_seconds = 30

[limits]
# Largest request body accepted; larger ones get 413 before they are read.
max_body_bytes = 67108864
# Most STIX objects in one TAXII POST.
max_objects_per_request = 10000
# Most objects one TAXII GET returns, and the page size when the client asks none.
max_page_size = 1000
default_page_size = 1000
# Deepest JSON nesting accepted.
max_json_depth = 64
# Failed authentications (unknown, wrong, revoked keys, disabled users) within
# auth_failure_window_seconds: past auth_failures_per_address, an address gets
# 429 for every attempt (clients behind one NAT share it); past
# auth_failures_per_key_id, a key id's failures get 429 (its right secret still
# works). Read when the node starts.
auth_failures_per_address = 30
auth_failures_per_key_id = 10
auth_failure_window_seconds = 60
# Matching (POST /api/v1/match) runs on this many worker threads, apart from
# the I/O threads, so that it cannot stall cheap requests; worker_queue more
# may wait, beyond that they get 503 with Retry-After.
worker_threads = 2
worker_queue = 32
# Imports (TAXII POST: members' and partners' pushes) run on workers of their
# own, sized the same way, so that matching that fills the workers above
# cannot keep them waiting or refused.
import_threads = 1
import_queue = 32
# Most pattern evaluations one /api/v1/match request may cost: observables x
# patterns the index cannot hold (LIKE, MATCHES, …). More gets 413.
max_match_work = 1000000
# Per user on /api/v1/match: a token bucket refilled at this many requests
# per second, holding up to heavy_burst; beyond, 429 with Retry-After.
# 0 turns the limit off.
heavy_requests_per_second = 5
heavy_burst = 20
# Per user on /api/v1/match: requests running at once (more get 429), so that
# a member within its rate cannot hold every worker.
heavy_in_flight_per_user = 1

[store]
# "sqlite" (embedded). PostgreSQL comes with its own issue.
backend = "sqlite"
path = "kizuna.db"
# "FULL": every acknowledged write survives power loss. "NORMAL": survives a
# crash of the process (kill -9) but not of the machine; faster.
synchronous = "FULL"

[taxii]
title = "{name} TAXII 2.1"
description = "kizuna node of {name}"
contact = ""
# The API root is served at /taxii2/<api_root>/.
api_root = "root"

[sharing]
# TLP given to objects that carry no TLP marking: clear, green, amber,
# amber+strict or red.
default_tlp = "amber"
# Highest TLP that users of organizations that are neither this team nor a
# peer may read. RED never leaves the node.
external_max_tlp = "green"
# Sharing groups: an object with "x_kizuna_sharing_groups": ["asean"] goes
# only to the peers of those groups (AMBER+STRICT needs such a group to
# leave the node at all).
# [[sharing.group]]
# name = "asean"
# members = ["cert-a", "cert-b"]

# Partner nodes (`kizuna peer add` writes these; a running node picks them up).
# [[peer]]
# name = "cert-b"                 # also our organization whose users act for it
# url = "https://cti.cert-b.example:8443"
# token = "kz_…"                  # the API key cert-b gave us
# public_key = "…"                # `kizuna identity` on cert-b
# max_tlp = "amber"               # highest TLP cert-b may receive
# pull = []                       # its collections to pull; empty: all we may read
# into = "default"                # our collection for what we receive
# share = ["default"]             # our collections it may read / we push
# push = "auto"                   # auto (only to non-kizuna servers), always, never
# push_to = ""                    # its collection to push to; empty: first writable
# reshare = false                 # pass on CLEAR/GREEN objects from other peers
# sightings = "producer"          # our sightings it gets: of indicators it produced,
#                                 # or "received": of every indicator it may get from us
# stream = true                   # live stream when offered, else poll
# poll_seconds = 30
# ca_file = ""                    # TLS: CA bundle, or:
# pinned_cert_sha256 = ""         # TLS: the partner certificate's SHA-256

[correlation]
# Most indicators reported per observable by /api/v1/match and `kizuna match`.
max_results = 100
# Warning lists in MISP's warninglists JSON format, besides the built-in ones
# (private and documentation ranges, public resolvers, example and popular domains).
warninglists = []
# true: observables on a warning list get no matches, only the warning.
exclude_warninglisted = false
# Sightings: one sighting object per indicator and this many seconds.
sighting_period_seconds = 86400
# A running node saves its correlation snapshot (DIR/correlation.snapshot)
# this often while indicators change, and when it stops.
snapshot_seconds = 300

[log]
# trace, debug, info, warn, error
level = "info"
)",
                     fmt::arg("name", name), fmt::arg("listen", listen), fmt::arg("port", port));
}

Result<NodeConfig> ParseConfig(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(OneLine(fmt::format("{}:{}:{}: {}", source, e.source().begin.line,
                                               e.source().begin.column, e.description())));
  }
  NodeConfig config;
  auto error = std::make_shared<Status>();
  // A node section: a table, or absent (every key at its default).
  auto section = [&](const char* name) {
    const toml::node* n = root.get(name);
    if (n && !n->is_table() && error->ok()) {
      *error = InvalidArgument(std::string(name) + ": expected a [" + name + "] table");
    }
    return ReadTable(n ? n->as_table() : nullptr, name, std::string(name) + ".", error);
  };

  ConfigSection top = ReadTable(&root, "", "", error);
  top.String("name", &config.name);
  {
    ConfigSection r = section("server");
    std::string listen;
    r.String("listen", &listen);
    if (!listen.empty()) {
      Status st = ParseListen(listen, &config.server.host, &config.server.port);
      if (!st.ok()) r.Fail("listen", st.message());
    }
    r.Integer("threads", &config.server.threads, 1, 256);
    r.String("tls_cert", &config.server.tls_cert);
    r.String("tls_key", &config.server.tls_key);
    r.Bool("allow_plain_http", &config.server.allow_plain_http);
    r.String("public_url", &config.server.public_url);
    r.Integer("read_timeout_seconds", &config.server.read_timeout_seconds, 1, 3600);
    r.RejectUnknown();
    if (config.server.tls_cert.empty() != config.server.tls_key.empty()) {
      r.Fail(config.server.tls_cert.empty() ? "tls_cert" : "tls_key",
             "tls_cert and tls_key must be set together");
    }
  }
  {
    ConfigSection r = section("limits");
    r.Integer("max_body_bytes", &config.limits.max_body_bytes, 1024, int64_t{1} << 40);
    r.Integer("max_objects_per_request", &config.limits.max_objects_per_request, 1, 10000000);
    r.Integer("max_page_size", &config.limits.max_page_size, 1, 1000000);
    r.Integer("default_page_size", &config.limits.default_page_size, 1, 1000000);
    r.Integer("max_json_depth", &config.limits.max_json_depth, 4, 10000);
    r.Integer("auth_failures_per_address", &config.limits.auth_failures_per_address, 1, 1000000);
    r.Integer("auth_failures_per_key_id", &config.limits.auth_failures_per_key_id, 1, 1000000);
    r.Integer("auth_failure_window_seconds", &config.limits.auth_failure_window_seconds, 1, 86400);
    r.Integer("worker_threads", &config.limits.worker_threads, 1, 256);
    r.Integer("worker_queue", &config.limits.worker_queue, 0, 100000);
    r.Integer("import_threads", &config.limits.import_threads, 1, 256);
    r.Integer("import_queue", &config.limits.import_queue, 0, 100000);
    r.Integer("max_match_work", &config.limits.max_match_work, 1, int64_t{1} << 50);
    r.Integer("heavy_requests_per_second", &config.limits.heavy_requests_per_second, 0, 1000000);
    r.Integer("heavy_burst", &config.limits.heavy_burst, 1, 1000000);
    r.Integer("heavy_in_flight_per_user", &config.limits.heavy_in_flight_per_user, 0, 1024);
    r.RejectUnknown();
    if (config.limits.default_page_size > config.limits.max_page_size) {
      r.Fail("default_page_size", "must not exceed max_page_size");
    }
  }
  {
    ConfigSection r = section("store");
    r.String("backend", &config.store.backend);
    r.String("path", &config.store.path);
    r.String("synchronous", &config.store.synchronous);
    r.RejectUnknown();
    if (config.store.backend != "sqlite") r.Fail("backend", "must be \"sqlite\"");
    if (config.store.synchronous != "FULL" && config.store.synchronous != "NORMAL") {
      r.Fail("synchronous", "must be \"FULL\" or \"NORMAL\"");
    }
  }
  {
    ConfigSection r = section("taxii");
    r.String("title", &config.taxii.title);
    r.String("description", &config.taxii.description);
    r.String("contact", &config.taxii.contact);
    r.String("api_root", &config.taxii.api_root);
    r.RejectUnknown();
    const std::string& root_name = config.taxii.api_root;
    bool ok = !root_name.empty() && root_name.size() <= 64;
    for (char c : root_name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) ok = false;
    }
    if (!ok) r.Fail("api_root", "must be 1-64 letters, digits, '-' or '_'");
  }
  {
    ConfigSection r = section("sharing");
    std::string tlp;
    r.String("default_tlp", &tlp);
    if (!tlp.empty()) {
      auto parsed = stix::ParseTlp(tlp);
      if (!parsed.ok() || *parsed == stix::Tlp::kNone) {
        r.Fail("default_tlp", "must be clear, green, amber, amber+strict or red");
      } else {
        config.sharing.default_tlp = *parsed;
      }
    }
    std::string external;
    r.String("external_max_tlp", &external);
    if (!external.empty()) {
      auto parsed = stix::ParseTlp(external);
      if (!parsed.ok() || *parsed == stix::Tlp::kNone || *parsed == stix::Tlp::kRed) {
        r.Fail("external_max_tlp", "must be clear, green, amber or amber+strict");
      } else {
        config.sharing.external_max_tlp = *parsed;
      }
    }
    r.Seen("group");
    r.RejectUnknown();
    ParseGroups(r, &config.sharing.groups);
  }
  {
    ConfigSection r = section("correlation");
    r.Integer("max_results", &config.correlation.max_results, 1, 100000);
    r.StringList("warninglists", &config.correlation.warninglists);
    r.Bool("exclude_warninglisted", &config.correlation.exclude_warninglisted);
    r.Integer("sighting_period_seconds", &config.correlation.sighting_period_seconds, 60,
              int64_t{366} * 86400);
    r.Integer("snapshot_seconds", &config.correlation.snapshot_seconds, 1, 86400);
    r.RejectUnknown();
  }
  {
    ConfigSection r = section("log");
    r.String("level", &config.log_level);
    r.RejectUnknown();
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
    if (!kLevels.count(config.log_level))
      r.Fail("level", "must be trace, debug, info, warn or error");
  }
  ParsePeers(top, &config.peers);
  for (const auto& [key, value] : root) {
    static const std::set<std::string, std::less<>> kNodeKeys = {
        "name", "server", "limits", "store", "taxii", "sharing", "log", "correlation", "peer"};
    if (kNodeKeys.count(key.str())) continue;
    // Another table is a module's section, kept for its module to read
    // (platform::Module::Configure); the platform refuses one that no
    // module of the node claims.
    if (const toml::table* table = value.as_table()) {
      std::ostringstream text;
      text << toml::toml_formatter(*table);
      config.sections[std::string(key.str())] = text.str();
    } else {
      top.Fail(key.str(), "unknown key");
    }
  }
  if (error->ok()) CheckGroupMembers(config, error.get());
  if (!error->ok()) return InvalidArgument(OneLine(source + ": " + error->message()));
  return config;
}

std::string ConfigDigest(std::string_view text) { return Fnv1aHex(text); }

Result<NodeConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return IoError("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  KIZUNA_ASSIGN_OR_RETURN(NodeConfig config, ParseConfig(buffer.str(), path));
  config.digest = ConfigDigest(buffer.str());
  return config;
}

}  // namespace kizuna::node
