#include "common/uuid.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <cstdio>

#include "common/encoding.h"

namespace kizuna {
namespace {

std::string Format(const unsigned char* b) {
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return std::string(out, 36);
}

}  // namespace

bool IsUuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (t[i] != '-') return false;
    } else if (HexDigitValue(t[i]) < 0) {
      return false;
    }
  }
  return true;
}

int UuidVersion(std::string_view t) {
  if (!IsUuid(t)) return 0;
  return HexDigitValue(t[14]);
}

std::string NewUuid4() {
  if (sodium_init() < 0) std::abort();
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return Format(b);
}

std::string Uuid5(std::string_view ns, std::string_view name) {
  if (!IsUuid(ns)) return {};
  unsigned char nsb[16];
  size_t j = 0;
  for (size_t i = 0; i < ns.size() && j < 16; ++i) {
    if (ns[i] == '-') continue;
    nsb[j++] = static_cast<unsigned char>(HexDigitValue(ns[i]) * 16 + HexDigitValue(ns[i + 1]));
    ++i;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, nsb, sizeof nsb);
  EVP_DigestUpdate(ctx, name.data(), name.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  digest[6] = (digest[6] & 0x0f) | 0x50;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  return Format(digest);
}

}  // namespace kizuna
