// `kizuna peer add|remove|list|audit DIR …`: federation partners as
// [[peer]] entries of DIR/kizuna.toml (a running node follows the file), the
// status the running node persists for each, and the audit log.
#include <boost/json.hpp>
#include <cstdio>
#include <memory>

#include "federation/peer_commands.h"

#include <CLI/CLI.hpp>

#include "api/peers.h"
#include "common/time.h"
#include "federation/audit.h"
#include "federation/federation.h"
#include "node/node.h"
#include "stix/stix.h"

namespace kizuna::federation {
namespace {

int Fail(const Status& status) { return ReportFailure(status); }

namespace json = boost::json;

struct PeerArgs {
  std::string dir, name;
  node::PeerConfig peer;
  std::string max_tlp = "amber", push = "auto", sightings = "producer", kind = "taxii";
  bool no_stream = false;
  bool json = false;
  std::string audit_peer;
  size_t last = 0;
};

std::string ConfigPath(const std::string& dir) { return dir + "/kizuna.toml"; }

int PeerAdd(PeerArgs& args) {
  node::PeerConfig peer = args.peer;
  peer.name = args.name;
  auto tlp = stix::ParseTlp(args.max_tlp);
  if (!tlp.ok() || *tlp == stix::Tlp::kNone) {
    return Fail(InvalidArgument("--max-tlp: expected clear, green, amber or amber+strict, got '" +
                                args.max_tlp + "'"));
  }
  if (*tlp == stix::Tlp::kRed) {
    return Fail(InvalidArgument("--max-tlp: red never leaves the node; use amber+strict at most"));
  }
  peer.max_tlp = *tlp;
  if (args.kind == "misp") {
    peer.kind = node::PeerKind::kMisp;
  } else if (args.kind != "taxii") {
    return Fail(InvalidArgument("--kind: expected taxii or misp, got '" + args.kind + "'"));
  }
  if (args.push == "auto") {
    peer.push = node::PushMode::kAuto;
  } else if (args.push == "always") {
    peer.push = node::PushMode::kAlways;
  } else if (args.push == "never") {
    peer.push = node::PushMode::kNever;
  } else {
    return Fail(InvalidArgument("--push: expected auto, always or never, got '" + args.push + "'"));
  }
  if (args.sightings == "producer") {
    peer.sightings = node::SightingShare::kProducer;
  } else if (args.sightings == "received") {
    peer.sightings = node::SightingShare::kReceived;
  } else {
    return Fail(InvalidArgument("--sightings: expected producer or received, got '" +
                                args.sightings + "'"));
  }
  peer.stream = !args.no_stream;
  if (peer.share.empty()) peer.share = {node::kDefaultCollectionAlias};
  auto node = node::Node::Open(args.dir);
  if (!node.ok()) return Fail(node.status());
  Status added = api::AddPeer(ConfigPath(args.dir), peer, &(*node)->store());
  if (!added.ok()) {
    // Name the command-line option, not the kizuna.toml key it becomes.
    static const std::pair<const char*, const char*> kFlags[] = {
        {"name: ", "NAME: "},
        {"url: ", "--url: "},
        {"token: ", "--token: "},
        {"public_key: ", "--public-key: "},
        {"max_tlp: ", "--max-tlp: "},
        {"org: ", "--org: "},
        {"into: ", "--into: "},
        {"share: ", "--share: "},
        {"push_to: ", "--push-to: "},
        {"ca_file: ", "--ca-file: "},
        {"pinned_cert_sha256: ", "--pin-sha256: "}};
    std::string message = added.message();
    for (const auto& [key, flag] : kFlags) {
      if (message.rfind(key, 0) == 0) {
        message = flag + message.substr(std::string_view(key).size());
        break;
      }
    }
    return Fail(Status(added.code(), "peer add " + peer.name + ": " + message));
  }
  std::printf(
      "added peer %s (%s, up to TLP:%s) to %s; a running node picks it up within a second\n",
      peer.name.c_str(), peer.url.c_str(), std::string(stix::TlpName(peer.max_tlp)).c_str(),
      ConfigPath(args.dir).c_str());
  // The partner acts here through users of the peer's organization.
  const std::string org = peer.org.empty() ? peer.name : peer.org;
  auto users = (*node)->store().ListUsers();
  bool has_user = false;
  if (users.ok()) {
    for (const store::User& u : *users) has_user = has_user || (u.org_name == org && !u.disabled);
  }
  // A MISP instance only answers our calls: it needs no account here.
  if (users.ok() && !has_user && peer.kind == node::PeerKind::kTaxii) {
    std::fprintf(stderr,
                 "note: %s has no user here yet; create one for it with `kizuna user add %s "
                 "--org %s --name sync` and give the partner that key\n",
                 org.c_str(), args.dir.c_str(), org.c_str());
  }
  return 0;
}

int PeerRemove(const PeerArgs& args) {
  auto node = node::Node::Open(args.dir);  // a node directory with a config that loads
  if (!node.ok()) return Fail(node.status());
  Status removed = node::RemovePeerFromConfigFile(ConfigPath(args.dir), args.name);
  if (!removed.ok()) {
    if (removed.code() == Code::kNotFound) {
      return Fail(
          NotFound("no peer named '" + args.name + "' (see `kizuna peer list " + args.dir + "`)"));
    }
    return Fail(removed);
  }
  std::printf("removed peer %s; a running node stops syncing with it within a second\n",
              args.name.c_str());
  return 0;
}

std::string TimeOrDash(int64_t us) { return us == 0 ? "-" : FormatTimestamp(us, 0); }

std::string Lag(int64_t last_sync_us) {
  if (last_sync_us == 0) return "-";
  int64_t seconds =
      std::max<int64_t>(0, (SystemClock::Instance().NowMicros() - last_sync_us) / 1000000);
  if (seconds < 120) return std::to_string(seconds) + "s";
  if (seconds < 7200) return std::to_string(seconds / 60) + "m";
  if (seconds < 172800) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

int PeerList(const PeerArgs& args) {
  auto node = node::Node::Open(args.dir);
  if (!node.ok()) return Fail(node.status());
  const auto& peers = (*node)->config().peers;
  std::vector<std::optional<PeerStatus>> statuses;
  for (const node::PeerConfig& peer : peers) {
    auto status = LoadPeerStatus((*node)->store(), peer.name);
    if (!status.ok()) return Fail(status.status());
    statuses.push_back(*status);
  }
  if (args.json) {
    std::string out = "[";
    for (size_t i = 0; i < peers.size(); ++i) {
      if (i) out += ",";
      out += api::PeerJson(peers[i], statuses[i] ? PeerStatusToJson(*statuses[i]) : "");
    }
    std::printf("%s]\n", out.c_str());
    return 0;
  }
  if (peers.empty()) {
    std::printf(
        "no peers (add one with `kizuna peer add %s NAME --url … --token … "
        "--public-key …`)\n",
        args.dir.c_str());
    return 0;
  }
  std::printf("%-20s %-32s %-12s %-10s %-20s %-20s %-5s %9s %9s %9s\n", "NAME", "URL", "MAX_TLP",
              "STATE", "LAST_CONTACT", "LAST_SYNC", "LAG", "RECEIVED", "SENT", "REJECTED");
  for (size_t i = 0; i < peers.size(); ++i) {
    const node::PeerConfig& peer = peers[i];
    const auto& s = statuses[i];
    std::printf("%-20s %-32s %-12s %-10s %-20s %-20s %-5s %9llu %9llu %9llu\n", peer.name.c_str(),
                peer.url.c_str(), std::string(stix::TlpName(peer.max_tlp)).c_str(),
                s ? s->state.c_str() : "new", s ? TimeOrDash(s->last_contact_us).c_str() : "-",
                s ? TimeOrDash(s->last_sync_us).c_str() : "-",
                s ? Lag(s->last_sync_us).c_str() : "-",
                static_cast<unsigned long long>(s ? s->received : 0),
                static_cast<unsigned long long>(s ? s->sent : 0),
                static_cast<unsigned long long>(s ? s->rejected : 0));
    if (s && !s->last_error.empty()) std::printf("  last error: %s\n", s->last_error.c_str());
  }
  return 0;
}

int PeerAudit(const PeerArgs& args) {
  // Only a node directory has an audit log worth reading; say so otherwise.
  auto config = node::LoadConfig(ConfigPath(args.dir));
  if (!config.ok()) return Fail(config.status());
  auto lines = ReadAuditLog(args.dir + "/audit.log", args.audit_peer, args.last);
  if (!lines.ok()) return Fail(lines.status());
  for (const std::string& line : *lines) std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace

void AddPeerCommands(CLI::App& app, int* code) {
  auto args = std::make_shared<PeerArgs>();
  auto* peer = app.add_subcommand("peer", "Federate with partner nodes ([[peer]] in kizuna.toml)");
  peer->require_subcommand(1);

  auto* add = peer->add_subcommand(
      "add", "Add a partner node; a running node starts syncing with it within a second");
  add->add_option("DIR", args->dir, "node directory")->required();
  add->add_option("NAME", args->name, "the partner's name (letters, digits, '-', '_', '.')")
      ->required();
  add->add_option("--url", args->peer.url, "the partner's base URL (https://host:port)")
      ->required();
  add->add_option("--token", args->peer.token,
                  "the API key the partner issued for this node (stored in kizuna.toml, 0600)")
      ->required();
  auto* key = add->add_option("--public-key", args->peer.public_key,
                              "the partner's Ed25519 public key, base64 (`kizuna identity` on "
                              "its node)");
  auto* unsigned_flag =
      add->add_flag("--unsigned", args->peer.unsigned_partner,
                    "a plain TAXII server that signs nothing: take what it sends unsigned "
                    "(audited as such)");
  key->excludes(unsigned_flag);
  add->add_option("--kind", args->kind,
                  "what the partner runs: taxii (a kizuna node or any TAXII 2.1 server) or misp "
                  "(a MISP instance's REST API; --token is its auth key)")
      ->capture_default_str();
  add->add_option("--max-tlp", args->max_tlp,
                  "the highest TLP it may receive: clear, green, amber, amber+strict")
      ->capture_default_str();
  add->add_option("--org", args->peer.org,
                  "the organization here whose users act for the partner (default: NAME)");
  add->add_option("--pull", args->peer.pull,
                  "a collection of the partner's to pull (repeatable; default: all it lets us "
                  "read)");
  add->add_option("--into", args->peer.into, "our collection that receives what we pull")
      ->capture_default_str();
  args->peer.share.clear();
  add->add_option("--share", args->peer.share,
                  "our collection it may read and we push (repeatable; default: default)");
  add->add_option("--push", args->push, "push to it: auto, always or never")->capture_default_str();
  add->add_option("--push-to", args->peer.push_to,
                  "its collection we push into (default: the first writable one)");
  add->add_flag("--reshare", args->peer.reshare,
                "it may receive CLEAR/GREEN objects that came from other peers");
  add->add_option("--sightings", args->sightings,
                  "our sightings it gets: of the indicators it produced (producer), or of every "
                  "indicator it may receive from us (received)")
      ->capture_default_str();
  add->add_flag("--no-stream", args->no_stream, "poll it, even if it offers a live stream");
  add->add_option("--poll-seconds", args->peer.poll_seconds, "seconds between polls")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  add->add_option("--ca-file", args->peer.ca_file, "TLS: trust this CA bundle (PEM)");
  add->add_option("--pin-sha256", args->peer.pinned_cert_sha256,
                  "TLS: accept exactly the certificate with this SHA-256 (64 hex digits)");
  add->callback([args, code] { *code = PeerAdd(*args); });

  auto* remove = peer->add_subcommand(
      "remove", "Remove a partner node; a running node stops syncing with it within a second");
  remove->add_option("DIR", args->dir, "node directory")->required();
  remove->add_option("NAME", args->name, "the peer's name")->required();
  remove->callback([args, code] { *code = PeerRemove(*args); });

  auto* list = peer->add_subcommand(
      "list", "Show each peer: URL, highest TLP, state, last contact and sync, lag, counts");
  list->add_option("DIR", args->dir, "node directory")->required();
  list->add_flag("--json", args->json, "one JSON array (config and status; never the token)");
  list->callback([args, code] { *code = PeerList(*args); });

  auto* audit = peer->add_subcommand(
      "audit", "Print the federation audit log (JSON lines: what was sent, received, refused)");
  audit->add_option("DIR", args->dir, "node directory")->required();
  audit->add_option("--peer", args->audit_peer, "only this peer's lines");
  audit->add_option("--last", args->last, "only the last N lines (0: all)")->capture_default_str();
  audit->callback([args, code] { *code = PeerAudit(*args); });
}

}  // namespace kizuna::federation
