#include "correlation/warninglists.h"

#include <re2/re2.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "common/uuid.h"
#include "stix/stix.h"

namespace kizuna::correlation {

struct WarningLists::TextList {
  std::string name;
  bool regex = false;
  std::vector<std::string> substrings;
  std::vector<std::unique_ptr<re2::RE2>> patterns;
};

WarningLists::WarningLists() : index_(std::make_unique<IndicatorIndex>()) {}
WarningLists::~WarningLists() = default;

void WarningLists::AddList(const std::string& name, const std::string& type,
                           const std::vector<std::string>& values) {
  if (type == "substring" || type == "regex") {
    auto list = std::make_unique<TextList>();
    list->name = name;
    list->regex = type == "regex";
    for (const auto& v : values) {
      if (list->regex) {
        re2::RE2::Options options;
        options.set_log_errors(false);
        options.set_max_mem(1 << 20);
        auto re = std::make_unique<re2::RE2>(v, options);
        if (re->ok()) list->patterns.push_back(std::move(re));
      } else if (!v.empty()) {
        list->substrings.push_back(v);
      }
    }
    text_lists_.push_back(std::move(list));
    return;
  }
  std::vector<IndexEntry> entries;
  for (const auto& raw : values) {
    std::string_view v = raw;
    if (type == "hostname") {
      while (!v.empty() && v.front() == '.') v.remove_prefix(1);
      auto d = NormalizeDomain(v);
      if (!d.ok()) continue;
      if (d->starts_with("*.")) d->erase(0, 2);
      if (IsPublicSuffix(*d)) {
        auto it = std::lower_bound(suffix_lists_.begin(), suffix_lists_.end(), *d,
                                   [](const auto& e, const std::string& s) { return e.first < s; });
        if (it == suffix_lists_.end() || it->first != *d) it = suffix_lists_.insert(it, {*d, {}});
        if (it->second.empty() || it->second.back() != name) it->second.push_back(name);
        continue;
      }
      entries.push_back({ObservableKind::kDomain, std::move(*d), true});
      continue;
    }
    if (type == "cidr") {
      ObservableKind kind =
          v.find(':') != std::string_view::npos ? ObservableKind::kIpv6 : ObservableKind::kIpv4;
      entries.push_back({kind, std::string(v), false});
      continue;
    }
    // "string": whatever kind of observable the value is.
    if (auto detected = DetectObservable(v)) {
      entries.push_back({detected->kind, detected->value, false});
    }
  }
  // Drop entries the index refuses one by one, rather than the whole list.
  std::vector<IndexEntry> valid;
  for (auto& entry : entries) {
    if (NormalizeValue(entry.kind, entry.value).ok()) valid.push_back(std::move(entry));
  }
  for (const auto& entry : valid) {
    if (entry.kind != ObservableKind::kIpv4) continue;
    auto prefix = ParseIpv4Prefix(entry.value);
    if (!prefix.ok()) continue;
    const uint32_t first = prefix->network >> 16;
    const uint32_t count = prefix->length >= 16 ? 1 : 1u << (16 - prefix->length);
    for (uint32_t block = first; block < first + count; ++block) {
      ipv4_blocks_[block / 64] |= uint64_t{1} << (block % 64);
    }
  }
  IndicatorMeta meta;
  meta.id = "indicator--" + Uuid5(kStixScoNamespace, "kizuna-warninglist:" + name);
  meta.modified_us = 1;
  meta.name = name;
  if (index_->Add(meta, valid).ok()) names_.push_back(name);
}

void WarningLists::AddBuiltins() {
  AddList("Private and reserved IPv4 ranges (RFC 1918, RFC 6598, loopback, link-local)", "cidr",
          {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
           "169.254.0.0/16", "0.0.0.0/8"});
  AddList("Documentation ranges (RFC 5737, RFC 3849)", "cidr",
          {"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"});
  AddList("Multicast and broadcast", "cidr", {"224.0.0.0/4", "255.255.255.255/32", "ff00::/8"});
  AddList("IPv6 loopback, link-local and unique local", "cidr",
          {"::1/128", "fe80::/10", "fc00::/7"});
  AddList("Public DNS resolvers", "cidr",
          {"8.8.8.8/32", "8.8.4.4/32", "1.1.1.1/32", "1.0.0.1/32", "9.9.9.9/32",
           "149.112.112.112/32", "208.67.222.222/32", "208.67.220.220/32",
           "2001:4860:4860::8888/128", "2001:4860:4860::8844/128", "2606:4700:4700::1111/128"});
  AddList("Example domains (RFC 2606)", "hostname",
          {"example.com", "example.net", "example.org", "example", "test", "invalid", "localhost"});
  AddList("Private-use names (RFC 6762, RFC 8375, .internal; not globally unique)", "hostname",
          {"local", "internal", "home.arpa", "corp", "home", "lan", "localdomain", "intranet",
           "private"});
  AddList("Most visited domains", "hostname",
          {"google.com", "youtube.com", "facebook.com", "wikipedia.org", "microsoft.com",
           "apple.com", "amazon.com", "instagram.com", "linkedin.com", "windowsupdate.com",
           "office.com", "live.com", "bing.com", "github.com", "cloudflare.com"});
}

Status WarningLists::LoadMispFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read warning list " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadMispJson(buffer.str(), path);
}

Status WarningLists::LoadMispJson(std::string_view json, const std::string& source) {
  auto parsed = stix::ParseJson(json, 16);
  if (!parsed.ok()) return InvalidArgument(source + ": " + parsed.status().message());
  const auto* object = parsed->if_object();
  if (!object) return InvalidArgument(source + ": a warning list is a JSON object");
  std::string name = stix::StringProperty(*object, "name");
  std::string type = stix::StringProperty(*object, "type");
  auto list = object->find("list");
  if (name.empty() || list == object->end() || !list->value().is_array()) {
    return InvalidArgument(source + ": not a MISP warning list (needs \"name\" and \"list\")");
  }
  if (type.empty()) type = "string";
  if (type != "cidr" && type != "hostname" && type != "string" && type != "substring" &&
      type != "regex") {
    return InvalidArgument(source + ": unknown warning list type '" + type + "'");
  }
  std::vector<std::string> values;
  for (const auto& v : list->value().get_array()) {
    if (v.is_string()) values.emplace_back(v.get_string());
  }
  AddList(name, type, values);
  return Status::Ok();
}

std::vector<std::string> WarningLists::Check(ObservableKind kind, std::string_view value) const {
  std::vector<std::string> hits;
  MatchResult result = index_->Match(kind, value);
  for (uint32_t ref : result.refs) {
    if (auto meta = index_->Get(ref)) hits.push_back(meta->name);
  }
  if (kind == ObservableKind::kDomain && !suffix_lists_.empty()) {
    // The name itself and each parent, against the public-suffix entries.
    // Lower-cased on the stack; a non-ASCII name is normalized first.
    std::string normal;
    char buf[256];
    std::string_view d = value;
    if (!d.empty() && d.back() == '.') d.remove_suffix(1);
    bool ascii = d.size() < sizeof(buf) && std::none_of(d.begin(), d.end(), [](char c) {
                   return static_cast<unsigned char>(c) >= 0x80;
                 });
    if (ascii) {
      for (size_t i = 0; i < d.size(); ++i) {
        buf[i] = (d[i] >= 'A' && d[i] <= 'Z') ? static_cast<char>(d[i] + 32) : d[i];
      }
      d = std::string_view(buf, d.size());
    } else if (auto n = NormalizeDomain(value); n.ok()) {
      normal = std::move(*n);
      d = normal;
    } else {
      d = {};
    }
    if (d.starts_with("*.")) d.remove_prefix(2);
    while (!d.empty()) {
      auto it = std::lower_bound(
          suffix_lists_.begin(), suffix_lists_.end(), d,
          [](const auto& e, std::string_view s) { return std::string_view(e.first) < s; });
      if (it != suffix_lists_.end() && it->first == d) {
        for (const auto& name : it->second) {
          if (std::find(hits.begin(), hits.end(), name) == hits.end()) hits.push_back(name);
        }
      }
      size_t dot = d.find('.');
      d = dot == std::string_view::npos ? std::string_view() : d.substr(dot + 1);
    }
  }
  for (const auto& list : text_lists_) {
    bool hit = false;
    for (const auto& s : list->substrings) hit = hit || value.find(s) != std::string_view::npos;
    for (const auto& re : list->patterns) {
      hit = hit || re2::RE2::PartialMatch(re2::StringPiece(value.data(), value.size()), *re);
    }
    if (hit) hits.push_back(list->name);
  }
  return hits;
}

std::string_view WarningLists::NameOf(uint32_t ref) const {
  // The index holds interned names and never changes once loaded, so the
  // view outlives the Reader.
  IndicatorView view;
  if (!index_->Read().View(ref, &view)) return {};
  return view.name;
}

void WarningLists::ListIpv4(std::span<const uint32_t> addresses, std::vector<Ipv4Listing>* listed,
                            std::vector<uint32_t>* refs) const {
  // Only addresses in a /16 some entry touches can be on a list.
  std::vector<uint32_t> candidates, positions;
  size_t by_index = 0;  // listings from the index
  for (uint32_t i = 0; i < addresses.size(); ++i) {
    const uint32_t block = addresses[i] >> 16;
    if ((ipv4_blocks_[block / 64] >> (block % 64)) & 1) {
      candidates.push_back(addresses[i]);
      positions.push_back(i);
    }
  }
  if (!candidates.empty()) {
    index_->Read().ForEachIpv4Match(candidates, [&](uint32_t hit, const MatchResult& found) {
      Ipv4Listing listing;
      listing.position = positions[hit];
      listing.refs_begin = static_cast<uint32_t>(refs->size());
      refs->insert(refs->end(), found.refs.begin(), found.refs.end());
      listing.refs_end = static_cast<uint32_t>(refs->size());
      listed->push_back(listing);
      ++by_index;
    });
  }
  if (text_lists_.empty()) return;
  // Substring and regex lists read the text: every address, merged in order.
  std::vector<Ipv4Listing> merged;
  const size_t first = listed->size() - by_index;
  size_t next = first;
  for (uint32_t i = 0; i < addresses.size(); ++i) {
    const std::string text = FormatIpv4(addresses[i]);
    bool hit = false;
    for (const auto& list : text_lists_) {
      for (const auto& s : list->substrings) hit = hit || text.find(s) != std::string::npos;
      for (const auto& re : list->patterns) hit = hit || re2::RE2::PartialMatch(text, *re);
    }
    const bool indexed = next < listed->size() && (*listed)[next].position == i;
    if (indexed) {
      merged.push_back((*listed)[next++]);
      merged.back().by_text = hit;
    } else if (hit) {
      Ipv4Listing listing;
      listing.position = i;
      listing.by_text = true;
      listing.refs_begin = listing.refs_end = static_cast<uint32_t>(refs->size());
      merged.push_back(listing);
    }
  }
  listed->resize(first);
  listed->insert(listed->end(), merged.begin(), merged.end());
}

}  // namespace kizuna::correlation
