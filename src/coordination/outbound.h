// What the coordination module needs to send to partners (drills,
// emergencies): the node's store, coordination.db, identity and sharing
// decision, its mail settings and where its public links lead; and the
// e-mail to one partner contact with a link to acknowledge.
//
// Plain values and functions; thread-safe as the store, CoordinationDb and
// mail::Send are.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "coordination/coordination_db.h"
#include "mail/settings.h"
#include "node/config.h"
#include "node/node.h"
#include "sharing/policy.h"
#include "stix/stix.h"
#include "store/store.h"

namespace kizuna::coordination {

struct Outbound {
  store::Store* store = nullptr;
  CoordinationDb* db = nullptr;
  const node::NodeConfig* config = nullptr;
  const node::NodeIdentity* identity = nullptr;
  std::shared_ptr<const sharing::SharingPolicy> policy;
  mail::MailSettings mail;   // not configured: the node channel alone
  std::string ack_base_url;  // "https://cert.example:8443": where links lead
  stix::Tlp tlp = stix::Tlp::kAmber;
  // Signs with the node's key (Node::Sign: raw Ed25519 signature).
  std::function<std::string(std::string_view)> sign;
  std::function<void()> notify;                      // tells the node's bus (may be empty)
  std::function<void(const std::string&)> progress;  // a line per step (may be empty)
};

// The base of acknowledgement links: [server] public_url, else our
// directory entry's node URL, else the listen address.
std::string AckBaseUrl(const node::NodeConfig& config, const std::string& own_node_url);

// A random link token (43 characters of base64url) and how it is kept
// (hex SHA-256); a string of another shape is no token.
std::string NewLinkToken();
std::string LinkTokenHash(std::string_view token);
bool IsLinkToken(std::string_view token);

// The partners a drill or emergency names: at least one, each a [[peer]],
// none twice.
Status CheckPartners(const sharing::SharingPolicy& policy, const std::vector<std::string>& peers);
// Text a partner will read: at most `max_bytes`, UTF-8.
Status CheckText(std::string_view what, std::string_view text, size_t max_bytes);
// Whether `peer` may receive our `object` (addressed to it): the sharing
// decision, before anything is sent; FailedPrecondition saying why not.
Status CheckMayReceive(const sharing::SharingPolicy& policy, const std::string& peer,
                       const boost::json::object& object, stix::Tlp tlp);

// Minutes (a CLI or JSON number) as microseconds; not a finite number of
// at most a year: InvalidArgument naming `what`. (The callers check their
// own ranges.)
Result<int64_t> MinutesToMicros(double minutes, std::string_view what);

// A time for a command's table: to the second, "-" for none (0).
std::string TimeOrDash(int64_t micros);

// At most `max_bytes` of `text`, cut before a UTF-8 sequence, not in it.
std::string TruncateUtf8(std::string_view text, size_t max_bytes);

// One e-mail to a partner's contact.
struct ContactMail {
  std::string to;       // the address
  std::string subject;  // control characters become spaces
  std::string text;
  std::string message_id_name;                 // unique per message: "<uuid5(name)@…>"
  std::pair<std::string, std::string> header;  // "X-Kizuna-Drill", id
};
// What became of it: state "sent", "failed", "withheld" (the sharing
// decision refused e-mail at `outbound.tlp`: `detail` says why),
// "not-configured" (no smtp_url) or "no-contact" (no address), and detail.
struct MailOutcome {
  std::string state, detail;
};
MailOutcome SendContactMail(const Outbound& outbound, const ContactMail& mail, int64_t now_us);

}  // namespace kizuna::coordination
