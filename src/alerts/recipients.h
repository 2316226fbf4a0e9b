// Alert recipients and routing: who is told about an infected host. A
// recipient is a network owner or ISP (by ASN and prefix), a national CSIRT
// (by country), an organisation (by domain) or the fallback for what no rule
// covers, with its preferences: the report's format, the channel it arrives
// by, how often, the highest TLP it may receive, and suppression.
//
// Routing: the most specific rule wins — the longest matching prefix, then
// the longest matching domain of the host's name, then the ASN, then the
// country, then the fallback. Two recipients with an equal rule: the first
// by name. RouteTable is built once from the recipients and then only read.
//
// Thread-safety: Recipient is a value; a RouteTable is immutable once built
// and safe to read from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alerts/observation.h"
#include "common/status.h"
#include "sharing/policy.h"
#include "stix/stix.h"

namespace kizuna::alerts {

enum class ReportFormat { kCsv, kJson, kStix };
enum class Channel {
  kEmail,  // an e-mail with the report attached (SMTP)
  kNode,   // a partner's kizuna node, through federation, as STIX
  kFeed,   // nothing is pushed: the recipient pulls GET /api/v1/alerts/feed
};

std::string_view ReportFormatName(ReportFormat format);
std::string_view ChannelName(Channel channel);
std::optional<ReportFormat> ParseReportFormat(std::string_view name);
std::optional<Channel> ParseChannel(std::string_view name);

struct Prefix {
  HostAddress network;  // host bits cleared
  int length = 0;       // 0..32 (IPv4) or 0..128 (IPv6)
};
// "192.0.2.0/24", "2001:db8::/32" or a bare address; host bits are cleared.
Result<Prefix> ParsePrefix(std::string_view text);
std::string FormatPrefix(const Prefix& prefix);

struct Recipient {
  std::string name;  // unique; letters, digits, '.', '_', '-' (1..64)
  // Rules.
  std::vector<uint32_t> asns;
  std::vector<Prefix> prefixes;
  std::vector<std::string> countries;  // ISO 3166 alpha-2, upper case
  std::vector<std::string> domains;    // lower case, no leading dot
  bool fallback = false;               // receives what no rule routes
  // Preferences.
  ReportFormat format = ReportFormat::kCsv;
  Channel channel = Channel::kEmail;
  std::vector<std::string> emails;  // kEmail
  std::string peer;                 // kNode: the [[peer]] name
  // The node organization whose users may pull this recipient's feed and
  // acknowledge its reports (any channel); "" for none.
  std::string org;
  int64_t period_seconds = 86400;     // one report per period: 3600, 86400 or 604800
  stix::Tlp tlp = stix::Tlp::kAmber;  // the reports' marking, at most AMBER
  // A finding (ip, type, identifier) reported once is not reported again
  // for this many days; with repeat_persisting it is, every period it is
  // still seen.
  int suppress_days = 7;
  bool repeat_persisting = false;
  // This many days after a report was sent, each of its events is checked
  // again (recheck.h): is the host still seen? 0: never.
  int recheck_days = 7;
};

// Checks a recipient's fields (name, rules, channel needs, period, TLP).
Status ValidateRecipient(const Recipient& recipient);

// JSON form (the store, the CLI's --json, the REST API):
// {"name", "asns": [..], "prefixes": [..], "countries": [..], "domains": [..],
//  "fallback", "format", "channel", "emails", "peer", "org", "period_seconds",
//  "tlp", "suppress_days", "repeat_persisting", "recheck_days"}.
std::string RecipientToJson(const Recipient& recipient);
Result<Recipient> RecipientFromJson(std::string_view json);

// How an observation was routed: the recipient's index in the table's list
// (or -1: unrouted) and the rule that chose it ("prefix 192.0.2.0/24",
// "asn 64500", …).
struct Route {
  int recipient = -1;
  std::string_view rule_kind;  // "prefix", "domain", "asn", "country", "fallback", ""
};

// The recipient as the sharing decision sees it: an affected party
// (SharingPolicy::ForAffectedParty), reached through its peer on channel node.
sharing::Recipient AffectedParty(const sharing::SharingPolicy& policy, const Recipient& recipient);

// Whether an event or report marked `tlp` (a TLP name as stored; an
// unreadable one counts as RED) that came from `origin` ("" for ours) may go
// to `party`. *why says which rule refused.
bool MayReach(const sharing::SharingPolicy& policy, std::string_view tlp, const std::string& origin,
              const sharing::Recipient& party, std::string* why = nullptr);

class RouteTable {
 public:
  explicit RouteTable(std::vector<Recipient> recipients);

  // `asn` 0 and `country` "" mean unknown; `hostname` may be empty.
  Route Find(const HostAddress& ip, uint32_t asn, std::string_view country,
             std::string_view hostname) const;

  const std::vector<Recipient>& recipients() const { return recipients_; }
  int IndexOf(std::string_view name) const;

 private:
  struct V6Key {
    std::array<uint8_t, 16> bytes;
    bool operator==(const V6Key&) const = default;
  };
  struct V6KeyHash {
    size_t operator()(const V6Key& key) const;
  };

  std::vector<Recipient> recipients_;  // sorted by name
  // Per prefix length, network -> recipient; lengths present, longest first.
  std::vector<std::pair<int, std::unordered_map<uint32_t, int>>> v4_;
  std::vector<std::pair<int, std::unordered_map<V6Key, int, V6KeyHash>>> v6_;
  std::unordered_map<std::string, int> domains_;
  std::unordered_map<uint32_t, int> asns_;
  std::unordered_map<std::string, int> countries_;
  int fallback_ = -1;
};

}  // namespace kizuna::alerts
