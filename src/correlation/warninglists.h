// Warning lists: values known to be benign or too common to act on (private
// and documentation address ranges, public resolvers, popular domains) that a
// match flags, and that configuration may exclude from matching. Lists use
// MISP's warninglists JSON format ({"name", "description", "type": "cidr" |
// "hostname" | "string" | "substring" | "regex", "list": [...]}) so the MISP
// project's lists load unchanged; a small built-in set covers the common
// cases without any file.
//
// Thread-safety: load everything first, then Check from any thread.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "correlation/indicator_index.h"

namespace kizuna::correlation {

class WarningLists {
 public:
  WarningLists();
  ~WarningLists();

  // RFC 1918/6598 private, loopback, link-local, documentation (RFC 5737,
  // RFC 3849), multicast, public DNS resolvers, the reserved names of RFC
  // 2606/6761 (example.com, .example, .test, .invalid, .localhost), the
  // private-use names (.local, .internal, .home.arpa, and .corp, .home,
  // .lan, .localdomain, .intranet, .private that networks use undelegated:
  // a name under them means a different host on every network, like an
  // RFC 1918 address), and a few of the most visited domains.
  void AddBuiltins();
  // One MISP warninglist file. Entries that are not valid for the list's
  // type are skipped, not fatal (MISP lists carry some); a file that is not
  // a warninglist is an error naming it.
  Status LoadMispFile(const std::string& path);
  Status LoadMispJson(std::string_view json, const std::string& source);

  // The names of the lists that hold `value` (of `kind`, in its normal form
  // or as the user wrote it). A hostname list holds its entries and every
  // name under them, also when an entry is a TLD or another public suffix
  // ("test", "corp", "co.uk").
  std::vector<std::string> Check(ObservableKind kind, std::string_view value) const;
  // For scans: the lists holding each of `addresses` (IPv4, host order),
  // for those some list holds, in address order. The names Check(kIpv4,
  // FormatIpv4(address)) gives are those of the refs (appended to `refs`,
  // in Check's order), plus, when by_text, substring or regex lists'.
  struct Ipv4Listing {
    uint32_t position = 0;  // into `addresses`
    bool by_text = false;   // a substring or regex list holds it too
    uint32_t refs_begin = 0;
    uint32_t refs_end = 0;
  };
  void ListIpv4(std::span<const uint32_t> addresses, std::vector<Ipv4Listing>* listed,
                std::vector<uint32_t>* refs) const;
  // The name of the list a ref of ListIpv4 stands for (what Check names
  // it); valid as long as the lists.
  std::string_view NameOf(uint32_t ref) const;
  size_t list_count() const { return names_.size(); }

 private:
  struct TextList;
  void AddList(const std::string& name, const std::string& type,
               const std::vector<std::string>& values);

  // CIDR, hostname and string lists reuse the indicator index: each list is
  // one "indicator", so a check is one index lookup per kind.
  std::unique_ptr<IndicatorIndex> index_;
  // Hostname entries that are public suffixes, which the index would only
  // match exactly (it downgrades subdomain entries on them): (suffix in
  // NormalizeDomain form, the names of the lists holding it), sorted by
  // suffix. A handful of entries: a sorted vector, looked up without copies.
  std::vector<std::pair<std::string, std::vector<std::string>>> suffix_lists_;
  std::vector<std::string> names_;                     // by index ref order of Add
  std::vector<std::unique_ptr<TextList>> text_lists_;  // substring and regex lists
  // One bit per /16 that an IPv4 entry of a list covers or intersects: most
  // addresses of a log are ruled out by it without an index lookup.
  std::vector<uint64_t> ipv4_blocks_ = std::vector<uint64_t>(65536 / 64);
};

}  // namespace kizuna::correlation
