#include "alerts/deliver.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/time.h"

namespace kizuna::alerts {

namespace {

constexpr int64_t kMaxRetryUs = 6LL * 3600 * 1000000;

struct Due {
  ReportRow report;
};

Result<std::vector<ReportRow>> DueReports(AlertsDb& db, const DeliveryOptions& options) {
  std::vector<ReportRow> due;
  KIZUNA_ASSIGN_OR_RETURN(std::vector<ReportRow> all, db.Reports("", 100000, false));
  for (ReportRow& r : all) {
    const bool queued = r.state == kQueued && r.next_attempt_us <= options.now_us;
    if (queued || r.state == kSending) due.push_back(std::move(r));
  }
  // Oldest first.
  std::sort(due.begin(), due.end(),
            [](const ReportRow& a, const ReportRow& b) { return a.rowid < b.rowid; });
  if (due.size() > static_cast<size_t>(options.limit)) due.resize(options.limit);
  return due;
}

Status SetState(AlertsDb& db, const ReportRow& r, std::string_view state, int64_t now_us,
                const std::string& detail, int64_t attempts, int64_t next_attempt_us, bool sent) {
  auto lock = db.Lock();
  store::sqlite::Connection& c = db.connection();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, true));
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement update,
      c.Prepare("UPDATE reports SET state = ?2, attempts = ?3, next_attempt = ?4, "
                "last_error = CASE WHEN ?5 THEN '' ELSE ?6 END, "
                "sent = CASE WHEN ?5 THEN ?7 ELSE sent END WHERE rowid = ?1 AND "
                "state != 'acknowledged'"));
  update.Bind(1, r.rowid)
      .Bind(2, state)
      .Bind(3, attempts)
      .Bind(4, next_attempt_us)
      .Bind(5, int64_t{sent ? 1 : 0})
      .Bind(6, state == kSending ? r.last_error : detail)
      .Bind(7, now_us);
  KIZUNA_RETURN_IF_ERROR(update.Run());
  KIZUNA_RETURN_IF_ERROR(db.AppendLog(r.rowid, now_us, state, detail));
  return tx.Commit();
}

std::string MessageIdDomain(const std::string& producer) {
  std::string domain;
  for (char c : producer) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    domain.push_back(ok ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : '-');
  }
  if (domain.empty()) domain = "kizuna";
  return domain + ".kizuna.invalid";
}

struct Outcome {
  bool ok = false;
  bool permanent = false;
  std::string detail;
};

Outcome SendByEmail(const ReportRow& report, const Recipient& recipient,
                    const DeliveryOptions& options) {
  if (!options.mail.configured) {
    return {false, false, "e-mail is not configured ([alerts] smtp_url); the report waits"};
  }
  auto message = ReportMessage(report, recipient, options);
  if (!message.ok()) return {false, true, message.status().message()};
  Result<std::string> mime = options.mail.signer
                                 ? mail::BuildSignedMime(*message, *options.mail.signer)
                                 : mail::BuildMime(*message);
  if (!mime.ok()) return {false, false, "cannot build the message: " + mime.status().message()};
  const mail::SendResult sent = mail::Send(options.mail.smtp, *message, *mime);
  if (sent.ok) {
    std::string to;
    for (const std::string& a : message->to) to += (to.empty() ? "" : ", ") + a;
    return {true, false, "accepted by the mail server for " + to + " as " + message->message_id};
  }
  return {false, sent.permanent, sent.detail};
}

}  // namespace

Result<mail::Message> ReportMessage(const ReportRow& report, const Recipient& recipient,
                                    const DeliveryOptions& options) {
  if (report.body.empty() && report.events > 0) {
    return Internal("report " + report.id + " was read without its body");
  }
  mail::Message m;
  m.from = options.mail.from;
  m.to = recipient.emails;
  const std::string tlp = "TLP:" + [&] {
    std::string upper(report.tlp);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    return upper;
  }();
  const std::string day = FormatTimestamp(report.cutoff_us, 0).substr(0, 10);
  m.subject = "[" + tlp + "] " + options.producer + ": infected hosts in your networks, " + day +
              " (" + std::to_string(report.events) + ")";
  m.text =
      "Hello,\n\nthis is the " + options.producer + " report of " + std::to_string(report.events) +
      " infected or abusive hosts seen in the networks you are responsible for, from " +
      FormatTimestamp(report.period_start_us, 0) + " to " + FormatTimestamp(report.cutoff_us, 0) +
      ".\n\nThe attached file has one line per event: when and where it was seen, the AS and "
      "country of the address, the type of finding (Reference Security Incident Taxonomy) "
      "and the malware family where known. Event ids stay the same in later reports.\n\n"
      "This report is " +
      tlp +
      ": share it only with those who need it to clean up the hosts.\n\nReport id: " + report.id +
      "\n";
  m.attachments.push_back(mail::Attachment{report.filename, report.content_type, report.body});
  m.message_id = "<" + report.id + "@" + MessageIdDomain(options.producer) + ">";
  m.headers.emplace_back("X-Kizuna-Report", report.id);
  m.date_us = options.now_us;
  return m;
}

Result<DeliveryStats> DeliverDue(AlertsDb& db, const RouteTable& routes,
                                 const DeliveryOptions& options) {
  if (options.policy == nullptr) return Internal("DeliverDue: no sharing policy");
  DeliveryStats stats;
  KIZUNA_ASSIGN_OR_RETURN(std::vector<ReportRow> due, DueReports(db, options));
  for (ReportRow& listed : due) {
    const int index = routes.IndexOf(listed.recipient);
    const int64_t attempts = listed.attempts + 1;
    if (index < 0) {
      KIZUNA_RETURN_IF_ERROR(SetState(db, listed, kGaveUp, options.now_us,
                                      "recipient " + listed.recipient + " no longer exists",
                                      listed.attempts, 0, false));
      ++stats.gave_up;
      continue;
    }
    const Recipient& recipient = routes.recipients()[index];
    // The decision again, as it stands now.
    const sharing::Recipient party = options.policy->ForAffectedParty(
        recipient.name, recipient.tlp,
        recipient.channel == Channel::kNode ? recipient.peer : std::string());
    store::StoredObject as_object;
    as_object.type = "report";
    auto tlp = stix::ParseTlp(listed.tlp);
    as_object.tlp = tlp.ok() ? *tlp : stix::Tlp::kRed;
    as_object.json = "{}";
    std::string why;
    if (!options.policy->MayRelease(as_object, party, &why)) {
      KIZUNA_RETURN_IF_ERROR(SetState(db, listed, kGaveUp, options.now_us,
                                      "the sharing decision refuses it: " + why, listed.attempts, 0,
                                      false));
      ++stats.gave_up;
      continue;
    }
    KIZUNA_RETURN_IF_ERROR(SetState(db, listed, kSending, options.now_us,
                                    "attempt " + std::to_string(attempts) + " by " +
                                        std::string(ChannelName(recipient.channel)),
                                    attempts, 0, false));
    Outcome outcome;
    if (recipient.channel == Channel::kFeed) {
      outcome = {true, false, "available on the feed to " + recipient.org};
    } else {
      KIZUNA_ASSIGN_OR_RETURN(ReportRow report, db.Report(listed.id, /*with_body=*/true));
      if (recipient.channel == Channel::kEmail) {
        outcome = SendByEmail(report, recipient, options);
      } else if (!options.to_node) {
        outcome = {false, false, "no federation in this process; the node delivers it"};
      } else {
        Status stored = options.to_node(report, recipient.peer, report.body);
        outcome = stored.ok()
                      ? Outcome{true, false,
                                "stored for peer " + recipient.peer + " (federation delivers it)"}
                      : Outcome{false, false, stored.message()};
      }
    }
    if (outcome.ok) {
      KIZUNA_RETURN_IF_ERROR(
          SetState(db, listed, kSent, options.now_us, outcome.detail, attempts, 0, true));
      ++stats.sent;
    } else if (outcome.permanent || attempts >= options.max_attempts) {
      KIZUNA_RETURN_IF_ERROR(SetState(
          db, listed, kGaveUp, options.now_us,
          (outcome.permanent ? "" : "too many attempts: ") + outcome.detail, attempts, 0, false));
      spdlog::warn("alerts: report {} for {} not delivered: {}", listed.id, listed.recipient,
                   outcome.detail);
      ++stats.gave_up;
    } else {
      const int64_t wait =
          std::min(kMaxRetryUs, options.retry_after_us << std::min<int64_t>(attempts - 1, 20));
      KIZUNA_RETURN_IF_ERROR(SetState(db, listed, kQueued, options.now_us,
                                      std::string(kFailed) + ": " + outcome.detail +
                                          "; next attempt at " +
                                          FormatTimestamp(options.now_us + wait, 0),
                                      attempts, options.now_us + wait, false));
      ++stats.retrying;
    }
  }
  return stats;
}

Status AcknowledgeReport(AlertsDb& db, const std::string& report_id, int64_t now_us,
                         const std::string& by) {
  KIZUNA_ASSIGN_OR_RETURN(ReportRow report, db.Report(report_id, false));
  if (report.state == kAcknowledged) return Status::Ok();
  auto lock = db.Lock();
  store::sqlite::Connection& c = db.connection();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, true));
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement update,
                          c.Prepare("UPDATE reports SET state = 'acknowledged', acknowledged = ?2 "
                                    "WHERE rowid = ?1 AND state != 'acknowledged'"));
  update.Bind(1, report.rowid).Bind(2, now_us);
  KIZUNA_RETURN_IF_ERROR(update.Run());
  if (c.Changes() > 0) {
    KIZUNA_RETURN_IF_ERROR(db.AppendLog(report.rowid, now_us, kAcknowledged, "by " + by));
  }
  return tx.Commit();
}

}  // namespace kizuna::alerts
