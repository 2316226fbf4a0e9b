#include "node/node.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/auth.h"
#include "common/encoding.h"
#include "common/uuid.h"
#include "store/sqlite/sqlite_store.h"

namespace kizuna::node {
namespace {

namespace fs = std::filesystem;

constexpr const char* kConfigFile = "kizuna.toml";
constexpr const char* kIdentityKeyFile = "identity.key";
constexpr const char* kAdminKeyFile = "admin.key";
constexpr const char* kMetaIdentityId = "node.identity_id";

// Writes a file readable only by its owner, failing if it exists.
Status WritePrivateFile(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create " + path + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      ::close(fd);
      return IoError("cannot write " + path + ": " + std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Result<std::unique_ptr<store::Store>> OpenStore(const std::string& dir, const NodeConfig& config) {
  store::SqliteOptions options;
  options.synchronous = config.store.synchronous;
  std::string path = config.store.path;
  if (path.empty() || path[0] != '/') path = dir + "/" + path;
  return store::OpenSqliteStore(path, options);
}

}  // namespace

Result<store::Role> ParseRole(std::string_view text) {
  if (text == "admin") return store::Role::kAdmin;
  if (text == "member") return store::Role::kMember;
  return InvalidArgument("role must be admin or member, got '" + std::string(text) + "'");
}

std::string_view RoleName(store::Role role) {
  return role == store::Role::kAdmin ? "admin" : "member";
}

Result<NewUser> AddUser(store::Store& store, const std::string& org, const std::string& name,
                        store::Role role, const std::string& home_org) {
  if (org.empty() || org.size() > 200)
    return InvalidArgument("the organization name must be 1-200 characters");
  if (name.empty() || name.size() > 200)
    return InvalidArgument("the user name must be 1-200 characters");
  KIZUNA_ASSIGN_OR_RETURN(store::Organization organization, store.EnsureOrganization(org));
  KIZUNA_ASSIGN_OR_RETURN(store::User user, store.CreateUser(name, organization.id, role));
  if (role == store::Role::kMember) {
    auto collection = store.GetCollection(kDefaultCollectionAlias);
    if (collection.ok()) {
      store::Grant grant;
      grant.collection_id = collection->id;
      grant.user_id = user.id;
      grant.can_read = true;
      grant.can_write = org == home_org;
      KIZUNA_RETURN_IF_ERROR(store.SetGrant(grant));
    }
  }
  KIZUNA_ASSIGN_OR_RETURN(auth::IssuedKey key,
                          auth::IssueApiKey(store, user.id, "created with user"));
  return NewUser{user, key.token};
}

Result<InitResult> InitNode(const std::string& dir, const InitOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  const std::string config_path = dir + "/" + kConfigFile;
  if (fs::exists(config_path)) {
    return AlreadyExists(dir + " already holds a node (" + config_path + " exists)");
  }
  if (sodium_init() < 0) return Internal("libsodium failed to initialize");

  std::string config_text = DefaultConfigText(options.name, options.host, options.port);
  KIZUNA_ASSIGN_OR_RETURN(NodeConfig config, ParseConfig(config_text, config_path));

  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  unsigned char secret_key[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(public_key, secret_key);
  std::string secret(reinterpret_cast<char*>(secret_key), sizeof secret_key);
  sodium_memzero(secret_key, sizeof secret_key);
  KIZUNA_RETURN_IF_ERROR(
      WritePrivateFile(dir + "/" + kIdentityKeyFile, Base64Encode(secret) + "\n"));
  sodium_memzero(secret.data(), secret.size());

  KIZUNA_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStore(dir, config));
  InitResult result;
  result.identity_id = "identity--" + NewUuid4();
  KIZUNA_RETURN_IF_ERROR(store->SetMeta(kMetaIdentityId, result.identity_id));

  store::Collection collection;
  collection.id = NewUuid4();
  collection.title = "Default collection";
  collection.description = "Shared threat intelligence of " + options.name;
  collection.alias = kDefaultCollectionAlias;
  KIZUNA_RETURN_IF_ERROR(store->CreateCollection(collection));
  result.default_collection_id = collection.id;

  KIZUNA_ASSIGN_OR_RETURN(
      NewUser admin, AddUser(*store, options.name, "admin", store::Role::kAdmin, options.name));
  store::Grant grant;
  grant.collection_id = collection.id;
  grant.user_id = admin.user.id;
  grant.can_read = grant.can_write = true;
  KIZUNA_RETURN_IF_ERROR(store->SetGrant(grant));
  result.admin_key_path = dir + "/" + kAdminKeyFile;
  KIZUNA_RETURN_IF_ERROR(WritePrivateFile(result.admin_key_path, admin.api_key + "\n"));
  // The config goes last: its presence marks a complete node.
  std::ofstream out(config_path);
  out << config_text;
  out.close();
  if (!out) return IoError("cannot write " + config_path);
  return result;
}

Result<std::unique_ptr<Node>> Node::Open(const std::string& dir) {
  auto node = std::unique_ptr<Node>(new Node());
  node->dir_ = dir;
  const std::string config_path = dir + "/" + kConfigFile;
  if (!fs::exists(config_path)) {
    return NotFound(dir + " is not a kizuna node (no kizuna.toml); create one with `kizuna init " +
                    dir + "`");
  }
  KIZUNA_ASSIGN_OR_RETURN(node->config_, LoadConfig(config_path));
  KIZUNA_ASSIGN_OR_RETURN(std::string key_text, ReadFile(dir + "/" + kIdentityKeyFile));
  while (!key_text.empty() && (key_text.back() == '\n' || key_text.back() == '\r'))
    key_text.pop_back();
  auto secret = Base64Decode(key_text);
  if (!secret || secret->size() != crypto_sign_SECRETKEYBYTES) {
    return InvalidArgument(dir + "/" + kIdentityKeyFile + " does not hold an Ed25519 secret key");
  }
  node->secret_key_ = std::move(*secret);
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_ed25519_sk_to_pk(public_key,
                               reinterpret_cast<const unsigned char*>(node->secret_key_.data()));
  node->identity_.public_key_base64 =
      Base64Encode(std::string_view(reinterpret_cast<char*>(public_key), sizeof public_key));
  node->identity_.name = node->config_.name;
  KIZUNA_ASSIGN_OR_RETURN(node->store_, OpenStore(dir, node->config_));
  KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> identity_id,
                          node->store_->GetMeta(kMetaIdentityId));
  if (!identity_id) return FailedPrecondition(dir + ": the store has no node identity");
  node->identity_.identity_id = *identity_id;
  return node;
}

std::string Node::DeriveKey(std::string_view purpose) const {
  std::string key(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                     reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size(),
                     reinterpret_cast<const unsigned char*>(secret_key_.data()),
                     crypto_generichash_KEYBYTES);
  return key;
}

std::string Node::Sign(std::string_view message) const {
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), reinterpret_cast<const unsigned char*>(secret_key_.data()));
  return std::string(reinterpret_cast<char*>(signature), sizeof signature);
}

std::string Node::Resolve(const std::string& path) const {
  if (path.empty() || path[0] == '/') return path;
  return dir_ + "/" + path;
}

std::string IdentityJson(const NodeIdentity& identity) {
  boost::json::object out;
  out["identity"] = identity.identity_id;
  out["name"] = identity.name;
  out["public_key"] = identity.public_key_base64;
  return boost::json::serialize(out);
}

}  // namespace kizuna::node
