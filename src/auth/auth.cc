#include "auth/auth.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "common/encoding.h"
#include "common/time.h"

namespace kizuna::auth {
namespace {

constexpr std::string_view kPrefix = "kz_";
constexpr size_t kKeyIdLength = 16;

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

}  // namespace

Result<std::string> HashSecret(std::string_view secret) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialize");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, secret.data(), secret.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Internal("out of memory while hashing a key");
  }
  return std::string(out);
}

bool VerifySecret(std::string_view encoded_hash, std::string_view secret) {
  if (sodium_init() < 0) return false;
  std::string hash(encoded_hash);  // needs NUL termination
  return crypto_pwhash_str_verify(hash.c_str(), secret.data(), secret.size()) == 0;
}

Result<std::string> LoadHmacKey(store::Store& store) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialize");
  KIZUNA_ASSIGN_OR_RETURN(
      std::string encoded,
      store.GetOrSetMeta(std::string(kHmacKeyMeta),
                         Base64Encode(RandomBytes(crypto_auth_hmacsha256_KEYBYTES))));
  auto key = Base64Decode(encoded);
  if (!key || key->size() != crypto_auth_hmacsha256_KEYBYTES) {
    return Internal("the store's " + std::string(kHmacKeyMeta) + " is damaged");
  }
  return *key;
}

std::string HashApiKeySecret(std::string_view hmac_key, std::string_view key_id,
                             std::string_view secret) {
  static constexpr std::string_view kContext("kizuna-api-key\0", 15);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(hmac_key.data()),
                              hmac_key.size());
  const auto update = [&state](std::string_view part) {
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                                  part.size());
  };
  update(kContext);
  update(key_id);
  update(std::string_view("\0", 1));
  update(secret);
  unsigned char tag[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, tag);
  sodium_memzero(&state, sizeof state);
  return std::string(kHmacTag) +
         Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(tag), sizeof tag));
}

bool VerifyApiKeySecret(std::string_view hmac_key, std::string_view stored, std::string_view key_id,
                        std::string_view secret) {
  const std::string expected = HashApiKeySecret(hmac_key, key_id, secret);
  // The length is public (it is the format's); the bytes are compared in
  // constant time.
  if (stored.size() != expected.size()) return false;
  return sodium_memcmp(stored.data(), expected.data(), expected.size()) == 0;
}

Result<ParsedToken> ParseToken(std::string_view token) {
  token = Trim(token);
  if (token.size() < kPrefix.size() + kKeyIdLength + 2 ||
      token.substr(0, kPrefix.size()) != kPrefix || token[kPrefix.size() + kKeyIdLength] != '_') {
    return Unauthenticated("the API key is malformed (expected kz_<id>_<secret>)");
  }
  ParsedToken parsed;
  parsed.key_id = std::string(token.substr(kPrefix.size(), kKeyIdLength));
  parsed.secret = std::string(token.substr(kPrefix.size() + kKeyIdLength + 1));
  if (!IsHex(parsed.key_id) || parsed.secret.size() < 16) {
    return Unauthenticated("the API key is malformed (expected kz_<id>_<secret>)");
  }
  return parsed;
}

Result<IssuedKey> IssueApiKey(store::Store& store, int64_t user_id, const std::string& label) {
  KIZUNA_ASSIGN_OR_RETURN(std::string hmac_key, LoadHmacKey(store));
  IssuedKey issued;
  issued.record.key_id = HexEncode(RandomBytes(kKeyIdLength / 2));
  std::string secret = Base64UrlEncode(RandomBytes(32));
  issued.record.secret_hash = HashApiKeySecret(hmac_key, issued.record.key_id, secret);
  issued.record.user_id = user_id;
  issued.record.created_us = SystemClock::Instance().NowMicros();
  issued.record.label = label;
  KIZUNA_RETURN_IF_ERROR(store.AddApiKey(issued.record));
  issued.token = std::string(kPrefix) + issued.record.key_id + "_" + secret;
  return issued;
}

Authenticator::Authenticator(store::Store& store, FailureLimits limits, const Clock& clock)
    : store_(store), limiter_(limits, clock) {}

Result<std::string> Authenticator::HmacKey() {
  std::lock_guard lock(key_mutex_);
  if (!hmac_key_) {
    KIZUNA_ASSIGN_OR_RETURN(std::string key, LoadHmacKey(store_));
    hmac_key_ = std::move(key);
  }
  return *hmac_key_;
}

Authenticator::Stats Authenticator::stats() const {
  Stats stats;
  stats.hmac_verifications = hmac_verifications_.load();
  stats.argon2_verifications = argon2_verifications_.load();
  stats.upgrades = upgrades_.load();
  stats.limited = limited_.load();
  return stats;
}

AuthOutcome Authenticator::Verify(std::string_view header, bool use_limits, std::string* key_id,
                                  bool address_limited) {
  AuthOutcome out;
  const auto fail = [&out](std::string_view message, std::string reason) {
    out.user = Unauthenticated(std::string(message));
    out.log_reason = std::move(reason);
    return out;
  };
  header = Trim(header);
  if (header.empty()) return fail("authentication required: send an API key", "no credentials");
  std::string token;
  if (StartsWithNoCase(header, "Bearer ")) {
    token = std::string(Trim(header.substr(7)));
  } else if (StartsWithNoCase(header, "Basic ")) {
    auto decoded = Base64Decode(Trim(header.substr(6)));
    if (!decoded) return fail("the Basic credentials are not valid base64", "bad Basic");
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) return fail("the Basic credentials lack a ':'", "bad Basic");
    token = decoded->substr(colon + 1);
  } else {
    return fail("unsupported authorization scheme (use Bearer or Basic)", "unknown scheme");
  }
  auto parsed = ParseToken(token);
  if (!parsed.ok()) return fail(parsed.status().message(), "malformed key");
  *key_id = parsed->key_id;
  const std::string& id = parsed->key_id;
  auto hmac_key = HmacKey();
  if (!hmac_key.ok()) {
    out.user = hmac_key.status();
    return out;
  }

  auto key = store_.GetApiKey(id);
  if (!key.ok()) {
    if (key.status().code() != Code::kNotFound) {
      out.user = key.status();
      return out;
    }
    // The same work as for a known key, against a tag nothing matches.
    static const std::string kDummy = std::string(kHmacTag) + std::string(43, 'A');
    ++hmac_verifications_;
    (void)VerifyApiKeySecret(*hmac_key, kDummy, id, parsed->secret);
    return fail(kInvalidKeyMessage, "unknown key id " + id);
  }

  const bool legacy = key->secret_hash.rfind(kHmacTag, 0) != 0;
  if (!legacy) {
    ++hmac_verifications_;
    const bool right = VerifyApiKeySecret(*hmac_key, key->secret_hash, id, parsed->secret);
    if (key->revoked) return fail(kInvalidKeyMessage, "revoked key id " + id);
    if (!right) return fail(kInvalidKeyMessage, "wrong secret for key id " + id);
  } else {
    if (key->revoked) return fail(kInvalidKeyMessage, "revoked key id " + id);
    if (key->secret_hash.rfind("$argon2id$", 0) != 0) {
      return fail(kInvalidKeyMessage, "unrecognized stored hash for key id " + id);
    }
    if (use_limits && (address_limited || limiter_.KeyRetryAfterUs(id) > 0)) {
      out.limited = true;
      return fail(kTooManyFailuresMessage, "key id " + id + " over its failure limit (legacy)");
    }
    ++argon2_verifications_;
    if (!VerifySecret(key->secret_hash, parsed->secret)) {
      return fail(kInvalidKeyMessage, "wrong secret for key id " + id);
    }
    // Right: from now on the fast form. A failed rewrite only means the
    // next use pays Argon2id again.
    auto replaced = store_.ReplaceApiKeyHash(id, key->secret_hash,
                                             HashApiKeySecret(*hmac_key, id, parsed->secret));
    if (!replaced.ok()) {
      spdlog::warn("API key {}: could not upgrade its Argon2id hash: {}", id,
                   replaced.status().ToString());
    } else if (*replaced) {
      ++upgrades_;
      spdlog::info("API key {}: Argon2id hash upgraded to {}", id, kHmacTag.substr(0, 11));
    }
  }

  auto user = store_.GetUser(key->user_id);
  if (!user.ok()) {
    out.user = user.status();
    return out;
  }
  if (user->disabled) return fail(kInvalidKeyMessage, "disabled user of key id " + id);
  out.user = std::move(*user);
  return out;
}

AuthOutcome Authenticator::AuthenticateRequest(std::string_view header,
                                               std::string_view remote_address) {
  const auto seconds = [](int64_t micros) {
    return std::max<int64_t>(1, (micros + 999'999) / 1'000'000);
  };
  if (Trim(header).empty()) return AuthOutcome{};  // asking for credentials costs nothing
  // An address over its limit still gets its right keys accepted (checking
  // an HMAC costs less than refusing it would save, and a guesser on a
  // shared address must not lock everyone behind it out); its failures get
  // 429, and a legacy (Argon2id) key from it is not verified at all.
  const int64_t address_wait = limiter_.AddressRetryAfterUs(remote_address);
  std::string key_id;
  AuthOutcome out = Verify(header, /*use_limits=*/true, &key_id, address_wait > 0);
  if (out.user.ok() || out.user.status().code() != Code::kUnauthenticated) return out;
  if (address_wait > 0) {
    ++limited_;
    out.user = Unauthenticated(std::string(kTooManyFailuresMessage));
    out.limited = true;
    out.retry_after_seconds = seconds(address_wait);
    out.log_reason = "address over its failure limit: " + out.log_reason;
    return out;
  }
  if (out.limited) {  // a legacy key over its limit: not verified, nothing to count
    ++limited_;
    out.retry_after_seconds = seconds(limiter_.KeyRetryAfterUs(key_id));
    return out;
  }
  const bool key_was_limited = !key_id.empty() && limiter_.KeyRetryAfterUs(key_id) > 0;
  limiter_.RecordFailure(remote_address, key_id);
  if (key_was_limited) {
    ++limited_;
    out.user = Unauthenticated(std::string(kTooManyFailuresMessage));
    out.limited = true;
    out.retry_after_seconds = seconds(limiter_.KeyRetryAfterUs(key_id));
  }
  return out;
}

Result<store::User> Authenticator::Authenticate(std::string_view header) {
  std::string key_id;
  return Verify(header, /*use_limits=*/false, &key_id).user;
}

}  // namespace kizuna::auth
