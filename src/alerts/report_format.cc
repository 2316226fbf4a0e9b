#include "alerts/report_format.h"

#include <boost/json.hpp>
#include <sstream>

#include "common/time.h"
#include "common/uuid.h"
#include "stix/stix.h"

namespace kizuna::alerts {

namespace json = boost::json;

namespace {

// The namespace of kizuna's alert ids (UUIDv5).
constexpr std::string_view kAlertNamespace = "6f1d2b9e-4c7a-5e3b-8d21-a09c7e5f3b14";

std::string Time(int64_t micros) { return FormatTimestamp(micros, 0); }

void AppendCsvField(std::string_view value, bool text, std::string* out) {
  const bool formula = text && !value.empty() &&
                       (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
                        value[0] == '\t' || value[0] == '\r');
  // A plain loop: find_first_of calls memchr once per character.
  bool quote = formula;
  for (size_t i = 0; !quote && i < value.size(); ++i) {
    const char c = value[i];
    quote = c == ',' || c == '"' || c == '\r' || c == '\n';
  }
  if (!quote) {
    out->append(value);
    return;
  }
  out->push_back('"');
  if (formula) out->push_back('\'');
  for (char c : value) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// What a report covers, for its name: the day before the cut ("2026-11-28"),
// or the hour for reports shorter than a day ("2026-11-28T13").
std::string CoveredOf(const ReportHeader& h) {
  const std::string last = FormatTimestamp(h.cutoff_us - 1, 0);
  return h.cutoff_us - h.period_start_us < 86400LL * 1000000 ? last.substr(0, 13)
                                                             : last.substr(0, 10);
}

json::object EventObject(const EventRow& e) {
  json::object o{{"event_id", EventIdHex(e.id)},
                 {"ip", e.ip},
                 {"port", e.port},
                 {"protocol", e.protocol},
                 {"hostname", e.hostname},
                 {"asn", e.asn == 0 ? json::value(nullptr) : json::value(e.asn)},
                 {"as_name", e.as_name},
                 {"country", e.country},
                 {"prefix", e.prefix},
                 {"taxonomy", e.taxonomy},
                 {"type", e.type},
                 {"identifier", e.identifier},
                 {"family", e.family},
                 {"count", e.count},
                 {"first_seen", Time(e.first_seen_us)},
                 {"last_seen", Time(e.last_seen_us)},
                 {"confidence", e.confidence},
                 {"source", e.source},
                 {"geo_dataset", e.geo_version}};
  boost::system::error_code ec;
  json::value evidence = json::parse(e.evidence, ec);
  if (!ec && evidence.is_object()) o["evidence"] = std::move(evidence);
  return o;
}

}  // namespace

std::string EventIdHex(int64_t id) {
  static const char* kHex = "0123456789abcdef";
  std::string out(16, '0');
  uint64_t v = static_cast<uint64_t>(id);
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 15];
  return out;
}

std::optional<int64_t> ParseEventIdHex(std::string_view hex) {
  if (hex.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : hex) {
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(digit);
  }
  if (v > 0x7FFFFFFFFFFFFFFFULL) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::string AlertObservedDataId(int64_t event_id) {
  return "observed-data--" + Uuid5(kAlertNamespace, "event:" + EventIdHex(event_id));
}

std::string CsvHeaderLine() {
  return "timestamp,event_id,ip,port,protocol,hostname,asn,as_name,country,prefix,taxonomy,type,"
         "identifier,family,count,first_seen,last_seen,confidence,source\r\n";
}

void AppendCsvLine(const EventRow& e, std::string* out) {
  const std::string last = Time(e.last_seen_us);
  out->append(last).push_back(',');
  out->append(EventIdHex(e.id)).push_back(',');
  out->append(e.ip).push_back(',');
  out->append(std::to_string(e.port)).push_back(',');
  AppendCsvField(e.protocol, true, out);
  out->push_back(',');
  AppendCsvField(e.hostname, true, out);
  out->push_back(',');
  if (e.asn != 0) out->append(std::to_string(e.asn));
  out->push_back(',');
  AppendCsvField(e.as_name, true, out);
  out->push_back(',');
  AppendCsvField(e.country, true, out);
  out->push_back(',');
  out->append(e.prefix).push_back(',');
  AppendCsvField(e.taxonomy, true, out);
  out->push_back(',');
  AppendCsvField(e.type, true, out);
  out->push_back(',');
  AppendCsvField(e.identifier, true, out);
  out->push_back(',');
  AppendCsvField(e.family, true, out);
  out->push_back(',');
  out->append(std::to_string(e.count)).push_back(',');
  out->append(Time(e.first_seen_us)).push_back(',');
  out->append(last).push_back(',');
  out->append(std::to_string(e.confidence)).push_back(',');
  AppendCsvField(e.source, true, out);
  out->append("\r\n");
}

std::string EventJson(const EventRow& event) { return json::serialize(EventObject(event)); }

ReportWriter::ReportWriter(ReportFormat format, ReportHeader header, std::ostream* out)
    : format_(format), header_(std::move(header)), out_(out) {
  switch (format_) {
    case ReportFormat::kCsv:
      *out_ << CsvHeaderLine();
      break;
    case ReportFormat::kJson: {
      json::object head{{"report", header_.id},
                        {"recipient", header_.recipient},
                        {"producer", header_.producer},
                        {"period_start", Time(header_.period_start_us)},
                        {"cutoff", Time(header_.cutoff_us)},
                        {"created", Time(header_.created_us)},
                        {"tlp", stix::TlpName(header_.tlp)}};
      std::string text = json::serialize(head);
      text.pop_back();  // the closing brace: "events" follows
      *out_ << text << ",\"events\":[";
      break;
    }
    case ReportFormat::kStix:
      *out_ << "{\"type\":\"bundle\",\"id\":\"bundle--"
            << Uuid5(kAlertNamespace, "bundle:" + header_.id) << "\",\"objects\":[";
      break;
  }
}

std::string ReportWriter::filename() const {
  const std::string base = "kizuna-" + header_.recipient + "-" + CoveredOf(header_);
  return base + (format_ == ReportFormat::kCsv ? ".csv" : ".json");
}

std::string ReportWriter::content_type() const {
  switch (format_) {
    case ReportFormat::kCsv:
      return "text/csv; charset=utf-8";
    case ReportFormat::kJson:
      return "application/json";
    case ReportFormat::kStix:
      return "application/stix+json;version=2.1";
  }
  return "application/octet-stream";
}

void ReportWriter::Add(const EventRow& e) {
  line_.clear();
  switch (format_) {
    case ReportFormat::kCsv:
      AppendCsvLine(e, &line_);
      break;
    case ReportFormat::kJson:
      if (events_ > 0) line_.push_back(',');
      line_ += json::serialize(EventObject(e));
      break;
    case ReportFormat::kStix: {
      const std::string marking(stix::TlpMarkingId(header_.tlp));
      const std::string created = FormatTimestamp(header_.created_us, 3);
      json::object sco{{"type", e.ip.find(':') == std::string::npos ? "ipv4-addr" : "ipv6-addr"},
                       {"spec_version", "2.1"},
                       {"value", e.ip}};
      sco["id"] = stix::DeterministicScoId(sco);
      const std::string observed_id = AlertObservedDataId(e.id);
      json::object facts = EventObject(e);
      facts.erase("evidence");
      json::object observed{
          {"type", "observed-data"},
          {"spec_version", "2.1"},
          {"id", observed_id},
          {"created", created},
          {"modified", created},
          {"first_observed", FormatTimestamp(e.first_seen_us, 3)},
          {"last_observed", FormatTimestamp(std::max(e.last_seen_us, e.first_seen_us), 3)},
          {"number_observed", std::max<int64_t>(1, e.count)},
          {"object_refs", json::array{sco.at("id")}},
          {"x_kizuna_observation", "infected-host"},
          {"x_kizuna_alert", std::move(facts)},
          {"object_marking_refs", json::array{json::string(marking)}}};
      if (!header_.producer_identity.empty()) {
        observed["created_by_ref"] = header_.producer_identity;
      }
      sco["object_marking_refs"] = json::array{json::string(marking)};
      if (events_ > 0) line_.push_back(',');
      line_ += json::serialize(sco);
      line_.push_back(',');
      line_ += json::serialize(observed);
      observed_ids_.push_back(observed_id);
      break;
    }
  }
  out_->write(line_.data(), static_cast<std::streamsize>(line_.size()));
  ++events_;
}

int64_t ReportWriter::Finish() {
  switch (format_) {
    case ReportFormat::kCsv:
      break;
    case ReportFormat::kJson:
      *out_ << "]}";
      break;
    case ReportFormat::kStix: {
      const std::string marking(stix::TlpMarkingId(header_.tlp));
      const std::string created = FormatTimestamp(header_.created_us, 3);
      const std::string report_id = "report--" + header_.id;
      json::array refs;
      for (const std::string& id : observed_ids_) refs.emplace_back(id);
      // A report refers to at least one object: itself when nothing is in it.
      if (refs.empty()) refs.emplace_back(report_id);
      json::object report{
          {"type", "report"},
          {"spec_version", "2.1"},
          {"id", report_id},
          {"created", created},
          {"modified", created},
          {"name", "Infected hosts in your networks, " + CoveredOf(header_)},
          {"description",
           "kizuna alert report for " + header_.recipient + " from " + header_.producer},
          {"report_types", json::array{"observed-data"}},
          {"published", created},
          {"object_refs", std::move(refs)},
          {"labels", json::array{"kizuna-alert-report"}},
          {"x_kizuna_alert_report", json::object{{"recipient", header_.recipient},
                                                 {"period_start", Time(header_.period_start_us)},
                                                 {"cutoff", Time(header_.cutoff_us)},
                                                 {"events", events_}}},
          {"object_marking_refs", json::array{json::string(marking)}}};
      if (!header_.producer_identity.empty()) report["created_by_ref"] = header_.producer_identity;
      if (events_ > 0) *out_ << ',';
      *out_ << json::serialize(report) << "]}";
      break;
    }
  }
  out_->flush();
  return events_;
}

ReportBody FormatReport(ReportFormat format, const ReportHeader& header,
                        const std::vector<EventRow>& events) {
  std::ostringstream out;
  ReportWriter writer(format, header, &out);
  for (const EventRow& e : events) writer.Add(e);
  writer.Finish();
  return ReportBody{out.str(), writer.filename(), writer.content_type()};
}

}  // namespace kizuna::alerts
