// Provenance between nodes: each node signs the bodies it sends (TAXII pages
// a partner pulls, envelopes it pushes, live-stream events) with its Ed25519
// identity key; the receiver verifies against the key it registered for that
// partner and rejects on mismatch.
#pragma once

#include <string>
#include <string_view>

#include "http/http.h"

namespace kizuna::federation {

// The header (and the live stream's event field) carrying the base64
// detached Ed25519 signature of the body's exact bytes.
inline constexpr const char* kSignatureHeader = "X-Kizuna-Signature";
// A request header by which a kizuna node asks for signed answers.
inline constexpr const char* kWantSignatureHeader = "X-Kizuna-Want-Signature";
// A request header by which a kizuna node's peer worker says it syncs as a
// partner: a node that has no [[peer]] for the caller's organization answers
// 403 "not a partner yet" instead of serving it as an outside organization.
inline constexpr const char* kFederationHeader = "X-Kizuna-Federation";
inline constexpr const char* kNotPartnerYet = "Not a partner yet";

// True when `signature_base64` is a valid signature of `body` by the Ed25519
// public key `public_key_base64`.
bool VerifySignature(std::string_view public_key_base64, std::string_view body,
                     std::string_view signature_base64);

// Checks a received response or request: its signature header must verify
// against the partner's key. An empty key means the partner does not sign
// (a plain TAXII server): then anything passes.
Status CheckSigned(std::string_view public_key_base64, const http::Headers& headers,
                   std::string_view body);

}  // namespace kizuna::federation
