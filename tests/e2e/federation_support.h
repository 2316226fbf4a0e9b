// Helpers for multi-node federation tests: STIX indicators to post, nodes
// made partners of each other the way two teams would, and views of what a
// node holds, its audit log and its peers' states.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "node/config.h"
#include "stix/stix.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {

inline constexpr const char* kObjects = "/taxii2/root/collections/default/objects/";

// Polls `done` every 20 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The node's Ed25519 public key (kizuna identity).
std::string PublicKeyOf(const NodeProcess& node);
std::string Uuid(int n);
// An indicator; tlp kNone leaves it unmarked. `extra` is appended inside the object.
std::string Indicator(int n, stix::Tlp tlp, const std::string& extra = "",
                      const std::string& modified = "2026-11-23T00:00:00.000Z");
std::string IndicatorId(int n);
std::string TrimmedFile(const std::string& path);
// POSTs to the default collection as the admin; asserts every object was taken.
void Post(NodeProcess& node, const std::vector<std::string>& objects);
// Every stored version in a node's default collection, id -> count of versions,
// as `key` (default: the admin) sees them.
std::map<std::string, int> Versions(NodeProcess& node, const std::string& key = "");
bool Has(NodeProcess& node, int n);
// Every stored version in a node's default collection as "id@modified" (two
// nodes that hold the same versions have equal sets; counts alone can match
// while the versions differ).
std::set<std::string> VersionSet(NodeProcess& node);

// A [[peer]] entry; an empty public_key makes it an unsigned partner.
node::PeerConfig PeerEntry(const std::string& name, const std::string& url,
                           const std::string& token, const std::string& public_key);
void AddPeer(NodeProcess& node, const node::PeerConfig& peer);
// Makes `a` (known to `b` as a_name) and `b` (known to `a` as b_name) peers of
// each other, both ways, as two teams would with `kizuna user add` and
// `kizuna peer add`. `tune` adjusts each side's entry (a's entry for b first).
void Federate(NodeProcess& a, const std::string& a_name, NodeProcess& b, const std::string& b_name,
              const std::function<void(node::PeerConfig&)>& tune_a = {},
              const std::function<void(node::PeerConfig&)>& tune_b = {});

// `node` configures `partner` as its peer named `partner_name` (the
// organization of partner's account on node), with an account for itself at
// the partner: the other half of a federation whose first half `partner` set up.
void AddPeerBack(NodeProcess& node, const std::string& partner_name, NodeProcess& partner,
                 const std::string& node_name);

std::string AuditLog(const NodeProcess& node);

// The JSON object a `kizuna … --json` command printed ({} and a test
// failure when it failed or printed something else).
boost::json::object JsonOut(const CommandResult& result);
// How many teams `kizuna directory show DIR --json` lists.
size_t DirectoryTeams(NodeProcess& node);
// A "…Z" timestamp value in microseconds (0 and a test failure when not one).
int64_t TimestampOf(const boost::json::value& value);
size_t CountOf(const std::string& text, const std::string& needle);
// A peer's entry in `kizuna peer list DIR --json` ({} when absent).
boost::json::object PeerStatus(NodeProcess& node, const std::string& peer);
// Its persisted "status" object ({} before the node saved one), and the
// status's "state" and "last_error" ("" when absent).
boost::json::object StatusOf(NodeProcess& node, const std::string& peer);
std::string PeerState(NodeProcess& node, const std::string& peer);
std::string PeerLastError(NodeProcess& node, const std::string& peer);

}  // namespace kizuna::e2e
