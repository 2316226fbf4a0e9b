#include "alerts/reports.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "alerts/event_chunks.h"
#include "common/time.h"
#include "common/uuid.h"

namespace kizuna::alerts {

namespace {

constexpr std::string_view kReportNamespace = "0b7f6c1e-2d4a-5b8c-9e3f-71a2d4c6b8e0";

struct Cut {
  int64_t range_from = 0;    // the previous cut's cutoff (0: none)
  int64_t period_start = 0;  // what the report says it covers
  int64_t cutoff = 0;
};

// Where `recipient`'s next report is cut, or nullopt when none is due.
Result<std::optional<Cut>> DueCut(store::sqlite::Connection& c, const Recipient& r,
                                  const BuildOptions& options) {
  const int64_t period = r.period_seconds * 1000000;
  KIZUNA_ASSIGN_OR_RETURN(const int64_t last_cutoff, LastCutoff(c, r.name));
  // Weekly periods start on Mondays (1970-01-01 was a Thursday).
  const int64_t offset = r.period_seconds == 604800 ? 4LL * 86400 * 1000000 : 0;
  const int64_t boundary =
      options.cut_now ? options.now_us : (options.now_us - offset) / period * period + offset;
  if (boundary <= last_cutoff) return std::optional<Cut>();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement pending,
      c.Prepare("SELECT 1 FROM event_chunks WHERE recipient = ?1 AND received >= ?2 AND "
                "received < ?3 LIMIT 1"));
  pending.Bind(1, r.name).Bind(2, last_cutoff).Bind(3, boundary);
  KIZUNA_ASSIGN_OR_RETURN(bool any, pending.Step());
  if (!any) return std::optional<Cut>();
  Cut cut;
  cut.range_from = last_cutoff;
  cut.cutoff = boundary;
  cut.period_start = last_cutoff > 0 ? last_cutoff : boundary - period;
  return std::optional<Cut>(cut);
}

// Calls `visit(chunk rowid, slot, event)` for each event of `recipient`
// that arrived in [from, to), in arrival order.
Status ForEachEventInRange(store::sqlite::Connection& c, const std::string& recipient, int64_t from,
                           int64_t to,
                           const std::function<Status(int64_t, size_t, const EventRow&)>& visit,
                           bool with_evidence = true) {
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement chunks,
      c.Prepare("SELECT rowid, received, slots, data FROM event_chunks WHERE recipient = ?1 AND "
                "received >= ?2 AND received < ?3 ORDER BY received, rowid"));
  chunks.Bind(1, recipient).Bind(2, from).Bind(3, to);
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, chunks.Step());
    if (!row) break;
    const int64_t chunk = chunks.ColumnInt(0);
    KIZUNA_RETURN_IF_ERROR(ForEachEvent(
        chunks.ColumnBlob(2), chunks.ColumnBlob(3), recipient, chunks.ColumnInt(1),
        [&](size_t slot, const EventRow& e) { return visit(chunk, slot, e); }, with_evidence));
  }
  return Status::Ok();
}

// The recipient's events in the cut's range, each decided: included
// (written by `writer`), suppressed or withheld.
struct Decided {
  int64_t included = 0, suppressed = 0, withheld = 0;
  std::map<int64_t, std::vector<uint32_t>> left_out;      // chunk rowid -> slots
  std::vector<uint64_t> reported_findings;                // keys of the included
  std::vector<std::pair<int64_t, std::string>> followed;  // event id, ip (reported_events)
};

Result<std::vector<FindingEntry>> LoadFindings(store::sqlite::Connection& c,
                                               const std::string& recipient) {
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement read,
                          c.Prepare("SELECT entries FROM reported_findings WHERE recipient = ?1"));
  read.Bind(1, recipient);
  KIZUNA_ASSIGN_OR_RETURN(bool row, read.Step());
  if (!row) return std::vector<FindingEntry>();
  return ReadFindings(read.ColumnBlob(0));
}

Result<Decided> Decide(store::sqlite::Connection& c, const Recipient& r, const Cut& cut,
                       const sharing::SharingPolicy& policy, ReportWriter* writer) {
  Decided decided;
  const sharing::Recipient party = AffectedParty(policy, r);
  const int64_t window_start = cut.cutoff - int64_t{r.suppress_days} * kMicrosPerDay;
  std::vector<FindingEntry> findings;
  if (r.suppress_days > 0 && !r.repeat_persisting) {
    KIZUNA_ASSIGN_OR_RETURN(findings, LoadFindings(c, r.name));
  }
  auto recently_reported = [&](uint64_t key) {
    auto it = std::lower_bound(findings.begin(), findings.end(), key,
                               [](const FindingEntry& entry, uint64_t k) { return entry.key < k; });
    return it != findings.end() && it->key == key && it->last_reported_us >= window_start;
  };
  std::vector<uint32_t>* left_out = nullptr;
  int64_t left_out_chunk = -1;
  KIZUNA_RETURN_IF_ERROR(ForEachEventInRange(
      c, r.name, cut.range_from, cut.cutoff,
      [&](int64_t chunk, size_t slot, const EventRow& e) -> Status {
        bool leave_out = false;
        if (!MayReach(policy, e.tlp, e.origin, party)) {
          ++decided.withheld;
          leave_out = true;
        } else {
          const uint64_t key = FindingKey(e.ip, e.type, e.identifier);
          if (!findings.empty() && recently_reported(key)) {
            ++decided.suppressed;
            leave_out = true;
          } else {
            ++decided.included;
            decided.reported_findings.push_back(key);
            if (r.channel == Channel::kNode || !e.origin.empty()) {
              decided.followed.emplace_back(e.id, e.ip);
            }
            if (writer != nullptr) writer->Add(e);
          }
        }
        if (leave_out) {
          if (chunk != left_out_chunk) {
            left_out = &decided.left_out[chunk];
            left_out_chunk = chunk;
          }
          left_out->push_back(static_cast<uint32_t>(slot));
        }
        return Status::Ok();
      },
      writer != nullptr && writer->needs_evidence()));
  return decided;
}

ReportHeader HeaderFor(const Recipient& r, const Cut& cut, const BuildOptions& options) {
  ReportHeader h;
  h.id = ReportId(r.name, cut.cutoff);
  h.recipient = r.name;
  h.producer = options.producer;
  h.producer_identity = options.producer_identity;
  h.period_start_us = cut.period_start;
  h.cutoff_us = cut.cutoff;
  h.created_us = options.now_us;
  h.tlp = r.tlp;
  return h;
}

// Suppression's memory after a report: what it included, reported at its
// cutoff, and what was reported before and may still suppress.
Status RememberFindings(store::sqlite::Connection& c, const Recipient& r, const Cut& cut,
                        std::vector<uint64_t> reported) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<FindingEntry> before, LoadFindings(c, r.name));
  const int64_t keep_from = cut.cutoff - int64_t{std::max(r.suppress_days, 0)} * kMicrosPerDay;
  std::sort(reported.begin(), reported.end());
  reported.erase(std::unique(reported.begin(), reported.end()), reported.end());
  std::vector<FindingEntry> after;
  after.reserve(before.size() + reported.size());
  auto old = before.begin();
  for (uint64_t key : reported) {
    for (; old != before.end() && old->key < key; ++old) {
      if (old->last_reported_us >= keep_from) after.push_back(*old);
    }
    if (old != before.end() && old->key == key) ++old;
    after.push_back(FindingEntry{key, cut.cutoff});
  }
  for (; old != before.end(); ++old) {
    if (old->last_reported_us >= keep_from) after.push_back(*old);
  }
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement write,
      c.Prepare("INSERT INTO reported_findings(recipient, entries) VALUES(?1, ?2) "
                "ON CONFLICT(recipient) DO UPDATE SET entries = excluded.entries"));
  write.Bind(1, r.name).BindBlob(2, WriteFindings(after));
  return write.Run();
}

Status WriteCut(store::sqlite::Connection& c, const Recipient& r, const Cut& cut,
                const Decided& decided, std::optional<int64_t> report_rowid) {
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement insert,
      c.Prepare("INSERT INTO cuts(recipient, cutoff, range_from, included, suppressed, withheld, "
                "report) VALUES(?1,?2,?3,?4,?5,?6,?7)"));
  insert.Bind(1, r.name)
      .Bind(2, cut.cutoff)
      .Bind(3, cut.range_from)
      .Bind(4, decided.included)
      .Bind(5, decided.suppressed)
      .Bind(6, decided.withheld);
  if (report_rowid) {
    insert.Bind(7, *report_rowid);
  } else {
    insert.BindNull(7);
  }
  KIZUNA_RETURN_IF_ERROR(insert.Run());
  if (!report_rowid) return Status::Ok();  // nothing will read what was left out
  for (const auto& [chunk, slots] : decided.left_out) {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement left_out,
        c.Prepare("INSERT INTO cut_left_out(recipient, cutoff, chunk, slots) VALUES(?1,?2,?3,?4)"));
    left_out.Bind(1, r.name).Bind(2, cut.cutoff).Bind(3, chunk).BindBlob(4, EncodeSlotList(slots));
    KIZUNA_RETURN_IF_ERROR(left_out.Run());
  }
  return Status::Ok();
}

Result<std::optional<BuiltReport>> BuildOne(AlertsDb& db, const Recipient& r,
                                            const BuildOptions& options) {
  auto lock = db.Lock();
  store::sqlite::Connection& c = db.connection();
  // One writer at a time across processes: the cut is decided and the
  // report written under the same lock.
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, true));
  KIZUNA_ASSIGN_OR_RETURN(std::optional<Cut> cut, DueCut(c, r, options));
  if (!cut) return std::optional<BuiltReport>();
  const ReportHeader header = HeaderFor(r, *cut, options);
  // The body is not written now: it is rendered from the cut when it is
  // delivered or shown (LoadReportBody). A feed's reports are never rendered.
  KIZUNA_ASSIGN_OR_RETURN(Decided decided, Decide(c, r, *cut, *options.policy, nullptr));
  std::ostream no_output(nullptr);
  const ReportWriter naming(r.format, header, &no_output);
  BuiltReport report{header.id, r.name, decided.included, decided.suppressed, decided.withheld};
  if (decided.included == 0) {
    KIZUNA_RETURN_IF_ERROR(WriteCut(c, r, *cut, decided, std::nullopt));
    KIZUNA_RETURN_IF_ERROR(tx.Commit());
    return std::optional<BuiltReport>();
  }
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement insert,
      c.Prepare("INSERT INTO reports(id, recipient, period_start, cutoff, created, format, "
                "channel, tlp, events, suppressed, withheld, filename, content_type, body_file, "
                "state, producer, producer_identity) "
                "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,'',?14,?15,?16)"));
  insert.Bind(1, header.id)
      .Bind(2, r.name)
      .Bind(3, cut->period_start)
      .Bind(4, cut->cutoff)
      .Bind(5, options.now_us)
      .Bind(6, ReportFormatName(r.format))
      .Bind(7, ChannelName(r.channel))
      .Bind(8, stix::TlpName(r.tlp))
      .Bind(9, report.events)
      .Bind(10, report.suppressed)
      .Bind(11, report.withheld)
      .Bind(12, naming.filename())
      .Bind(13, naming.content_type())
      .Bind(14, kQueued)
      .Bind(15, options.producer)
      .Bind(16, options.producer_identity);
  KIZUNA_RETURN_IF_ERROR(insert.Run());
  const int64_t rowid = c.LastInsertRowId();
  KIZUNA_RETURN_IF_ERROR(WriteCut(c, r, *cut, decided, rowid));
  for (const auto& [event_id, ip] : decided.followed) {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement follow,
        c.Prepare("INSERT OR REPLACE INTO reported_events(event_id, report, ip) VALUES(?1,?2,?3)"));
    follow.Bind(1, event_id).Bind(2, rowid).Bind(3, ip);
    KIZUNA_RETURN_IF_ERROR(follow.Run());
  }
  KIZUNA_RETURN_IF_ERROR(RememberFindings(c, r, *cut, std::move(decided.reported_findings)));
  KIZUNA_RETURN_IF_ERROR(db.AppendLog(rowid, options.now_us, kQueued,
                                      std::to_string(report.events) + " events, " +
                                          std::to_string(report.suppressed) + " suppressed, " +
                                          std::to_string(report.withheld) + " withheld"));
  KIZUNA_RETURN_IF_ERROR(tx.Commit());
  return std::optional<BuiltReport>(std::move(report));
}

}  // namespace

std::string ReportId(std::string_view recipient, int64_t cutoff_us) {
  return Uuid5(kReportNamespace, std::string(recipient) + "\x1f" + std::to_string(cutoff_us));
}

Status ForEachEventInReport(store::sqlite::Connection& c, const std::string& recipient,
                            int64_t cutoff, const std::function<Status(const EventRow&)>& visit,
                            bool with_evidence) {
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement range,
      c.Prepare("SELECT range_from FROM cuts WHERE recipient = ?1 AND cutoff = ?2"));
  range.Bind(1, recipient).Bind(2, cutoff);
  KIZUNA_ASSIGN_OR_RETURN(bool found, range.Step());
  if (!found) return NotFound("no cut of " + recipient + " at " + std::to_string(cutoff));
  const int64_t range_from = range.ColumnInt(0);
  range.Reset();
  std::map<int64_t, std::vector<uint32_t>> left_out;
  {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement list,
        c.Prepare("SELECT chunk, slots FROM cut_left_out WHERE recipient = ?1 AND cutoff = ?2"));
    list.Bind(1, recipient).Bind(2, cutoff);
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, list.Step());
      if (!row) break;
      KIZUNA_ASSIGN_OR_RETURN(left_out[list.ColumnInt(0)], DecodeSlotList(list.ColumnBlob(1)));
    }
  }
  return ForEachEventInRange(
      c, recipient, range_from, cutoff,
      [&](int64_t chunk, size_t slot, const EventRow& e) {
        auto skip = left_out.find(chunk);
        if (skip != left_out.end() && std::binary_search(skip->second.begin(), skip->second.end(),
                                                         static_cast<uint32_t>(slot))) {
          return Status::Ok();
        }
        return visit(e);
      },
      with_evidence);
}

Status ForEachEventSince(store::sqlite::Connection& c, int64_t since_us,
                         const std::function<Status(const EventRow&)>& visit) {
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement chunks,
      c.Prepare("SELECT recipient, received, slots, data FROM event_chunks WHERE received >= ?1 "
                "ORDER BY rowid"));
  chunks.Bind(1, since_us);
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, chunks.Step());
    if (!row) break;
    KIZUNA_RETURN_IF_ERROR(ForEachEvent(chunks.ColumnBlob(2), chunks.ColumnBlob(3),
                                        chunks.ColumnText(0), chunks.ColumnInt(1),
                                        [&](size_t, const EventRow& e) { return visit(e); }));
  }
  return Status::Ok();
}

std::string ReportsDir(const std::string& node_dir) {
  return (std::filesystem::path(node_dir) / "alerts" / "reports").string();
}

Result<std::vector<BuiltReport>> BuildDueReports(AlertsDb& db, const RouteTable& routes,
                                                 const BuildOptions& options) {
  if (options.policy == nullptr) return Internal("BuildDueReports: no sharing policy");
  std::vector<BuiltReport> built;
  Status first_error = Status::Ok();
  for (const Recipient& r : routes.recipients()) {
    if (!options.only_recipient.empty() && r.name != options.only_recipient) continue;
    // One recipient's failure (a full disk, a damaged row) does not hold up
    // the others' reports; the first is returned when nothing was built.
    Result<std::optional<BuiltReport>> one = BuildOne(db, r, options);
    if (!one.ok()) {
      spdlog::warn("alerts: report for {} not built: {}", r.name, one.status().message());
      if (first_error.ok()) first_error = one.status();
      continue;
    }
    if (*one) built.push_back(std::move(**one));
  }
  if (built.empty() && !first_error.ok()) return first_error;
  return built;
}

Status LoadReportBody(AlertsDb& db, ReportRow* report) {
  if (!report->body_file.empty()) {
    const std::filesystem::path path =
        std::filesystem::path(ReportsDir(db.node_dir())) / report->body_file;
    std::ifstream file(path, std::ios::binary);
    if (!file)
      return IoError("report " + report->id + ": its body " + path.string() + " is missing");
    std::ostringstream text;
    text << file.rdbuf();
    report->body = std::move(text).str();
    return Status::Ok();
  }
  std::optional<ReportFormat> format = ParseReportFormat(report->format);
  if (!format) return Internal("report " + report->id + ": unknown format " + report->format);
  KIZUNA_ASSIGN_OR_RETURN(const stix::Tlp tlp, stix::ParseTlp(report->tlp));
  ReportHeader header;
  header.id = report->id;
  header.recipient = report->recipient;
  header.producer = report->producer;
  header.producer_identity = report->producer_identity;
  header.period_start_us = report->period_start_us;
  header.cutoff_us = report->cutoff_us;
  header.created_us = report->created_us;
  header.tlp = tlp;
  std::ostringstream out;
  ReportWriter writer(*format, header, &out);
  auto lock = db.Lock();
  store::sqlite::Connection& c = db.connection();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, false));
  KIZUNA_RETURN_IF_ERROR(ForEachEventInReport(
      c, report->recipient, report->cutoff_us,
      [&](const EventRow& e) {
        writer.Add(e);
        return Status::Ok();
      },
      writer.needs_evidence()));
  const int64_t written = writer.Finish();
  if (written != report->events) {
    return Internal("report " + report->id + ": " + std::to_string(written) + " events found, " +
                    std::to_string(report->events) + " reported");
  }
  report->body = std::move(out).str();
  return Status::Ok();
}

Result<Preview> PreviewReport(AlertsDb& db, const RouteTable& routes, const BuildOptions& options,
                              const std::string& recipient) {
  if (options.policy == nullptr) return Internal("PreviewReport: no sharing policy");
  const int index = routes.IndexOf(recipient);
  if (index < 0) return NotFound("no recipient named " + recipient);
  const Recipient& r = routes.recipients()[index];
  auto lock = db.Lock();
  store::sqlite::Connection& c = db.connection();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, false));
  BuildOptions now = options;
  now.cut_now = true;
  KIZUNA_ASSIGN_OR_RETURN(std::optional<Cut> cut, DueCut(c, r, now));
  Preview preview;
  Cut shown = cut.value_or(Cut{options.now_us, options.now_us, options.now_us});
  const ReportHeader header = HeaderFor(r, shown, now);
  std::ostringstream out;
  ReportWriter writer(r.format, header, &out);
  Decided decided;
  if (cut) {
    KIZUNA_ASSIGN_OR_RETURN(decided, Decide(c, r, *cut, *options.policy, &writer));
  }
  writer.Finish();
  preview.counts =
      BuiltReport{header.id, r.name, decided.included, decided.suppressed, decided.withheld};
  preview.body = ReportBody{out.str(), writer.filename(), writer.content_type()};
  return preview;
}

}  // namespace kizuna::alerts
