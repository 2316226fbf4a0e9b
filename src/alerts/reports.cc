#include "alerts/reports.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/time.h"
#include "common/uuid.h"

namespace kizuna::alerts {

namespace {

constexpr int64_t kDayMicros = 86400LL * 1000000;
constexpr std::string_view kReportNamespace = "0b7f6c1e-2d4a-5b8c-9e3f-71a2d4c6b8e0";

struct Cut {
  int64_t period_start = 0;
  int64_t cutoff = 0;
};

// Where `recipient`'s next report is cut, or nullopt when none is due.
Result<std::optional<Cut>> DueCut(store::sqlite::Connection& c, const Recipient& r,
                                  const BuildOptions& options) {
  const int64_t period = r.period_seconds * 1000000;
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement last,
      c.Prepare("SELECT coalesce(max(cutoff), 0) FROM reports WHERE recipient = ?1"));
  last.Bind(1, r.name);
  KIZUNA_ASSIGN_OR_RETURN(bool row, last.Step());
  const int64_t last_cutoff = row ? last.ColumnInt(0) : 0;
  last.Reset();
  // Weekly periods start on Mondays (1970-01-01 was a Thursday).
  const int64_t offset = r.period_seconds == 604800 ? 4LL * 86400 * 1000000 : 0;
  const int64_t boundary =
      options.cut_now ? options.now_us : (options.now_us - offset) / period * period + offset;
  if (boundary <= last_cutoff) return std::optional<Cut>();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement pending,
                          c.Prepare("SELECT 1 FROM events WHERE recipient = ?1 AND report IS NULL "
                                    "AND received < ?2 LIMIT 1"));
  pending.Bind(1, r.name).Bind(2, boundary);
  KIZUNA_ASSIGN_OR_RETURN(bool any, pending.Step());
  if (!any) return std::optional<Cut>();
  Cut cut;
  cut.cutoff = boundary;
  cut.period_start = last_cutoff > 0 ? last_cutoff : boundary - period;
  return std::optional<Cut>(cut);
}

// Walks the recipient's pending events before the cut, deciding each:
// included (written by `writer`), suppressed or withheld.
struct Decided {
  int64_t included = 0;
  std::vector<int64_t> suppressed, withheld;
};

Result<Decided> Decide(store::sqlite::Connection& c, const Recipient& r, const Cut& cut,
                       const sharing::SharingPolicy& policy, ReportWriter* writer) {
  Decided decided;
  const sharing::Recipient party = AffectedParty(policy, r);
  // Findings are looked up only when the recipient has any recent ones.
  bool check_findings = false;
  const int64_t window_start = cut.cutoff - int64_t{r.suppress_days} * kDayMicros;
  if (r.suppress_days > 0 && !r.repeat_persisting) {
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement any,
                            c.Prepare("SELECT 1 FROM findings WHERE recipient = ?1 AND "
                                      "last_reported >= ?2 LIMIT 1"));
    any.Bind(1, r.name).Bind(2, window_start);
    KIZUNA_ASSIGN_OR_RETURN(check_findings, any.Step());
  }
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement events,
      c.Prepare(std::string("SELECT ") + kEventColumns +
                " FROM events WHERE recipient = ?1 AND report IS NULL AND received < ?2 "
                "ORDER BY received, rowid"));
  events.Bind(1, r.name).Bind(2, cut.cutoff);
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, events.Step());
    if (!row) break;
    EventRow e = ReadEventRow(events);
    if (!MayReach(policy, e.tlp, e.origin, party)) {
      decided.withheld.push_back(e.id);
      continue;
    }
    if (check_findings) {
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement finding,
          c.Prepare("SELECT 1 FROM findings WHERE recipient = ?1 AND ip = ?2 AND type = ?3 AND "
                    "identifier = ?4 AND last_reported >= ?5"));
      finding.Bind(1, r.name)
          .Bind(2, e.ip)
          .Bind(3, e.type)
          .Bind(4, e.identifier)
          .Bind(5, window_start);
      KIZUNA_ASSIGN_OR_RETURN(bool reported, finding.Step());
      if (reported) {
        decided.suppressed.push_back(e.id);
        continue;
      }
    }
    ++decided.included;
    if (writer != nullptr) writer->Add(e);
  }
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

Status MarkEvents(store::sqlite::Connection& c, const std::vector<int64_t>& ids, int64_t mark) {
  for (int64_t id : ids) {
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement update,
                            c.Prepare("UPDATE events SET report = ?1 WHERE id = ?2"));
    update.Bind(1, mark).Bind(2, id);
    KIZUNA_RETURN_IF_ERROR(update.Run());
  }
  return Status::Ok();
}

Status MoveIntoPlace(const std::filesystem::path& path, const std::string& temp_path) {
  std::error_code ec;
  std::filesystem::rename(temp_path, path, ec);
  if (ec) return IoError("cannot move " + temp_path + " to " + path.string() + ": " + ec.message());
  return Status::Ok();
}

Result<std::optional<BuiltReport>> BuildOne(AlertsDb& db, const Recipient& r,
                                            const BuildOptions& options,
                                            const std::filesystem::path& dir) {
  std::error_code ec;
  {
    auto lock = db.Lock();
    store::sqlite::Connection& c = db.connection();
    // One writer at a time across processes: the cut is decided and the
    // report written under the same lock.
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                            store::sqlite::Transaction::Begin(c, true));
    KIZUNA_ASSIGN_OR_RETURN(std::optional<Cut> cut, DueCut(c, r, options));
    if (!cut) return std::optional<BuiltReport>();
    const ReportHeader header = HeaderFor(r, *cut, options);
    const std::filesystem::path path = dir / (header.id + ".report");
    const std::string temp = path.string() + ".tmp";
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    if (!file) return IoError("cannot write " + temp);
    ReportWriter writer(r.format, header, &file);
    KIZUNA_ASSIGN_OR_RETURN(Decided decided, Decide(c, r, *cut, *options.policy, &writer));
    writer.Finish();
    file.close();
    if (!file) return IoError("cannot write " + temp + " (disk full?)");
    KIZUNA_RETURN_IF_ERROR(MarkEvents(c, decided.suppressed, kReportSuppressed));
    KIZUNA_RETURN_IF_ERROR(MarkEvents(c, decided.withheld, kReportWithheld));
    BuiltReport report{header.id, r.name, decided.included,
                       static_cast<int64_t>(decided.suppressed.size()),
                       static_cast<int64_t>(decided.withheld.size())};
    if (decided.included == 0) {
      std::filesystem::remove(temp, ec);
      KIZUNA_RETURN_IF_ERROR(tx.Commit());
      return std::optional<BuiltReport>();
    }
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement insert,
        c.Prepare("INSERT INTO reports(id, recipient, period_start, cutoff, created, format, "
                  "channel, tlp, events, suppressed, withheld, filename, content_type, body_file, "
                  "state) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"));
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
        .Bind(12, writer.filename())
        .Bind(13, writer.content_type())
        .Bind(14, path.filename().string())
        .Bind(15, kQueued);
    KIZUNA_RETURN_IF_ERROR(insert.Run());
    const int64_t rowid = c.LastInsertRowId();
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement mark,
                            c.Prepare("UPDATE events SET report = ?1 WHERE recipient = ?2 AND "
                                      "report IS NULL AND received < ?3"));
    mark.Bind(1, rowid).Bind(2, r.name).Bind(3, cut->cutoff);
    KIZUNA_RETURN_IF_ERROR(mark.Run());
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement findings,
        c.Prepare("INSERT INTO findings(recipient, ip, type, identifier, last_reported) "
                  "SELECT recipient, ip, type, identifier, ?2 FROM events WHERE report = ?1 AND "
                  "report > 0 "
                  "ORDER BY recipient, ip, type, identifier "
                  "ON CONFLICT(recipient, ip, type, identifier) "
                  "DO UPDATE SET last_reported = excluded.last_reported"));
    findings.Bind(1, rowid).Bind(2, cut->cutoff);
    KIZUNA_RETURN_IF_ERROR(findings.Run());
    KIZUNA_RETURN_IF_ERROR(db.AppendLog(rowid, options.now_us, kQueued,
                                        std::to_string(report.events) + " events, " +
                                            std::to_string(report.suppressed) + " suppressed, " +
                                            std::to_string(report.withheld) + " withheld"));
    // The body is in place before the row that names it is committed; a
    // crash in between leaves a file the next run writes again.
    KIZUNA_RETURN_IF_ERROR(MoveIntoPlace(path, temp));
    KIZUNA_RETURN_IF_ERROR(tx.Commit());
    return std::optional<BuiltReport>(std::move(report));
  }
}

}  // namespace

std::string ReportId(std::string_view recipient, int64_t cutoff_us) {
  return Uuid5(kReportNamespace, std::string(recipient) + "\x1f" + std::to_string(cutoff_us));
}

std::string ReportsDir(const std::string& node_dir) {
  return (std::filesystem::path(node_dir) / "alerts" / "reports").string();
}

Result<std::vector<BuiltReport>> BuildDueReports(AlertsDb& db, const RouteTable& routes,
                                                 const BuildOptions& options) {
  if (options.policy == nullptr) return Internal("BuildDueReports: no sharing policy");
  std::vector<BuiltReport> built;
  std::error_code ec;
  const std::filesystem::path dir = ReportsDir(db.node_dir());
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  Status first_error = Status::Ok();
  for (const Recipient& r : routes.recipients()) {
    if (!options.only_recipient.empty() && r.name != options.only_recipient) continue;
    // One recipient's failure (a full disk, a damaged row) does not hold up
    // the others' reports; the first is returned when nothing was built.
    Result<std::optional<BuiltReport>> one = BuildOne(db, r, options, dir);
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
  Cut shown = cut.value_or(Cut{options.now_us, options.now_us});
  const ReportHeader header = HeaderFor(r, shown, now);
  std::ostringstream out;
  ReportWriter writer(r.format, header, &out);
  Decided decided;
  if (cut) {
    KIZUNA_ASSIGN_OR_RETURN(decided, Decide(c, r, *cut, *options.policy, &writer));
  }
  writer.Finish();
  preview.counts = BuiltReport{header.id, r.name, decided.included,
                               static_cast<int64_t>(decided.suppressed.size()),
                               static_cast<int64_t>(decided.withheld.size())};
  preview.body = ReportBody{out.str(), writer.filename(), writer.content_type()};
  return preview;
}

}  // namespace kizuna::alerts
