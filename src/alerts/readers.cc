#include "alerts/readers.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <unordered_map>

#include <boost/json.hpp>

#include "alerts/shadowserver.h"
#include "alerts/taxonomy.h"
#include "alerts/text.h"

namespace kizuna::alerts {
namespace {

constexpr size_t kBlockBytes = 1 << 20;

// --- Input in blocks ---------------------------------------------------------

// The unread part of the input, refilled a block at a time. Positions are
// offsets from data(): Fill() moves the bytes, so pointers do not survive it.
class InputBuffer {
 public:
  explicit InputBuffer(std::istream& in) : in_(in), buf_(kBlockBytes + kMaxRecordBytes + 4096) {}

  const char* data() const { return buf_.data() + begin_; }
  size_t size() const { return end_ - begin_; }
  void Consume(size_t n) { begin_ += n; }
  bool bad() const { return bad_; }

  // Reads more after what is held. False when nothing more came (the end of
  // the input, or a read error: see bad()).
  bool Fill() {
    if (eof_) return false;
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    const size_t room = buf_.size() - end_;
    if (room == 0) return false;  // callers never hold more than a record
    in_.read(buf_.data() + end_, static_cast<std::streamsize>(room));
    const size_t got = static_cast<size_t>(in_.gcount());
    end_ += got;
    if (got < room) {
      eof_ = true;
      bad_ = in_.bad();
    }
    return got > 0;
  }

 private:
  std::istream& in_;
  std::vector<char> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool bad_ = false;
};

enum class Flaw { kNone, kOverlong, kUnterminatedQuote };

// Splits the input into records: CSV records (a quoted field may hold line
// breaks) or plain lines (JSON Lines).
class RecordReader {
 public:
  RecordReader(InputBuffer& buf, bool quotes) : buf_(buf), quotes_(quotes) {}

  // False at the end of the input. Otherwise *record is the next record
  // without its line end (valid until the next call), *line its first line,
  // *flaw what is wrong with it as a whole (an over-long record is skipped
  // up to the next line break and *record is empty).
  bool Next(std::string_view* record, int64_t* line, Flaw* flaw) {
    *flaw = Flaw::kNone;
    size_t off = 0;
    bool in_quotes = false;
    int64_t inner_lines = 0;
    for (;;) {
      const char* p = buf_.data();
      const size_t n = buf_.size();
      while (off < n) {
        if (!in_quotes) {
          const void* nl = std::memchr(p + off, '\n', n - off);
          const size_t stop = nl ? static_cast<const char*>(nl) - p : n;
          const void* q = quotes_ ? std::memchr(p + off, '"', stop - off) : nullptr;
          if (q == nullptr) {
            if (nl != nullptr) return Finish(stop, stop + 1, inner_lines, record, line, flaw);
            off = n;
            break;
          }
          off = static_cast<const char*>(q) - p + 1;
          in_quotes = true;
        } else {
          const void* q = std::memchr(p + off, '"', n - off);
          const size_t stop = q ? static_cast<const char*>(q) - p : n;
          inner_lines += std::count(p + off, p + stop, '\n');
          off = q ? stop + 1 : n;
          if (q != nullptr) in_quotes = false;
        }
      }
      if (off > kMaxRecordBytes + 1) {
        SkipLine();
        *record = {};
        *line = line_;
        line_ += 1 + inner_lines;
        *flaw = Flaw::kOverlong;
        return true;
      }
      if (!buf_.Fill()) {
        if (buf_.size() == 0) return false;
        if (in_quotes) *flaw = Flaw::kUnterminatedQuote;
        return Finish(buf_.size(), buf_.size(), inner_lines, record, line, flaw);
      }
    }
  }

  int64_t line() const { return line_; }

 private:
  bool Finish(size_t stop, size_t consume, int64_t inner_lines, std::string_view* record,
              int64_t* line, Flaw* flaw) {
    std::string_view r(buf_.data(), stop);
    if (!r.empty() && r.back() == '\r') r.remove_suffix(1);
    buf_.Consume(consume);
    *line = line_;
    line_ += 1 + inner_lines;
    if (r.size() > kMaxRecordBytes) {
      *flaw = Flaw::kOverlong;
      r = {};
    }
    *record = r;
    return true;
  }

  // Drops everything up to and with the next line break.
  void SkipLine() {
    for (;;) {
      const void* nl = std::memchr(buf_.data(), '\n', buf_.size());
      if (nl != nullptr) {
        buf_.Consume(static_cast<const char*>(nl) - buf_.data() + 1);
        return;
      }
      buf_.Consume(buf_.size());
      if (!buf_.Fill()) return;
    }
  }

  InputBuffer& buf_;
  const bool quotes_;
  int64_t line_ = 1;
};

// Splits a JSON array into its elements without holding more than one.
class ArrayReader {
 public:
  explicit ArrayReader(InputBuffer& buf) : buf_(buf) {}

  // Call with the buffer at the '['. False after the array's end (or the
  // end of the input); *index is the element's 1-based position.
  bool Next(std::string_view* element, int64_t* index, Flaw* flaw) {
    *flaw = Flaw::kNone;
    if (done_) return false;
    if (!started_) {
      buf_.Consume(1);  // '['
      started_ = true;
      if (!SkipSpace()) return Unterminated(element, index, flaw);
      if (buf_.data()[0] == ']') {
        buf_.Consume(1);
        done_ = true;
        return false;
      }
    }
    if (!SkipSpace()) return Unterminated(element, index, flaw);
    size_t off = 0;
    int depth = 0;
    bool in_string = false;
    bool escape = false;
    bool skipping = false;
    for (;;) {
      const char* p = buf_.data();
      const size_t n = buf_.size();
      for (; off < n; ++off) {
        const char c = p[off];
        if (in_string) {
          if (escape) {
            escape = false;
          } else if (c == '\\') {
            escape = true;
          } else if (c == '"') {
            in_string = false;
          }
          continue;
        }
        if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
          --depth;
        } else if (depth == 0 && (c == ',' || c == ']')) {
          *index = ++count_;
          *element = skipping ? std::string_view() : Trim(std::string_view(p, off));
          if (skipping) *flaw = Flaw::kOverlong;
          buf_.Consume(off + 1);
          if (c == ']') done_ = true;
          return true;
        }
      }
      if (off > kMaxRecordBytes) {
        skipping = true;
        buf_.Consume(off);
        off = 0;
      }
      if (!buf_.Fill()) {
        *index = ++count_;
        *element = {};
        *flaw = skipping ? Flaw::kOverlong : Flaw::kUnterminatedQuote;
        done_ = true;
        buf_.Consume(buf_.size());
        return true;
      }
    }
  }

  int64_t count() const { return count_; }

  // After the array: true when only white space follows.
  bool OnlySpaceFollows() {
    if (!SkipSpace()) return true;
    return false;
  }

 private:
  // Skips white space; false at the end of the input.
  bool SkipSpace() {
    for (;;) {
      const char* p = buf_.data();
      size_t i = 0;
      while (i < buf_.size() && IsSpace(p[i])) ++i;
      buf_.Consume(i);
      if (buf_.size() > 0) return true;
      if (!buf_.Fill()) return false;
    }
  }

  bool Unterminated(std::string_view* element, int64_t* index, Flaw* flaw) {
    done_ = true;
    *index = ++count_;
    *element = {};
    *flaw = Flaw::kUnterminatedQuote;
    return true;
  }

  InputBuffer& buf_;
  bool started_ = false;
  bool done_ = false;
  int64_t count_ = 0;
};

// --- CSV fields --------------------------------------------------------------

// --- Fields of an observation -----------------------------------------------

enum Field : int {
  kIp,
  kTime,
  kPort,
  kProtocol,
  kTaxonomy,
  kType,
  kIdentifier,
  kFamily,
  kHostname,
  kAsn,
  kCountry,
  kConfidence,
  kFeed,
  kFieldCount,
};

constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "IP address", "time",     "port", "protocol", "taxonomy",   "type", "identifier",
    "family",     "hostname", "ASN",  "country",  "confidence", "feed"};

// Column or key name -> (field, preference: lower wins), from a CsvMapping.
using NameTable = std::unordered_map<std::string, std::pair<Field, int>>;

NameTable BuildNameTable(const CsvMapping& m) {
  NameTable table;
  const std::array<const std::vector<std::string>*, kFieldCount> lists = {
      &m.ip,     &m.time,     &m.port, &m.protocol, &m.taxonomy,   &m.type, &m.identifier,
      &m.family, &m.hostname, &m.asn,  &m.country,  &m.confidence, &m.feed};
  for (int f = 0; f < kFieldCount; ++f) {
    for (size_t i = 0; i < lists[f]->size(); ++i) {
      table.emplace((*lists[f])[i], std::make_pair(static_cast<Field>(f), static_cast<int>(i)));
    }
  }
  return table;
}

// How the records of one input become observations.
struct Plan {
  std::array<int, kFieldCount> column;  // CSV: the column of each field, -1 if none
  // Shadowserver: the classification fixed by the report.
  bool shadowserver = false;
  bool exchange = false;  // scan_exchange / scan6_exchange: classification from the tag
  std::string fixed_taxonomy, fixed_type, fixed_identifier, fixed_protocol;
  std::string source;
  Plan() { column.fill(-1); }
};

std::string ValueForMessage(std::string_view value) {
  constexpr size_t kMax = 64;
  std::string out;
  for (size_t i = 0; i < value.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (value.size() > kMax) out += "...";
  return out;
}

void AssignLower(std::string_view text, std::string* out) {
  out->assign(text);
  for (char& c : *out) c = AsciiLower(c);
}

bool ParseUint(std::string_view text, uint64_t max, uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > max) return false;
  *out = v;
  return true;
}

std::string_view NormalProtocol(std::string_view text) {
  char lower[16];
  if (text.empty() || text.size() >= sizeof(lower)) return {};
  for (size_t i = 0; i < text.size(); ++i) lower[i] = AsciiLower(text[i]);
  const std::string_view t(lower, text.size());
  if (t == "tcp" || t == "6") return "tcp";
  if (t == "udp" || t == "17") return "udp";
  if (t == "icmp" || t == "1" || t == "icmpv6" || t == "ipv6-icmp" || t == "58") return "icmp";
  return {};
}

// Turns the field values of one record into *obs. False with *reason when
// the record is refused.
class ObservationBuilder {
 public:
  ObservationBuilder(const ReadOptions& options, const Plan& plan)
      : options_(options), plan_(plan) {}

  bool Build(const std::array<std::string_view, kFieldCount>& raw, Observation* obs,
             std::string* reason) {
    std::array<std::string_view, kFieldCount> v;
    for (int f = 0; f < kFieldCount; ++f) v[f] = Trim(raw[f]);

    if (v[kIp].empty()) return Refuse(reason, "no IP address");
    auto ip = ParseHostAddress(v[kIp]);
    if (!ip) return Refuse(reason, "bad IP address '" + ValueForMessage(v[kIp]) + "'");
    if (ip->is_v6 ? ip->v6 == correlation::Ipv6Bytes{} : ip->v4 == 0) {
      return Refuse(reason, "not a host address: '" + ValueForMessage(v[kIp]) + "'");
    }
    obs->ip = *ip;

    if (v[kTime].empty()) {
      if (options_.now_us == 0) return Refuse(reason, "no time");
      obs->time_us = options_.now_us;
    } else {
      auto t = ParseObservationTime(v[kTime]);
      if (!t.ok()) return Refuse(reason, "bad time '" + ValueForMessage(v[kTime]) + "'");
      obs->time_us = *t;
    }

    if (!v[kPort].empty()) {
      uint64_t port;
      if (!ParseUint(v[kPort], 65535, &port)) {
        return Refuse(reason, "bad port '" + ValueForMessage(v[kPort]) + "'");
      }
      obs->port = static_cast<uint16_t>(port);
    }
    obs->protocol = NormalProtocol(v[kProtocol]);
    if (obs->protocol.empty()) obs->protocol = plan_.fixed_protocol;

    if (!v[kAsn].empty()) {
      std::string_view a = v[kAsn];
      if (a.size() > 2 && AsciiLower(a[0]) == 'a' && AsciiLower(a[1]) == 's') a.remove_prefix(2);
      uint64_t asn;
      if (!ParseUint(a, 0xffffffffull, &asn)) {
        return Refuse(reason, "bad ASN '" + ValueForMessage(v[kAsn]) + "'");
      }
      obs->feed_asn = static_cast<uint32_t>(asn);
    }
    if (v[kCountry].size() == 2 && IsAsciiAlpha(v[kCountry][0]) && IsAsciiAlpha(v[kCountry][1])) {
      obs->feed_country = {AsciiUpper(v[kCountry][0]), AsciiUpper(v[kCountry][1])};
    }
    obs->confidence = options_.default_confidence;
    if (!v[kConfidence].empty()) {
      double c = -1;
      auto [end, ec] =
          std::from_chars(v[kConfidence].data(), v[kConfidence].data() + v[kConfidence].size(), c);
      if (ec != std::errc() || end != v[kConfidence].data() + v[kConfidence].size() || !(c >= 0) ||
          c > 100) {
        return Refuse(reason,
                      "bad confidence '" + ValueForMessage(v[kConfidence]) + "' (0 to 100)");
      }
      obs->confidence = static_cast<int>(c + 0.5);
    }
    if (!v[kHostname].empty()) obs->hostname.assign(v[kHostname]);
    AssignLower(v[kFamily], &obs->family);

    if (!Classify(v, obs, reason)) return false;

    if (v[kFeed].empty()) {
      obs->source = plan_.source;
    } else if (options_.source.empty()) {
      obs->source.assign(v[kFeed]);
    } else {
      obs->source = options_.source + "/" + std::string(v[kFeed]);
    }
    return true;
  }

 private:
  static bool Refuse(std::string* reason, std::string text) {
    *reason = std::move(text);
    return false;
  }

  bool Classify(const std::array<std::string_view, kFieldCount>& v, Observation* obs,
                std::string* reason) {
    if (plan_.shadowserver) {
      if (plan_.exchange) {
        // Shadowserver's scan_exchange_* functions: a webshell tag is a
        // compromise, anything else a vulnerable server.
        const bool webshell = v[kIdentifier].find("webshell") != std::string_view::npos;
        obs->taxonomy = webshell ? "intrusions" : "vulnerable";
        obs->type = webshell ? "system-compromise" : "vulnerable-system";
        obs->identifier = webshell ? "exchange-server-webshell" : "vulnerable-exchange-server";
        return true;
      }
      obs->taxonomy = plan_.fixed_taxonomy;
      obs->type = plan_.fixed_type;
      if (!plan_.fixed_identifier.empty()) {
        obs->identifier = plan_.fixed_identifier;
      } else {
        AssignLower(v[kIdentifier], &obs->identifier);
      }
      if (obs->identifier.empty()) obs->identifier = obs->family;
      if (obs->identifier.empty()) obs->identifier = options_.default_identifier;
      return true;
    }
    AssignLower(v[kTaxonomy], &taxonomy_);
    AssignLower(v[kType], &type_);
    Status st = ResolveClassification(taxonomy_, type_, options_.default_taxonomy,
                                      options_.default_type, &obs->taxonomy, &obs->type);
    if (!st.ok()) return Refuse(reason, st.message());
    AssignLower(v[kIdentifier], &obs->identifier);
    if (obs->identifier.empty()) obs->identifier = options_.default_identifier;
    if (obs->identifier.empty()) obs->identifier = obs->family;
    return true;
  }

  const ReadOptions& options_;
  const Plan& plan_;
  std::string taxonomy_, type_;
};

// --- Reading each format ----------------------------------------------------

class Reader {
 public:
  Reader(InputBuffer& buf, const ReadOptions& options,
         const std::function<void(Observation&&)>& sink, ReadSummary* summary)
      : buf_(buf), options_(options), sink_(sink), summary_(summary) {}

  void Reject(int64_t line, std::string reason) {
    ++summary_->rejected;
    if (summary_->errors.size() < kMaxReportedErrors) {
      summary_->errors.push_back({line, std::move(reason)});
    }
  }

  // The header's plan, or an error when the input is not this format.
  Result<Plan> PlanCsv(const std::vector<std::string>& header, bool shadowserver_only,
                       bool generic_only) {
    std::vector<std::string_view> columns(header.begin(), header.end());
    auto index_of = [&](std::string_view name) -> int {
      auto it = std::find(columns.begin(), columns.end(), name);
      return it == columns.end() ? -1 : static_cast<int>(it - columns.begin());
    };
    Plan plan;
    if (!generic_only) {
      std::string hint = options_.report_type;
      if (hint.size() > 4 && hint.substr(hint.size() - 4) == ".csv") {
        hint = ShadowserverReportFromFileName(hint);
      }
      const ShadowserverReport* report = nullptr;
      ShadowserverReport unknown{};
      if (!hint.empty()) {
        report = FindShadowserverReport(hint);
        const bool looks_like =
            index_of("timestamp") >= 0 && (index_of("ip") >= 0 || index_of("src_ip") >= 0);
        if (report == nullptr && (looks_like || shadowserver_only)) {
          // A report this table does not know: its layout from the header,
          // scans classified as Shadowserver classifies them.
          unknown.name = hint;
          unknown.layout =
              index_of("src_ip") >= 0 ? ShadowserverLayout::kEvent : ShadowserverLayout::kScan;
          if (hint.rfind("scan", 0) == 0) {
            unknown.taxonomy = "vulnerable";
            unknown.type = "vulnerable-system";
          }
          unknown.identifier_column = "tag";
          unknown.family_column = "infection";
          report = &unknown;
        } else if (report != nullptr && !looks_like && !shadowserver_only) {
          report = nullptr;  // the hint does not fit this header: generic CSV
        }
      } else {
        report = DetectShadowserverReport(columns);
      }
      if (report == nullptr && shadowserver_only) {
        return InvalidArgument(
            "not a Shadowserver report header that names its report; give the report type "
            "(e.g. scan_telnet)");
      }
      if (report != nullptr) {
        const bool event = report->layout == ShadowserverLayout::kEvent;
        const bool drone = report->layout == ShadowserverLayout::kDrone;
        plan.shadowserver = true;
        plan.column[kIp] = index_of(event ? "src_ip" : "ip");
        if (plan.column[kIp] < 0) {
          return InvalidArgument("the header names no IP column ('" +
                                 std::string(event ? "src_ip" : "ip") + "' for " +
                                 std::string(report->name) + ")");
        }
        plan.column[kTime] = index_of("timestamp");
        plan.column[kPort] = index_of(event ? "src_port" : "port");
        plan.column[kProtocol] = index_of(drone ? "type" : "protocol");
        plan.column[kHostname] = index_of(event ? "src_hostname" : "hostname");
        plan.column[kAsn] = index_of(event ? "src_asn" : "asn");
        plan.column[kCountry] = index_of(event ? "src_geo" : "geo");
        if (!report->identifier_column.empty()) {
          plan.column[kIdentifier] = index_of(report->identifier_column);
        }
        if (!report->family_column.empty()) plan.column[kFamily] = index_of(report->family_column);
        plan.exchange = report->taxonomy.empty() && report->identifier_column == "tag";
        plan.fixed_taxonomy = report->taxonomy;
        plan.fixed_type = report->type;
        if (plan.fixed_taxonomy.empty() && !plan.exchange) {
          plan.fixed_taxonomy =
              options_.default_taxonomy.empty() ? "other" : options_.default_taxonomy;
          plan.fixed_type = options_.default_type.empty() ? "undetermined" : options_.default_type;
        }
        plan.fixed_identifier = report->identifier;
        plan.fixed_protocol = report->transport;
        plan.source =
            options_.source.empty() ? "shadowserver/" + std::string(report->name) : options_.source;
        summary_->format_detected = "shadowserver";
        summary_->report_type = std::string(report->name);
        return plan;
      }
    }
    const NameTable table = BuildNameTable(options_.mapping);
    std::array<int, kFieldCount> best;
    best.fill(1 << 30);
    for (size_t i = 0; i < columns.size(); ++i) {
      auto it = table.find(std::string(columns[i]));
      if (it == table.end()) continue;
      auto [field, rank] = it->second;
      if (rank < best[field]) {
        best[field] = rank;
        plan.column[field] = static_cast<int>(i);
      }
    }
    plan.column[kFeed] = -1;  // JSON only
    if (plan.column[kIp] < 0) {
      return InvalidArgument("the header names no IP column (looked for " +
                             JoinNames(options_.mapping.ip) + ")");
    }
    plan.source = options_.source.empty() ? "csv" : options_.source;
    summary_->format_detected = "csv";
    return plan;
  }

  // Reads the CSV header (the first record). Error when there is none.
  Result<std::vector<std::string>> ReadHeader(RecordReader& records) {
    std::string_view record;
    int64_t line;
    Flaw flaw;
    while (records.Next(&record, &line, &flaw)) {
      if (flaw != Flaw::kNone) return InvalidArgument("the header line is not CSV");
      if (Trim(record).empty()) continue;
      if (!IsValidUtf8(record)) return InvalidArgument("the header line is not UTF-8");
      std::vector<std::string_view> fields;
      std::string scratch;
      if (!SplitCsv(record, &fields, &scratch)) {
        return InvalidArgument("the header line is not CSV (bad quoting)");
      }
      std::vector<std::string> header;
      for (auto f : fields) header.emplace_back(Trim(f));
      return header;
    }
    return InvalidArgument("no header line");
  }

  void ReadCsvRows(RecordReader& records, const std::vector<std::string>& header,
                   const Plan& plan) {
    ObservationBuilder builder(options_, plan);
    std::vector<std::string_view> fields;
    fields.reserve(header.size() + 8);
    std::string scratch(kMaxRecordBytes + 16, '\0');
    std::string reason;
    const auto columns = std::make_shared<const std::string>(PackCsvColumns(header));
    CsvEvidence evidence;
    evidence.SetColumns(*columns);
    evidence_.reserve(kMaxEvidenceBytes + 64);
    std::string_view record;
    int64_t line;
    Flaw flaw;
    while (records.Next(&record, &line, &flaw)) {
      if (flaw == Flaw::kNone && IsBlank(record)) continue;
      ++summary_->records;
      if (flaw == Flaw::kOverlong) {
        Reject(line, "line longer than " + std::to_string(kMaxRecordBytes) + " bytes");
        continue;
      }
      if (flaw == Flaw::kUnterminatedQuote) {
        Reject(line, "unterminated quoted field");
        continue;
      }
      if (!IsValidUtf8(record)) {
        Reject(line, "invalid UTF-8");
        continue;
      }
      if (!SplitCsv(record, &fields, &scratch)) {
        Reject(line, "bad quoting (a quoted field must be followed by a comma)");
        continue;
      }
      if (fields.size() != header.size()) {
        Reject(line, "expected " + std::to_string(header.size()) + " fields, found " +
                         std::to_string(fields.size()));
        continue;
      }
      std::array<std::string_view, kFieldCount> values{};
      for (int f = 0; f < kFieldCount; ++f) {
        if (plan.column[f] >= 0) values[f] = fields[plan.column[f]];
      }
      Observation obs;
      if (!builder.Build(values, &obs, &reason)) {
        Reject(line, std::move(reason));
        continue;
      }
      if (options_.evidence_as_record && record.size() <= kMaxEvidenceBytes) {
        obs.evidence.assign(record);
        obs.evidence_columns = columns;
      } else {
        evidence.RenderFields(fields, &evidence_);
        obs.evidence = evidence_;  // one allocation of the right size
      }
      ++summary_->accepted;
      sink_(std::move(obs));
    }
  }

  // One JSON object -> an observation (or a rejection).
  void ReadJsonRecord(std::string_view text, int64_t line, const NameTable& table,
                      ObservationBuilder& builder) {
    ++summary_->records;
    boost::json::monotonic_resource arena(arena_buffer_.data(), arena_buffer_.size());
    boost::json::parse_options parse_options;
    parse_options.max_depth = 16;
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec, &arena, parse_options);
    if (ec) {
      Reject(line, "invalid JSON: " + ec.message());
      return;
    }
    if (!value.is_object()) {
      Reject(line, "not a JSON object");
      return;
    }
    flat_.clear();
    Flatten(value.as_object(), "", 0);
    std::array<std::string_view, kFieldCount> values{};
    std::array<int, kFieldCount> best;
    best.fill(1 << 30);
    for (size_t i = 0; i < flat_.size(); ++i) {
      auto it = table.find(flat_[i].first);
      if (it == table.end()) continue;
      const boost::json::value& v = *flat_[i].second;
      if (v.is_null() || (v.is_string() && v.get_string().empty())) continue;
      auto [field, rank] = it->second;
      if (rank >= best[field]) continue;
      std::string_view text_value;
      if (v.is_string()) {
        text_value = std::string_view(v.get_string().data(), v.get_string().size());
      } else if (v.is_number() && field != kIp) {
        text_value = NumberText(v, field);
      } else {
        Reject(line, "field '" + ValueForMessage(flat_[i].first) + "' (" +
                         std::string(kFieldNames[field]) + ") is not " +
                         (field == kIp ? "a string" : "a string or a number"));
        return;
      }
      best[field] = rank;
      values[field] = text_value;
    }
    Observation obs;
    std::string reason;
    if (!builder.Build(values, &obs, &reason)) {
      Reject(line, std::move(reason));
      return;
    }
    EvidenceWriter evidence(&evidence_);
    for (const auto& [key, v] : flat_) {
      if (v->is_null() || (v->is_string() && v->get_string().empty())) continue;
      if (v->is_string()) {
        evidence.AddString(key, std::string_view(v->get_string().data(), v->get_string().size()));
      } else {
        evidence.AddRaw(key, boost::json::serialize(*v));
      }
    }
    evidence.Finish();
    obs.evidence = evidence_;
    ++summary_->accepted;
    sink_(std::move(obs));
  }

  void ReadJsonLines(const Plan& plan) {
    summary_->format_detected = "json-lines";
    const NameTable table = BuildNameTable(options_.mapping);
    ObservationBuilder builder(options_, plan);
    RecordReader records(buf_, /*quotes=*/false);
    std::string_view record;
    int64_t line;
    Flaw flaw;
    while (records.Next(&record, &line, &flaw)) {
      if (flaw == Flaw::kNone && IsBlank(record)) continue;
      if (flaw == Flaw::kOverlong) {
        ++summary_->records;
        Reject(line, "line longer than " + std::to_string(kMaxRecordBytes) + " bytes");
        continue;
      }
      ReadJsonRecord(record, line, table, builder);
    }
  }

  void ReadJsonArray(const Plan& plan) {
    summary_->format_detected = "json-array";
    const NameTable table = BuildNameTable(options_.mapping);
    ObservationBuilder builder(options_, plan);
    ArrayReader elements(buf_);
    std::string_view element;
    int64_t index;
    Flaw flaw;
    while (elements.Next(&element, &index, &flaw)) {
      if (flaw == Flaw::kOverlong) {
        ++summary_->records;
        Reject(index, "element longer than " + std::to_string(kMaxRecordBytes) + " bytes");
        continue;
      }
      if (flaw == Flaw::kUnterminatedQuote) {
        if (IsBlank(element)) {
          ++summary_->records;
          Reject(index, "unterminated JSON array");
        }
        break;
      }
      if (element.empty()) {
        ++summary_->records;
        Reject(index, "empty array element");
        continue;
      }
      ReadJsonRecord(element, index, table, builder);
    }
    if (!elements.OnlySpaceFollows()) {
      ++summary_->records;
      Reject(elements.count() + 1, "data after the JSON array");
    }
  }

 private:
  static bool IsBlank(std::string_view s) { return Trim(s).empty(); }

  static std::string JoinNames(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
      if (!out.empty()) out += ", ";
      out += n;
    }
    return out.empty() ? "nothing" : out;
  }

  std::string_view NumberText(const boost::json::value& v, Field field) {
    char* out = number_text_[field];
    const size_t size = sizeof(number_text_[field]);
    std::to_chars_result r;
    if (v.is_int64()) {
      r = std::to_chars(out, out + size, v.get_int64());
    } else if (v.is_uint64()) {
      r = std::to_chars(out, out + size, v.get_uint64());
    } else {
      r = std::to_chars(out, out + size, v.get_double(), std::chars_format::fixed, 6);
    }
    return std::string_view(out, r.ec == std::errc() ? r.ptr - out : 0);
  }

  // Nested objects become dotted keys ({"source": {"ip": …}} -> "source.ip").
  void Flatten(const boost::json::object& object, const std::string& prefix, int depth) {
    for (const auto& kv : object) {
      std::string key = prefix;
      key.append(kv.key().data(), kv.key().size());
      if (kv.value().is_object() && depth < 8) {
        Flatten(kv.value().get_object(), key + ".", depth + 1);
      } else {
        flat_.emplace_back(std::move(key), &kv.value());
      }
    }
  }

  InputBuffer& buf_;
  const ReadOptions& options_;
  const std::function<void(Observation&&)>& sink_;
  ReadSummary* summary_;
  std::vector<std::pair<std::string, const boost::json::value*>> flat_;
  std::string evidence_;
  std::array<unsigned char, 16384> arena_buffer_;
  char number_text_[kFieldCount][40];
};

Status CheckOptions(const ReadOptions& options) {
  Status st = CheckClassification(options.default_taxonomy, options.default_type);
  if (!st.ok()) return InvalidArgument("default classification: " + st.message());
  if (!options.default_taxonomy.empty() && options.default_type.empty() &&
      options.default_taxonomy != "other") {
    return InvalidArgument("a default taxonomy needs a default type");
  }
  if (options.default_confidence < 0 || options.default_confidence > 100) {
    return InvalidArgument("the default confidence must be 0 to 100");
  }
  return Status::Ok();
}

}  // namespace

std::string_view InputFormatName(InputFormat format) {
  switch (format) {
    case InputFormat::kAuto:
      return "auto";
    case InputFormat::kShadowserver:
      return "shadowserver";
    case InputFormat::kCsv:
      return "csv";
    case InputFormat::kJson:
      return "json";
  }
  return "auto";
}

Result<InputFormat> ParseInputFormat(std::string_view name) {
  std::string lower;
  AssignLower(name, &lower);
  for (auto f :
       {InputFormat::kAuto, InputFormat::kShadowserver, InputFormat::kCsv, InputFormat::kJson}) {
    if (lower == InputFormatName(f)) return f;
  }
  return InvalidArgument("unknown input format '" + std::string(name) +
                         "' (auto, shadowserver, csv or json)");
}

Result<int64_t> ParseObservationTime(std::string_view text) { return ParseTimeText(Trim(text)); }

Result<ReadSummary> ReadObservations(std::istream& input, const ReadOptions& options,
                                     const std::function<void(Observation&&)>& sink) {
  KIZUNA_RETURN_IF_ERROR(CheckOptions(options));
  ReadSummary summary;
  InputBuffer buf(input);
  buf.Fill();
  if (buf.size() >= 3 && std::memcmp(buf.data(), "\xEF\xBB\xBF", 3) == 0) buf.Consume(3);
  // The first character that is not white space tells JSON from CSV.
  size_t first = 0;
  for (;;) {
    while (first < buf.size() && IsSpace(buf.data()[first])) ++first;
    if (first < buf.size() || first > kMaxRecordBytes || !buf.Fill()) break;
  }
  if (buf.bad()) return IoError("reading the input failed");
  const bool empty = first >= buf.size();
  const char c = empty ? '\0' : buf.data()[first];
  Reader reader(buf, options, sink, &summary);
  const bool json_start = c == '[' || c == '{';
  if (options.format == InputFormat::kJson ||
      (options.format == InputFormat::kAuto && json_start)) {
    if (empty) {
      summary.format_detected = "json-lines";
      return summary;
    }
    Plan plan;
    plan.source = options.source.empty() ? "json" : options.source;
    if (c == '[') {
      // The array reader starts at the '['; lines before it are white space.
      buf.Consume(first);
      reader.ReadJsonArray(plan);
    } else if (c == '{') {
      reader.ReadJsonLines(plan);
    } else {
      return InvalidArgument("not JSON: the input starts with neither '{' nor '['");
    }
  } else {
    if (empty) return InvalidArgument("the input is empty: nothing to tell its format by");
    RecordReader records(buf, /*quotes=*/true);
    KIZUNA_ASSIGN_OR_RETURN(auto header, reader.ReadHeader(records));
    auto plan = reader.PlanCsv(header, options.format == InputFormat::kShadowserver,
                               options.format == InputFormat::kCsv);
    if (!plan.ok()) {
      if (options.format == InputFormat::kAuto) {
        return InvalidArgument("cannot detect the input format: neither JSON nor a CSV header (" +
                               plan.status().message() + ")");
      }
      return plan.status();
    }
    reader.ReadCsvRows(records, header, *plan);
  }
  if (buf.bad()) return IoError("reading the input failed");
  return summary;
}

}  // namespace kizuna::alerts
