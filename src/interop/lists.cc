#include "interop/lists.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "common/csv.h"
#include "common/encoding.h"
#include "common/time.h"
#include "common/uuid.h"
#include "pattern/pattern.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;
using correlation::ObservableKind;

// The namespace of kizuna's deterministic ids for imported indicators and
// their producers (a random UUID, fixed for good).
constexpr std::string_view kListNamespace = "4f1c3a52-9b0e-4f6e-8d2a-6c1e5b7a9d30";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Reads one line of at most kMaxListLineBytes into *line (without the
// newline). False at the end of the stream. *too_long when the line was
// longer (the rest of it is skipped).
bool ReadLine(std::streambuf* in, std::string* line, bool* too_long) {
  line->clear();
  *too_long = false;
  bool any = false;
  for (;;) {
    const int c = in->sbumpc();
    if (c == std::char_traits<char>::eof()) return any;
    any = true;
    if (c == '\n') return true;
    if (line->size() < kMaxListLineBytes) {
      line->push_back(static_cast<char>(c));
    } else {
      *too_long = true;
    }
  }
}

bool IsComment(std::string_view trimmed) {
  return trimmed.starts_with('#') || trimmed.starts_with(';') || trimmed.starts_with("//");
}

// What a type column may say, as the kinds it allows.
std::optional<std::vector<ObservableKind>> KindsOfTypeName(std::string_view name) {
  const std::string n = AsciiLower(Trim(name));
  using K = ObservableKind;
  if (n == "ip" || n == "ipv4" || n == "ipv6" || n == "ip-src" || n == "ip-dst" ||
      n == "ip_address" || n == "ipv4-addr" || n == "ipv6-addr" || n == "cidr" ||
      n == "ip-address" || n == "ipaddress" || n == "netblock") {
    return std::vector<K>{K::kIpv4, K::kIpv6};
  }
  if (n == "domain" || n == "hostname" || n == "fqdn" || n == "domain-name" || n == "host") {
    return std::vector<K>{K::kDomain};
  }
  if (n == "url" || n == "uri" || n == "link") return std::vector<K>{K::kUrl};
  if (n == "email" || n == "email-src" || n == "email-dst" || n == "email-addr" || n == "e-mail") {
    return std::vector<K>{K::kEmail};
  }
  if (n == "md5") return std::vector<K>{K::kMd5};
  if (n == "sha1" || n == "sha-1") return std::vector<K>{K::kSha1};
  if (n == "sha256" || n == "sha-256") return std::vector<K>{K::kSha256};
  if (n == "sha512" || n == "sha-512") return std::vector<K>{K::kSha512};
  if (n == "hash" || n == "filehash" || n == "file-hash") {
    return std::vector<K>{K::kMd5, K::kSha1, K::kSha256, K::kSha512};
  }
  return std::nullopt;
}

// "198.51.100.7:8080" (a C2 list's host:port) as its address.
std::optional<std::string> Ipv4WithoutPort(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
  const std::string_view port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  if (!correlation::ParseIpv4(text.substr(0, colon))) return std::nullopt;
  return std::string(text.substr(0, colon));
}

std::vector<std::string> SplitTags(std::string_view text) {
  std::vector<std::string> tags;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ',' || text[i] == ';' || text[i] == '|') {
      const std::string_view tag = Trim(text.substr(start, i - start));
      if (!tag.empty() && std::find(tags.begin(), tags.end(), tag) == tags.end()) {
        tags.emplace_back(tag);
      }
      start = i + 1;
    }
  }
  return tags;
}

// One data line's fields, as its format gave them.
struct Record {
  std::string_view value;
  std::string_view type;
  std::string_view name;
  std::string description;
  std::string_view first_seen;
  std::string_view last_seen;
  std::string_view tags;
  std::string_view confidence;
  std::string_view tlp;
};

class ListReader {
 public:
  ListReader(const ListOptions& options, const std::function<Status(json::object&&)>& sink)
      : options_(options), sink_(sink) {}

  Result<ListSummary> Read(std::istream& input) {
    if (options_.confidence > 100 || options_.confidence < -1) {
      return InvalidArgument("confidence must be 0 to 100");
    }
    if (options_.lifetime_days < 0) return InvalidArgument("the lifetime must be 0 days or more");
    if (options_.now_us <= 0) return InvalidArgument("no import time");
    if (!options_.producer.empty()) {
      KIZUNA_RETURN_IF_ERROR(sink_(ProducerIdentity()));
    }
    std::streambuf* in = input.rdbuf();
    std::string line;
    bool too_long = false;
    ListFormat format = options_.format;
    std::string last_comment;
    while (ReadLine(in, &line, &too_long)) {
      ++summary_.lines;
      if (summary_.lines == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
      if (too_long) {
        Reject("longer than " + std::to_string(kMaxListLineBytes) + " bytes");
        continue;
      }
      if (!IsValidUtf8(line)) {
        Reject("not UTF-8");
        continue;
      }
      const std::string_view trimmed = Trim(line);
      if (trimmed.empty()) continue;
      if (IsComment(trimmed)) {
        // A commented header ("# id,dateadded,url,…", as abuse.ch writes it).
        std::string_view text = trimmed;
        while (!text.empty() && (text.front() == '#' || text.front() == ' ')) text.remove_prefix(1);
        last_comment.assign(text);
        continue;
      }
      if (format == ListFormat::kAuto) {
        format = LooksLikeCsv(trimmed, last_comment) ? ListFormat::kCsv : ListFormat::kText;
      }
      if (format == ListFormat::kText) {
        TextLine(trimmed);
        continue;
      }
      if (!header_read_) {
        KIZUNA_ASSIGN_OR_RETURN(bool was_header, ReadHeader(trimmed, last_comment));
        header_read_ = true;
        if (was_header) continue;
      }
      CsvLine(trimmed);
      KIZUNA_RETURN_IF_ERROR(sink_status_);
    }
    KIZUNA_RETURN_IF_ERROR(sink_status_);
    if (input.bad()) return IoError("reading the list failed");
    summary_.format_detected =
        std::string(ListFormatName(format == ListFormat::kAuto ? ListFormat::kText : format));
    if (format == ListFormat::kCsv && !header_read_ && !options_.columns.empty()) {
      return InvalidArgument("the file has no data lines to read columns from");
    }
    return summary_;
  }

 private:
  // A CSV file: its first data line, or the comment before it, has commas
  // and names a column kizuna knows.
  bool LooksLikeCsv(std::string_view first, std::string_view comment) const {
    for (std::string_view candidate : {first, comment}) {
      if (candidate.find(',') == std::string_view::npos) continue;
      std::vector<std::string_view> fields;
      std::string scratch;
      if (!SplitCsv(candidate, &fields, &scratch)) continue;
      if (ValueColumn(fields) >= 0) return true;
    }
    // Commas and more than one field each holding something: a headerless CSV.
    return first.find(',') != std::string_view::npos && first.find("://") == std::string_view::npos;
  }

  // The value column of a header's fields: the --column given, else the
  // first of the usual names; -1 when none.
  int ValueColumn(const std::vector<std::string_view>& fields) const {
    auto given = options_.columns.find(ListField::kValue);
    std::vector<std::string> names = given != options_.columns.end()
                                         ? std::vector<std::string>{AsciiLower(given->second)}
                                         : ListColumnNames(ListField::kValue);
    for (const std::string& name : names) {
      for (size_t i = 0; i < fields.size(); ++i) {
        if (AsciiLower(Trim(fields[i])) == name) return static_cast<int>(i);
      }
    }
    return -1;
  }

  // Reads the header (the line itself, or the comment before it); true when
  // `line` was the header. A file whose lines are data from the first has
  // no header: each line's value is its first field holding an observable.
  Result<bool> ReadHeader(std::string_view line, std::string_view comment) {
    std::vector<std::string_view> fields;
    std::string scratch;
    bool line_is_header = false;
    std::vector<std::string> header;
    auto take = [&](std::string_view text) -> bool {
      fields.clear();
      if (!SplitCsv(text, &fields, &scratch) || ValueColumn(fields) < 0) return false;
      header.clear();
      for (std::string_view f : fields) header.push_back(AsciiLower(Trim(f)));
      return true;
    };
    if (take(line)) {
      line_is_header = true;
    } else if (!comment.empty() && take(comment)) {
      line_is_header = false;
    } else {
      if (!options_.columns.empty()) {
        // A first line holding no indicator is the header: name what it has.
        fields.clear();
        bool data = !SplitCsv(line, &fields, &scratch);
        std::string names;
        for (std::string_view f : fields) {
          data = data || correlation::DetectObservable(f).has_value();
          names += (names.empty() ? "" : ", ") + AsciiLower(Trim(f));
        }
        if (!data) {
          auto given = options_.columns.find(ListField::kValue);
          const auto& [missing_field, missing] =
              given != options_.columns.end() ? *given : *options_.columns.begin();
          return InvalidArgument("--column " + std::string(ListFieldName(missing_field)) + "=" +
                                 missing + ": the header has no such column (" + names + ")");
        }
        return InvalidArgument("the CSV has no header row naming the columns --column names");
      }
      return false;  // headerless
    }
    columns_.assign(kListFieldCount, -1);
    for (int f = 0; f < kListFieldCount; ++f) {
      const auto field = static_cast<ListField>(f);
      auto given = options_.columns.find(field);
      if (given != options_.columns.end()) {
        const std::string want = AsciiLower(given->second);
        auto at = std::find(header.begin(), header.end(), want);
        if (at == header.end()) {
          return InvalidArgument("--column " + std::string(ListFieldName(field)) + "=" +
                                 given->second + ": the header has no such column");
        }
        columns_[f] = static_cast<int>(at - header.begin());
        continue;
      }
      for (const std::string& name : ListColumnNames(field)) {
        auto at = std::find(header.begin(), header.end(), name);
        if (at != header.end()) {
          columns_[f] = static_cast<int>(at - header.begin());
          break;
        }
      }
    }
    header_size_ = header.size();
    summary_.value_column = header[columns_[static_cast<int>(ListField::kValue)]];
    return line_is_header;
  }

  void TextLine(std::string_view trimmed) {
    ++summary_.records;
    // A trailing comment: "evil.example  # phishing kit".
    std::string_view text = trimmed;
    std::string description;
    for (size_t i = 1; i < text.size(); ++i) {
      if (text[i] == '#' && (text[i - 1] == ' ' || text[i - 1] == '\t')) {
        description = std::string(Trim(text.substr(i + 1)));
        text = Trim(text.substr(0, i));
        break;
      }
    }
    std::vector<std::string_view> tokens;
    for (size_t i = 0; i < text.size();) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      const size_t start = i;
      while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
      if (i > start) tokens.push_back(text.substr(start, i - start));
    }
    Record record;
    if (tokens.size() >= 2 && (tokens[0] == "0.0.0.0" || tokens[0] == "127.0.0.1" ||
                               tokens[0] == "::" || tokens[0] == "::1")) {
      record.value = tokens[1];  // a hosts file's blocked name
    } else {
      record.value = tokens[0];
      if (tokens.size() > 1) {
        const size_t rest = tokens[1].data() - text.data();
        std::string more(Trim(text.substr(rest)));
        description = description.empty() ? more : more + " " + description;
      }
    }
    record.description = std::move(description);
    Accept(record);
  }

  void CsvLine(std::string_view trimmed) {
    ++summary_.records;
    if (!SplitCsv(trimmed, &fields_, &scratch_)) {
      Reject("bad CSV quoting");
      return;
    }
    Record record;
    if (columns_.empty()) {
      // Headerless: the first field holding an observable.
      for (std::string_view f : fields_) {
        if (correlation::DetectObservable(f)) {
          record.value = f;
          break;
        }
      }
      if (record.value.empty()) {
        Reject("no field holds an indicator");
        return;
      }
      Accept(record);
      return;
    }
    if (fields_.size() != header_size_) {
      Reject(std::to_string(fields_.size()) + " fields where the header has " +
             std::to_string(header_size_));
      return;
    }
    auto get = [&](ListField field) -> std::string_view {
      const int at = columns_[static_cast<int>(field)];
      return at < 0 ? std::string_view() : Trim(fields_[at]);
    };
    record.value = get(ListField::kValue);
    record.type = get(ListField::kType);
    record.name = get(ListField::kName);
    record.description = std::string(get(ListField::kDescription));
    record.first_seen = get(ListField::kFirstSeen);
    record.last_seen = get(ListField::kLastSeen);
    record.tags = get(ListField::kTags);
    record.confidence = get(ListField::kConfidence);
    record.tlp = get(ListField::kTlp);
    if (record.value.empty()) {
      Reject("the " + summary_.value_column + " column is empty");
      return;
    }
    Accept(record);
  }

  void Reject(std::string reason) {
    ++summary_.rejected;
    if (summary_.errors.size() < kMaxListErrors) {
      summary_.errors.push_back({summary_.lines, std::move(reason)});
    }
  }

  void Accept(const Record& record) {
    auto detected = correlation::DetectObservable(record.value);
    if (!detected) {
      if (auto address = Ipv4WithoutPort(correlation::Refang(record.value))) {
        detected = correlation::DetectObservable(*address);
      }
    }
    std::string shown(record.value.substr(0, 80));
    if (!detected) {
      Reject("'" + shown + "' is not an IP address, network, domain, URL, e-mail address or hash");
      return;
    }
    const std::string pattern = PatternFor(detected->kind, detected->value);
    if (pattern.empty()) {
      Reject("'" + shown + "': no indicator pattern for " +
             std::string(ObservableKindName(detected->kind)));
      return;
    }
    if (!record.type.empty()) {
      auto kinds = KindsOfTypeName(record.type);
      if (!kinds) {
        Reject("unknown type '" + std::string(record.type.substr(0, 40)) + "'");
        return;
      }
      if (std::find(kinds->begin(), kinds->end(), detected->kind) == kinds->end()) {
        Reject("'" + shown + "' is not of type " + std::string(record.type.substr(0, 40)));
        return;
      }
    }
    int confidence = options_.confidence;
    if (!record.confidence.empty()) {
      int value = -1;
      const auto* end = record.confidence.data() + record.confidence.size();
      auto [ptr, ec] = std::from_chars(record.confidence.data(), end, value);
      if (ec != std::errc() || ptr != end || value < 0 || value > 100) {
        Reject("confidence '" + std::string(record.confidence.substr(0, 20)) + "' is not 0 to 100");
        return;
      }
      confidence = value;
    }
    stix::Tlp tlp = options_.tlp;
    if (!record.tlp.empty()) {
      std::string name = AsciiLower(record.tlp);
      if (name.starts_with("tlp:")) name.erase(0, 4);
      auto parsed = stix::ParseTlp(name);
      if (!parsed.ok() || *parsed == stix::Tlp::kNone) {
        Reject("unknown TLP '" + std::string(record.tlp.substr(0, 20)) + "'");
        return;
      }
      tlp = *parsed;
    }
    int64_t valid_from = options_.now_us;
    if (!record.first_seen.empty()) {
      auto t = ParseTimeText(record.first_seen);
      if (!t.ok()) {
        Reject("first_seen '" + std::string(record.first_seen.substr(0, 40)) + "' is not a time");
        return;
      }
      valid_from = *t;
    }
    int64_t last_seen = 0;
    if (!record.last_seen.empty()) {
      auto t = ParseTimeText(record.last_seen);
      if (!t.ok()) {
        Reject("last_seen '" + std::string(record.last_seen.substr(0, 40)) + "' is not a time");
        return;
      }
      last_seen = *t;
    }
    if (valid_from > options_.now_us + kMicrosPerDay) {
      Reject("first_seen is in the future");
      return;
    }

    json::object indicator;
    const std::string now = FormatTimestamp(options_.now_us, 3);
    const std::string kind_name(ObservableKindName(detected->kind));
    indicator["type"] = "indicator";
    indicator["spec_version"] = "2.1";
    indicator["id"] = "indicator--" + Uuid5(kListNamespace, options_.producer + "\n" + kind_name +
                                                                "\n" + detected->value);
    indicator["created"] = now;
    indicator["modified"] = now;
    if (!options_.producer.empty())
      indicator["created_by_ref"] = ProducerIdentityId(options_.producer);
    indicator["name"] = record.name.empty() ? std::string_view(detected->value) : record.name;
    if (!record.description.empty()) indicator["description"] = record.description;
    indicator["indicator_types"] = json::array{json::string(options_.indicator_type)};
    indicator["pattern"] = pattern;
    indicator["pattern_type"] = "stix";
    indicator["pattern_version"] = "2.1";
    indicator["valid_from"] = FormatTimestamp(valid_from, 3);
    if (options_.lifetime_days > 0) {
      const int64_t until =
          std::max(last_seen, options_.now_us) + options_.lifetime_days * kMicrosPerDay;
      if (until > valid_from) indicator["valid_until"] = FormatTimestamp(until, 3);
    }
    if (confidence >= 0) indicator["confidence"] = confidence;
    std::vector<std::string> labels = options_.labels;
    for (std::string& tag : SplitTags(record.tags)) {
      if (std::find(labels.begin(), labels.end(), tag) == labels.end())
        labels.push_back(std::move(tag));
    }
    if (!labels.empty()) {
      json::array array;
      for (const std::string& label : labels) array.emplace_back(label);
      indicator["labels"] = std::move(array);
    }
    indicator["object_marking_refs"] = json::array{json::string(stix::TlpMarkingId(tlp))};
    Status status = sink_(std::move(indicator));
    if (!status.ok()) {
      sink_status_ = status;
      return;
    }
    ++summary_.accepted;
    ++summary_.by_kind[kind_name];
  }

  json::object ProducerIdentity() const {
    json::object identity;
    identity["type"] = "identity";
    identity["spec_version"] = "2.1";
    identity["id"] = ProducerIdentityId(options_.producer);
    // Fixed, so the producer is one version however often its lists come.
    identity["created"] = "2020-01-01T00:00:00.000Z";
    identity["modified"] = "2020-01-01T00:00:00.000Z";
    identity["name"] = options_.producer;
    identity["identity_class"] = "organization";
    return identity;
  }

  const ListOptions& options_;
  const std::function<Status(json::object&&)>& sink_;
  ListSummary summary_;
  Status sink_status_ = Status::Ok();
  bool header_read_ = false;
  std::vector<int> columns_;  // per ListField: the header column, -1 none; empty: headerless
  size_t header_size_ = 0;
  std::vector<std::string_view> fields_;
  std::string scratch_;
};

}  // namespace

Result<ListFormat> ParseListFormat(std::string_view name) {
  const std::string n = AsciiLower(name);
  if (n == "auto") return ListFormat::kAuto;
  if (n == "text" || n == "txt" || n == "list") return ListFormat::kText;
  if (n == "csv") return ListFormat::kCsv;
  return InvalidArgument("unknown list format '" + std::string(name) + "' (auto, text, csv)");
}

std::string_view ListFormatName(ListFormat format) {
  switch (format) {
    case ListFormat::kAuto:
      return "auto";
    case ListFormat::kText:
      return "text";
    case ListFormat::kCsv:
      return "csv";
  }
  return "auto";
}

std::string_view ListFieldName(ListField field) {
  static constexpr std::string_view kNames[kListFieldCount] = {
      "value",     "type", "name",       "description", "first_seen",
      "last_seen", "tags", "confidence", "tlp"};
  return kNames[static_cast<int>(field)];
}

Result<ListField> ParseListField(std::string_view name) {
  for (int f = 0; f < kListFieldCount; ++f) {
    if (ListFieldName(static_cast<ListField>(f)) == name) return static_cast<ListField>(f);
  }
  return InvalidArgument(
      "unknown field '" + std::string(name) +
      "' (value, type, name, description, first_seen, last_seen, tags, confidence, tlp)");
}

const std::vector<std::string>& ListColumnNames(ListField field) {
  static const std::vector<std::string> kNames[kListFieldCount] = {
      {"indicator", "ioc",       "value", "observable",  "url",    "domain",
       "hostname",  "host",      "ip",    "ip_address",  "dst_ip", "src_ip",
       "ip-dst",    "ip-src",    "email", "sha256_hash", "sha256", "md5_hash",
       "md5",       "sha1_hash", "sha1",  "hash"},
      {"type", "indicator_type", "ioc_type", "kind", "attribute_type"},
      {"name", "title"},
      {"description", "comment", "comments", "desc", "info"},
      {"first_seen", "first_seen_utc", "dateadded", "date_added", "first_seen_date", "date",
       "timestamp", "added"},
      {"last_seen", "last_seen_utc", "last_online", "last_seen_date"},
      {"tags", "tag", "labels", "malware", "malware_printable", "threat", "family",
       "malware_family"},
      {"confidence", "score", "confidence_level"},
      {"tlp", "tlp_level"},
  };
  return kNames[static_cast<int>(field)];
}

std::string PatternFor(ObservableKind kind, std::string_view value) {
  const std::string_view path = correlation::StixPathOf(kind);
  if (path.empty()) return "";
  return "[" + std::string(path) + " = '" + pattern::EscapePatternString(value) + "']";
}

std::string ProducerIdentityId(std::string_view producer) {
  return "identity--" + Uuid5(kListNamespace, "producer\n" + std::string(producer));
}

Result<ListSummary> ReadIndicatorList(std::istream& input, const ListOptions& options,
                                      const std::function<Status(json::object&&)>& sink) {
  ListReader reader(options, sink);
  return reader.Read(input);
}

}  // namespace kizuna::interop
