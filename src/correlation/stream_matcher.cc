#include "correlation/stream_matcher.h"

#include <re2/re2.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <thread>

#include "common/memory.h"
#include "correlation/result_json.h"
#include "stix/stix.h"

namespace kizuna::correlation {
namespace {

namespace json = boost::json;

// Lines looked up in the index per batch (one read lock each).
constexpr size_t kBatchLines = 4096;
// First answers whose cache misses are started together.
constexpr size_t kFirstAnswerGroup = 16;
// A worker's output is written out (in order) once it passes this.
constexpr size_t kFlushBytes = 4 << 20;
// What an error result quotes of its input.
constexpr size_t kQuoteBytes = 256;
// The start of every IPv4 result, up to the value.
constexpr std::string_view kIpv4Prefix = R"({"type":"ipv4-addr","value":")";
constexpr std::string_view kNoMatchTail = R"(","matched":false,"matches":[]})";

// A canonical dotted quad: four decimal octets 0..255 without leading
// zeros, nothing else. Its text is its normal form, so DetectObservable
// would answer {kIpv4, text} for it.
bool ParseCanonicalIpv4(std::string_view s, uint32_t* out) {
  if (s.size() < 7 || s.size() > 15) return false;
  const char* p = s.data();
  const char* const end = p + s.size();
  auto digit = [&](unsigned* d) {
    if (p == end) return false;
    *d = static_cast<unsigned char>(*p) - unsigned{'0'};
    return *d <= 9;
  };
  uint32_t address = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (p == end || *p != '.') return false;
      ++p;
    }
    unsigned value, d;
    if (!digit(&value)) return false;
    ++p;
    if (digit(&d)) {
      if (value == 0) return false;  // a leading zero
      value = value * 10 + d;
      ++p;
      if (digit(&d)) {
        value = value * 10 + d;
        ++p;
        if (value > 255) return false;
      }
    }
    address = (address << 8) | value;
  }
  if (p != end) return false;
  *out = address;
  return true;
}

// Whether the answer for a probed address can be another address's with the
// same key. Not when a substring or regex warning list holds it (those read
// the text), nor when the index cut its candidates off: then MatchText looks
// again without a cap, and what it finds depends on the address.
inline bool Reusable(const Correlator::Ipv4Probe& probe) {
  return !probe.text_listed && !probe.truncated;
}

// Key equality without a call to memcmp: keys are a few bytes (one ref
// and a flag, almost always).
inline bool SameKey(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// The line as `kizuna match` always read it: trailing '\r' and spaces and
// leading spaces dropped.
std::string_view TrimLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  return line;
}

// The `n`th (1-based) field separated by runs of spaces and tabs.
std::optional<std::string_view> Field(std::string_view line, int n) {
  size_t i = 0;
  for (int field = 1;; ++field) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) return std::nullopt;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (field == n) return line.substr(start, i - start);
  }
}

ObservableResult ErrorResult(std::string_view input, std::string error) {
  ObservableResult result;
  result.value = std::string(input.substr(0, kQuoteBytes));
  result.error = std::move(error);
  return result;
}

}  // namespace

struct StreamMatcher::Regex {
  explicit Regex(const std::string& pattern) : re(pattern, Options()) {}
  static re2::RE2::Options Options() {
    re2::RE2::Options options;
    options.set_log_errors(false);
    return options;
  }
  // The first capture group's text (the whole match without a group).
  std::optional<std::string_view> Extract(std::string_view line) const {
    re2::StringPiece groups[2];
    const int wanted = re.NumberOfCapturingGroups() >= 1 ? 2 : 1;
    if (!re.Match(re2::StringPiece(line.data(), line.size()), 0, line.size(), re2::RE2::UNANCHORED,
                  groups, wanted)) {
      return std::nullopt;
    }
    const re2::StringPiece& picked = groups[wanted - 1];
    if (picked.data() == nullptr || picked.empty()) return std::nullopt;
    return std::string_view(picked.data(), picked.size());
  }
  re2::RE2 re;
};

// The answers for addresses with index candidates or on warning lists,
// shared by the threads of one Run, by key (the candidates' refs, the
// index's truncation, the lists' refs): an open-addressing table of
// (hash, answer) slots that readers probe without a lock (a hit costs one
// cache miss for the slot, where a node-based map costs three), filled
// with compare-and-swap. Answers never change once in; when `capacity` is
// reached no more are kept (later ones are answered afresh each time).
class StreamMatcher::AnswerCache {
 public:
  // Lives in the cache's arena with its key and tail right behind it, so
  // that putting one in allocates nothing (most of the time) and a hit
  // reads one run of adjacent cache lines.
  struct Answer {
    std::string_view key;
    std::string_view tail;  // the result's JSON after `"value":"<address>",`
    bool matched = false;
    // For the tally (only filled when counting): the indicators, and how
    // many lines had this answer.
    std::vector<SightingInput> indicators;
    std::atomic<int64_t> lines{0};
  };

  explicit AnswerCache(size_t capacity) : capacity_(capacity) {
    size_t slots = 1024;
    while (slots < capacity * 2) slots *= 2;
    slots_ = std::make_unique<Slot[]>(slots);
    mask_ = slots - 1;
  }
  ~AnswerCache() {
    // Only these own memory (the others' vectors are empty): the arena's
    // blocks go at once, without visiting every answer.
    for (Answer* answer : with_indicators_) answer->~Answer();
  }

  static uint64_t HashOf(std::string_view key) {
    const uint64_t h = std::hash<std::string_view>{}(key);
    return h == 0 ? 1 : h;
  }

  void Prefetch(uint64_t hash) const { __builtin_prefetch(&slots_[hash & mask_]); }

  bool full() const { return count_.load(std::memory_order_relaxed) >= capacity_; }

  // Starts the cache misses of reading an answer's key: the Answer and
  // the bytes right behind it (Insert's layout), which are in another line.
  static void PrefetchAnswer(const Answer* answer) {
    __builtin_prefetch(answer);
    __builtin_prefetch(reinterpret_cast<const char*>(answer) + sizeof(Answer));
  }

  // The answer in the first slot holding `hash`, without reading it (so
  // that its cache miss can be started before it is needed): check its key.
  const Answer* FirstWithHash(uint64_t hash) const {
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const uint64_t seen = slots_[i].hash.load(std::memory_order_acquire);
      if (seen == 0) return nullptr;
      if (seen == hash) return slots_[i].answer.load(std::memory_order_acquire);
    }
  }

  const Answer* Find(std::string_view key, uint64_t hash) const {
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const uint64_t seen = slots_[i].hash.load(std::memory_order_acquire);
      if (seen == 0) return nullptr;
      if (seen == hash) {
        const Answer* answer = slots_[i].answer.load(std::memory_order_acquire);
        if (answer != nullptr && SameKey(answer->key, key)) return answer;
        if (answer == nullptr) return nullptr;  // being put in: not there yet
      }
    }
  }

  // Puts in the answer for `key` and returns it, or the one another thread
  // put in first; null when the cache is full (or another thread is still
  // putting the same key in).
  const Answer* Insert(std::string_view key, std::string_view tail, bool matched,
                       std::vector<SightingInput>* indicators, uint64_t hash) {
    if (count_.fetch_add(1, std::memory_order_relaxed) >= capacity_) {
      count_.fetch_sub(1, std::memory_order_relaxed);
      return nullptr;
    }
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      uint64_t seen = slots_[i].hash.load(std::memory_order_acquire);
      if (seen == 0 && slots_[i].hash.compare_exchange_strong(seen, hash)) {
        Answer* answer;
        {
          std::lock_guard lock(mu_);
          char* at = Allocate(sizeof(Answer) + key.size() + tail.size());
          answer = new (at) Answer;
          char* bytes = at + sizeof(Answer);
          std::memcpy(bytes, key.data(), key.size());
          std::memcpy(bytes + key.size(), tail.data(), tail.size());
          answer->key = std::string_view(bytes, key.size());
          answer->tail = std::string_view(bytes + key.size(), tail.size());
          answer->matched = matched;
          if (indicators != nullptr && !indicators->empty()) {
            answer->indicators = std::move(*indicators);
            with_indicators_.push_back(answer);
          }
        }
        slots_[i].answer.store(answer, std::memory_order_release);
        return answer;
      }
      if (seen == hash) {
        const Answer* other = slots_[i].answer.load(std::memory_order_acquire);
        if (other == nullptr || SameKey(other->key, key)) {
          count_.fetch_sub(1, std::memory_order_relaxed);
          return other;  // null while another thread puts the same key in
        }
      }
    }
  }

  // Adds every answer's lines to `tally`. Call when no thread is matching.
  void Fold(SightingTally* tally) {
    std::lock_guard lock(mu_);
    for (const Answer* answer : with_indicators_) {
      const int64_t lines = answer->lines.load();
      if (lines == 0) continue;
      for (SightingInput input : answer->indicators) {
        input.count = lines;
        tally->Add(input);
      }
    }
  }

 private:
  struct Slot {
    std::atomic<uint64_t> hash{0};  // 0: empty
    std::atomic<const Answer*> answer{nullptr};
  };
  static constexpr size_t kBlockBytes = 1 << 20;
  static constexpr size_t kWriteAhead = 1024;

  // `bytes` from the arena, aligned for an Answer. Call with mu_ held.
  char* Allocate(size_t bytes) {
    bytes = (bytes + alignof(Answer) - 1) & ~(alignof(Answer) - 1);
    if (bytes > left_) {
      const size_t size = std::max(bytes, kBlockBytes);
      blocks_.push_back(std::make_unique_for_overwrite<char[]>(size));
      PrefaultForWriting(blocks_.back().get(), size);
      next_ = blocks_.back().get();
      left_ = size;
    }
    char* at = next_;
    next_ += bytes;
    left_ -= bytes;
    // Answers are written one after the other: ask for the lines the next
    // ones will take now, so that writing them does not wait (at the
    // unlock that follows) for lines read from memory.
    for (size_t ahead = 0; ahead < std::min<size_t>(left_, kWriteAhead); ahead += 64) {
      __builtin_prefetch(next_ + ahead, /*rw=*/1);
    }
    return at;
  }

  const size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  size_t mask_ = 0;
  std::atomic<size_t> count_{0};
  std::mutex mu_;
  std::vector<std::unique_ptr<char[]>> blocks_;  // the arena; guarded by mu_
  char* next_ = nullptr;                         // free bytes in the last block; mu_
  size_t left_ = 0;                              // mu_
  std::vector<Answer*> with_indicators_;         // answers with a tally to fold; mu_
};

// What one thread keeps while it matches: buffers reused across batches,
// its counts and tally (folded in by Collect).
struct StreamMatcher::Worker {
  enum class Kind : uint8_t { kIpv4, kOther, kNoField, kNoRegexMatch, kNotUtf8, kOverlong };
  struct Line {
    std::string_view text;  // the observable (for errors: what is quoted)
    Kind kind;
  };

  AnswerCache* answers = nullptr;  // the Run's
  std::vector<Line> lines;
  std::vector<uint32_t> addresses;              // of the kIpv4 lines, in order
  std::vector<std::string_view> address_texts;  // their text
  std::vector<Correlator::Ipv4Probe> probes;
  std::vector<uint32_t> refs;
  std::vector<uint64_t> hashes;                   // per probe: of its key
  std::vector<const AnswerCache::Answer*> found;  // per probe: its answer, if known
  std::string key;
  std::string scratch;
  std::vector<SightingInput> matched;  // the indicators of the answer in scratch
  std::vector<size_t> pending;         // the probes of a batch's first answers
  std::vector<uint32_t> unanswered;    // and their candidates
  StreamCounts counts;
  SightingTally tally;

  void MakeKey(const Correlator::Ipv4Probe& probe) {
    key.assign(reinterpret_cast<const char*>(refs.data() + probe.refs_begin),
               (probe.refs_end - probe.refs_begin) * sizeof(uint32_t));
    key.push_back(probe.truncated ? 't' : 'f');
    key.append(reinterpret_cast<const char*>(refs.data() + probe.lists_begin),
               (probe.lists_end - probe.lists_begin) * sizeof(uint32_t));
  }
};

Result<std::unique_ptr<StreamMatcher>> StreamMatcher::Create(Correlator& correlator,
                                                             StreamOptions options,
                                                             CollectionFilter readable,
                                                             MatchFilter visible,
                                                             SightingFilter sightings_visible) {
  if (options.field < 0) return InvalidArgument("--field counts from 1");
  if (options.field > 0 && !options.regex.empty()) {
    return InvalidArgument("--field and --regex pick the observable two ways: give one");
  }
  if (options.chunk_bytes == 0 || options.max_line_bytes == 0) {
    return InvalidArgument("chunk and line sizes must be positive");
  }
  std::unique_ptr<StreamMatcher> matcher(new StreamMatcher(correlator, std::move(options),
                                                           std::move(readable), std::move(visible),
                                                           std::move(sightings_visible)));
  if (!matcher->options_.regex.empty()) {
    matcher->regex_ = std::make_unique<Regex>(matcher->options_.regex);
    if (!matcher->regex_->re.ok()) {
      return InvalidArgument("--regex: " + matcher->regex_->re.error());
    }
  }
  return matcher;
}

StreamMatcher::StreamMatcher(Correlator& correlator, StreamOptions options,
                             CollectionFilter readable, MatchFilter visible,
                             SightingFilter sightings_visible)
    : correlator_(correlator),
      options_(std::move(options)),
      readable_(std::move(readable)),
      visible_(std::move(visible)),
      sightings_visible_(std::move(sightings_visible)) {}

StreamMatcher::~StreamMatcher() = default;

StreamCounts StreamMatcher::counts() const { return counts_; }

SightingTally StreamMatcher::tally() const { return tally_; }

void StreamMatcher::Collect(Worker& worker) {
  counts_.inputs += worker.counts.inputs;
  counts_.matched += worker.counts.matched;
  counts_.errors += worker.counts.errors;
  worker.counts = StreamCounts{};
  for (const SightingInput& input : worker.tally.Inputs()) tally_.Add(input);
  worker.tally = SightingTally{};
}

size_t StreamMatcher::CountInputs(std::string_view text) {
  size_t inputs = 0;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = TrimLine(text.substr(0, end));
    if (!line.empty() && line.front() != '#') ++inputs;
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return inputs;
}

void StreamMatcher::MatchBuffer(std::string_view text, std::string* out,
                                std::string_view terminator) {
  AnswerCache answers(options_.cache_entries);
  Worker worker;
  worker.answers = &answers;
  MatchLines(worker, text, out, terminator, nullptr);
  Collect(worker);
  answers.Fold(&tally_);
}

void StreamMatcher::MatchLines(Worker& w, std::string_view data, std::string* out,
                               std::string_view terminator,
                               const std::function<void(std::string*)>& flush) {
  using Kind = Worker::Kind;
  // With indicators only the pattern engine evaluates, every answer depends
  // on the value itself: no shortcut then.
  const bool fast_ipv4 = correlator_.pattern_count() == 0;
  // Lines split at '\n', fields at blanks, regex groups at characters: all
  // UTF-8 when the whole is (the common case, checked at once).
  const bool all_utf8 = IsValidUtf8(data);

  // Everything MatchText-like: sighted_by, the tally, the counts, the JSON.
  auto emit = [&](ObservableResult result) {
    correlator_.AddSightedBy(result, sightings_visible_);
    if (options_.tally) w.tally.Count(result);
    if (!result.error.empty()) ++w.counts.errors;
    if (!result.matches.empty()) ++w.counts.matched;
    if (options_.all || !result.matches.empty()) {
      AppendResultJson(result, out);
      out->append(terminator);
    }
  };
  // A line that is not a plain IPv4 address: as `kizuna match` always did.
  auto slow = [&](std::string_view text) {
    if (!options_.json_lines || (text.front() != '{' && text.front() != '[')) {
      emit(correlator_.MatchText(text, readable_, {}, visible_));
      return;
    }
    auto parsed = stix::ParseJson(text, 64);
    if (!parsed.ok()) {
      emit(ErrorResult(text, parsed.status().message()));
      return;
    }
    const json::object* object = parsed->if_object();
    std::string type;
    if (object) {
      auto it = object->find("type");
      if (it != object->end() && it->value().is_string()) type = it->value().get_string();
    }
    if (!object || type == "observed-data" || type == "bundle") {
      auto results = correlator_.MatchObservedData(*parsed, readable_, visible_);
      if (!results.ok()) {
        emit(ErrorResult(text, results.status().message()));
        return;
      }
      for (auto& r : *results) emit(std::move(r));
      return;
    }
    auto value = object->find("value");
    if (value == object->end() || !value->value().is_string()) {
      emit(ErrorResult(text, "a JSON line is observed-data, a bundle, or {\"type\", \"value\"}"));
      return;
    }
    emit(correlator_.MatchText(value->value().get_string(), readable_, type, visible_));
  };
  // The first address with these candidates and lists (w.key): its whole
  // result's JSON into w.scratch (and its indicators, for the tally, into
  // w.matched), then into the cache. Returns the answer kept, or null when
  // the cache is full (or the answer cannot be reused: never expected).
  auto first_answer = [&](std::string_view text, const Correlator::Ipv4Probe& probe, uint64_t hash,
                          bool* matched, bool* error) -> const AnswerCache::Answer* {
    w.scratch.clear();
    w.matched.clear();
    const std::span<const uint32_t> refs(w.refs.data() + probe.refs_begin,
                                         probe.refs_end - probe.refs_begin);
    if (!visible_) {
      // The candidates and lists are the whole answer (Reusable: not cut
      // off, on no text list); without a `visible` filter (which is handed
      // whole IndicatorMatches) it is written straight from the index.
      const std::span<const uint32_t> lists(w.refs.data() + probe.lists_begin,
                                            probe.lists_end - probe.lists_begin);
      *matched = correlator_.AppendIpv4CandidatesJson(text, refs, lists, readable_,
                                                      sightings_visible_, &w.scratch,
                                                      options_.tally ? &w.matched : nullptr) > 0;
      *error = false;
    } else {
      ObservableResult result =
          probe.lists_begin == probe.lists_end
              ? correlator_.MatchIpv4Candidates(text, refs, readable_, visible_)
              : correlator_.MatchIpv4(text, readable_, visible_);
      correlator_.AddSightedBy(result, sightings_visible_);
      AppendResultJson(result, &w.scratch);
      *matched = !result.matches.empty();
      *error = !result.error.empty();
      if (options_.tally) {
        for (const IndicatorMatch& m : result.matches) {
          w.matched.push_back({m.indicator.id, m.indicator.tlp, 0});
        }
      }
    }
    const size_t head = kIpv4Prefix.size() + text.size() + 2;  // `…"value":"<text>",`
    const bool reusable = !*error && w.scratch.size() > head &&
                          w.scratch.starts_with(kIpv4Prefix) &&
                          w.scratch.compare(kIpv4Prefix.size(), text.size(), text) == 0 &&
                          w.scratch.compare(head - 2, 2, "\",") == 0;
    if (!reusable) return nullptr;
    std::vector<SightingInput> indicators;
    if (options_.tally) indicators = w.matched;  // (w.matched is still needed if not kept)
    return w.answers->Insert(w.key, std::string_view(w.scratch).substr(head), *matched, &indicators,
                             hash);
  };
  // An address the index has candidates for, or a warning list holds: the
  // answer of the first address with the same candidates and lists, with
  // this value.
  auto candidates = [&](std::string_view text, const Correlator::Ipv4Probe& probe,
                        const AnswerCache::Answer* answer, uint64_t hash) {
    if (answer == nullptr) {
      w.MakeKey(probe);
      answer = w.answers->Find(w.key, hash);  // an earlier line of the batch may have put it in
    }
    if (answer == nullptr) {
      bool matched, error;
      answer = first_answer(text, probe, hash, &matched, &error);
      if (answer == nullptr) {  // not kept: written from scratch
        if (options_.tally) {
          for (SightingInput input : w.matched) {
            input.count = 1;
            w.tally.Add(input);
          }
        }
        if (error) ++w.counts.errors;
        if (matched) ++w.counts.matched;
        if (options_.all || matched) out->append(w.scratch).append(terminator);
        return;
      }
    }
    if (options_.tally) const_cast<AnswerCache::Answer*>(answer)->lines.fetch_add(1);
    if (answer->matched) ++w.counts.matched;
    if (options_.all || answer->matched) {
      out->append(kIpv4Prefix).append(text).append("\",").append(answer->tail).append(terminator);
    }
  };

  size_t pos = 0;
  while (pos < data.size()) {
    // Split and classify a batch of lines.
    w.lines.clear();
    w.addresses.clear();
    w.address_texts.clear();
    while (pos < data.size() && w.lines.size() < kBatchLines) {
      const char* start = data.data() + pos;
      const void* newline = std::memchr(start, '\n', data.size() - pos);
      const size_t length = newline ? static_cast<size_t>(static_cast<const char*>(newline) - start)
                                    : data.size() - pos;
      pos += length + 1;
      std::string_view raw(start, length);
      if (raw.size() > options_.max_line_bytes) {
        Overlong(w, raw.substr(0, kQuoteBytes), nullptr, {});
        continue;
      }
      std::string_view line = TrimLine(raw);
      if (line.empty() || line.front() == '#') continue;
      std::string_view text = line;
      if (options_.field > 0) {
        auto field = Field(line, options_.field);
        if (!field) {
          w.lines.push_back({line, Kind::kNoField});
          continue;
        }
        text = *field;
      } else if (regex_) {
        auto picked = regex_->Extract(line);
        if (!picked) {
          w.lines.push_back({line, Kind::kNoRegexMatch});
          continue;
        }
        text = *picked;
      }
      if (!all_utf8 && !IsValidUtf8(text)) {
        w.lines.push_back({text, Kind::kNotUtf8});
        continue;
      }
      uint32_t address;
      if (fast_ipv4 && ParseCanonicalIpv4(text, &address)) {
        w.lines.push_back({text, Kind::kIpv4});
        w.addresses.push_back(address);
        w.address_texts.push_back(text);
      } else {
        w.lines.push_back({text, Kind::kOther});
      }
    }
    // Look the addresses up at once.
    w.probes.clear();
    w.refs.clear();
    if (!w.addresses.empty()) correlator_.ProbeIpv4(w.addresses, &w.probes, &w.refs);
    // Find the answers known for the batch before writing any, so that the
    // cache misses overlap: hash every key and prefetch its slot; read the
    // slots and prefetch the answers; check the keys and prefetch the tails.
    const size_t probes = w.probes.size();
    w.hashes.resize(probes);
    w.found.assign(probes, nullptr);
    for (size_t i = 0; i < probes; ++i) {
      if (!Reusable(w.probes[i])) continue;
      w.MakeKey(w.probes[i]);
      w.hashes[i] = AnswerCache::HashOf(w.key);
      w.answers->Prefetch(w.hashes[i]);
    }
    for (size_t i = 0; i < probes; ++i) {
      if (!Reusable(w.probes[i])) continue;
      w.found[i] = w.answers->FirstWithHash(w.hashes[i]);
      if (w.found[i] != nullptr) AnswerCache::PrefetchAnswer(w.found[i]);
    }
    for (size_t i = 0; i < probes; ++i) {
      const AnswerCache::Answer* answer = w.found[i];
      if (answer == nullptr) continue;
      w.MakeKey(w.probes[i]);
      if (!SameKey(answer->key, w.key)) {
        w.found[i] = nullptr;  // another key with the same hash: looked up when written
        continue;
      }
      const char* tail = answer->tail.data();
      for (size_t at = 0; at < answer->tail.size(); at += 64) __builtin_prefetch(tail + at);
    }
    // The batch's first answers, before any line is written, a group at a
    // time: the cache (and TLB) misses of a group started all at once
    // (PrefetchCandidates), then its answers put in while what they read
    // is still close (a whole batch's lines in between would push it out).
    // Not with a `visible` filter (nothing to prefetch), nor once the cache
    // is full (answers would be worked out twice).
    if (!visible_ && !w.answers->full()) {
      w.pending.clear();
      for (size_t i = 0; i < probes; ++i) {
        if (w.found[i] == nullptr && Reusable(w.probes[i])) w.pending.push_back(i);
      }
      for (size_t begin = 0; begin < w.pending.size(); begin += kFirstAnswerGroup) {
        const size_t end = std::min(w.pending.size(), begin + kFirstAnswerGroup);
        w.unanswered.clear();
        for (size_t k = begin; k < end; ++k) {
          const Correlator::Ipv4Probe& p = w.probes[w.pending[k]];
          w.unanswered.insert(w.unanswered.end(), w.refs.begin() + p.refs_begin,
                              w.refs.begin() + p.refs_end);
        }
        correlator_.PrefetchCandidates(w.unanswered);
        for (size_t k = begin; k < end; ++k) {
          const size_t i = w.pending[k];
          const Correlator::Ipv4Probe& p = w.probes[i];
          w.MakeKey(p);
          w.found[i] = w.answers->Find(w.key, w.hashes[i]);  // the same key earlier in the batch
          if (w.found[i] == nullptr) {
            bool matched, error;
            w.found[i] =
                first_answer(w.address_texts[p.position], p, w.hashes[i], &matched, &error);
          }
        }
      }
    }
    // Answer in order.
    size_t address = 0, probe = 0;
    for (const Worker::Line& line : w.lines) {
      ++w.counts.inputs;
      switch (line.kind) {
        case Kind::kIpv4: {
          const uint32_t position = static_cast<uint32_t>(address++);
          if (probe < w.probes.size() && w.probes[probe].position == position) {
            const size_t i = probe++;
            const Correlator::Ipv4Probe& p = w.probes[i];
            if (!Reusable(p)) {
              emit(correlator_.MatchIpv4(line.text, readable_, visible_));
            } else {
              candidates(line.text, p, w.found[i], w.hashes[i]);
            }
          } else if (options_.all) {
            out->append(kIpv4Prefix).append(line.text).append(kNoMatchTail).append(terminator);
          }
          break;
        }
        case Kind::kOther:
          slow(line.text);
          break;
        case Kind::kNoField:
          emit(ErrorResult(line.text,
                           "no field " + std::to_string(options_.field) + " in the line"));
          break;
        case Kind::kNoRegexMatch:
          emit(ErrorResult(line.text, "the regex does not match the line"));
          break;
        case Kind::kNotUtf8:
          emit(ErrorResult(line.text, "not valid UTF-8"));
          break;
        case Kind::kOverlong:
          emit(ErrorResult(line.text, OverlongError()));
          break;
      }
    }
    if (flush && out->size() >= kFlushBytes) flush(out);
  }
}

void StreamMatcher::Overlong(Worker& w, std::string_view head, std::string* out,
                             std::string_view terminator) {
  while (!head.empty() && head.front() == ' ') head.remove_prefix(1);
  if (!head.empty() && head.front() == '#') return;  // a comment, however long
  if (out == nullptr) {                              // within MatchLines: answered in line order
    w.lines.push_back({head, Worker::Kind::kOverlong});
    return;
  }
  ++w.counts.inputs;
  ++w.counts.errors;
  if (options_.all) {
    AppendResultJson(ErrorResult(head, OverlongError()), out);
    out->append(terminator);
  }
}

std::string StreamMatcher::OverlongError() const {
  return "line longer than " + std::to_string(options_.max_line_bytes) + " bytes";
}

// Run's machinery: the calling thread reads chunks of whole lines into a
// fixed set of buffers, workers match them, and whoever finishes the oldest
// outstanding chunk writes every finished chunk that is next in order.
class StreamMatcher::Pipeline {
 public:
  Pipeline(StreamMatcher& matcher, const Source& source, const Sink& sink)
      : matcher_(matcher),
        source_(source),
        sink_(sink),
        threads_(std::max<size_t>(1, matcher.options_.threads)),
        answers_(matcher.options_.cache_entries),
        workers_(threads_) {
    for (Worker& worker : workers_) worker.answers = &answers_;
    chunks_.resize(threads_ * 2 + 2);
    for (auto& chunk : chunks_) {
      chunk = std::make_unique<Chunk>();
      free_.push_back(chunk.get());
    }
  }

  Status Run(const Progress& progress, std::chrono::milliseconds every) {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < threads_; ++i) threads.emplace_back([this, i] { Work(workers_[i]); });
    Status read = Read(progress, every);
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    changed_.notify_all();
    for (auto& thread : threads) thread.join();
    for (Worker& worker : workers_) matcher_.Collect(worker);
    answers_.Fold(&matcher_.tally_);
    if (!read.ok()) return read;
    if (write_failed_) return IoError(std::string("writing the results: ") + std::strerror(errno_));
    return Status::Ok();
  }

 private:
  struct Chunk {
    uint64_t seq = 0;
    std::string data;       // whole lines (the input's last may lack '\n')
    bool overlong = false;  // data: the start of one line too long to read
    std::string out;
  };

  // Fills `chunk` with whole lines: at least chunk_bytes unless the input
  // ends; bytes past the last newline are kept in pending_ for the next.
  Status Fill(Chunk& chunk) {
    const StreamOptions& options = matcher_.options_;
    std::string& data = chunk.data;
    data.assign(pending_);  // the chunk keeps its buffer: no allocation once warm
    pending_.clear();
    chunk.overlong = false;
    size_t last_newline = data.rfind('\n');
    while (!eof_) {
      if (last_newline != std::string::npos && data.size() >= options.chunk_bytes) break;
      if (last_newline == std::string::npos && data.size() > options.max_line_bytes) {
        // One line too long to hold: keep its start, skip to its end.
        chunk.overlong = true;
        data.resize(std::min(data.size(), kQuoteBytes));
        return SkipLine();
      }
      const size_t old = data.size();
      data.resize(old + options.chunk_bytes);
      auto n = ReadSome(data.data() + old, options.chunk_bytes);
      if (!n.ok()) return n.status();
      data.resize(old + *n);
      if (*n == 0) {
        eof_ = true;
        break;
      }
      if (const void* found = memrchr(data.data() + old, '\n', *n)) {
        last_newline = static_cast<size_t>(static_cast<const char*>(found) - data.data());
      }
    }
    if (!eof_) {
      pending_.assign(data, last_newline + 1);
      data.resize(last_newline + 1);
    }
    return Status::Ok();
  }

  // Reads past the next newline; what follows it goes to pending_.
  Status SkipLine() {
    std::string& buffer = pending_;
    while (true) {
      buffer.resize(matcher_.options_.chunk_bytes);
      auto n = ReadSome(buffer.data(), buffer.size());
      if (!n.ok()) return n.status();
      if (*n == 0) {
        eof_ = true;
        buffer.clear();
        return Status::Ok();
      }
      if (const void* found = std::memchr(buffer.data(), '\n', *n)) {
        const size_t next =
            static_cast<size_t>(static_cast<const char*>(found) - buffer.data()) + 1;
        buffer.resize(*n);
        buffer.erase(0, next);
        return Status::Ok();
      }
    }
  }

  Result<size_t> ReadSome(char* buffer, size_t capacity) {
    while (true) {
      long n = source_(buffer, capacity);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      return IoError(std::string("reading the input: ") + std::strerror(errno));
    }
  }

  Status Read(const Progress& progress, std::chrono::milliseconds every) {
    using SteadyClock = std::chrono::steady_clock;
    auto last_progress = SteadyClock::now();
    uint64_t seq = 0;
    while (!eof_) {
      Chunk* chunk;
      {
        std::unique_lock lock(mu_);
        changed_.wait(lock, [&] { return !free_.empty() || write_failed_; });
        if (write_failed_) return Status::Ok();
        chunk = free_.back();
        free_.pop_back();
      }
      Status filled = Fill(*chunk);
      if (!filled.ok() || (chunk->data.empty() && !chunk->overlong)) {
        std::lock_guard lock(mu_);
        free_.push_back(chunk);
        if (!filled.ok()) return filled;
        continue;
      }
      chunk->seq = seq++;
      {
        std::lock_guard lock(mu_);
        queue_.push_back(chunk);
      }
      changed_.notify_all();
      if (progress && SteadyClock::now() - last_progress >= every) {
        last_progress = SteadyClock::now();
        progress(StreamCounts{inputs_.load(), matched_.load(), errors_.load()});
      }
    }
    return Status::Ok();
  }

  void Work(Worker& worker) {
    while (true) {
      Chunk* chunk;
      {
        std::unique_lock lock(mu_);
        changed_.wait(lock, [&] { return !queue_.empty() || closed_; });
        if (queue_.empty()) return;
        chunk = queue_.front();
        queue_.pop_front();
      }
      chunk->out.clear();
      const StreamCounts before = worker.counts;
      // A large output is written early, once every earlier chunk is out.
      auto flush = [&](std::string* out) {
        {
          std::unique_lock lock(mu_);
          changed_.wait(lock,
                        [&] { return (next_write_ == chunk->seq && !writing_) || write_failed_; });
          if (write_failed_) {
            out->clear();
            return;
          }
          writing_ = true;
        }
        Write(*out);  // the turn is ours: no lock needed
        out->clear();
        {
          std::lock_guard lock(mu_);
          writing_ = false;
        }
        changed_.notify_all();
      };
      if (!write_failed_.load()) {
        if (chunk->overlong) {
          matcher_.Overlong(worker, chunk->data, &chunk->out, "\n");
        } else {
          matcher_.MatchLines(worker, chunk->data, &chunk->out, "\n", flush);
        }
      }
      inputs_ += worker.counts.inputs - before.inputs;
      matched_ += worker.counts.matched - before.matched;
      errors_ += worker.counts.errors - before.errors;
      // Whoever finds the next chunk in order done and nobody writing
      // writes it (and every one after it that is done), outside the lock.
      std::unique_lock lock(mu_);
      done_[chunk->seq] = chunk;
      if (!writing_) {
        writing_ = true;
        while (!done_.empty() && done_.begin()->first == next_write_) {
          Chunk* next = done_.begin()->second;
          done_.erase(done_.begin());
          lock.unlock();
          Write(next->out);
          lock.lock();
          ++next_write_;
          free_.push_back(next);
          changed_.notify_all();
        }
        writing_ = false;
      }
      lock.unlock();
      changed_.notify_all();
    }
  }

  // By the thread whose turn it is to write (writing_ set).
  void Write(const std::string& bytes) {
    if (bytes.empty() || write_failed_) return;
    if (!sink_(bytes)) {
      errno_ = errno;
      write_failed_ = true;
    }
  }

  StreamMatcher& matcher_;
  const Source& source_;
  const Sink& sink_;
  const size_t threads_;
  AnswerCache answers_;
  std::vector<Worker> workers_;  // one per thread
  std::vector<std::unique_ptr<Chunk>> chunks_;

  // The reading thread's own.
  std::string pending_;
  bool eof_ = false;

  std::mutex mu_;
  std::condition_variable changed_;  // any of the below changed
  std::vector<Chunk*> free_;         // guarded by mu_
  std::deque<Chunk*> queue_;         // read, not yet taken; mu_
  std::map<uint64_t, Chunk*> done_;  // matched, waiting for their turn; mu_
  uint64_t next_write_ = 0;          // the chunk whose output is next; mu_
  bool writing_ = false;             // a thread is writing output; mu_
  bool closed_ = false;              // no more chunks; mu_
  std::atomic<bool> write_failed_{false};
  int errno_ = 0;  // set by the writing thread, read after the workers are joined
  std::atomic<uint64_t> inputs_{0}, matched_{0}, errors_{0};
};

Status StreamMatcher::Run(const Source& source, const Sink& sink, const Progress& progress,
                          std::chrono::milliseconds progress_every) {
  Pipeline pipeline(*this, source, sink);
  return pipeline.Run(progress, progress_every);
}

Status StreamMatcher::RunFd(int in_fd, int out_fd, const Progress& progress,
                            std::chrono::milliseconds progress_every) {
  Source source = [in_fd](char* buffer, size_t capacity) -> long {
    return static_cast<long>(::read(in_fd, buffer, capacity));
  };
  Sink sink = [out_fd](std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(out_fd, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  };
  return Run(source, sink, progress, progress_every);
}

}  // namespace kizuna::correlation
