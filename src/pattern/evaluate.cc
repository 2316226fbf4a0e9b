// Evaluation of STIX patterns against observations (see pattern.h).
//
// Two stages. First every bracketed comparison expression is evaluated against
// every observation once, giving the observations it matches (its candidates).
// Then a depth-first search picks one candidate per bracket so that the
// observation operators and qualifiers hold; it stops at the first binding that
// satisfies the whole pattern. The search is written in continuation-passing
// style: Enumerate(node, sink) calls sink() once for every binding of `node`
// compatible with the bindings already made, and sink() continues with the rest
// of the pattern. Every candidate tried costs a step, so the N! worst case of
// AND-joined observation expressions is cut off by EvalLimits::max_steps.
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_map>

#include "common/encoding.h"
#include "common/time.h"
#include "pattern/pattern.h"

namespace kizuna::pattern {
namespace {

namespace json = boost::json;

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}
bool IsRefKey(std::string_view key) { return EndsWith(key, "_ref") || EndsWith(key, "_refs"); }

std::optional<std::string> DecodeHex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int high = HexDigitValue(text[i]), low = HexDigitValue(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
  }
  return out;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=')
      break;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// Decodes UTF-8 into code points; invalid sequences become U+FFFD per byte.
std::vector<uint32_t> CodePoints(std::string_view text) {
  std::vector<uint32_t> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (extra < 0 || i + static_cast<size_t>(extra) >= text.size()) {
      out.push_back(0xfffd);
      ++i;
      continue;
    }
    uint32_t cp = extra == 0 ? c : (c & (0x3f >> extra));
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (next & 0x3f);
    }
    if (!ok) {
      out.push_back(0xfffd);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

// The string's code points as bytes, when all are below 256 (the spec's rule
// for comparing strings with binary values).
std::optional<std::string> Latin1Bytes(std::string_view utf8) {
  std::string out;
  for (uint32_t cp : CodePoints(utf8)) {
    if (cp > 0xff) return std::nullopt;
    out.push_back(static_cast<char>(cp));
  }
  return out;
}

// LIKE: '%' matches any run, '_' one code point. Greedy matching with a
// single backtrack point: O(len(value) * len(pattern)) at worst, no recursion.
bool LikeMatches(std::string_view value_text, std::string_view like_text) {
  std::vector<uint32_t> value = CodePoints(value_text);
  std::vector<uint32_t> like = CodePoints(like_text);
  size_t v = 0, p = 0, star_p = std::string::npos, star_v = 0;
  while (v < value.size()) {
    if (p < like.size() && (like[p] == '_' || (like[p] != '%' && like[p] == value[v]))) {
      ++v;
      ++p;
    } else if (p < like.size() && like[p] == '%') {
      star_p = p++;
      star_v = v;
    } else if (star_p != std::string::npos) {
      p = star_p + 1;
      v = ++star_v;
    } else {
      return false;
    }
  }
  while (p < like.size() && like[p] == '%') ++p;
  return p == like.size();
}

std::optional<double> NumberFromString(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string copy(text);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) return std::nullopt;
  // Reject hex floats, "inf", "nan" and the like: only decimal notation.
  for (char c : copy) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E')) {
      return std::nullopt;
    }
  }
  return value;
}

std::optional<double> JsonNumber(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

enum class Order { kLess, kEqual, kGreater, kIncomparable };

template <typename T>
Order OrderOf(const T& a, const T& b) {
  if (a < b) return Order::kLess;
  if (b < a) return Order::kGreater;
  return Order::kEqual;
}

// Compares a value reached by a path (under property `key`) with a literal.
Order CompareWithLiteral(const json::value& value, std::string_view key, const Literal& literal) {
  const bool is_bytes_property = EndsWith(key, "_hex") || EndsWith(key, "_bin");
  switch (literal.kind) {
    case LiteralKind::kInt:
      if (value.is_int64()) return OrderOf(value.get_int64(), literal.int_value);
      [[fallthrough]];
    case LiteralKind::kFloat: {
      std::optional<double> number = JsonNumber(value);
      if (!number && value.is_string()) number = NumberFromString(value.get_string());
      if (!number) return Order::kIncomparable;
      return OrderOf(*number, literal.float_value);
    }
    case LiteralKind::kBool:
      if (!value.is_bool()) return Order::kIncomparable;
      return value.get_bool() == literal.bool_value ? Order::kEqual : Order::kGreater;
    case LiteralKind::kTimestamp: {
      if (!value.is_string()) return Order::kIncomparable;
      Result<int64_t> micros = ParseTimestamp(value.get_string());
      if (!micros.ok()) return Order::kIncomparable;
      return OrderOf(*micros, literal.timestamp_us);
    }
    case LiteralKind::kString: {
      if (value.is_string()) {
        std::string_view text = value.get_string();
        if (is_bytes_property) {
          std::optional<std::string> bytes =
              EndsWith(key, "_hex") ? DecodeHex(text) : DecodeBase64(text);
          std::optional<std::string> literal_bytes = Latin1Bytes(literal.text);
          if (!bytes || !literal_bytes) return Order::kIncomparable;
          return OrderOf(*bytes, *literal_bytes);
        }
        return OrderOf(text, std::string_view(literal.text));
      }
      std::optional<double> number = JsonNumber(value);
      std::optional<double> literal_number = NumberFromString(literal.text);
      if (number && literal_number) return OrderOf(*number, *literal_number);
      return Order::kIncomparable;
    }
    case LiteralKind::kHex:
    case LiteralKind::kBinary: {
      if (!value.is_string()) return Order::kIncomparable;
      std::string_view text = value.get_string();
      std::optional<std::string> bytes;
      if (EndsWith(key, "_hex"))
        bytes = DecodeHex(text);
      else if (EndsWith(key, "_bin"))
        bytes = DecodeBase64(text);
      else if (literal.kind == LiteralKind::kHex)
        bytes = DecodeHex(text);  // hashes
      if (!bytes) bytes = Latin1Bytes(text);
      if (!bytes) return Order::kIncomparable;
      return OrderOf(*bytes, literal.text);
    }
  }
  return Order::kIncomparable;
}

// Does one reached value pass the test (before NOT)? nullopt: the value is of
// a kind the operator cannot apply to, so neither the test nor its negation
// passes.
std::optional<bool> TestValue(const ComparisonExpression& test, const json::value& value,
                              std::string_view key) {
  switch (test.op) {
    case CompareOp::kEqual:
      return CompareWithLiteral(value, key, test.literals[0]) == Order::kEqual;
    case CompareOp::kNotEqual:
      return CompareWithLiteral(value, key, test.literals[0]) != Order::kEqual;
    case CompareOp::kLess:
    case CompareOp::kLessOrEqual:
    case CompareOp::kGreater:
    case CompareOp::kGreaterOrEqual: {
      Order order = CompareWithLiteral(value, key, test.literals[0]);
      if (order == Order::kIncomparable) return std::nullopt;
      switch (test.op) {
        case CompareOp::kLess:
          return order == Order::kLess;
        case CompareOp::kLessOrEqual:
          return order != Order::kGreater;
        case CompareOp::kGreater:
          return order == Order::kGreater;
        default:
          return order != Order::kLess;
      }
    }
    case CompareOp::kIn:
      for (const Literal& literal : test.literals) {
        if (CompareWithLiteral(value, key, literal) == Order::kEqual) return true;
      }
      return false;
    case CompareOp::kLike:
      if (!value.is_string()) return std::nullopt;
      return LikeMatches(value.get_string(), test.literals[0].text);
    case CompareOp::kMatches: {
      if (!value.is_string() || !test.regex) return std::nullopt;
      std::string_view text = value.get_string();
      if (EndsWith(key, "_hex") || EndsWith(key, "_bin")) {
        std::optional<std::string> bytes =
            EndsWith(key, "_hex") ? DecodeHex(text) : DecodeBase64(text);
        if (!bytes || !test.regex_latin1) return std::nullopt;
        return RE2::PartialMatch(*bytes, *test.regex_latin1);
      }
      return RE2::PartialMatch(text, *test.regex);
    }
    case CompareOp::kIsSubset:
    case CompareOp::kIsSuperset: {
      if (!value.is_string() || !test.cidr) return std::nullopt;
      std::optional<IpPrefix> prefix = ParseIpPrefix(value.get_string());
      if (!prefix || prefix->v6 != test.cidr->v6) return std::nullopt;
      return test.op == CompareOp::kIsSubset ? IpPrefixContains(*test.cidr, *prefix)
                                             : IpPrefixContains(*prefix, *test.cidr);
    }
    case CompareOp::kExists:
      return true;
  }
  return std::nullopt;
}

// A lightweight non-owning reference to a callable (like absl::FunctionRef):
// the search builds one per level, and std::function would allocate.
class Sink {
 public:
  template <typename F>
  Sink(const F& f)  // NOLINT: implicit by design
      : object_(&f), call_([](const void* o) { return (*static_cast<const F*>(o))(); }) {}
  bool operator()() const { return call_(object_); }

 private:
  const void* object_;
  bool (*call_)(const void*);
};

class Evaluator {
 public:
  Evaluator(const std::vector<Observation>& observations, const EvalLimits& limits)
      : observations_(observations),
        limits_(limits),
        count_(std::min(observations.size(), limits.max_observations)),
        used_(count_, 0) {}

  MatchResult Run(const Pattern& pattern) {
    MatchResult result;
    ComputeCandidates(pattern.root);
    if (!limit_hit_ && Possible(pattern.root) && MinInstances(pattern.root) <= TotalCapacity()) {
      result.matched = Enumerate(pattern.root, [&] {
        result.binding.assign(binding_.begin(), binding_.end());
        return true;
      });
    }
    if (limit_hit_) {
      result.matched = false;
      result.binding.clear();
    }
    result.limit_hit = limit_hit_;
    result.steps = steps_;
    return result;
  }

 private:
  bool Step(uint64_t cost = 1) {
    steps_ += cost;
    if (steps_ > limits_.max_steps) limit_hit_ = true;
    return !limit_hit_;
  }

  // ---- Stage 1: comparison expressions against single observations.

  void ComputeCandidates(const ObservationExpression& node) {
    if (limit_hit_) return;
    if (node.kind != ObservationExpression::Kind::kComparison) {
      for (const ObservationExpression& child : node.children) ComputeCandidates(child);
      return;
    }
    std::vector<size_t>& list = candidates_[&node];
    for (size_t i = 0; i < count_ && !limit_hit_; ++i) {
      const Observation& observation = observations_[i];
      std::vector<bool> roots = EvalComparison(node.comparison, observation);
      if (std::find(roots.begin(), roots.end(), true) != roots.end()) list.push_back(i);
    }
  }

  // Which root objects of `observation` pass `expr`.
  std::vector<bool> EvalComparison(const ComparisonExpression& expr,
                                   const Observation& observation) {
    const size_t n = observation.objects.size();
    if (expr.kind == ComparisonExpression::Kind::kTest) {
      std::vector<bool> roots(n, false);
      for (size_t j = 0; j < n && !limit_hit_; ++j) {
        const json::value& object = observation.objects[j];
        const json::object* fields = object.if_object();
        if (fields == nullptr) continue;
        const json::value* type = fields->if_contains("type");
        if (type == nullptr || !type->is_string() || type->get_string() != expr.path.object_type) {
          continue;
        }
        roots[j] = TestObject(expr, object, observation);
      }
      return roots;
    }
    std::vector<bool> roots(n, expr.kind == ComparisonExpression::Kind::kAnd);
    for (const ComparisonExpression& child : expr.children) {
      std::vector<bool> part = EvalComparison(child, observation);
      bool any = false;
      for (size_t j = 0; j < n; ++j) {
        roots[j] = expr.kind == ComparisonExpression::Kind::kAnd ? roots[j] && part[j]
                                                                 : roots[j] || part[j];
        any = any || roots[j];
      }
      if (expr.kind == ComparisonExpression::Kind::kAnd && !any) break;  // cannot recover
    }
    return roots;
  }

  struct Reached {
    const json::value* value;
    std::string_view key;  // the property the value came from (for _ref, _hex, _bin)
  };

  const json::value* Dereference(const Observation& observation, std::string_view ref) const {
    for (size_t j = 0; j < observation.object_keys.size(); ++j) {
      if (observation.object_keys[j] == ref) return &observation.objects[j];
    }
    return nullptr;
  }

  bool TestObject(const ComparisonExpression& test, const json::value& root,
                  const Observation& observation) {
    std::vector<Reached> current{{&root, ""}};
    std::vector<Reached> next;
    for (const PathStep& step : test.path.steps) {
      next.clear();
      for (const Reached& reached : current) {
        if (!Step()) return false;
        const json::value* value = reached.value;
        if (step.kind == PathStep::Kind::kKey) {
          // A key after a reference steps into the referenced object.
          if (value->is_string() && IsRefKey(reached.key)) {
            value = Dereference(observation, value->get_string());
            if (value == nullptr) continue;
          }
          const json::object* object = value->if_object();
          if (object == nullptr) continue;
          auto it = object->find(step.key);
          if (it == object->end() || it->value().is_null()) continue;
          next.push_back({&it->value(), it->key()});
        } else {
          const json::array* array = value->if_array();
          if (array == nullptr) continue;
          if (step.kind == PathStep::Kind::kAnyIndex) {
            for (const json::value& element : *array) {
              if (!element.is_null()) next.push_back({&element, reached.key});
            }
          } else {
            int64_t index =
                step.index < 0 ? static_cast<int64_t>(array->size()) + step.index : step.index;
            if (index >= 0 && static_cast<uint64_t>(index) < array->size() &&
                !(*array)[static_cast<size_t>(index)].is_null()) {
              next.push_back({&(*array)[static_cast<size_t>(index)], reached.key});
            }
          }
        }
        if (next.size() > limits_.max_path_values) {
          limit_hit_ = true;
          return false;
        }
      }
      current.swap(next);
      if (current.empty()) return false;  // missing: never passes, even with NOT
    }
    if (test.op == CompareOp::kExists) return !test.negated;
    for (const Reached& reached : current) {
      if (!Step(1 + (test.op == CompareOp::kIn ? test.literals.size() / 8 : 0))) return false;
      std::optional<bool> passed = TestValue(test, *reached.value, reached.key);
      if (passed && *passed != test.negated) return true;
    }
    return false;
  }

  // ---- Stage 2: the binding search.

  int64_t Capacity(size_t i) const {
    return std::max<int64_t>(observations_[i].number_observed, 1);
  }
  int64_t TotalCapacity() const {
    int64_t total = 0;
    for (size_t i = 0; i < count_; ++i) total = SaturatingAdd(total, Capacity(i));
    return total;
  }
  static int64_t SaturatingAdd(int64_t a, int64_t b) {
    return a > INT64_MAX - b ? INT64_MAX : a + b;
  }
  static int64_t SaturatingMul(int64_t a, int64_t b) {
    return (b != 0 && a > INT64_MAX / b) ? INT64_MAX : a * b;
  }

  // Whether a node could match at all, ignoring that bindings must be
  // distinct: prunes hopeless AND / FOLLOWEDBY branches before any search.
  bool Possible(const ObservationExpression& node) {
    auto cached = possible_.find(&node);
    if (cached != possible_.end()) return cached->second;
    bool possible = ComputePossible(node);
    possible_.emplace(&node, possible);
    return possible;
  }
  bool ComputePossible(const ObservationExpression& node) {
    using Kind = ObservationExpression::Kind;
    switch (node.kind) {
      case Kind::kComparison:
        return !candidates_.at(&node).empty();
      case Kind::kOr:
        return std::any_of(node.children.begin(), node.children.end(),
                           [&](const auto& c) { return Possible(c); });
      default:
        return std::all_of(node.children.begin(), node.children.end(),
                           [&](const auto& c) { return Possible(c); });
    }
  }

  // The fewest observation instances a binding of `node` uses.
  int64_t MinInstances(const ObservationExpression& node) {
    using Kind = ObservationExpression::Kind;
    switch (node.kind) {
      case Kind::kComparison:
        return 1;
      case Kind::kOr: {
        int64_t best = INT64_MAX;
        for (const auto& c : node.children) {
          if (Possible(c)) best = std::min(best, MinInstances(c));
        }
        return best;
      }
      case Kind::kAnd:
      case Kind::kFollowedBy: {
        int64_t total = 0;
        for (const auto& c : node.children) total = SaturatingAdd(total, MinInstances(c));
        return total;
      }
      case Kind::kRepeats:
        return SaturatingMul(node.repeats, MinInstances(node.children[0]));
      default:
        return MinInstances(node.children[0]);
    }
  }

  int64_t MaxFirst(size_t from, size_t to) const {
    int64_t value = INT64_MIN;
    for (size_t k = from; k < to; ++k)
      value = std::max(value, observations_[binding_[k]].first_observed_us);
    return value;
  }
  int64_t MinLast(size_t from, size_t to) const {
    int64_t value = INT64_MAX;
    for (size_t k = from; k < to; ++k)
      value = std::min(value, observations_[binding_[k]].last_observed_us);
    return value;
  }

  // Calls sink() for each binding of `node` (appended to binding_) until sink
  // returns true; returns true when it did (or when the limits were hit, which
  // the caller reads from limit_hit_).
  bool Enumerate(const ObservationExpression& node, Sink sink) {
    if (limit_hit_) return true;
    if (++depth_ > limits_.max_depth) {
      limit_hit_ = true;
      --depth_;
      return true;
    }
    bool stop = EnumerateNode(node, sink);
    --depth_;
    return stop || limit_hit_;
  }

  bool EnumerateNode(const ObservationExpression& node, Sink sink) {
    using Kind = ObservationExpression::Kind;
    const size_t start = binding_.size();
    switch (node.kind) {
      case Kind::kComparison:
        for (size_t i : candidates_.at(&node)) {
          if (!Step()) return true;
          if (used_[i] >= Capacity(i)) continue;
          ++used_[i];
          binding_.push_back(i);
          bool stop = sink();
          binding_.pop_back();
          --used_[i];
          if (stop) return true;
        }
        return false;
      case Kind::kOr:
        for (const ObservationExpression& child : node.children) {
          if (!Possible(child)) continue;
          if (Enumerate(child, sink)) return true;
        }
        return false;
      case Kind::kAnd:
      case Kind::kFollowedBy:
        if (!Possible(node)) return false;
        return Sequence(node, 0, start, sink);
      case Kind::kWithin:
        return Enumerate(node.children[0], [&] {
          if (MaxFirst(start, binding_.size()) - MinLast(start, binding_.size()) > node.within_us) {
            return false;
          }
          return sink();
        });
      case Kind::kStartStop:
        return Enumerate(node.children[0], [&] {
          for (size_t k = start; k < binding_.size(); ++k) {
            const Observation& o = observations_[binding_[k]];
            if (!(o.first_observed_us < node.stop_us && o.last_observed_us >= node.start_us)) {
              return false;
            }
          }
          return sink();
        });
      case Kind::kRepeats: {
        if (node.repeats > limits_.max_depth) {
          limit_hit_ = true;
          return true;
        }
        std::vector<size_t> previous;
        return Repeat(node, 0, previous, sink);
      }
    }
    return false;
  }

  // Binds children[k..] of an AND / FOLLOWEDBY node in order. For FOLLOWEDBY,
  // child k's observations must all be able to come at or after those of
  // children 0..k-1 (the OASIS matcher's left-associative rule).
  bool Sequence(const ObservationExpression& node, size_t k, size_t start, Sink sink) {
    if (k == node.children.size()) return sink();
    const size_t child_start = binding_.size();
    return Enumerate(node.children[k], [&] {
      if (node.kind == ObservationExpression::Kind::kFollowedBy && k > 0 &&
          MaxFirst(start, child_start) > MinLast(child_start, binding_.size())) {
        return false;
      }
      return Sequence(node, k + 1, start, sink);
    });
  }

  // Binds `node.repeats` distinct bindings of the child. Each round's binding,
  // sorted, must not sort before the previous round's, so each combination is
  // tried once rather than once per permutation.
  bool Repeat(const ObservationExpression& node, int64_t round, const std::vector<size_t>& previous,
              Sink sink) {
    if (round == node.repeats) return sink();
    const size_t round_start = binding_.size();
    return Enumerate(node.children[0], [&] {
      std::vector<size_t> key(binding_.begin() + static_cast<ptrdiff_t>(round_start),
                              binding_.end());
      std::sort(key.begin(), key.end());
      if (round > 0 && key < previous) return false;
      return Repeat(node, round + 1, key, sink);
    });
  }

  const std::vector<Observation>& observations_;
  const EvalLimits& limits_;
  const size_t count_;
  std::vector<int64_t> used_;    // instances of each observation bound so far
  std::vector<size_t> binding_;  // observation indexes bound so far, in order
  std::unordered_map<const ObservationExpression*, std::vector<size_t>> candidates_;
  std::unordered_map<const ObservationExpression*, bool> possible_;
  uint64_t steps_ = 0;
  int depth_ = 0;
  bool limit_hit_ = false;
};

// ---- Observations from STIX JSON.

Result<int64_t> TimestampField(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_string()) {
    return InvalidArgument("observed-data: '" + std::string(name) + "' is missing or not a string");
  }
  Result<int64_t> micros = ParseTimestamp(value->get_string());
  if (!micros.ok()) {
    return InvalidArgument("observed-data: '" + std::string(name) +
                           "': " + micros.status().message());
  }
  return micros;
}

}  // namespace

MatchResult Match(const Pattern& pattern, const std::vector<Observation>& observations,
                  const EvalLimits& limits) {
  Evaluator evaluator(observations, limits);
  return evaluator.Run(pattern);
}

Result<bool> Matches(const Pattern& pattern, const std::vector<Observation>& observations,
                     const EvalLimits& limits) {
  MatchResult result = Match(pattern, observations, limits);
  if (result.limit_hit) {
    return TooLarge("pattern evaluation stopped after " + std::to_string(result.steps) +
                    " steps without a decision (limits: " + std::to_string(limits.max_steps) +
                    " steps, depth " + std::to_string(limits.max_depth) + ")");
  }
  return result.matched;
}

Result<Observation> ObservationFromObservedData(const json::object& observed_data,
                                                const ObjectLookup& lookup) {
  Observation observation;
  if (const json::value* id = observed_data.if_contains("id"); id != nullptr && id->is_string()) {
    observation.id = std::string(id->get_string());
  }
  KIZUNA_ASSIGN_OR_RETURN(observation.first_observed_us,
                          TimestampField(observed_data, "first_observed"));
  KIZUNA_ASSIGN_OR_RETURN(observation.last_observed_us,
                          TimestampField(observed_data, "last_observed"));
  if (observation.last_observed_us < observation.first_observed_us) {
    return InvalidArgument("observed-data: 'last_observed' is earlier than 'first_observed'");
  }
  const json::value* number = observed_data.if_contains("number_observed");
  if (number == nullptr || !number->is_number()) {
    return InvalidArgument("observed-data: 'number_observed' is missing or not a number");
  }
  std::optional<double> count = JsonNumber(*number);
  if (!count || *count < 1 || *count != std::floor(*count)) {
    return InvalidArgument("observed-data: 'number_observed' must be an integer >= 1");
  }
  observation.number_observed =
      *count > 1e15 ? static_cast<int64_t>(1e15) : static_cast<int64_t>(*count);

  if (const json::value* objects = observed_data.if_contains("objects"); objects != nullptr) {
    const json::object* dict = objects->if_object();
    if (dict == nullptr) return InvalidArgument("observed-data: 'objects' must be a dictionary");
    for (const auto& entry : *dict) {
      observation.object_keys.emplace_back(entry.key());
      observation.objects.push_back(entry.value());
    }
    return observation;
  }
  const json::value* refs = observed_data.if_contains("object_refs");
  if (refs == nullptr || !refs->is_array()) {
    return InvalidArgument("observed-data: needs 'object_refs' (2.1) or 'objects' (2.0)");
  }
  for (const json::value& ref : refs->get_array()) {
    if (!ref.is_string()) return InvalidArgument("observed-data: 'object_refs' must hold ids");
    const json::object* object = lookup ? lookup(ref.get_string()) : nullptr;
    if (object == nullptr) continue;
    observation.object_keys.emplace_back(ref.get_string());
    observation.objects.emplace_back(*object);
  }
  return observation;
}

Result<std::vector<Observation>> ObservationsFromObjects(const json::array& objects) {
  std::unordered_map<std::string_view, const json::object*> by_id;
  for (const json::value& value : objects) {
    const json::object* object = value.if_object();
    if (object == nullptr) continue;
    const json::value* id = object->if_contains("id");
    if (id != nullptr && id->is_string()) by_id.emplace(id->get_string(), object);
  }
  ObjectLookup lookup = [&](std::string_view id) -> const json::object* {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : it->second;
  };
  std::vector<Observation> observations;
  for (const json::value& value : objects) {
    const json::object* object = value.if_object();
    if (object == nullptr) continue;
    const json::value* type = object->if_contains("type");
    if (type == nullptr || !type->is_string() || type->get_string() != "observed-data") continue;
    KIZUNA_ASSIGN_OR_RETURN(Observation observation, ObservationFromObservedData(*object, lookup));
    observations.push_back(std::move(observation));
  }
  return observations;
}

Result<std::vector<Observation>> ObservationsFromBundle(const json::value& bundle) {
  if (const json::array* array = bundle.if_array()) return ObservationsFromObjects(*array);
  const json::object* object = bundle.if_object();
  if (object == nullptr) return InvalidArgument("expected a STIX bundle or an array of objects");
  const json::value* objects = object->if_contains("objects");
  if (objects == nullptr || !objects->is_array()) {
    // A single observed-data object on its own.
    const json::value* type = object->if_contains("type");
    if (type != nullptr && type->is_string() && type->get_string() == "observed-data") {
      KIZUNA_ASSIGN_OR_RETURN(Observation observation, ObservationFromObservedData(*object));
      return std::vector<Observation>{std::move(observation)};
    }
    return InvalidArgument("bundle: 'objects' is missing or not an array");
  }
  return ObservationsFromObjects(objects->get_array());
}

}  // namespace kizuna::pattern
