#include "correlation/correlator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <future>
#include <span>
#include <thread>

#include "correlation/correlator_internal.h"
#include "correlation/fast_pattern.h"
#include "correlation/result_json.h"
#include "stix/stix.h"

namespace kizuna::correlation {
namespace {

namespace json = boost::json;

int64_t TimeOf(const json::object& o, std::string_view key, int64_t fallback) {
  auto parsed = ParseTimestamp(stix::StringProperty(o, key));
  return parsed.ok() ? *parsed : fallback;
}

// The observable values one SCO holds, for index lookups.
void ObservablesOf(const json::object& sco,
                   std::vector<std::pair<ObservableKind, std::string>>* out) {
  const std::string type = stix::StringProperty(sco, "type");
  auto add = [&](ObservableKind kind, std::string_view key) {
    auto it = sco.find(key);
    if (it == sco.end()) return;
    if (it->value().is_string()) out->emplace_back(kind, std::string(it->value().get_string()));
    if (it->value().is_int64()) out->emplace_back(kind, std::to_string(it->value().get_int64()));
  };
  if (type == "ipv4-addr") add(ObservableKind::kIpv4, "value");
  if (type == "ipv6-addr") add(ObservableKind::kIpv6, "value");
  if (type == "domain-name") add(ObservableKind::kDomain, "value");
  if (type == "url") add(ObservableKind::kUrl, "value");
  if (type == "email-addr") add(ObservableKind::kEmail, "value");
  if (type == "mac-addr") add(ObservableKind::kMacAddr, "value");
  if (type == "mutex") add(ObservableKind::kMutex, "name");
  if (type == "windows-registry-key") add(ObservableKind::kWindowsRegistryKey, "key");
  if (type == "autonomous-system") add(ObservableKind::kAsn, "number");
  if (type == "directory") add(ObservableKind::kDirectoryPath, "path");
  if (type == "process") add(ObservableKind::kProcessName, "name");
  if (type == "x509-certificate") add(ObservableKind::kX509Serial, "serial_number");
  if (type == "file" || type == "artifact") {
    if (type == "file") add(ObservableKind::kFileName, "name");
    auto hashes = sco.find("hashes");
    if (hashes != sco.end() && hashes->value().is_object()) {
      for (const auto& [algorithm, digest] : hashes->value().get_object()) {
        if (!digest.is_string()) continue;
        auto kind = KindForStixPath("file:hashes.'" + std::string(algorithm) + "'");
        if (kind) out->emplace_back(*kind, std::string(digest.get_string()));
      }
    }
  }
}

// An SCO holding one observable value, to evaluate patterns against it.
json::object ScoFor(ObservableKind kind, const std::string& value) {
  json::object sco;
  sco["type"] = std::string(StixTypeOf(kind));
  auto hash = [&](const char* algorithm) { sco["hashes"] = json::object{{algorithm, value}}; };
  switch (kind) {
    case ObservableKind::kMd5:
      hash("MD5");
      break;
    case ObservableKind::kSha1:
      hash("SHA-1");
      break;
    case ObservableKind::kSha256:
      hash("SHA-256");
      break;
    case ObservableKind::kSha512:
      hash("SHA-512");
      break;
    case ObservableKind::kSha3_256:
      hash("SHA3-256");
      break;
    case ObservableKind::kSsdeep:
      hash("SSDEEP");
      break;
    case ObservableKind::kFileName:
    case ObservableKind::kMutex:
    case ObservableKind::kProcessName:
      sco["name"] = value;
      break;
    case ObservableKind::kWindowsRegistryKey:
      sco["key"] = value;
      break;
    case ObservableKind::kDirectoryPath:
      sco["path"] = value;
      break;
    case ObservableKind::kX509Serial:
      sco["serial_number"] = value;
      break;
    case ObservableKind::kAsn: {
      try {
        sco["number"] = std::stoll(value);
      } catch (...) {
        sco["number"] = value;
      }
      break;
    }
    default:
      sco["value"] = value;
      break;
  }
  return sco;
}

std::optional<ObservableKind> KindOfStixType(std::string_view type, std::string_view value) {
  if (type == "ipv4-addr") return ObservableKind::kIpv4;
  if (type == "ipv6-addr") return ObservableKind::kIpv6;
  if (type == "domain-name") return ObservableKind::kDomain;
  if (type == "url") return ObservableKind::kUrl;
  if (type == "email-addr") return ObservableKind::kEmail;
  if (type == "mac-addr") return ObservableKind::kMacAddr;
  if (type == "mutex") return ObservableKind::kMutex;
  if (type == "windows-registry-key") return ObservableKind::kWindowsRegistryKey;
  if (type == "autonomous-system") return ObservableKind::kAsn;
  if (type == "directory") return ObservableKind::kDirectoryPath;
  if (type == "process") return ObservableKind::kProcessName;
  if (type == "x509-certificate") return ObservableKind::kX509Serial;
  if (type == "file") {
    bool hex = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c));
    });
    if (hex && value.size() == 32) return ObservableKind::kMd5;
    if (hex && value.size() == 40) return ObservableKind::kSha1;
    if (hex && value.size() == 64) return ObservableKind::kSha256;
    if (hex && value.size() == 128) return ObservableKind::kSha512;
    return ObservableKind::kFileName;
  }
  return std::nullopt;
}

}  // namespace

namespace internal {

// The comparison of a pattern written in the plainest form,
// "[<type>:<property> = '<value>']" (or ISSUBSET for an address), on a
// property the index holds, found without building the AST: almost every
// shared indicator looks like that, and the pattern parser is most of the
// cost of loading one. Anything else (other spacing, escapes, OR, ...) gives
// nullopt and goes through the parser, which accepts everything accepted
// here and reduces it to the same entry.
std::optional<IndexEntry> PlainComparison(std::string_view text) {
  static constexpr std::pair<std::string_view, ObservableKind> kPaths[] = {
      {"ipv4-addr:value", ObservableKind::kIpv4},
      {"ipv6-addr:value", ObservableKind::kIpv6},
      {"domain-name:value", ObservableKind::kDomain},
      {"url:value", ObservableKind::kUrl},
      {"email-addr:value", ObservableKind::kEmail},
      {"file:hashes.MD5", ObservableKind::kMd5},
      {"file:hashes.'MD5'", ObservableKind::kMd5},
      {"file:hashes.'SHA-1'", ObservableKind::kSha1},
      {"file:hashes.'SHA-256'", ObservableKind::kSha256},
      {"file:hashes.'SHA-512'", ObservableKind::kSha512},
  };
  // The parser refuses a pattern over its size limit; so must this.
  if (text.size() > pattern::kMaxPatternBytes) return std::nullopt;
  if (text.size() < 2 || text.front() != '[' || !text.ends_with("']")) return std::nullopt;
  text = text.substr(1, text.size() - 3);  // <path> <op> '<value>
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view path = text.substr(0, space);
  std::optional<ObservableKind> kind;
  for (const auto& [known, known_kind] : kPaths) {
    if (path == known) kind = known_kind;
  }
  if (!kind) return std::nullopt;
  text.remove_prefix(space + 1);
  bool subset = false;
  if (text.starts_with("= '")) {
    text.remove_prefix(3);
  } else if (text.starts_with("ISSUBSET '")) {
    text.remove_prefix(10);
    subset = true;
  } else {
    return std::nullopt;
  }
  // The literal as the lexer reads it: no quote, no escape.
  if (text.find_first_of("'\\") != std::string_view::npos) return std::nullopt;
  if (subset) {
    if (*kind != ObservableKind::kIpv4 && *kind != ObservableKind::kIpv6) return std::nullopt;
    auto prefix = pattern::ParseIpPrefix(text);
    if (!prefix || prefix->v6 != (*kind == ObservableKind::kIpv6)) return std::nullopt;
  }
  return IndexEntry{*kind, std::string(text), false};
}

IdKey IdKeyOf(std::string_view id) {
  IdKey key;
  size_t dashes = id.find("--");
  std::string_view uuid = dashes == std::string_view::npos ? id : id.substr(dashes + 2);
  int digits = 0;
  for (char c : uuid) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else if (c == '-') {
      continue;
    } else {
      digits = -1;
      break;
    }
    if (digits < 16) {
      key.hi = (key.hi << 4) | static_cast<uint64_t>(v);
    } else if (digits < 32) {
      key.lo = (key.lo << 4) | static_cast<uint64_t>(v);
    }
    ++digits;
  }
  if (digits != 32) {
    // Not a UUID (ids are validated, so this is defensive): two independent
    // string hashes.
    key.hi = std::hash<std::string_view>{}(id);
    key.lo = std::hash<std::string_view>{}(std::string(id) + "#") ^ 0x5bd1e995;
  }
  return key;
}

}  // namespace internal

std::string_view StixTypeOf(ObservableKind kind) {
  switch (kind) {
    case ObservableKind::kIpv4:
      return "ipv4-addr";
    case ObservableKind::kIpv6:
      return "ipv6-addr";
    case ObservableKind::kDomain:
      return "domain-name";
    case ObservableKind::kUrl:
      return "url";
    case ObservableKind::kEmail:
      return "email-addr";
    case ObservableKind::kMacAddr:
      return "mac-addr";
    case ObservableKind::kMutex:
      return "mutex";
    case ObservableKind::kWindowsRegistryKey:
      return "windows-registry-key";
    case ObservableKind::kAsn:
      return "autonomous-system";
    case ObservableKind::kDirectoryPath:
      return "directory";
    case ObservableKind::kProcessName:
      return "process";
    case ObservableKind::kX509Serial:
      return "x509-certificate";
    case ObservableKind::kUserAgent:
      return "network-traffic";
    default:
      return "file";
  }
}

Correlator::Correlator(store::Store& store, CorrelatorOptions options,
                       std::shared_ptr<const WarningLists> warninglists, const Clock& clock)
    : store_(store),
      options_(std::move(options)),
      warninglists_(std::move(warninglists)),
      clock_(clock),
      index_(clock, IndexOptions{.max_results = options_.max_results * 100 + 1,
                                 .max_entries_per_indicator = 10000}),
      sighting_book_(store) {}

Correlator::~Correlator() = default;

int64_t Correlator::cursor() const {
  std::shared_lock lock(mu_);
  return cursor_;
}

bool Correlator::WaitUntilApplied(int64_t seq, std::chrono::milliseconds timeout) const {
  std::shared_lock lock(mu_);
  return applied_.wait_for(lock, timeout, [&] { return cursor_ >= seq; });
}

Status Correlator::Apply(const std::vector<store::Change>& changes) {
  std::lock_guard refresh(refresh_mu_);
  std::vector<store::Change> indicators;
  int64_t last = 0;
  {
    std::shared_lock lock(mu_);
    for (const store::Change& change : changes) {
      if (change.seq <= cursor_) continue;
      last = change.seq;
      if (change.object.type == "indicator") indicators.push_back(change);
    }
  }
  if (last == 0) return Status::Ok();
  sighting_book_.Apply(changes);
  ApplyBatch(indicators);
  std::unique_lock lock(mu_);
  cursor_ = std::max(cursor_, last);
  applied_.notify_all();
  return Status::Ok();
}

void Correlator::ApplyBatch(const std::vector<store::Change>& changes) {
  // Parsing indicators and their patterns needs no shared state: do it on
  // every core, then place the results in order under the lock.
  std::vector<Prepared> prepared(changes.size());
  auto prepare_range = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const store::Change& change = changes[i];
      if (change.kind == store::Change::Kind::kAdded && change.object.type == "indicator") {
        prepared[i] = Prepare(change.object.id, change.object.json, change.object.tlp);
      }
    }
  };
  const size_t workers =
      changes.size() < 2000 ? 1 : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  std::vector<std::thread> threads;
  const size_t share = (changes.size() + workers - 1) / workers;
  for (size_t w = 1; w < workers; ++w) {
    threads.emplace_back(prepare_range, std::min(changes.size(), w * share),
                         std::min(changes.size(), (w + 1) * share));
  }
  prepare_range(0, std::min(changes.size(), share));
  for (auto& t : threads) t.join();
  std::unique_lock lock(mu_);
  for (size_t i = 0; i < changes.size(); ++i) {
    const store::Change& change = changes[i];
    if (change.object.type != "indicator") {  // (sightings: the SightingBook)
      cursor_ = std::max(cursor_, change.seq);
      continue;
    }
    Status applied =
        Apply(change, change.kind == store::Change::Kind::kAdded ? &prepared[i] : nullptr);
    if (!applied.ok()) {
      // One bad stored indicator must not stop the feed.
      spdlog::warn("correlation: {} skipped: {}", change.object.id, applied.message());
    }
    cursor_ = std::max(cursor_, change.seq);
  }
  applied_.notify_all();
}

Status Correlator::Refresh() {
  std::lock_guard refresh(refresh_mu_);
  constexpr size_t kBatch = 50000;
  auto fetch = [this](int64_t after) {
    return store_.ListChanges(store::ChangeQuery{.after_seq = after,
                                                 .types = {"indicator", "sighting", "identity"},
                                                 .limit = kBatch,
                                                 .include_origin = true});
  };
  int64_t after;
  {
    std::shared_lock lock(mu_);
    after = cursor_;
  }
  Result<std::vector<store::Change>> current = fetch(after);
  while (true) {
    if (!current.ok()) return current.status();
    std::vector<store::Change> changes = std::move(current).value();
    if (changes.empty()) return Status::Ok();
    const bool full = changes.size() >= kBatch;
    // While this batch is parsed and placed, the next one is read from the
    // store (a full batch means there may be more).
    std::future<Result<std::vector<store::Change>>> next;
    if (full) next = std::async(std::launch::async, fetch, changes.back().seq);

    sighting_book_.Apply(changes);
    ApplyBatch(changes);
    if (!full) return Status::Ok();
    current = next.get();
  }
}

uint32_t Correlator::CollectionNumber(const std::string& collection_id) {
  auto [it, added] =
      collection_numbers_.try_emplace(collection_id, static_cast<uint32_t>(collections_.size()));
  if (added) collections_.push_back(collection_id);
  return it->second;
}

Status Correlator::Apply(const store::Change& change, Prepared* prepared) {
  const std::string& id = change.object.id;
  const uint32_t collection = CollectionNumber(change.collection_id);
  const internal::IdKey key = internal::IdKeyOf(id);
  Tracked& tracked = tracked_[key];
  if (change.kind == store::Change::Kind::kDeleted) {
    auto* here = tracked.Find(collection);
    if (here == nullptr || here->second != change.object.version_us) {
      if (tracked.versions.empty() && tracked.placed_version < 0) tracked_.Erase(key);
      return Status::Ok();  // an older version went away: nothing we index changed
    }
    return Reindex(id);
  }
  if (auto* here = tracked.Find(collection)) {
    here->second = std::max(here->second, change.object.version_us);
  } else {
    tracked.versions.Add(collection, change.object.version_us);
  }
  if (change.object.version_us <= tracked.placed_version) return Status::Ok();
  if (prepared == nullptr) {
    Prepared inline_prepared = Prepare(id, change.object.json, change.object.tlp);
    return Place(tracked, id, std::move(inline_prepared));
  }
  return Place(tracked, id, std::move(*prepared));
}

Status Correlator::Reindex(const std::string& id) {
  const internal::IdKey key = internal::IdKeyOf(id);
  Tracked& tracked = tracked_[key];
  std::string best_json;
  int64_t best_version = -1;
  stix::Tlp best_tlp = stix::Tlp::kNone;
  for (size_t i = 0; i < tracked.versions.entries().size();) {
    auto& [collection, version] = tracked.versions.entries()[i];
    store::ObjectQuery query;
    query.ids = {id};
    query.version_last = true;
    query.limit = 1;
    auto page = store_.QueryObjects(collections_[collection], query);
    if (!page.ok() || page->objects.empty()) {
      tracked.versions.EraseAt(i);
      continue;
    }
    const store::StoredObject& object = page->objects.front();
    version = object.version_us;
    if (object.version_us > best_version) {
      best_version = object.version_us;
      best_json = object.json;
      best_tlp = object.tlp;
    }
    ++i;
  }
  if (best_version < 0) {
    Forget(id);
    tracked_.Erase(key);
    return Status::Ok();
  }
  if (best_version == tracked.placed_version) return Status::Ok();
  // Going back to an older version: the index refuses those, so start over.
  Forget(id);
  tracked_[key].placed_version = -1;
  return Place(tracked_[key], id, Prepare(id, best_json, best_tlp));
}

void Correlator::Forget(const std::string& id) {
  Tracked* tracked = tracked_.Find(internal::IdKeyOf(id));
  if (tracked != nullptr && tracked->in_index) {
    (void)index_.Remove(id);
    tracked->in_index = false;
  }
  patterns_.erase(id);
}

Correlator::Prepared Correlator::Prepare(const std::string& id, std::string_view text,
                                         stix::Tlp tlp) {
  Prepared prepared;
  // Stored objects were validated on the way in; parse them into an arena on
  // the stack, since building the index is one parse per indicator.
  unsigned char buffer[8192];
  json::monotonic_resource arena(buffer, sizeof buffer);
  boost::system::error_code ec;
  json::value value = json::parse(text, ec, &arena);
  if (ec || !value.is_object()) {
    prepared.kind = Prepared::Kind::kError;
    prepared.error = InvalidArgument("stored JSON is not an object");
    return prepared;
  }
  const json::object& object = value.get_object();
  IndicatorMeta& meta = prepared.meta;
  meta.id = id;
  meta.modified_us = TimeOf(object, "modified", 0);
  meta.name = stix::StringProperty(object, "name");
  if (auto it = object.find("labels"); it != object.end() && it->value().is_array()) {
    for (const auto& label : it->value().get_array()) {
      if (label.is_string()) meta.labels.emplace_back(label.get_string());
    }
  }
  meta.tlp = tlp;
  meta.producer = stix::StringProperty(object, "created_by_ref");
  if (auto it = object.find("confidence"); it != object.end() && it->value().is_int64()) {
    meta.confidence = static_cast<int>(it->value().get_int64());
  }
  meta.valid_until_us = TimeOf(object, "valid_until", kNoExpiry);
  if (auto it = object.find("revoked"); it != object.end() && it->value().is_bool()) {
    meta.revoked = it->value().get_bool();
  }
  if (meta.revoked) {
    prepared.kind = Prepared::Kind::kRevoked;
    return prepared;
  }
  if (stix::StringProperty(object, "pattern_type") != "stix") {
    prepared.kind = Prepared::Kind::kUnsupported;
    return prepared;
  }
  prepared.pattern_text = stix::StringProperty(object, "pattern");
  const bool subdomains = [&] {
    auto it = object.find("x_kizuna_match_subdomains");
    return it != object.end() && it->value().is_bool() && it->value().get_bool();
  }();
  if (auto plain = internal::PlainComparison(prepared.pattern_text)) {
    plain->match_subdomains = subdomains && plain->kind == ObservableKind::kDomain;
    prepared.entries.push_back(std::move(*plain));
    prepared.kind = Prepared::Kind::kIndex;
    return prepared;
  }
  auto parsed = pattern::ParsePattern(prepared.pattern_text);
  if (!parsed.ok()) {
    prepared.kind = Prepared::Kind::kError;
    prepared.error = parsed.status();
    return prepared;
  }
  prepared.kind = Prepared::Kind::kPattern;
  if (auto simple = pattern::ReduceToSimpleComparisons(*parsed)) {
    bool all_known = true;
    for (const auto& comparison : *simple) {
      auto kind = KindForStixPath(comparison.object_type + ":" + comparison.property_path);
      if (!kind) {
        all_known = false;
        break;
      }
      prepared.entries.push_back(
          {*kind, comparison.value, subdomains && *kind == ObservableKind::kDomain});
    }
    // The index holds it: the AST is not needed (and is freed here, on the
    // preparing thread, rather than while the correlator's lock is held).
    if (all_known) {
      prepared.kind = Prepared::Kind::kIndex;
      return prepared;
    }
  }
  prepared.pattern = std::move(parsed).value();
  return prepared;
}

Status Correlator::Place(Tracked& tracked, const std::string& id, Prepared&& prepared) {
  IndicatorMeta& meta = prepared.meta;
  if (prepared.kind != Prepared::Kind::kError) tracked.placed_version = meta.modified_us;
  patterns_.erase(id);
  auto into_index = [&]() -> Status {
    auto added = index_.Add(meta, prepared.entries);
    if (!added.ok() && added.status().code() != Code::kAlreadyExists) return added.status();
    tracked.in_index = !meta.revoked;
    return Status::Ok();
  };
  switch (prepared.kind) {
    case Prepared::Kind::kRevoked:
      // The index keeps a tombstone, so a late older version cannot revive it.
      prepared.entries.clear();
      return into_index();
    case Prepared::Kind::kUnsupported:
    case Prepared::Kind::kError:
      if (tracked.in_index) (void)index_.Remove(id);
      tracked.in_index = false;
      if (prepared.kind == Prepared::Kind::kUnsupported) ++unsupported_;
      return prepared.error;
    case Prepared::Kind::kIndex: {
      Status indexed = into_index();
      if (indexed.ok()) return indexed;
      // The index refused a value (say, one it cannot normalize): evaluate
      // the pattern instead, so the indicator still matches what it can.
      spdlog::debug("correlation: {} evaluated by pattern: {}", id, indexed.message());
      break;
    }
    case Prepared::Kind::kPattern:
      break;
  }
  if (tracked.in_index) (void)index_.Remove(id);
  tracked.in_index = false;
  if (!prepared.pattern) {
    // Only kIndex drops its AST; parse again for the rare fallback.
    auto reparsed = pattern::ParsePattern(prepared.pattern_text);
    if (!reparsed.ok()) return reparsed.status();
    prepared.pattern = std::move(reparsed).value();
  }
  auto entry = std::make_unique<PatternIndicator>();
  entry->meta = std::move(meta);
  entry->pattern = std::move(*prepared.pattern);
  entry->text = std::move(prepared.pattern_text);
  patterns_[id] = std::move(entry);
  return Status::Ok();
}

std::vector<std::string> Correlator::Readable(const std::string& id,
                                              const CollectionFilter& readable) const {
  std::vector<std::string> out;
  const Tracked* tracked = tracked_.Find(internal::IdKeyOf(id));
  if (tracked == nullptr) return out;
  for (const auto& [collection, version] : tracked->versions.entries()) {
    const std::string& collection_id = collections_[collection];
    if (!readable || readable(collection_id)) out.push_back(collection_id);
  }
  return out;
}

void Correlator::AddPatternMatches(const std::vector<pattern::Observation>& observations,
                                   const CollectionFilter& readable, const MatchFilter& visible,
                                   ObservableResult* result) {
  const int64_t now = clock_.NowMicros();
  for (const auto& [id, entry] : patterns_) {
    if (entry->meta.valid_until_us <= now) continue;
    auto collections = Readable(id, readable);
    if (collections.empty()) continue;
    pattern::MatchResult match = pattern::Match(entry->pattern, observations, options_.eval_limits);
    if (!match.matched) continue;
    IndicatorMatch found{entry->meta, std::move(collections), true, {}};
    if (visible && !visible(found)) continue;
    if (result->matches.size() >= options_.max_results) {
      result->truncated = true;
      return;
    }
    result->matches.push_back(std::move(found));
  }
}

void Correlator::AddIndexMatches(const MatchResult& found, const CollectionFilter& readable,
                                 const MatchFilter& visible, ObservableResult* result) const {
  for (uint32_t ref : found.refs) {
    auto meta = index_.Get(ref);
    if (!meta) continue;
    auto collections = Readable(meta->id, readable);
    if (collections.empty()) continue;
    IndicatorMatch match{std::move(*meta), std::move(collections), false, {}};
    if (visible && !visible(match)) continue;
    if (result->matches.size() >= options_.max_results) {
      result->truncated = true;
      return;
    }
    result->matches.push_back(std::move(match));
  }
}

ObservableResult Correlator::Lookup(ObservableKind kind, std::string value,
                                    const CollectionFilter& readable, const MatchFilter& visible,
                                    bool with_patterns) {
  ObservableResult result;
  result.type = std::string(StixTypeOf(kind));
  result.value = std::move(value);
  if (warninglists_) result.warnings = warninglists_->Check(kind, result.value);
  if (options_.exclude_warninglisted && !result.warnings.empty()) return result;
  std::shared_lock lock(mu_);
  // The index's own cap (100 × max_results + 1 candidates) keeps a lookup
  // bounded, but it counts indicators before we know which ones the caller
  // may see.
  MatchResult found;
  index_.Read().Match(kind, result.value, &found);
  AddIndexMatches(found, readable, visible, &result);
  if (found.truncated && !result.truncated) {
    // The cap cut the candidates off before max_results of them were
    // visible: the rest may hold visible ones, and hidden ones must not
    // show as `truncated` (an existence oracle). So look again without a
    // cap and count only what the caller may see.
    found.limit = MatchResult::kNoLimit;
    index_.Read().Match(kind, result.value, &found);
    result.matches.clear();
    AddIndexMatches(found, readable, visible, &result);
  }
  if (with_patterns && !patterns_.empty() && !result.truncated) {
    pattern::Observation observation;
    observation.first_observed_us = observation.last_observed_us = clock_.NowMicros();
    observation.objects.emplace_back(ScoFor(kind, result.value));
    observation.object_keys.emplace_back("0");
    AddPatternMatches({observation}, readable, visible, &result);
  }
  return result;
}

ObservableResult Correlator::MatchText(std::string_view text, const CollectionFilter& readable,
                                       std::string_view stix_type, const MatchFilter& visible) {
  if (stix_type.empty()) {
    auto detected = DetectObservable(text);
    if (!detected) {
      ObservableResult result;
      result.value = std::string(text.substr(0, 256));
      result.error = "not an observable kizuna recognizes (IP, CIDR, domain, URL, e-mail, hash)";
      return result;
    }
    return Lookup(detected->kind, detected->value, readable, visible, /*with_patterns=*/true);
  }
  std::string refanged = Refang(text);
  auto kind = KindOfStixType(stix_type, refanged);
  if (!kind) {
    ObservableResult result;
    result.value = std::string(text.substr(0, 256));
    result.error = "unsupported observable type '" + std::string(stix_type.substr(0, 64)) + "'";
    return result;
  }
  if (*kind == ObservableKind::kIpv4 && refanged.find(':') != std::string::npos) {
    kind = ObservableKind::kIpv6;
  }
  auto normal = NormalizeValue(*kind, refanged);
  if (!normal.ok()) {
    ObservableResult result;
    result.type = std::string(stix_type);
    result.value = std::string(text.substr(0, 256));
    result.error = normal.status().message();
    return result;
  }
  // Hashes: look up by the text form, not the raw digest bytes.
  return Lookup(*kind, DigestLength(*kind) > 0 ? refanged : *normal, readable, visible,
                /*with_patterns=*/true);
}

ObservableResult Correlator::MatchIpv4(std::string_view dotted_quad,
                                       const CollectionFilter& readable,
                                       const MatchFilter& visible) {
  return Lookup(ObservableKind::kIpv4, std::string(dotted_quad), readable, visible,
                /*with_patterns=*/true);
}

Result<std::vector<ObservableResult>> Correlator::MatchObservedData(
    const json::value& stix, const CollectionFilter& readable, const MatchFilter& visible) {
  json::array objects;
  if (const auto* object = stix.if_object()) {
    auto it = object->find("objects");
    if (stix::StringProperty(*object, "type") == "bundle" && it != object->end() &&
        it->value().is_array()) {
      objects = it->value().get_array();
    } else {
      objects.push_back(*object);
    }
  } else if (const auto* array = stix.if_array()) {
    objects = *array;
  } else {
    return InvalidArgument("expected observed-data, a bundle or an array of STIX objects");
  }
  KIZUNA_ASSIGN_OR_RETURN(std::vector<pattern::Observation> observations,
                          pattern::ObservationsFromObjects(objects));
  if (observations.empty()) return InvalidArgument("no observed-data object in the input");
  std::vector<ObservableResult> results;
  for (const auto& observation : observations) {
    std::vector<std::pair<ObservableKind, std::string>> values;
    for (const auto& object : observation.objects) {
      if (const auto* sco = object.if_object()) ObservablesOf(*sco, &values);
    }
    // Index lookups only: patterns are evaluated once over all observations below.
    for (auto& [kind, value] : values) {
      results.push_back(Lookup(kind, std::move(value), readable, visible, /*with_patterns=*/false));
    }
  }
  ObservableResult by_pattern;
  by_pattern.type = "observed-data";
  for (const auto& observation : observations) {
    if (!by_pattern.value.empty()) by_pattern.value += ",";
    by_pattern.value += observation.id;
  }
  {
    std::shared_lock lock(mu_);
    AddPatternMatches(observations, readable, visible, &by_pattern);
  }
  if (!by_pattern.matches.empty()) results.push_back(std::move(by_pattern));
  return results;
}

size_t Correlator::pattern_count() const {
  std::shared_lock lock(mu_);
  return patterns_.size();
}

Correlator::Stats Correlator::GetStats() const {
  std::shared_lock lock(mu_);
  Stats stats;
  tracked_.ForEach([&](const Tracked& tracked) { stats.indexed += tracked.in_index ? 1 : 0; });
  stats.by_pattern = patterns_.size();
  stats.unsupported = unsupported_;
  stats.cursor = cursor_;
  stats.index = index_.Stats();
  return stats;
}

void Correlator::ProbeIpv4(std::span<const uint32_t> addresses, std::vector<Ipv4Probe>* probes,
                           std::vector<uint32_t>* refs) const {
  const size_t first = probes->size();
  index_.Read().ForEachIpv4Match(addresses, [&](uint32_t position, const MatchResult& found) {
    Ipv4Probe probe;
    probe.position = position;
    probe.truncated = found.truncated;
    probe.refs_begin = static_cast<uint32_t>(refs->size());
    refs->insert(refs->end(), found.refs.begin(), found.refs.end());
    probe.refs_end = probe.lists_begin = probe.lists_end = static_cast<uint32_t>(refs->size());
    probes->push_back(probe);
  });
  if (!warninglists_) return;
  std::vector<WarningLists::Ipv4Listing> listed;
  warninglists_->ListIpv4(addresses, &listed, refs);
  if (listed.empty()) return;
  // Merge the listings into the probes, keeping address order.
  std::vector<Ipv4Probe> merged;
  merged.reserve(probes->size() - first + listed.size());
  size_t p = first, l = 0;
  while (p < probes->size() || l < listed.size()) {
    if (l == listed.size() || (p < probes->size() && (*probes)[p].position < listed[l].position)) {
      merged.push_back((*probes)[p++]);
      continue;
    }
    if (p < probes->size() && (*probes)[p].position == listed[l].position) {
      merged.push_back((*probes)[p++]);
    } else {
      Ipv4Probe probe;
      probe.position = listed[l].position;
      probe.refs_begin = probe.refs_end = static_cast<uint32_t>(refs->size());
      merged.push_back(probe);
    }
    merged.back().text_listed = listed[l].by_text;
    merged.back().lists_begin = listed[l].refs_begin;
    merged.back().lists_end = listed[l].refs_end;
    ++l;
  }
  probes->resize(first);
  probes->insert(probes->end(), merged.begin(), merged.end());
}

ObservableResult Correlator::MatchIpv4Candidates(std::string_view dotted_quad,
                                                 std::span<const uint32_t> candidates,
                                                 const CollectionFilter& readable,
                                                 const MatchFilter& visible) const {
  ObservableResult result;
  result.type = std::string(StixTypeOf(ObservableKind::kIpv4));
  result.value = std::string(dotted_quad);
  MatchResult found;
  found.refs.assign(candidates.begin(), candidates.end());
  std::shared_lock lock(mu_);
  AddIndexMatches(found, readable, visible, &result);
  return result;
}

namespace {

// IdKeyOf of the id "indicator--<uuid>", from the UUID's bytes.
internal::IdKey IdKeyOfUuid(const std::array<uint8_t, 16>& uuid) {
  internal::IdKey key;
  for (int i = 0; i < 8; ++i) {
    key.hi = (key.hi << 8) | uuid[i];
    key.lo = (key.lo << 8) | uuid[8 + i];
  }
  return key;
}

}  // namespace

void Correlator::PrefetchCandidates(std::span<const uint32_t> candidates) const {
  if (candidates.empty()) return;
  // In groups: enough refs that each stage's misses are under way before
  // the next stage reads what they fetch.
  constexpr size_t kGroup = 32;
  std::array<internal::IdKey, kGroup> keys;
  std::array<bool, kGroup> known;
  std::shared_lock lock(mu_);
  auto reader = index_.Read();
  for (size_t begin = 0; begin < candidates.size(); begin += kGroup) {
    const auto group = candidates.subspan(begin, std::min(kGroup, candidates.size() - begin));
    for (uint32_t ref : group) reader.PrefetchView(ref);
    for (size_t i = 0; i < group.size(); ++i) {
      std::array<uint8_t, 16> uuid;
      known[i] = reader.UuidOf(group[i], &uuid);
      if (!known[i]) continue;
      keys[i] = IdKeyOfUuid(uuid);
      tracked_.PrefetchSlot(keys[i]);
    }
    for (size_t i = 0; i < group.size(); ++i) {
      if (known[i]) tracked_.PrefetchValue(keys[i]);
    }
  }
}

size_t Correlator::AppendIpv4CandidatesJson(std::string_view dotted_quad,
                                            std::span<const uint32_t> candidates,
                                            std::span<const uint32_t> lists,
                                            const CollectionFilter& readable,
                                            const SightingFilter& sightings_visible,
                                            std::string* out,
                                            std::vector<SightingInput>* matched) const {
  // AppendResultJson's frame for an ipv4-addr result; "matched" is set to
  // true at the end if anything was written.
  out->append(R"({"type":"ipv4-addr","value":)");
  AppendJsonString(dotted_quad, out);
  out->append(R"(,"matched":)");
  const size_t matched_at = out->size();
  out->append(R"(false,"matches":[)");
  auto warnings = [&] {
    if (lists.empty() || !warninglists_) return;
    out->append(R"(,"warnings":[)");
    for (size_t i = 0; i < lists.size(); ++i) {
      if (i != 0) out->push_back(',');
      AppendJsonString(warninglists_->NameOf(lists[i]), out);
    }
    out->push_back(']');
  };
  if (options_.exclude_warninglisted && !lists.empty() && warninglists_) {
    out->push_back(']');  // Lookup: listed values get no matches
    warnings();
    out->push_back('}');
    return 0;
  }
  const bool sightings = !sighting_book_.empty();
  std::string id;  // Of's key, only when there are sightings to look up
  std::vector<SightedBy> sighted_by;
  // The readable collections of one indicator: almost always one.
  std::array<std::string_view, 8> few;
  std::vector<std::string_view> many;
  size_t count = 0;
  bool truncated = false;
  {
    std::shared_lock lock(mu_);
    auto reader = index_.Read();
    IndicatorView view;
    for (uint32_t ref : candidates) {
      if (!reader.View(ref, &view)) continue;
      // Readable(view.id()) without building strings.
      const Tracked* tracked = tracked_.Find(IdKeyOfUuid(view.uuid));
      if (tracked == nullptr) continue;
      size_t readable_count = 0;
      many.clear();
      for (const auto& [collection, version] : tracked->versions.entries()) {
        const std::string& collection_id = collections_[collection];
        if (readable && !readable(collection_id)) continue;
        if (readable_count < few.size()) {
          few[readable_count] = collection_id;
        } else {
          if (many.empty()) many.assign(few.begin(), few.end());
          many.push_back(collection_id);
        }
        ++readable_count;
      }
      if (readable_count == 0) continue;
      if (count >= options_.max_results) {
        truncated = true;
        break;
      }
      if (sightings) {
        id.assign(view.id());
        sighted_by = sighting_book_.Of(id, sightings_visible);
      }
      if (count != 0) out->push_back(',');
      AppendIndexMatchJson(view,
                           many.empty()
                               ? std::span<const std::string_view>(few.data(), readable_count)
                               : std::span<const std::string_view>(many),
                           sighted_by, out);
      if (matched) matched->push_back({std::string(view.id()), view.tlp, 0});
      ++count;
    }
  }
  out->push_back(']');
  if (truncated) out->append(R"(,"truncated":true)");
  warnings();
  out->push_back('}');
  if (count != 0) out->replace(matched_at, 5, "true");
  return count;
}

void SightingTally::Add(const SightingInput& input) {
  auto [it, added] = seen_.try_emplace(input.indicator_id);
  it->second.count = added ? input.count : it->second.count + input.count;
  it->second.indicator_id = input.indicator_id;
  it->second.tlp = input.tlp;
}

void SightingTally::Count(const ObservableResult& result) {
  for (const auto& m : result.matches) {
    auto [it, added] = seen_.try_emplace(m.indicator.id);
    SightingInput& input = it->second;
    input.count = added ? 1 : input.count + 1;
    input.indicator_id = m.indicator.id;
    input.tlp = m.indicator.tlp;
  }
}

std::vector<SightingInput> SightingTally::Inputs() const {
  std::vector<SightingInput> inputs;
  inputs.reserve(seen_.size());
  for (const auto& [id, input] : seen_) inputs.push_back(input);
  return inputs;
}

void Correlator::AddSightedBy(ObservableResult& result, const SightingFilter& visible) const {
  for (IndicatorMatch& match : result.matches) {
    match.sighted_by = sighting_book_.Of(match.indicator.id, visible);
  }
}

json::array SightedByToJson(const std::vector<SightedBy>& sighted_by) {
  json::array out;
  for (const SightedBy& by : sighted_by) {
    json::object o{{"identity", by.observer},
                   {"count", by.count},
                   {"sightings", by.sightings},
                   {"first_seen", FormatTimestamp(by.first_seen_us, 3)},
                   {"last_seen", FormatTimestamp(by.last_seen_us, 3)}};
    if (!by.name.empty()) o["name"] = by.name;
    json::array via;
    for (const std::string& origin : by.via)
      via.emplace_back(origin.empty() ? "this node" : origin);
    o["via"] = std::move(via);
    out.emplace_back(std::move(o));
  }
  return out;
}

json::object ResultToJson(const ObservableResult& result) {
  json::object out;
  if (!result.error.empty()) {
    out["input"] = result.value;
    if (!result.type.empty()) out["type"] = result.type;
    out["error"] = result.error;
    return out;
  }
  out["type"] = result.type;
  out["value"] = result.value;
  out["matched"] = !result.matches.empty();
  json::array matches;
  for (const auto& m : result.matches) {
    json::object o;
    o["indicator"] = m.indicator.id;
    if (!m.indicator.name.empty()) o["name"] = m.indicator.name;
    json::array labels;
    for (const auto& l : m.indicator.labels) labels.emplace_back(l);
    o["labels"] = std::move(labels);
    o["tlp"] = std::string(stix::TlpName(m.indicator.tlp));
    if (!m.indicator.producer.empty()) o["producer"] = m.indicator.producer;
    if (m.indicator.confidence >= 0) o["confidence"] = m.indicator.confidence;
    if (m.indicator.valid_until_us != kNoExpiry) {
      o["valid_until"] = FormatTimestamp(m.indicator.valid_until_us, 3);
    }
    json::array collections;
    for (const auto& c : m.collections) collections.emplace_back(c);
    o["collections"] = std::move(collections);
    if (m.by_pattern) o["by_pattern"] = true;
    if (!m.sighted_by.empty()) o["sighted_by"] = SightedByToJson(m.sighted_by);
    matches.emplace_back(std::move(o));
  }
  out["matches"] = std::move(matches);
  if (result.truncated) out["truncated"] = true;
  if (!result.warnings.empty()) {
    json::array warnings;
    for (const auto& w : result.warnings) warnings.emplace_back(w);
    out["warnings"] = std::move(warnings);
  }
  return out;
}

}  // namespace kizuna::correlation
