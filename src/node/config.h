// A node's configuration: DIR/kizuna.toml. `kizuna init` writes the
// commented default (DefaultConfigText); LoadConfig reads it back and reports
// the first problem as one line naming the key ("kizuna.toml: server.listen:
// expected HOST:PORT, got 'x'"). The node's own sections are typed structs
// here; a capability module's section is kept as TOML for the module to read
// (NodeConfig::sections). Plain value type; not thread-safe to mutate.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "stix/stix.h"

namespace kizuna::node {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8443;
  int threads = 4;
  // Plain HTTP is refused on non-loopback addresses unless this is true.
  bool allow_plain_http = false;
  std::string tls_cert;  // PEM paths, relative to the node directory
  std::string tls_key;
  // The URL partners use to reach this node (discovery answers with it);
  // empty: derived from each request's Host header.
  std::string public_url;
  int read_timeout_seconds = 30;
};

struct LimitsConfig {
  uint64_t max_body_bytes = 64ull * 1024 * 1024;
  uint64_t max_objects_per_request = 10000;
  uint64_t max_page_size = 1000;      // the most objects one GET returns
  uint64_t default_page_size = 1000;  // when the client sends no limit
  int max_json_depth = 64;
  // Failed authentications within the window after which an address gets
  // 429 for every attempt, and a key id 429 for its failures (auth/auth.h).
  int auth_failures_per_address = 30;
  int auth_failures_per_key_id = 10;
  int auth_failure_window_seconds = 60;
  // Matching (POST /api/v1/match) runs on the "work" lane: a pool of this
  // many threads, apart from the I/O threads; this many more may wait for
  // it, beyond that 503 with Retry-After.
  int worker_threads = 2;
  int worker_queue = 32;
  // Imports (TAXII POST: a member's or a partner's push) run on the
  // "import" lane, a pool of their own sized the same way, so that matching
  // that fills the work lane cannot keep them waiting or refused.
  int import_threads = 1;
  int import_queue = 32;
  // Most pattern evaluations (observables × non-indexable patterns) one
  // match request may cost; more is refused with 413.
  uint64_t max_match_work = 1000000;
  // Per authenticated user on rate-limited routes (POST /api/v1/match): a
  // token bucket refilled at this rate, holding up to heavy_burst; beyond,
  // 429 with Retry-After. 0 requests per second: no limit.
  int heavy_requests_per_second = 5;
  int heavy_burst = 20;
  // Per authenticated user: rate-limited requests running at once; more get
  // 429 (a member within its rate cannot hold every worker).
  int heavy_in_flight_per_user = 1;
};

struct StoreConfig {
  std::string backend = "sqlite";
  std::string path = "kizuna.db";  // relative to the node directory
  std::string synchronous = "FULL";
};

struct TaxiiConfig {
  std::string title = "kizuna";
  std::string description = "kizuna TAXII 2.1 server";
  std::string contact;
  std::string api_root = "root";  // served at /taxii2/<api_root>/
};

// A named set of partner peers that an object can be restricted to with the
// property "x_kizuna_sharing_groups": ["<group>", …].
struct SharingGroup {
  std::string name;
  std::vector<std::string> members;  // peer names
};

struct SharingConfig {
  stix::Tlp default_tlp = stix::Tlp::kAmber;  // for objects that carry no TLP marking
  // The highest TLP that users of an organization that is neither this
  // node's own nor a peer's may read (RED never leaves the node).
  stix::Tlp external_max_tlp = stix::Tlp::kGreen;
  std::vector<SharingGroup> groups;
};

enum class PushMode {
  kAuto,    // push unless the partner is a kizuna node that streams to us anyway
  kAlways,  // also to kizuna nodes
  kNever,
};

// A partner node ([[peer]] in kizuna.toml).
enum class SightingShare { kProducer, kReceived };
std::string_view SightingShareName(SightingShare share);

// What the partner runs: a TAXII 2.1 server (a kizuna node or any other),
// or a MISP instance reached through MISP's REST API (interop/misp_peer.h).
enum class PeerKind { kTaxii, kMisp };
std::string_view PeerKindName(PeerKind kind);

struct PeerConfig {
  std::string name;  // unique; also the default organization of its users here
  PeerKind kind = PeerKind::kTaxii;
  std::string url;    // the partner's base URL: "https://cti.partner.example:8443"
  std::string token;  // the API key this node uses at the partner ("user:password": HTTP Basic;
                      // a MISP auth key); never logged
  // The partner's Ed25519 key (base64); empty only when unsigned_partner
  // and for MISP (which signs nothing).
  std::string public_key;
  // A plain TAXII server that signs nothing ("unsigned = true"): what it
  // sends is taken without a signature and audited as unsigned.
  bool unsigned_partner = false;
  std::string org;  // our organization whose users act for this partner (default: name)
  stix::Tlp max_tlp = stix::Tlp::kAmber;  // the highest TLP it may receive
  std::vector<std::string> pull;          // its collections to pull; empty: all it lets us read
  std::string into = "default";           // our collection that receives what we pull
  std::vector<std::string> share = {"default"};  // our collections it may read / we push
  PushMode push = PushMode::kAuto;
  std::string push_to;   // its collection to push into; empty: the first writable one
  bool reshare = false;  // may it receive CLEAR/GREEN objects that came from other peers
  // Our sightings it receives: of the indicators it produced (kProducer),
  // or of every indicator it may receive from us (kReceived, as MISP does).
  SightingShare sightings = SightingShare::kProducer;
  bool stream = true;  // subscribe to its live stream when it offers one
  int poll_seconds = 30;
  std::string ca_file;             // TLS: trust this CA bundle (relative to the node directory)
  std::string pinned_cert_sha256;  // TLS: or accept exactly this certificate
};

struct CorrelationConfig {
  uint64_t max_results = 100;             // indicators reported per observable
  std::vector<std::string> warninglists;  // MISP warninglist files (relative to the node dir)
  bool exclude_warninglisted = false;
  int64_t sighting_period_seconds = 86400;
  // How often a running node saves its correlation snapshot while the
  // index changes (read at start).
  int64_t snapshot_seconds = 300;
};

struct NodeConfig {
  std::string name = "kizuna";  // the team's name
  ServerConfig server;
  LimitsConfig limits;
  StoreConfig store;
  TaxiiConfig taxii;
  SharingConfig sharing;
  CorrelationConfig correlation;
  std::vector<PeerConfig> peers;
  std::string log_level = "info";
  // The sections of the node's capability modules ([telescope], …), by name,
  // as TOML text: each module reads its own (platform::Module::Configure,
  // through node::ConfigSection::Parse).
  std::map<std::string, std::string> sections;
  // ConfigDigest of the text this config was loaded from (LoadConfig): a
  // running node reports the digest of the config it runs with, so that a
  // caller that edited kizuna.toml can tell when the node has picked it up.
  std::string digest;
};

// A short stable digest of a config file's bytes (FNV-1a, hex).
std::string ConfigDigest(std::string_view text);

// The commented kizuna.toml that `kizuna init` writes, with every default.
std::string DefaultConfigText(const std::string& name, const std::string& host, uint16_t port);

Result<NodeConfig> LoadConfig(const std::string& path);
Result<NodeConfig> ParseConfig(std::string_view toml_text, const std::string& source_name);

// Adds a [[peer]] entry to the config file (mode 0600: it holds the peer's
// token). Fails, changing nothing, when the result would not load (a
// duplicate name, a bad value).
Status AddPeerToConfigFile(const std::string& path, const PeerConfig& peer);
// Removes the [[peer]] entry named `name`; kNotFound when there is none.
Status RemovePeerFromConfigFile(const std::string& path, const std::string& name);
std::string_view PushModeName(PushMode mode);

// Parses "HOST:PORT" ("[::1]:8443" for IPv6).
Status ParseListen(std::string_view text, std::string* host, uint16_t* port);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

}  // namespace kizuna::node
