#include "sensor/fingerprint.h"

#include <array>
#include <boost/json.hpp>

namespace kizuna::sensor {
namespace {

namespace json = boost::json;

// The fields a rule may name, with their widths. Match reads them in this
// order.
struct Field {
  std::string_view name;
  int bits;
};

constexpr std::array kFields = {
    Field{"protocol", 8},
    Field{"ip_version", 8},
    Field{"ip_id", 16},
    Field{"ttl", 8},
    Field{"src4", 32},
    Field{"dst4", 32},
    Field{"src_port", 16},
    Field{"dst_port", 16},
    Field{"tcp_flags", 8},
    Field{"tcp_seq", 32},
    Field{"tcp_ack", 32},
    Field{"tcp_window", 16},
    Field{"tcp_options_length", 8},
    Field{"icmp_type", 8},
    Field{"icmp_code", 8},
};

int FieldIndex(std::string_view name) {
  for (size_t i = 0; i < kFields.size(); ++i) {
    if (kFields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

uint32_t Mask(int bits) { return bits >= 32 ? ~uint32_t{0} : (uint32_t{1} << bits) - 1; }

// Where a narrow field sits in PackedFields' word (-1: not there).
int PackedShift(int field) {
  switch (field) {
    case 0:  // protocol
      return 0;
    case 1:  // ip_version
      return 8;
    case 2:  // ip_id
      return 16;
    case 3:  // ttl
      return 32;
    case 8:  // tcp_flags
      return 40;
    case 13:  // icmp_type
      return 48;
    case 14:  // icmp_code
      return 56;
    default:
      return -1;
  }
}

uint64_t PackedFields(const Packet& p) {
  return uint64_t{p.protocol} | uint64_t{p.ip_version} << 8 | uint64_t{p.ip_id} << 16 |
         uint64_t{p.ttl} << 32 | uint64_t{p.tcp_flags} << 40 | uint64_t{p.icmp_type} << 48 |
         uint64_t{p.icmp_code} << 56;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// The fingerprints kizuna ships. Each "source" quotes the scanner's code the
// rule was checked against.
constexpr std::string_view kBuiltIn = R"json({
  "version": "kizuna-fingerprints-1",
  "fingerprints": [
    {
      "name": "mirai",
      "description": "Mirai-family SYN scanner (and its variants on 23, 2323, 37215, 52869, ...): the TCP sequence number is the destination address",
      "source": "jgamblin/Mirai-Source-Code 4889a6f mirai/bot/scanner.c:225 tcph->seq = iph->daddr; (xdecemberrr/911-source bot/huawei_scanner.c the same)",
      "equal": [["ip_version", 4], ["protocol", 6], ["tcp_flags", 2], ["tcp_seq", "dst4"]]
    },
    {
      "name": "zmap",
      "description": "ZMap up to 4.0.x: IP identification 54321 on every probe (4.1.0 randomises it, commit b0190cc)",
      "source": "zmap/zmap v4.0.0 src/probe_modules/packet.c make_ip_header: iph->ip_id = htons(54321);",
      "equal": [["ip_version", 4], ["ip_id", 54321]]
    },
    {
      "name": "masscan",
      "description": "masscan SYN (every release since 2013): IP identification = destination address ^ destination port ^ sequence number, low 16 bits",
      "source": "robertdavidgraham/masscan 2be4093 src/templ-pkt.c template_set_target_ipv4: ip_id = ip_them ^ port_them ^ seqno;",
      "equal": [["ip_version", 4], ["protocol", 6], ["tcp_flags", 2], ["ip_id", "dst4 ^ dst_port ^ tcp_seq"]]
    }
  ]
})json";

}  // namespace

std::string_view TrafficClassName(TrafficClass c) {
  switch (c) {
    case TrafficClass::kScan:
      return "scan";
    case TrafficClass::kBackscatter:
      return "backscatter";
    case TrafficClass::kUdp:
      return "udp";
    case TrafficClass::kIcmp:
      return "icmp";
    case TrafficClass::kOther:
      return "other";
  }
  return "other";
}

TrafficClass Classify(const Packet& p) {
  if (!p.has_transport) return TrafficClass::kOther;
  switch (p.protocol) {
    case kProtoTcp: {
      const uint8_t f = p.tcp_flags;
      if ((f & tcp::kRst) != 0) return TrafficClass::kBackscatter;
      if ((f & tcp::kSyn) != 0) {
        return (f & tcp::kAck) != 0 ? TrafficClass::kBackscatter : TrafficClass::kScan;
      }
      return TrafficClass::kOther;
    }
    case kProtoUdp:
      return TrafficClass::kUdp;
    case kProtoIcmp:
      // Replies and errors answer something sent from (spoofed) here.
      switch (p.icmp_type) {
        case 0:   // echo reply
        case 3:   // destination unreachable
        case 4:   // source quench
        case 5:   // redirect
        case 11:  // time exceeded
        case 12:  // parameter problem
        case 14:  // timestamp reply
        case 16:  // information reply
        case 18:  // address mask reply
          return TrafficClass::kBackscatter;
        default:
          return TrafficClass::kIcmp;
      }
    case kProtoIcmpv6:
      // Types below 128 are errors; 129 is the echo reply.
      return p.icmp_type < 128 || p.icmp_type == 129 ? TrafficClass::kBackscatter
                                                     : TrafficClass::kIcmp;
    default:
      return TrafficClass::kOther;
  }
}

Result<FingerprintSet> FingerprintSet::Parse(std::string_view text) {
  auto bad = [](const std::string& what) { return InvalidArgument("fingerprints: " + what); };
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return bad("not a JSON object");
  const json::object& root = doc.as_object();
  FingerprintSet set;
  if (const auto* v = root.if_contains("version"); v && v->is_string()) {
    set.version_ = std::string(v->get_string());
  } else {
    return bad("\"version\" (a string) is missing");
  }
  const auto* list = root.if_contains("fingerprints");
  if (!list || !list->is_array()) return bad("\"fingerprints\" (an array) is missing");
  if (list->as_array().size() > 32) return bad("more than 32 rules");
  for (const json::value& item : list->as_array()) {
    const json::object* o = item.if_object();
    if (!o) return bad("a rule is not an object");
    Rule rule;
    const auto* name = o->if_contains("name");
    if (!name || !name->is_string() || name->get_string().empty() ||
        name->get_string().size() > 64) {
      return bad("a rule needs a \"name\" (1 to 64 characters)");
    }
    rule.name = std::string(name->get_string());
    const auto* equal = o->if_contains("equal");
    if (!equal || !equal->is_array() || equal->as_array().empty() ||
        equal->as_array().size() > 16) {
      return bad(rule.name + ": \"equal\" needs 1 to 16 [field, value] pairs");
    }
    rule.begin = static_cast<uint32_t>(set.checks_.size());
    for (const json::value& pair : equal->as_array()) {
      const json::array* a = pair.if_array();
      if (!a || a->size() != 2 || !(*a)[0].is_string()) {
        return bad(rule.name + ": each equality is [field, number or expression]");
      }
      const int left = FieldIndex((*a)[0].get_string());
      if (left < 0) return bad(rule.name + ": unknown field " + std::string((*a)[0].get_string()));
      Check check{static_cast<uint8_t>(left), 0, {}, 0, Mask(kFields[left].bits)};
      const json::value& right = (*a)[1];
      if (right.is_int64() || right.is_uint64()) {
        const uint64_t v =
            right.is_int64() ? static_cast<uint64_t>(right.get_int64()) : right.get_uint64();
        if ((right.is_int64() && right.get_int64() < 0) || v > Mask(kFields[left].bits)) {
          return bad(rule.name + ": " + std::string(kFields[left].name) + " cannot equal " +
                     json::serialize(right));
        }
        check.constant = static_cast<uint32_t>(v);
      } else if (right.is_string()) {
        std::string_view expr = right.get_string();
        while (true) {
          const size_t caret = expr.find('^');
          const std::string_view term = Trim(expr.substr(0, caret));
          const int field = FieldIndex(term);
          if (field < 0) {
            return bad(rule.name + ": unknown field \"" + std::string(term) + "\" in \"" +
                       std::string(right.get_string()) + "\"");
          }
          if (check.term_count == check.terms.size()) {
            return bad(rule.name + ": more than 8 terms");
          }
          check.terms[check.term_count++] = static_cast<uint8_t>(field);
          if (caret == std::string_view::npos) break;
          expr.remove_prefix(caret + 1);
        }
      } else {
        return bad(rule.name + ": the right side is a number or a string of fields joined by ^");
      }
      // A constant for a narrow field goes into the rule's masked compare
      // (a second one for the same field stays a check).
      const int packed = PackedShift(check.left);
      if (check.term_count == 0 && packed >= 0 &&
          (rule.want_mask & uint64_t{check.mask} << packed) == 0) {
        rule.want |= uint64_t{check.constant} << packed;
        rule.want_mask |= uint64_t{check.mask} << packed;
        continue;
      }
      set.checks_.push_back(check);
    }
    rule.end = static_cast<uint32_t>(set.checks_.size());
    for (const Rule& other : set.rules_) {
      if (other.name == rule.name) return bad("two rules named " + rule.name);
    }
    set.rules_.push_back(std::move(rule));
  }
  set.Flatten();
  return set;
}

std::string_view FingerprintSet::BuiltInJson() { return kBuiltIn; }

const FingerprintSet& FingerprintSet::BuiltIn() {
  static const FingerprintSet set = [] {
    auto parsed = Parse(kBuiltIn);
    if (!parsed.ok()) std::abort();  // the shipped rules are tested
    return std::move(parsed).value();
  }();
  return set;
}

void FingerprintSet::Flatten() {
  no_checks_ = 0;
  prefilter_.clear();
  for (size_t r = 0; r < rules_.size(); ++r) {
    if (rules_[r].begin == rules_[r].end) no_checks_ |= uint32_t{1} << r;
    prefilter_.push_back({rules_[r].want, rules_[r].want_mask});
  }
  flat_.clear();
  constexpr uint8_t kZero = kFields.size();  // Match's value array ends with a 0
  for (size_t r = 0; r < rules_.size(); ++r) {
    for (uint32_t c = rules_[r].begin; c < rules_[r].end; ++c) {
      const Check& check = checks_[c];
      std::array<int, kFields.size()> count{};
      ++count[check.left];
      for (uint8_t t = 0; t < check.term_count; ++t) ++count[check.terms[t]];
      FlatCheck flat{{kZero, kZero, kZero, kZero},
                     static_cast<uint8_t>(r),
                     check.constant & check.mask,
                     check.mask};
      size_t used = 0;
      for (size_t f = 0; f < count.size(); ++f) {
        if (count[f] % 2 == 0) continue;
        if (used == flat.fields.size()) {
          flat_.clear();
          return;
        }
        flat.fields[used++] = static_cast<uint8_t>(f);
      }
      flat_.push_back(flat);
    }
  }
}

uint32_t FingerprintSet::Match(const Packet& p) const {
  const uint64_t packed = PackedFields(p);
  uint32_t candidates = 0;
  for (size_t r = 0; r < prefilter_.size(); ++r) {
    candidates |=
        static_cast<uint32_t>(((packed ^ prefilter_[r].want) & prefilter_[r].want_mask) == 0) << r;
  }
  // A rule that is its masked compare alone matches now.
  if ((candidates & ~no_checks_) == 0) return candidates;
  // Every field once, in kFields' order (then a 0); each check reads the array.
  const std::array<uint32_t, kFields.size() + 1> value = {
      p.protocol,           p.ip_version, p.ip_id,     p.ttl,     p.src4,    p.dst4,
      p.src_port,           p.dst_port,   p.tcp_flags, p.tcp_seq, p.tcp_ack, p.tcp_window,
      p.tcp_options_length, p.icmp_type,  p.icmp_code, 0};
  if (!flat_.empty()) {
    // Every check in one pass (a rule that is no candidate fails anyway).
    uint32_t failed = 0;
    for (const FlatCheck& check : flat_) {
      const uint32_t differ = (check.constant ^ value[check.fields[0]] ^ value[check.fields[1]] ^
                               value[check.fields[2]] ^ value[check.fields[3]]) &
                              check.mask;
      failed |= static_cast<uint32_t>(differ != 0) << check.rule;
    }
    return candidates & ~failed;
  }
  uint32_t matched = candidates & no_checks_;
  for (uint32_t m = candidates & ~no_checks_; m != 0; m &= m - 1) {
    const int r = __builtin_ctz(m);
    uint32_t differ = 0;  // every check, without branching on each
    for (uint32_t c = rules_[r].begin; c < rules_[r].end; ++c) {
      const Check& check = checks_[c];
      uint32_t right = check.constant;
      for (uint8_t t = 0; t < check.term_count; ++t) right ^= value[check.terms[t]];
      differ |= (value[check.left] ^ right) & check.mask;
    }
    matched |= static_cast<uint32_t>(differ == 0) << r;
  }
  return matched;
}

}  // namespace kizuna::sensor
