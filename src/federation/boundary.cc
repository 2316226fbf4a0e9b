#include "federation/boundary.h"

#include "federation/signing.h"

namespace kizuna::federation {

std::optional<Refusal> CheckInbound(const http::Request& request, bool is_taxii,
                                    const sharing::Recipient& recipient,
                                    const node::PeerConfig* peer, const std::string& org) {
  if (request.headers.Has(kFederationHeader) &&
      recipient.kind == sharing::Recipient::Kind::kExternal) {
    return Refusal{403, kNotPartnerYet,
                   "this node has no [[peer]] entry for organization '" + org +
                       "' yet; it syncs once its operator adds one",
                   "", ""};
  }
  if (!is_taxii || !peer) return std::nullopt;
  if (request.method == "DELETE") {
    return Refusal{403, "Forbidden", "a partner node's account may not delete objects", "delete",
                   "rejected: a partner may not delete"};
  }
  if (request.method == "POST") {
    Status signed_ok = CheckSigned(peer->public_key, request.headers, request.body);
    if (!signed_ok.ok()) {
      return Refusal{403, "Signature rejected", signed_ok.message(), "push",
                     "rejected: " + signed_ok.message()};
    }
  }
  return std::nullopt;
}

bool MustSign(const http::Request& request, const http::Response& response,
              const node::PeerConfig* peer) {
  return response.status == 200 && !response.body.empty() &&
         (peer != nullptr || request.headers.Has(kWantSignatureHeader));
}

}  // namespace kizuna::federation
