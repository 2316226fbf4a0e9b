// The node's boundary with its partners, as rules applied to each request
// before it is served and to each answer before it leaves:
//   - a kizuna node's peer worker (kFederationHeader) that this node has no
//     [[peer]] entry for is told "not a partner yet" (403), not served as an
//     outside organization (which would move its cursors past what it is owed);
//   - a partner's account may not delete (deletions do not federate);
//   - what a partner writes must carry its signature, when we registered its key;
//   - answers to partners (and to whoever asks) are signed by the node.
// Pure functions over the request and the sharing decision's recipient.
#pragma once

#include <optional>
#include <string>

#include "http/http.h"
#include "node/config.h"
#include "sharing/policy.h"

namespace kizuna::federation {

struct Refusal {
  int status = 403;
  std::string title;
  std::string description;
  // For the audit log: the channel ("push", "delete") and outcome; empty
  // channel when nothing is audited.
  std::string audit_channel;
  std::string audit_outcome;
};

// Whether an authenticated request may go on to be served. `peer` is the
// [[peer]] entry of the caller's organization (nullptr: none); `org` its name.
std::optional<Refusal> CheckInbound(const http::Request& request, bool is_taxii,
                                    const sharing::Recipient& recipient,
                                    const node::PeerConfig* peer, const std::string& org);

// Whether an answer must carry the node's signature.
bool MustSign(const http::Request& request, const http::Response& response,
              const node::PeerConfig* peer);

}  // namespace kizuna::federation
