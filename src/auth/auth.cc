#include "auth/auth.h"

#include <sodium.h>

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
  IssuedKey issued;
  issued.record.key_id = HexEncode(RandomBytes(kKeyIdLength / 2));
  std::string secret = Base64UrlEncode(RandomBytes(32));
  KIZUNA_ASSIGN_OR_RETURN(issued.record.secret_hash, HashSecret(secret));
  issued.record.user_id = user_id;
  issued.record.created_us = SystemClock::Instance().NowMicros();
  issued.record.label = label;
  KIZUNA_RETURN_IF_ERROR(store.AddApiKey(issued.record));
  issued.token = std::string(kPrefix) + issued.record.key_id + "_" + secret;
  return issued;
}

Result<store::User> Authenticator::Authenticate(std::string_view header) {
  header = Trim(header);
  if (header.empty()) return Unauthenticated("authentication required: send an API key");
  std::string token;
  if (StartsWithNoCase(header, "Bearer ")) {
    token = std::string(Trim(header.substr(7)));
  } else if (StartsWithNoCase(header, "Basic ")) {
    auto decoded = Base64Decode(Trim(header.substr(6)));
    if (!decoded) return Unauthenticated("the Basic credentials are not valid base64");
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) return Unauthenticated("the Basic credentials lack a ':'");
    token = decoded->substr(colon + 1);
  } else {
    return Unauthenticated("unsupported authorization scheme (use Bearer or Basic)");
  }
  KIZUNA_ASSIGN_OR_RETURN(ParsedToken parsed, ParseToken(token));
  auto key = store_.GetApiKey(parsed.key_id);
  if (!key.ok()) {
    if (key.status().code() == Code::kNotFound) return Unauthenticated("unknown API key");
    return key.status();
  }
  if (key->revoked) return Unauthenticated("this API key has been revoked");

  const std::string digest = Sha256(token);
  bool verified = false;
  {
    std::lock_guard lock(mutex_);
    auto it = verified_.find(parsed.key_id);
    verified = it != verified_.end() && it->second.secret_hash == key->secret_hash &&
               ConstantTimeEquals(it->second.token_digest, digest);
  }
  if (!verified) {
    if (!VerifySecret(key->secret_hash, parsed.secret)) return Unauthenticated("wrong API key");
    std::lock_guard lock(mutex_);
    if (verified_.size() > 100000) verified_.clear();  // bound memory under key churn
    verified_[parsed.key_id] = Verified{digest, key->secret_hash};
  }
  KIZUNA_ASSIGN_OR_RETURN(store::User user, store_.GetUser(key->user_id));
  if (user.disabled) return Unauthenticated("this user is disabled");
  return user;
}

}  // namespace kizuna::auth
