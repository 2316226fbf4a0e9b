// A node directory and what lives in it:
//   DIR/kizuna.toml   configuration (node/config.h)
//   DIR/identity.key  the node's Ed25519 secret key, base64 (mode 0600)
//   DIR/admin.key     the first admin's API key (mode 0600)
//   DIR/kizuna.db     the embedded store
// InitNode creates one; Node::Open opens it for `serve` and for every CLI
// command (which may run while `serve` runs: the store is multi-process).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "node/config.h"
#include "store/store.h"

namespace kizuna::node {

inline constexpr const char* kDefaultCollectionAlias = "default";

struct InitOptions {
  std::string name = "kizuna";
  std::string host = "127.0.0.1";
  uint16_t port = 8443;
};

struct InitResult {
  std::string admin_key_path;
  std::string identity_id;
  std::string default_collection_id;
};

// Creates the node directory (which must not already hold a kizuna.toml).
Result<InitResult> InitNode(const std::string& dir, const InitOptions& options);

struct NodeIdentity {
  std::string identity_id;  // "identity--<uuid>"
  std::string name;
  std::string public_key_base64;  // Ed25519, 32 bytes
};

class Node {
 public:
  static Result<std::unique_ptr<Node>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const NodeConfig& config() const { return config_; }
  store::Store& store() { return *store_; }
  const NodeIdentity& identity() const { return identity_; }
  // Signs `message` with the node's key (detached Ed25519 signature, raw bytes).
  std::string Sign(std::string_view message) const;
  // A 32-byte secret for one purpose ("taxii next token"), derived from the
  // node's key: stable across restarts, different per purpose. Never logged.
  std::string DeriveKey(std::string_view purpose) const;
  // Resolves a path from the config relative to the node directory.
  std::string Resolve(const std::string& path) const;

 private:
  std::string dir_;
  NodeConfig config_;
  std::unique_ptr<store::Store> store_;
  NodeIdentity identity_;
  std::string secret_key_;  // 64 bytes; never logged
};

// `{"identity": …, "name": …, "public_key": …}` as `kizuna identity` prints it.
std::string IdentityJson(const NodeIdentity& identity);

struct NewUser {
  store::User user;
  std::string api_key;  // shown once
};

// Creates a user (and its organization if new) with an API key. Least
// privilege: a member of the home team (`home_org`, the node's name) gets
// read and write on the default collection, a member of any other
// organization read only (within sharing.external_max_tlp) until an admin
// grants more. A partner node's account writes into its peer's `into`
// collection by the peer config, not by a grant, so two nodes still
// federate with nothing but `kizuna user add` and `kizuna peer add`.
Result<NewUser> AddUser(store::Store& store, const std::string& org, const std::string& name,
                        store::Role role, const std::string& home_org);

Result<store::Role> ParseRole(std::string_view text);
std::string_view RoleName(store::Role role);

}  // namespace kizuna::node
