// Indicators out, for the tools that enforce them: Suricata (IP reputation,
// datasets and rules), Zeek's intel framework, plain IP/CIDR and domain
// blocklists and DNS RPZ zones. What goes in is what the caller's sharing
// decision released; here the indicators are reduced to the values their
// patterns stand for (pattern::ReduceToSimpleComparisons: a pattern that is
// not plain ORed equality gives nothing), filtered (kind, TLP, confidence,
// producer, age, still valid) and written in the tool's own format.
//
// Pure functions; thread-safe. EnforcementSet is a value owned by its caller.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "correlation/observable.h"
#include "stix/stix.h"

namespace kizuna::interop {

enum class ExportFormat {
  kSuricataIprep,    // reputation file: "ip[/len],category,score"
  kSuricataDataset,  // one dataset file: domains/URLs base64 (type string), hashes in hex (md5,
                     // sha256)
  kSuricataRules,    // alert rules for addresses, names (DNS, TLS SNI, HTTP host) and URLs
  kZeekIntel,        // Intel::ADDR, SUBNET, DOMAIN, URL, EMAIL, FILE_HASH
  kIpBlocklist,      // one address or CIDR per line
  kDomainBlocklist,  // one name per line
  kRpz,              // a DNS response policy zone (RFC draft-vixie-dnsop-dns-rpz)
};
// "suricata-iprep", "suricata-dataset", "suricata-rules", "zeek-intel",
// "ip-blocklist", "domain-blocklist", "rpz".
std::string_view ExportFormatName(ExportFormat format);
Result<ExportFormat> ParseExportFormat(std::string_view name);
// The formats' names, comma-separated (for help texts and errors).
std::string ExportFormatNames();
// The Content-Type the format is served with.
std::string_view ExportContentType(ExportFormat format);

// Which indicators go out (besides the sharing decision, which the caller
// applied).
struct ExportFilter {
  // Kinds of values (empty: every kind the format takes).
  std::set<correlation::ObservableKind> kinds;
  stix::Tlp max_tlp = stix::Tlp::kAmberStrict;  // never more than this (RED never)
  int min_confidence = 0;  // indicators without a confidence count as 50 (STIX's "medium")
  // created_by_ref identity ids (empty: any producer).
  std::set<std::string> producers;
  // Only indicators modified within this many days (0: any age).
  int max_age_days = 0;
  // The TLP of unmarked indicators (the node's sharing.default_tlp).
  stix::Tlp default_tlp = stix::Tlp::kAmber;
  int64_t now_us = 0;
};

// "ipv4,domain" (or "ip" for both families, "hash" for every digest) -> kinds.
Result<std::set<correlation::ObservableKind>> ParseKinds(std::string_view list);

// One value to enforce.
struct EnforcementEntry {
  correlation::ObservableKind kind;
  std::string value;  // normal form (hashes: lower-case hex)
  std::string indicator_id;
  std::string name;  // the indicator's name, or its id
  int confidence = 50;
  stix::Tlp tlp = stix::Tlp::kNone;
  int64_t modified_us = 0;
};

// The values of released indicators that pass a filter, deduplicated by
// (kind, value) (the most confident indicator wins; then the newest).
class EnforcementSet {
 public:
  explicit EnforcementSet(ExportFilter filter) : filter_(std::move(filter)) {}

  // One stored indicator version (its JSON). Not an indicator, revoked,
  // expired, not yet valid, filtered out, or a pattern that reduces to no
  // plain value: nothing added. Returns the number of values added.
  int Add(std::string_view indicator_json);

  // Ordered by kind, then value.
  std::vector<EnforcementEntry> Entries() const;
  // The same, taken out of the set without a copy (the set is empty after).
  std::vector<EnforcementEntry> TakeEntries();
  // The newest modified of the indicators added (0 when none).
  int64_t newest_us() const { return newest_us_; }
  int64_t indicators_seen() const { return seen_; }

 private:
  ExportFilter filter_;
  std::vector<EnforcementEntry> entries_;
  int64_t newest_us_ = 0;
  int64_t seen_ = 0;
};

struct ExportOptions {
  // A header comment's words ("kizuna CERT-A, collection default").
  std::string source;
  int64_t generated_us = 0;
  // kSuricataDataset: the one kind written (domain, url, md5 or sha256);
  // nullopt: the single kind the entries hold (an error when mixed).
  std::optional<correlation::ObservableKind> dataset_kind;
  // kSuricataIprep: the category number written (the categories file names it).
  int iprep_category = 1;
  // kSuricataRules: sids are 1,000,000,000 + a stable number per indicator
  // value, probed linearly past a collision.
  uint32_t sid_base = 1000000000;
  // kRpz: the policy for every trigger: "nxdomain" (CNAME .), "nodata"
  // (CNAME *.), "drop" (CNAME rpz-drop.), "passthru" (CNAME rpz-passthru.).
  std::string rpz_action = "nxdomain";
  // kRpz: the zone's SOA and NS names.
  std::string rpz_soa_mname = "localhost.";
  std::string rpz_soa_rname = "hostmaster.localhost.";
};

// Writes `entries` in `format`: the kinds the format cannot express are
// left out (counted in the return value). An error only for an impossible
// request (a dataset of mixed kinds without dataset_kind).
Result<int64_t> WriteEnforcement(ExportFormat format, const std::vector<EnforcementEntry>& entries,
                                 const ExportOptions& options, std::ostream& out);

// The kinds a format can express.
std::set<correlation::ObservableKind> KindsOf(ExportFormat format);

// RPZ's owner name for an address or network trigger ("32.7.100.51.198.rpz-ip"
// for 198.51.100.7, "128.1.zz.db8.2001.rpz-ip" for 2001:db8::1).
std::string RpzIpTrigger(correlation::ObservableKind kind, std::string_view value);

}  // namespace kizuna::interop
