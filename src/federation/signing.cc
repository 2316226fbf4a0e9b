#include "federation/signing.h"

#include <sodium.h>

#include "common/encoding.h"

namespace kizuna::federation {

bool VerifySignature(std::string_view public_key_base64, std::string_view body,
                     std::string_view signature_base64) {
  return VerifyEd25519(public_key_base64, body, signature_base64);
}

Status CheckSigned(std::string_view public_key_base64, const http::Headers& headers,
                   std::string_view body) {
  if (public_key_base64.empty()) return Status::Ok();
  std::string_view signature = headers.Get(kSignatureHeader);
  if (signature.empty()) {
    return PermissionDenied(std::string("no ") + kSignatureHeader +
                            " header: the partner must sign what it sends");
  }
  if (!VerifySignature(public_key_base64, body, signature)) {
    return PermissionDenied("the signature does not match the partner's registered key");
  }
  return Status::Ok();
}

}  // namespace kizuna::federation
