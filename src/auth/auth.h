// Authentication of API keys. A key is "kz_<key_id>_<secret>": key_id (16 hex
// digits) is public and finds the key's row; only an Argon2id hash of the
// secret is stored. Clients present the key as "Authorization: Bearer <key>"
// or as the password of HTTP Basic (the user name is ignored), so standard
// TAXII clients work unchanged.
//
// Authenticator is thread-safe. Because Argon2id is slow by design, a
// successful verification is remembered in memory (as a SHA-256 of the whole
// key, never the key itself); the key's row and its user are still read on
// every request, so revocation and disabling apply at once, also when made
// by another process (the CLI).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "store/store.h"

namespace kizuna::auth {

struct IssuedKey {
  std::string token;  // shown once to the person; never stored or logged
  store::ApiKey record;
};

// Creates a key for `user_id` and stores its hash.
Result<IssuedKey> IssueApiKey(store::Store& store, int64_t user_id, const std::string& label);

// Argon2id (libsodium crypto_pwhash_str, interactive limits).
Result<std::string> HashSecret(std::string_view secret);
bool VerifySecret(std::string_view encoded_hash, std::string_view secret);

// Splits a token into key_id and secret; nullopt-like error when malformed.
struct ParsedToken {
  std::string key_id;
  std::string secret;
};
Result<ParsedToken> ParseToken(std::string_view token);

class Authenticator {
 public:
  explicit Authenticator(store::Store& store) : store_(store) {}

  // Authenticates the value of an Authorization header ("Bearer …" or
  // "Basic …"). Unauthenticated status on any failure, with a message that
  // says what is wrong but never echoes the secret.
  Result<store::User> Authenticate(std::string_view authorization_header);

 private:
  store::Store& store_;
  std::mutex mutex_;
  // key_id -> SHA-256(token) and the stored hash it was verified against.
  struct Verified {
    std::string token_digest;
    std::string secret_hash;
  };
  std::unordered_map<std::string, Verified> verified_;  // GUARDED_BY(mutex_)
};

}  // namespace kizuna::auth
