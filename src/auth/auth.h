// Authentication of API keys. A key is "kz_<key_id>_<secret>": key_id (16 hex
// digits) is public and finds the key's row; the secret is 32 random bytes
// (base64url) and only a hash of it is stored. Clients present the key as
// "Authorization: Bearer <key>" or as the password of HTTP Basic (the user
// name is ignored), so standard TAXII clients work unchanged.
//
// Stored hashes are tagged by format:
// - "hmac-sha256$<base64url>": HMAC-SHA-256 (libsodium crypto_auth_hmacsha256)
//   of "kizuna-api-key\0<key_id>\0<secret>", compared with sodium_memcmp
//   (constant time). Every key issued now. An API key secret has 256 bits of
//   entropy, so a slow password hash buys nothing against guessing, and a fast
//   one keeps a wrong secret as cheap as a right one (~1 µs, not ~65 ms).
// - "$argon2id$…": Argon2id (crypto_pwhash_str). Keys issued before; such a
//   key still verifies, and on its first successful use its row is rewritten
//   to the HMAC form (Store::ReplaceApiKeyHash, only if unchanged meanwhile).
//   HashSecret/VerifySecret stay for secrets people choose (passwords).
//
// The HMAC key. 32 random bytes, generated on first use and kept in the
// store's meta table under kHmacKeyMeta, created with Store::GetOrSetMeta so
// that the CLI (`kizuna user key`) and `kizuna serve`, separate processes
// opening the same store, always agree on it; it needs no new file, no
// plumbing through every caller, and travels with the database, so a
// restored backup's keys still verify. It is not meant to protect against a
// stolen database: the secrets themselves are unguessable, and the key makes
// stored tags useless on any other node and against precomputation.
//
// Authenticator is thread-safe; it reads the key's row and its user on every
// request, so revocation and disabling apply at once, also when made by
// another process. Its failures are uniform (see AuthenticateRequest).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/rate_limit.h"
#include "common/status.h"
#include "store/store.h"

namespace kizuna::auth {

// The one answer to every authentication failure that involves a key id:
// unknown id, wrong secret, revoked key, disabled user.
inline constexpr std::string_view kInvalidKeyMessage = "invalid or revoked API key";
inline constexpr std::string_view kTooManyFailuresMessage =
    "too many failed authentications; retry later";
// The meta key holding the node's HMAC key (base64).
inline constexpr std::string_view kHmacKeyMeta = "auth:api_key_hmac_key";
// The tag of the fast stored format.
inline constexpr std::string_view kHmacTag = "hmac-sha256$";

struct IssuedKey {
  std::string token;  // shown once to the person; never stored or logged
  store::ApiKey record;
};

// Creates a key for `user_id` and stores its HMAC.
Result<IssuedKey> IssueApiKey(store::Store& store, int64_t user_id, const std::string& label);

// Argon2id (libsodium crypto_pwhash_str, interactive limits), for secrets
// people choose.
Result<std::string> HashSecret(std::string_view secret);
bool VerifySecret(std::string_view encoded_hash, std::string_view secret);

// The node's HMAC key (raw 32 bytes), created in `store` on first use.
Result<std::string> LoadHmacKey(store::Store& store);
// The stored form "hmac-sha256$…" of an API key's secret.
std::string HashApiKeySecret(std::string_view hmac_key, std::string_view key_id,
                             std::string_view secret);
// Whether `stored` is the HMAC form of this key id and secret; constant time
// in the secret (sodium_memcmp over equal-length tags).
bool VerifyApiKeySecret(std::string_view hmac_key, std::string_view stored, std::string_view key_id,
                        std::string_view secret);

// Splits a token into key_id and secret; Unauthenticated when malformed.
struct ParsedToken {
  std::string key_id;
  std::string secret;
};
Result<ParsedToken> ParseToken(std::string_view token);

// The outcome of one request's authentication.
struct AuthOutcome {
  // The user; or Unauthenticated (401), or another code (500: the store).
  Result<store::User> user = Unauthenticated("authentication required: send an API key");
  // Set with `user` Unauthenticated: answer 429 with Retry-After (seconds).
  bool limited = false;
  int64_t retry_after_seconds = 0;
  // Why it failed, for the server log only (key id, never the secret).
  std::string log_reason;
};

class Authenticator {
 public:
  // `store` and `clock` must outlive the authenticator.
  explicit Authenticator(store::Store& store, FailureLimits limits = {},
                         const Clock& clock = SystemClock::Instance());

  // Authenticates a request's Authorization header ("Bearer …" or
  // "Basic …") from `remote_address`, with the failure limits:
  // - No header: 401 "authentication required", not counted.
  // - An address with FailureLimits::per_address failures in the window
  //   gets 429 for every failed attempt (not counted further), but a right
  //   HMAC-hashed key from it is still accepted: a guesser behind a shared
  //   NAT, proxy or loopback cannot lock everyone else there out. A legacy
  //   (Argon2id) key from a limited address is not verified at all (429).
  // - Otherwise the key is verified; every failure (malformed, unknown id,
  //   wrong secret, revoked, disabled) counts for the address and, when the
  //   token has a key id, for the key id, known or not alike. A failure for
  //   a key id that already had per_key_id failures in the window is
  //   answered 429 instead of 401.
  // - The per-key-id limit never refuses a right key: an HMAC-hashed key is
  //   always verified (that costs less than the row read), so a guesser
  //   elsewhere cannot lock its owner out. Only a key still in the legacy
  //   Argon2id form is not verified while its key id is limited (429): that
  //   is the expensive work the limit exists to stop.
  // - Unknown ids cost the same HMAC as known ones (against a dummy tag);
  //   unknown id, wrong secret, revoked key and disabled user all answer
  //   kInvalidKeyMessage. A revoked key still in the legacy form is refused
  //   without running Argon2id.
  AuthOutcome AuthenticateRequest(std::string_view authorization_header,
                                  std::string_view remote_address);

  // The same verification without the limits (the server re-checking the key
  // of a request it already authenticated, such as an open stream's).
  Result<store::User> Authenticate(std::string_view authorization_header);

  // Counters, for tests and benchmarks.
  struct Stats {
    int64_t hmac_verifications = 0;
    int64_t argon2_verifications = 0;
    int64_t upgrades = 0;  // legacy hashes rewritten to the HMAC form
    int64_t limited = 0;   // attempts answered 429
  };
  Stats stats() const;
  FailureLimiter& limiter() { return limiter_; }

 private:
  // Verifies a header; sets *key_id once the token has one. With
  // `use_limits`, a legacy key whose key id is over its limit is not verified.
  AuthOutcome Verify(std::string_view header, bool use_limits, std::string* key_id,
                     bool address_limited = false);
  Result<std::string> HmacKey();

  store::Store& store_;
  FailureLimiter limiter_;
  std::mutex key_mutex_;
  std::optional<std::string> hmac_key_;  // GUARDED_BY(key_mutex_); loaded once
  std::atomic<int64_t> hmac_verifications_{0};
  std::atomic<int64_t> argon2_verifications_{0};
  std::atomic<int64_t> upgrades_{0};
  std::atomic<int64_t> limited_{0};
};

}  // namespace kizuna::auth
