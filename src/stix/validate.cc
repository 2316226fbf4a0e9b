// ValidateObject: checks one STIX 2.1 object against the property tables of
// schema.h, then the per-type rules the tables cannot express (ordering of
// timestamps, mutually exclusive properties, marking definitions...).
//
// Untrusted input: every access checks the JSON kind first (Boost.JSON's
// as_*() accessors throw), recursion is bounded by ValidationOptions::max_depth,
// and error text is only built on the failure path so that valid objects cost
// little more than a walk over their members.
#include <arpa/inet.h>

#include <boost/json.hpp>
#include <string>

#include "common/encoding.h"
#include "common/time.h"
#include "common/uuid.h"
#include "stix/schema.h"
#include "stix/stix.h"

namespace kizuna::stix {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;
using internal::Category;
using internal::Kind;
using internal::PropSpec;
using internal::TypeSpec;

constexpr std::string_view kTlp2ExtensionId =
    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

// Type names (spec §3.1): 3-250 chars of a-z, 0-9 and '-', starting with a
// letter, without "--" (which separates type and UUID in identifiers).
bool IsValidTypeName(std::string_view type) {
  if (type.size() < 3 || type.size() > 250) return false;
  if (type[0] < 'a' || type[0] > 'z') return false;
  char previous = 0;
  for (char c : type) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && previous == '-')) return false;
    previous = c;
  }
  return true;
}

// Custom property names (spec §11.1): a-z, 0-9 and '_', 3 to 250 characters.
bool IsValidPropertyName(std::string_view name) {
  if (name.size() < 3 || name.size() > 250) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// Dictionary keys (spec §2.7): ASCII letters, digits, '-' and '_', 1-250 chars.
bool IsValidDictionaryKey(std::string_view key) {
  if (key.empty() || key.size() > 250) return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

// Splits "type--uuid"; false unless both parts are well formed.
bool SplitIdentifier(std::string_view id, std::string_view* type) {
  size_t sep = id.find("--");
  if (sep == std::string_view::npos) return false;
  std::string_view t = id.substr(0, sep);
  if (!IsValidTypeName(t) || !IsUuid(id.substr(sep + 2))) return false;
  *type = t;
  return true;
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

bool AllOf(std::string_view s, bool (*pred)(char)) {
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

bool Contains(internal::Values values, std::string_view v) {
  for (std::string_view x : values) {
    if (x == v) return true;
  }
  return false;
}

std::string Join(internal::Values values) {
  std::string out;
  for (std::string_view v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

std::string Indexed(std::string_view name, size_t index) {
  return std::string(name) + "[" + std::to_string(index) + "]";
}

std::string Member(std::string_view name, std::string_view member) {
  return std::string(name) + "." + std::string(member);
}

const char* KindName(const value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "an integer";
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "a list";
    case boost::json::kind::object:
      return "an object";
  }
  return "?";
}

// Hash algorithm names of hash-algorithm-ov with a checkable value format.
bool IsValidHashValue(std::string_view algorithm, std::string_view v, bool* known) {
  *known = true;
  if (algorithm == "MD5") return v.size() == 32 && IsHex(v);
  if (algorithm == "SHA-1") return v.size() == 40 && IsHex(v);
  if (algorithm == "SHA-256" || algorithm == "SHA3-256") return v.size() == 64 && IsHex(v);
  if (algorithm == "SHA-512" || algorithm == "SHA3-512") return v.size() == 128 && IsHex(v);
  if (algorithm == "SSDEEP") {
    return !v.empty() && v.size() <= 128 && AllOf(v, [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '+' || c == ':' ||
             c == '.';
    });
  }
  if (algorithm == "TLSH") {
    // 70 hex digits; TLSH 4.x adds a "T1" version prefix.
    if (v.size() == 72 && (v[0] == 'T' || v[0] == 't') && v[1] == '1') v.remove_prefix(2);
    return v.size() == 70 && IsHex(v);
  }
  *known = false;
  return true;
}

bool IsValidIpv4(std::string_view v) {
  std::string text(v.substr(0, 64));
  size_t slash = text.find('/');
  if (slash != std::string::npos) {
    std::string_view prefix = std::string_view(text).substr(slash + 1);
    if (prefix.empty() || prefix.size() > 2 ||
        !AllOf(prefix, [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(prefix)) > 32) {
      return false;
    }
    text.resize(slash);
  }
  in_addr addr;
  return inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

bool IsValidIpv6(std::string_view v) {
  std::string text(v.substr(0, 128));
  size_t slash = text.find('/');
  if (slash != std::string::npos) {
    std::string_view prefix = std::string_view(text).substr(slash + 1);
    if (prefix.empty() || prefix.size() > 3 ||
        !AllOf(prefix, [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(prefix)) > 128) {
      return false;
    }
    text.resize(slash);
  }
  in6_addr addr;
  return inet_pton(AF_INET6, text.c_str(), &addr) == 1;
}

// Spec §6.9: a single colon-delimited, lowercase MAC-48 address.
bool IsValidMac(std::string_view v) {
  if (v.size() != 17) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (i % 3 == 2) {
      if (c != ':') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// The structural check of a STIX pattern until the pattern component (issue 3)
// installs its parser through ValidationOptions::stix_pattern_checker:
// brackets and parentheses nest properly outside quoted strings, quotes close.
bool StixPatternLooksBalanced(std::string_view pattern, std::string* why) {
  std::string stack;
  bool in_quote = false;
  bool saw_bracket = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (in_quote) {
      if (c == '\\') {
        ++i;
      } else if (c == '\'') {
        in_quote = false;
      }
      continue;
    }
    if (c == '\'') {
      in_quote = true;
    } else if (c == '[' || c == '(') {
      if (stack.size() > 256) {
        *why = "nests too deeply";
        return false;
      }
      stack += c;
      saw_bracket |= c == '[';
    } else if (c == ']' || c == ')') {
      char open = c == ']' ? '[' : '(';
      if (stack.empty() || stack.back() != open) {
        *why = "has an unbalanced '" + std::string(1, c) + "'";
        return false;
      }
      stack.pop_back();
    }
  }
  if (in_quote) {
    *why = "has an unterminated string literal";
    return false;
  }
  if (!stack.empty()) {
    *why = "has an unclosed '" + std::string(1, stack.back()) + "'";
    return false;
  }
  if (!saw_bracket) {
    *why = "has no observation expression ('[...]')";
    return false;
  }
  return true;
}

class Validator {
 public:
  Validator(const object& obj, const ValidationOptions& options) : obj_(obj), options_(options) {}

  Status Run(ObjectInfo* info);

 private:
  Status Fail(std::string_view property, std::string rule) const {
    return InvalidArgument(Prefix() + ": property '" + std::string(property) + "' " + rule);
  }
  Status Missing(std::string_view property) const {
    return InvalidArgument(Prefix() + ": missing required property '" + std::string(property) +
                           "'");
  }
  std::string Prefix() const {
    if (!id_.empty()) return std::string(id_.substr(0, 300));
    if (!type_.empty()) return std::string(type_.substr(0, 250));
    return "object";
  }

  Status CheckDepth(const value& v, int depth) const;
  Status CheckProperty(const PropSpec& spec, std::string_view name, const value& v,
                       std::string_view owner_type);
  Status CheckIdentifier(const PropSpec& spec, std::string_view name, const value& v) const;
  Status CheckStringList(std::string_view name, const value& v) const;
  Status CheckHashes(std::string_view name, const value& v) const;
  Status CheckDictionary(std::string_view name, const value& v) const;
  Status CheckExternalReferences(std::string_view name, const value& v) const;
  Status CheckKillChainPhases(std::string_view name, const value& v) const;
  Status CheckGranularMarkings(std::string_view name, const value& v) const;
  Status CheckExtensions(std::string_view name, const value& v, std::string_view owner_type);
  Status CheckObjectAgainst(const TypeSpec& spec, std::string_view name, const object& o,
                            std::string_view owner_type);
  bool RefTargetAllowed(std::string_view targets, std::string_view ref_type) const;
  bool SelectorResolves(std::string_view selector) const;

  // Per-type rules.
  Status CheckTypeRules();
  Status CheckNotBefore(std::string_view earlier, std::string_view later, bool strictly);
  Status CheckMarkingDefinition();
  Status CheckStixPattern();

  const value* Get(std::string_view name) const { return obj_.if_contains(name); }
  bool Has(std::string_view name) const { return obj_.contains(name); }

  const object& obj_;
  const ValidationOptions& options_;
  std::string_view type_;
  std::string_view id_;
  const TypeSpec* spec_ = nullptr;
  Category category_ = Category::kSdo;
  // Set when an extension declares new top-level properties or a new object
  // type: their properties are then not "custom" in the spec's sense.
  bool has_toplevel_extension_ = false;
  bool has_new_object_extension_ = false;
};

Status Validator::CheckDepth(const value& v, int depth) const {
  if (depth > options_.max_depth) {
    return InvalidArgument(Prefix() + ": nesting deeper than " +
                           std::to_string(options_.max_depth) + " levels");
  }
  if (const auto* a = v.if_array()) {
    for (const auto& item : *a) KIZUNA_RETURN_IF_ERROR(CheckDepth(item, depth + 1));
  } else if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) KIZUNA_RETURN_IF_ERROR(CheckDepth(kv.value(), depth + 1));
  }
  return Status::Ok();
}

bool Validator::RefTargetAllowed(std::string_view targets, std::string_view ref_type) const {
  const TypeSpec* target = internal::FindTypeSpec(ref_type);
  // A reference to a custom type is only acceptable where any SDO/SCO may be.
  const bool custom = target == nullptr && options_.allow_custom;
  if (ref_type == "bundle") return false;  // a bundle is a container, never a referent
  if (targets == "<any>") return true;
  if (targets == "<sco>") return IsScoType(ref_type) || custom;
  if (targets == "<sdo>") {
    return custom || (target != nullptr && target->category == Category::kSdo &&
                      ref_type != "language-content" && ref_type != "extension-definition");
  }
  if (targets == "<not-sro>") {
    if (target == nullptr) return custom;
    return target->category == Category::kSdo || target->category == Category::kSco
               ? ref_type != "language-content" && ref_type != "extension-definition"
               : false;
  }
  if (targets == "<sco-or-sro>") {
    return custom || IsScoType(ref_type) || ref_type == "relationship" || ref_type == "sighting";
  }
  while (!targets.empty()) {
    size_t bar = targets.find('|');
    if (targets.substr(0, bar) == ref_type) return true;
    if (bar == std::string_view::npos) break;
    targets.remove_prefix(bar + 1);
  }
  return false;
}

std::string DescribeTargets(std::string_view targets) {
  if (targets == "<any>") return "a STIX object";
  if (targets == "<sco>") return "an SCO";
  if (targets == "<sdo>") return "an SDO";
  if (targets == "<not-sro>") return "an SDO or SCO";
  if (targets == "<sco-or-sro>") return "an SCO or relationship";
  std::string out;
  while (!targets.empty()) {
    size_t bar = targets.find('|');
    if (!out.empty()) out += " or ";
    out += targets.substr(0, bar);
    if (bar == std::string_view::npos) break;
    targets.remove_prefix(bar + 1);
  }
  return out;
}

Status Validator::CheckIdentifier(const PropSpec& spec, std::string_view name,
                                  const value& v) const {
  const auto* s = v.if_string();
  if (s == nullptr)
    return Fail(name, std::string("must be an identifier string, not ") + KindName(v));
  std::string_view ref_type;
  if (!SplitIdentifier(*s, &ref_type)) {
    return Fail(name, "must be an identifier of the form type--UUID, not " + Quote(*s));
  }
  if (!RefTargetAllowed(spec.targets, ref_type)) {
    return Fail(name,
                "must reference " + DescribeTargets(spec.targets) + ", not " + Quote(ref_type));
  }
  return Status::Ok();
}

Status Validator::CheckStringList(std::string_view name, const value& v) const {
  const auto* a = v.if_array();
  if (a == nullptr) return Fail(name, std::string("must be a list of strings, not ") + KindName(v));
  if (a->empty()) return Fail(name, "must not be an empty list");
  for (size_t i = 0; i < a->size(); ++i) {
    if (!(*a)[i].is_string()) {
      return Fail(Indexed(name, i), std::string("must be a string, not ") + KindName((*a)[i]));
    }
  }
  return Status::Ok();
}

Status Validator::CheckHashes(std::string_view name, const value& v) const {
  const auto* o = v.if_object();
  if (o == nullptr)
    return Fail(name, std::string("must be a dictionary of hashes, not ") + KindName(v));
  if (o->empty()) return Fail(name, "must contain at least one hash");
  for (const auto& kv : *o) {
    std::string_view algorithm = kv.key();
    const auto* hash = kv.value().if_string();
    if (hash == nullptr) return Fail(Member(name, algorithm), "must be a string");
    bool known = false;
    if (!IsValidHashValue(algorithm, *hash, &known)) {
      return Fail(Member(name, algorithm),
                  "is not a valid " + std::string(algorithm) + " value: " + Quote(*hash));
    }
    if (!known &&
        (algorithm.size() < 3 || algorithm.size() > 250 || !IsValidDictionaryKey(algorithm))) {
      return Fail(Member(name, algorithm),
                  "is not a valid hash algorithm name (3-250 of a-z, A-Z, 0-9, '-', '_')");
    }
  }
  return Status::Ok();
}

Status Validator::CheckDictionary(std::string_view name, const value& v) const {
  const auto* o = v.if_object();
  if (o == nullptr) return Fail(name, std::string("must be a dictionary, not ") + KindName(v));
  if (o->empty()) return Fail(name, "must not be an empty dictionary");
  for (const auto& kv : *o) {
    if (!IsValidDictionaryKey(kv.key())) {
      return Fail(name,
                  "has an invalid key " + Quote(kv.key()) + " (1-250 of a-z, A-Z, 0-9, '-', '_')");
    }
  }
  return Status::Ok();
}

Status Validator::CheckExternalReferences(std::string_view name, const value& v) const {
  const auto* a = v.if_array();
  if (a == nullptr) return Fail(name, std::string("must be a list, not ") + KindName(v));
  if (a->empty()) return Fail(name, "must not be an empty list");
  for (size_t i = 0; i < a->size(); ++i) {
    const auto* ref = (*a)[i].if_object();
    if (ref == nullptr) return Fail(Indexed(name, i), "must be an external-reference object");
    const value* source_name = ref->if_contains("source_name");
    if (source_name == nullptr) {
      return Fail(Indexed(name, i) + ".source_name", "is required");
    }
    if (!source_name->is_string())
      return Fail(Indexed(name, i) + ".source_name", "must be a string");
    for (std::string_view member : {"description", "url", "external_id"}) {
      const value* m = ref->if_contains(member);
      if (m != nullptr && !m->is_string()) {
        return Fail(Indexed(name, i) + "." + std::string(member), "must be a string");
      }
    }
    const value* external_id = ref->if_contains("external_id");
    if (external_id == nullptr && !ref->contains("description") && !ref->contains("url")) {
      return Fail(Indexed(name, i),
                  "must have at least one of 'description', 'url' or 'external_id'");
    }
    if (const value* hashes = ref->if_contains("hashes")) {
      KIZUNA_RETURN_IF_ERROR(CheckHashes(Indexed(name, i) + ".hashes", *hashes));
    }
    // Spec §2.5: the "cve" and "capec" sources fix the form of external_id.
    std::string_view source = source_name->get_string();
    if (source == "cve" || source == "capec") {
      std::string_view eid = external_id != nullptr && external_id->is_string()
                                 ? std::string_view(external_id->get_string())
                                 : std::string_view();
      bool ok;
      if (source == "cve") {
        // CVE-YYYY-NNNN with at least four digits.
        ok = eid.size() >= 13 && eid.substr(0, 4) == "CVE-" &&
             AllOf(eid.substr(4, 4), [](char c) { return c >= '0' && c <= '9'; }) &&
             eid[8] == '-' && AllOf(eid.substr(9), [](char c) { return c >= '0' && c <= '9'; });
      } else {
        ok = eid.size() > 6 && eid.substr(0, 6) == "CAPEC-" &&
             AllOf(eid.substr(6), [](char c) { return c >= '0' && c <= '9'; });
      }
      if (!ok) {
        return Fail(Indexed(name, i) + ".external_id",
                    "must be a " + std::string(source == "cve" ? "CVE-YYYY-NNNN" : "CAPEC-N") +
                        " identifier for source_name '" + std::string(source) + "'");
      }
    }
  }
  return Status::Ok();
}

Status Validator::CheckKillChainPhases(std::string_view name, const value& v) const {
  const auto* a = v.if_array();
  if (a == nullptr) return Fail(name, std::string("must be a list, not ") + KindName(v));
  if (a->empty()) return Fail(name, "must not be an empty list");
  for (size_t i = 0; i < a->size(); ++i) {
    const auto* phase = (*a)[i].if_object();
    if (phase == nullptr) return Fail(Indexed(name, i), "must be a kill-chain-phase object");
    for (std::string_view member : {"kill_chain_name", "phase_name"}) {
      const value* m = phase->if_contains(member);
      if (m == nullptr || !m->is_string() || m->get_string().empty()) {
        return Fail(Indexed(name, i) + "." + std::string(member),
                    "is required (a non-empty string)");
      }
    }
  }
  return Status::Ok();
}

// Selectors (spec §7.2.3.1): "prop", "prop.member", "list.[2]", ... each step
// must exist in this object.
bool Validator::SelectorResolves(std::string_view selector) const {
  const value* current = nullptr;
  bool first = true;
  while (true) {
    size_t dot = selector.find('.');
    std::string_view step = selector.substr(0, dot);
    if (step.empty()) return false;
    if (step.front() == '[') {
      if (first || step.size() < 3 || step.back() != ']') return false;
      std::string_view digits = step.substr(1, step.size() - 2);
      if (digits.size() > 9 || !AllOf(digits, [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
      }
      const auto* a = current->if_array();
      size_t index = std::stoul(std::string(digits));
      if (a == nullptr || index >= a->size()) return false;
      current = &(*a)[index];
    } else {
      const object* o = first ? &obj_ : current->if_object();
      if (o == nullptr) return false;
      current = o->if_contains(step);
      if (current == nullptr) return false;
    }
    first = false;
    if (dot == std::string_view::npos) return true;
    selector.remove_prefix(dot + 1);
  }
}

Status Validator::CheckGranularMarkings(std::string_view name, const value& v) const {
  const auto* a = v.if_array();
  if (a == nullptr) return Fail(name, std::string("must be a list, not ") + KindName(v));
  if (a->empty()) return Fail(name, "must not be an empty list");
  static constexpr PropSpec kMarkingRef = {
      .name = "marking_ref", .kind = Kind::kIdentifier, .targets = "marking-definition"};
  for (size_t i = 0; i < a->size(); ++i) {
    std::string item = Indexed(name, i);
    const auto* marking = (*a)[i].if_object();
    if (marking == nullptr) return Fail(item, "must be a granular-marking object");
    const value* selectors = marking->if_contains("selectors");
    if (selectors == nullptr) return Fail(item + ".selectors", "is required");
    KIZUNA_RETURN_IF_ERROR(CheckStringList(item + ".selectors", *selectors));
    const auto& list = selectors->get_array();
    for (size_t j = 0; j < list.size(); ++j) {
      std::string_view selector = list[j].get_string();
      if (!SelectorResolves(selector)) {
        return Fail(Indexed(item + ".selectors", j),
                    Quote(selector) + " does not select any property of this object");
      }
    }
    const value* marking_ref = marking->if_contains("marking_ref");
    const value* lang = marking->if_contains("lang");
    if ((marking_ref == nullptr) == (lang == nullptr)) {
      return Fail(item, "must have exactly one of 'marking_ref' and 'lang'");
    }
    if (marking_ref != nullptr) {
      KIZUNA_RETURN_IF_ERROR(CheckIdentifier(kMarkingRef, item + ".marking_ref", *marking_ref));
    } else if (!lang->is_string()) {
      return Fail(item + ".lang", "must be a string");
    }
  }
  return Status::Ok();
}

Status Validator::CheckObjectAgainst(const TypeSpec& spec, std::string_view name, const object& o,
                                     std::string_view owner_type) {
  for (const PropSpec& p : spec.props) {
    if (p.required && !o.contains(p.name)) return Fail(Member(name, p.name), "is required");
  }
  for (const auto& kv : o) {
    const PropSpec* p = internal::FindProp(spec, kv.key());
    if (p != nullptr) {
      KIZUNA_RETURN_IF_ERROR(CheckProperty(*p, Member(name, kv.key()), kv.value(), owner_type));
    } else if (!options_.allow_custom || !IsValidPropertyName(kv.key())) {
      return Fail(Member(name, kv.key()), "is not a property of " + std::string(spec.type));
    }
  }
  return Status::Ok();
}

Status Validator::CheckExtensions(std::string_view name, const value& v,
                                  std::string_view owner_type) {
  const auto* o = v.if_object();
  if (o == nullptr) return Fail(name, std::string("must be a dictionary, not ") + KindName(v));
  if (o->empty()) return Fail(name, "must not be an empty dictionary");
  for (const auto& kv : *o) {
    std::string_view key = kv.key();
    std::string member = Member(name, key);
    const auto* extension = kv.value().if_object();
    if (key.starts_with("extension-definition--")) {
      std::string_view ignored;
      if (!SplitIdentifier(key, &ignored)) {
        return Fail(member, "is not a valid extension-definition identifier");
      }
      if (extension == nullptr) return Fail(member, "must be an object");
      if (const value* extension_type = extension->if_contains("extension_type")) {
        const auto* t = extension_type->if_string();
        if (t == nullptr || !Contains(internal::kExtensionTypeEnum, *t)) {
          return Fail(member + ".extension_type",
                      "must be one of: " + Join(internal::kExtensionTypeEnum));
        }
      }
      continue;
    }
    if (key.ends_with("-ext") && IsValidTypeName(key)) {
      if (extension == nullptr) return Fail(member, "must be an object");
      if (extension->empty()) return Fail(member, "must not be empty");
      if (const TypeSpec* spec = internal::FindScoExtensionSpec(owner_type, key)) {
        KIZUNA_RETURN_IF_ERROR(CheckObjectAgainst(*spec, member, *extension, owner_type));
        continue;
      }
      // STIX 2.0-style custom extensions are tolerated as custom content, but
      // a predefined extension on the wrong type is a mistake, not custom.
      if (options_.allow_custom && !internal::IsPredefinedScoExtensionName(key)) continue;
      return Fail(member, "is not a predefined extension of " + std::string(owner_type));
    }
    return Fail(member,
                "is not an extension-definition id or a predefined extension name ('...-ext')");
  }
  return Status::Ok();
}

Status Validator::CheckProperty(const PropSpec& spec, std::string_view name, const value& v,
                                std::string_view owner_type) {
  switch (spec.kind) {
    case Kind::kType:
    case Kind::kId:
      return Status::Ok();  // checked in Run
    case Kind::kSpecVersion: {
      const auto* s = v.if_string();
      if (s == nullptr || *s != "2.1") return Fail(name, "must be \"2.1\"");
      return Status::Ok();
    }
    case Kind::kString:
      if (!v.is_string()) return Fail(name, std::string("must be a string, not ") + KindName(v));
      return Status::Ok();
    case Kind::kOpenVocab:
      if (!v.is_string()) return Fail(name, std::string("must be a string, not ") + KindName(v));
      if (v.get_string().empty()) return Fail(name, "must not be empty");
      return Status::Ok();
    case Kind::kInteger: {
      int64_t n;
      if (const auto* i = v.if_int64()) {
        n = *i;
      } else if (v.is_uint64()) {
        return Fail(name, "must be at most " + std::to_string(spec.max));
      } else {
        return Fail(name, std::string("must be an integer, not ") + KindName(v));
      }
      if (n < spec.min) return Fail(name, "must be at least " + std::to_string(spec.min));
      if (n > spec.max) return Fail(name, "must be at most " + std::to_string(spec.max));
      return Status::Ok();
    }
    case Kind::kNumber: {
      if (!v.is_number()) return Fail(name, std::string("must be a number, not ") + KindName(v));
      double d = v.is_double()  ? v.get_double()
                 : v.is_int64() ? static_cast<double>(v.get_int64())
                                : static_cast<double>(v.get_uint64());
      if (d < static_cast<double>(spec.min) || d > static_cast<double>(spec.max)) {
        return Fail(name, "must be between " + std::to_string(spec.min) + " and " +
                              std::to_string(spec.max));
      }
      return Status::Ok();
    }
    case Kind::kBoolean:
      if (!v.is_bool()) return Fail(name, std::string("must be a boolean, not ") + KindName(v));
      return Status::Ok();
    case Kind::kTimestamp:
    case Kind::kTimestampMillis: {
      const auto* s = v.if_string();
      if (s == nullptr)
        return Fail(name, std::string("must be a timestamp string, not ") + KindName(v));
      auto parsed = ParseTimestamp(*s);
      if (!parsed.ok())
        return Fail(name, "must be a valid timestamp: " + parsed.status().message());
      if (spec.kind == Kind::kTimestampMillis && TimestampPrecision(*s) < 3) {
        return Fail(name,
                    "must be precise to at least milliseconds (e.g. 2016-05-12T08:17:27.000Z)");
      }
      return Status::Ok();
    }
    case Kind::kIdentifier:
      return CheckIdentifier(spec, name, v);
    case Kind::kIdentifierList: {
      const auto* a = v.if_array();
      if (a == nullptr)
        return Fail(name, std::string("must be a list of identifiers, not ") + KindName(v));
      if (a->empty()) return Fail(name, "must not be an empty list");
      for (size_t i = 0; i < a->size(); ++i) {
        // Build the indexed name only when the element is bad.
        if (!CheckIdentifier(spec, name, (*a)[i]).ok()) {
          return CheckIdentifier(spec, Indexed(name, i), (*a)[i]);
        }
      }
      return Status::Ok();
    }
    case Kind::kStringList:
    case Kind::kOpenVocabList:
      return CheckStringList(name, v);
    case Kind::kClosedEnum: {
      const auto* s = v.if_string();
      if (s == nullptr || !Contains(spec.values, *s)) {
        return Fail(name, "must be one of: " + Join(spec.values));
      }
      return Status::Ok();
    }
    case Kind::kClosedEnumList: {
      KIZUNA_RETURN_IF_ERROR(CheckStringList(name, v));
      for (const auto& item : v.get_array()) {
        if (!Contains(spec.values, item.get_string())) {
          return Fail(name, "must contain only: " + Join(spec.values) + " (not " +
                                Quote(item.get_string()) + ")");
        }
      }
      return Status::Ok();
    }
    case Kind::kDictionary:
      return CheckDictionary(name, v);
    case Kind::kObject:
      if (!v.is_object()) return Fail(name, std::string("must be an object, not ") + KindName(v));
      return Status::Ok();
    case Kind::kObjectList: {
      const auto* a = v.if_array();
      if (a == nullptr)
        return Fail(name, std::string("must be a list of objects, not ") + KindName(v));
      if (a->empty()) return Fail(name, "must not be an empty list");
      for (size_t i = 0; i < a->size(); ++i) {
        if (!(*a)[i].is_object()) return Fail(Indexed(name, i), "must be an object");
      }
      return Status::Ok();
    }
    case Kind::kHashes:
      return CheckHashes(name, v);
    case Kind::kKillChainPhases:
      return CheckKillChainPhases(name, v);
    case Kind::kExternalReferences:
      return CheckExternalReferences(name, v);
    case Kind::kGranularMarkings:
      return CheckGranularMarkings(name, v);
    case Kind::kExtensions:
      return CheckExtensions(name, v, owner_type);
    case Kind::kBinary: {
      const auto* s = v.if_string();
      if (s == nullptr || !Base64Decode(*s).has_value()) return Fail(name, "must be base64");
      return Status::Ok();
    }
    case Kind::kHex: {
      const auto* s = v.if_string();
      if (s == nullptr || s->size() % 2 != 0 || !IsHex(*s)) {
        return Fail(name, "must be an even number of hexadecimal digits");
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

// `later` must not be before `earlier` (or must be after it, when strictly).
Status Validator::CheckNotBefore(std::string_view earlier, std::string_view later, bool strictly) {
  const value* a = Get(earlier);
  const value* b = Get(later);
  if (a == nullptr || b == nullptr) return Status::Ok();
  auto ta = ParseTimestamp(a->get_string());  // kinds checked by the table pass
  auto tb = ParseTimestamp(b->get_string());
  if (!ta.ok() || !tb.ok()) return Status::Ok();
  if (strictly ? *tb <= *ta : *tb < *ta) {
    return Fail(later,
                std::string(strictly ? "must be later than '" : "must not be earlier than '") +
                    std::string(earlier) + "'");
  }
  return Status::Ok();
}

Status Validator::CheckStixPattern() {
  const value* pattern = Get("pattern");
  const value* pattern_type = Get("pattern_type");
  if (pattern == nullptr || pattern_type == nullptr) return Status::Ok();
  std::string_view text = pattern->get_string();
  if (text.empty()) return Fail("pattern", "must not be empty");
  if (pattern_type->get_string() != "stix") return Status::Ok();  // open vocabulary
  if (options_.stix_pattern_checker != nullptr) {
    Status status = options_.stix_pattern_checker(text);
    if (!status.ok()) return Fail("pattern", "is not a valid STIX pattern: " + status.message());
    return Status::Ok();
  }
  std::string why;
  if (!StixPatternLooksBalanced(text, &why))
    return Fail("pattern", "is not a valid STIX pattern: it " + why);
  return Status::Ok();
}

Status Validator::CheckMarkingDefinition() {
  const value* definition_type = Get("definition_type");
  const value* definition = Get("definition");
  const value* extensions = Get("extensions");
  if (extensions == nullptr) {
    if (definition_type == nullptr) return Missing("definition_type");
    if (definition == nullptr) return Missing("definition");
  }
  if ((definition_type == nullptr) != (definition == nullptr)) {
    return Fail(definition == nullptr ? "definition" : "definition_type",
                "must be present together with '" +
                    std::string(definition == nullptr ? "definition_type" : "definition") + "'");
  }
  if (definition_type != nullptr) {
    std::string_view kind = definition_type->get_string();
    const object& body = definition->get_object();
    if (kind == "tlp") {
      const value* level = body.if_contains("tlp");
      const auto* name = level != nullptr ? level->if_string() : nullptr;
      if (name == nullptr || !Contains(internal::kTlp1Levels, *name)) {
        return Fail("definition.tlp", "must be one of: " + Join(internal::kTlp1Levels));
      }
      // Only the spec's four objects are TLP 1.0 markings (§7.2.1.4); another
      // id claiming a level would be mapped to no TLP at all by TlpOfMarkingId.
      Tlp tlp = *name == "white" ? Tlp::kClear : ParseTlp(*name).value();
      if (id_ != Tlp1MarkingId(tlp)) {
        return Fail("id", "must be " + std::string(Tlp1MarkingId(tlp)) +
                              " for TLP:" + std::string(*name) + " (STIX 2.1 §7.2.1.4)");
      }
    } else if (kind == "statement") {
      const value* statement = body.if_contains("statement");
      if (statement == nullptr || !statement->is_string()) {
        return Fail("definition.statement", "is required (a string) for a statement marking");
      }
    }
  }
  if (extensions != nullptr) {
    const value* tlp2 = extensions->get_object().if_contains(kTlp2ExtensionId);
    if (tlp2 != nullptr) {
      std::string property = "extensions." + std::string(kTlp2ExtensionId) + ".tlp_2_0";
      const value* level = tlp2->get_object().if_contains("tlp_2_0");
      const auto* name = level != nullptr ? level->if_string() : nullptr;
      if (name == nullptr || !Contains(internal::kTlp2Levels, *name)) {
        return Fail(property, "must be one of: " + Join(internal::kTlp2Levels));
      }
      Tlp tlp = ParseTlp(*name).value();
      if (id_ != TlpMarkingId(tlp)) {
        return Fail("id", "must be " + std::string(TlpMarkingId(tlp)) + " for TLP 2.0 " +
                              std::string(*name) + " (the published TLP 2.0 marking)");
      }
    }
  }
  return Status::Ok();
}

Status Validator::CheckTypeRules() {
  if (category_ == Category::kSdo || category_ == Category::kSro) {
    KIZUNA_RETURN_IF_ERROR(CheckNotBefore("created", "modified", false));
  }
  std::string_view t = type_;
  if (t == "indicator") {
    KIZUNA_RETURN_IF_ERROR(CheckNotBefore("valid_from", "valid_until", true));
    return CheckStixPattern();
  }
  if (t == "campaign" || t == "intrusion-set" || t == "threat-actor" || t == "infrastructure" ||
      t == "malware") {
    KIZUNA_RETURN_IF_ERROR(CheckNotBefore("first_seen", "last_seen", false));
    if (t == "malware") {
      const value* is_family = Get("is_family");
      if (is_family != nullptr && is_family->get_bool() && !Has("name")) {
        return Fail("name", "is required when 'is_family' is true");
      }
    }
    return Status::Ok();
  }
  if (t == "sighting") return CheckNotBefore("first_seen", "last_seen", false);
  if (t == "relationship") {
    std::string_view relationship_type = Get("relationship_type")->get_string();
    if (relationship_type.empty() || !AllOf(relationship_type, [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        })) {
      return Fail("relationship_type", "must contain only a-z, 0-9 and '-'");
    }
    return CheckNotBefore("start_time", "stop_time", true);
  }
  if (t == "observed-data") {
    if (Has("objects") == Has("object_refs")) {
      return Fail("object_refs",
                  "must be present if and only if 'objects' is absent (exactly one of them)");
    }
    if (const value* objects = Get("objects")) {
      const object& o = objects->get_object();
      if (o.empty()) return Fail("objects", "must not be empty");
      for (const auto& kv : o) {
        const auto* sco = kv.value().if_object();
        const value* sco_type = sco != nullptr ? sco->if_contains("type") : nullptr;
        if (sco_type == nullptr || !sco_type->is_string()) {
          return Fail(Member("objects", kv.key()), "must be an object with a 'type'");
        }
      }
    }
    return CheckNotBefore("first_observed", "last_observed", false);
  }
  if (t == "location") {
    const bool lat = Has("latitude"), lon = Has("longitude");
    if (lat != lon)
      return Fail(
          lat ? "longitude" : "latitude",
          "must be present together with '" + std::string(lat ? "latitude" : "longitude") + "'");
    if (Has("precision") && !lat) return Fail("precision", "requires 'latitude' and 'longitude'");
    if (!lat && !Has("region") && !Has("country")) {
      return Fail("region", "or 'country' or 'latitude'/'longitude' must be present");
    }
    return Status::Ok();
  }
  if (t == "malware-analysis") {
    if (!Has("result") && !Has("analysis_sco_refs")) {
      return Fail("result", "or 'analysis_sco_refs' must be present");
    }
    return CheckNotBefore("analysis_started", "analysis_ended", false);
  }
  if (t == "extension-definition") {
    if (Has("extension_properties")) {
      bool toplevel = false;
      for (const auto& item : Get("extension_types")->get_array()) {
        toplevel |= item.get_string() == "toplevel-property-extension";
      }
      if (!toplevel) {
        return Fail("extension_properties",
                    "is only allowed with extension type 'toplevel-property-extension'");
      }
    }
    return Status::Ok();
  }
  if (t == "language-content") {
    for (const auto& kv : Get("contents")->get_object()) {
      if (!kv.value().is_object()) return Fail(Member("contents", kv.key()), "must be an object");
    }
    return Status::Ok();
  }
  if (t == "marking-definition") return CheckMarkingDefinition();
  // SCOs.
  if (t == "ipv4-addr") {
    if (!IsValidIpv4(Get("value")->get_string()))
      return Fail("value", "must be an IPv4 address or CIDR block");
    return Status::Ok();
  }
  if (t == "ipv6-addr") {
    if (!IsValidIpv6(Get("value")->get_string()))
      return Fail("value", "must be an IPv6 address or CIDR block");
    return Status::Ok();
  }
  if (t == "mac-addr") {
    if (!IsValidMac(Get("value")->get_string())) {
      return Fail("value", "must be a lowercase, colon-delimited MAC-48 address");
    }
    return Status::Ok();
  }
  if (t == "file") {
    if (!Has("hashes") && !Has("name")) return Fail("hashes", "or 'name' must be present");
    return Status::Ok();
  }
  if (t == "artifact") {
    if (Has("payload_bin") && Has("url"))
      return Fail("url", "must not be present with 'payload_bin'");
    if (Has("url") && !Has("hashes")) return Fail("hashes", "is required when 'url' is present");
    if (Has("decryption_key") && !Has("encryption_algorithm")) {
      return Fail("decryption_key", "requires 'encryption_algorithm'");
    }
    return Status::Ok();
  }
  if (t == "email-message") {
    const bool multipart = Get("is_multipart")->get_bool();
    if (multipart && Has("body"))
      return Fail("body", "must not be present when 'is_multipart' is true");
    if (!multipart && Has("body_multipart")) {
      return Fail("body_multipart", "must not be present when 'is_multipart' is false");
    }
    if (const value* parts = Get("body_multipart")) {
      static constexpr PropSpec kBodyRawRef = {
          .name = "body_raw_ref", .kind = Kind::kIdentifier, .targets = "artifact|file"};
      const auto& list = parts->get_array();
      for (size_t i = 0; i < list.size(); ++i) {
        const object& part = list[i].get_object();
        std::string item = Indexed("body_multipart", i);
        if (part.contains("body") == part.contains("body_raw_ref")) {
          return Fail(item, "must have exactly one of 'body' and 'body_raw_ref'");
        }
        for (std::string_view member : {"body", "content_type", "content_disposition"}) {
          const value* m = part.if_contains(member);
          if (m != nullptr && !m->is_string())
            return Fail(Member(item, member), "must be a string");
        }
        if (const value* ref = part.if_contains("body_raw_ref")) {
          KIZUNA_RETURN_IF_ERROR(CheckIdentifier(kBodyRawRef, Member(item, "body_raw_ref"), *ref));
        }
      }
    }
    return Status::Ok();
  }
  if (t == "network-traffic") {
    if (!Has("src_ref") && !Has("dst_ref")) return Fail("src_ref", "or 'dst_ref' must be present");
    const value* is_active = Get("is_active");
    if (is_active != nullptr && is_active->get_bool() && Has("end")) {
      return Fail("end", "must not be present when 'is_active' is true");
    }
    return CheckNotBefore("start", "end", false);
  }
  if (t == "process" || t == "x509-certificate") {
    for (const auto& kv : obj_) {
      if (internal::FindCommonProp(Category::kSco, kv.key()) == nullptr) return Status::Ok();
    }
    return InvalidArgument(Prefix() + ": at least one " + std::string(t) +
                           "-specific property must be present");
  }
  if (t == "windows-registry-key") {
    if (const value* values = Get("values")) {
      const auto& list = values->get_array();
      for (size_t i = 0; i < list.size(); ++i) {
        const object& entry = list[i].get_object();
        std::string item = Indexed("values", i);
        for (std::string_view member : {"name", "data"}) {
          const value* m = entry.if_contains(member);
          if (m != nullptr && !m->is_string())
            return Fail(Member(item, member), "must be a string");
        }
        if (const value* data_type = entry.if_contains("data_type")) {
          const auto* s = data_type->if_string();
          if (s == nullptr || !Contains(internal::kWindowsRegistryDatatypeEnum, *s)) {
            return Fail(Member(item, "data_type"),
                        "must be one of: " + Join(internal::kWindowsRegistryDatatypeEnum));
          }
        }
      }
    }
    return Status::Ok();
  }
  return Status::Ok();
}

Status Validator::Run(ObjectInfo* info) {
  const value* type = Get("type");
  if (type == nullptr) return Missing("type");
  if (!type->is_string()) return Fail("type", "must be a string");
  type_ = type->get_string();
  if (!IsValidTypeName(type_)) {
    type_ = {};
    return Fail("type", "must be 3-250 characters of a-z, 0-9 and '-', starting with a letter");
  }
  const value* id = Get("id");
  if (id == nullptr) return Missing("id");
  if (!id->is_string()) return Fail("id", "must be a string");
  std::string_view id_text = id->get_string();
  std::string_view id_type;
  if (!SplitIdentifier(id_text, &id_type)) {
    return Fail("id",
                "must be of the form " + std::string(type_) + "--UUID, not " + Quote(id_text));
  }
  id_ = id_text;
  if (id_type != type_) {
    return Fail("id", "must start with '" + std::string(type_) + "--' (the object's type)");
  }
  for (const auto& kv : obj_) KIZUNA_RETURN_IF_ERROR(CheckDepth(kv.value(), 2));

  spec_ = internal::FindTypeSpec(type_);
  if (const value* extensions = Get("extensions");
      extensions != nullptr && extensions->is_object()) {
    for (const auto& kv : extensions->get_object()) {
      const auto* ext = kv.value().if_object();
      const value* ext_type = ext != nullptr ? ext->if_contains("extension_type") : nullptr;
      if (ext_type == nullptr || !ext_type->is_string()) continue;
      std::string_view et = ext_type->get_string();
      has_toplevel_extension_ |= et == "toplevel-property-extension";
      has_new_object_extension_ |= et == "new-sdo" || et == "new-sco" || et == "new-sro";
    }
  }
  if (spec_ != nullptr) {
    category_ = spec_->category;
  } else {
    // Types declared by an extension definition (new-sdo/new-sco/new-sro) are
    // the spec's own extension mechanism, so they pass without allow_custom.
    if (!options_.allow_custom && !has_new_object_extension_) {
      return Fail("type",
                  Quote(type_) + " is not a STIX 2.1 type (custom objects are not allowed)");
    }
    // Custom objects carry the common properties of what they resemble: SDOs
    // and SROs have "created", SCOs do not.
    category_ = Has("created") ? Category::kSdo : Category::kSco;
  }

  // Required properties first, so a missing one is reported as such.
  for (const PropSpec& p : internal::CommonProps(category_)) {
    if (p.required && !Has(p.name)) return Missing(p.name);
  }
  if (spec_ != nullptr) {
    for (const PropSpec& p : spec_->props) {
      if (p.required && !Has(p.name)) return Missing(p.name);
    }
  }
  for (const auto& kv : obj_) {
    std::string_view name = kv.key();
    const PropSpec* p = spec_ != nullptr ? internal::FindProp(*spec_, name) : nullptr;
    if (p == nullptr) p = internal::FindCommonProp(category_, name);
    if (p != nullptr) {
      KIZUNA_RETURN_IF_ERROR(CheckProperty(*p, name, kv.value(), type_));
      continue;
    }
    if (!IsValidPropertyName(name)) {
      return Fail(name, "is not a valid property name (3-250 characters of a-z, 0-9 and '_')");
    }
    if (!options_.allow_custom && !has_toplevel_extension_ && spec_ != nullptr) {
      return Fail(name, "is not a property of " + std::string(type_) +
                            " (custom properties are not allowed)");
    }
  }
  if (spec_ != nullptr)
    KIZUNA_RETURN_IF_ERROR(CheckTypeRules());
  else
    KIZUNA_RETURN_IF_ERROR(CheckNotBefore("created", "modified", false));

  *info = DescribeObject(obj_);
  return Status::Ok();
}

}  // namespace

Result<ObjectInfo> ValidateObject(const object& object, const ValidationOptions& options) {
  ObjectInfo info;
  try {
    Validator validator(object, options);
    Status status = validator.Run(&info);
    if (!status.ok()) return status;
  } catch (const std::exception& e) {
    // A bug, not bad input: every access above checks kinds first.
    return Internal(std::string("validating STIX object: ") + e.what());
  }
  return info;
}

ObjectInfo DescribeObject(const object& object) {
  ObjectInfo info;
  auto text = [&](std::string_view name) -> std::string_view {
    const value* v = object.if_contains(name);
    if (v == nullptr) return {};
    const auto* s = v->if_string();
    return s != nullptr ? std::string_view(*s) : std::string_view();
  };
  info.id = text("id");
  info.type = text("type");
  info.spec_version = text("spec_version");
  info.created = text("created");
  info.modified = text("modified");
  if (!info.created.empty()) {
    auto us = ParseTimestamp(info.created);
    if (us.ok()) info.created_us = *us;
  }
  if (!info.modified.empty()) {
    auto us = ParseTimestamp(info.modified);
    if (us.ok()) info.modified_us = *us;
  }
  if (const value* revoked = object.if_contains("revoked");
      revoked != nullptr && revoked->is_bool()) {
    info.revoked = revoked->get_bool();
  }
  info.created_by_ref = text("created_by_ref");
  if (const value* refs = object.if_contains("object_marking_refs");
      refs != nullptr && refs->is_array()) {
    for (const auto& ref : refs->get_array()) {
      if (const auto* s = ref.if_string()) {
        info.object_marking_refs.emplace_back(*s);
        info.tlp = MostRestrictiveTlp(info.tlp, TlpOfMarkingId(*s));
      }
    }
  }
  // A TLP on part of the object (a granular marking) restricts the whole
  // object: kizuna shares objects, not parts of them.
  if (const value* granular = object.if_contains("granular_markings");
      granular != nullptr && granular->is_array()) {
    for (const auto& marking : granular->get_array()) {
      const auto* m = marking.if_object();
      const value* ref = m ? m->if_contains("marking_ref") : nullptr;
      if (ref != nullptr && ref->is_string()) {
        info.tlp = MostRestrictiveTlp(info.tlp, TlpOfMarkingId(ref->get_string()));
      }
    }
  }
  info.is_marking_definition = info.type == "marking-definition";
  return info;
}

Status ValidateBundleEnvelope(const object& bundle) {
  const value* type = bundle.if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string() != "bundle") {
    return InvalidArgument("bundle: property 'type' must be \"bundle\"");
  }
  const value* id = bundle.if_contains("id");
  std::string_view id_type;
  if (id == nullptr || !id->is_string() || !SplitIdentifier(id->get_string(), &id_type) ||
      id_type != "bundle") {
    return InvalidArgument("bundle: property 'id' must be of the form bundle--UUID");
  }
  std::string prefix(id->get_string());
  if (const value* objects = bundle.if_contains("objects")) {
    const auto* list = objects->if_array();
    if (list == nullptr) return InvalidArgument(prefix + ": property 'objects' must be a list");
    for (size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_object()) {
        return InvalidArgument(prefix + ": property 'objects[" + std::to_string(i) +
                               "]' must be an object");
      }
    }
  }
  return Status::Ok();
}

}  // namespace kizuna::stix
