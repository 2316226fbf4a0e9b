#include "alerts/deliver.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "alerts/reports.h"
#include "common/time.h"

namespace kizuna::alerts {

namespace {

constexpr int64_t kMaxRetryUs = 6LL * 3600 * 1000000;

// How long a deliverer holds a report it marked "sending": another process
// (the node's job, `kizuna alerts run`) takes it up only after that, or as
// soon as the process that claimed it is gone, so two never send one report
// at once and one that died mid-send is taken up. An SMTP send is bounded by
// its timeouts (60 s a wait) well within it.
constexpr int64_t kSendingLeaseUs = 10LL * 60 * 1000000;

// Moves a report to `state`, only if it is still as `r` saw it (state and
// attempts): false when another deliverer changed it meanwhile.
Result<bool> SetState(AlertsDb& db, const ReportRow& r, std::string_view state, int64_t now_us,
                      const std::string& detail, int64_t attempts, int64_t next_attempt_us,
                      bool sent, const std::string& delivered_to) {
  auto lock = db.Lock();
  store::sqlite::Connection& c = db.connection();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, true));
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement update,
      c.Prepare("UPDATE reports SET state = ?2, attempts = ?3, next_attempt = ?4, "
                "last_error = CASE WHEN ?5 THEN '' ELSE ?6 END, "
                "sent = CASE WHEN ?5 THEN ?7 ELSE sent END, delivered_to = ?10, sender_pid = ?11 "
                "WHERE rowid = ?1 AND state = ?8 AND attempts = ?9"));
  update.Bind(1, r.rowid)
      .Bind(2, state)
      .Bind(3, attempts)
      .Bind(4, next_attempt_us)
      .Bind(5, int64_t{sent ? 1 : 0})
      .Bind(6, state == kSending ? r.last_error : detail)
      .Bind(7, now_us)
      .Bind(8, r.state)
      .Bind(9, r.attempts)
      .Bind(10, delivered_to)
      .Bind(11, int64_t{state == kSending ? ::getpid() : 0});
  KIZUNA_RETURN_IF_ERROR(update.Run());
  if (c.Changes() == 0) return false;
  KIZUNA_RETURN_IF_ERROR(db.AppendLog(r.rowid, now_us, state, detail));
  KIZUNA_RETURN_IF_ERROR(tx.Commit());
  return true;
}

std::vector<std::string> SplitAddresses(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

struct Outcome {
  bool ok = false;
  bool permanent = false;
  std::string detail;
  std::string delivered_to;  // e-mail: every address that has it now
};

Outcome SendByEmail(const ReportRow& report, const Recipient& recipient,
                    const DeliveryOptions& options) {
  auto message = ReportMessage(report, recipient, options);
  if (!message.ok()) return {false, true, message.status().message(), report.delivered_to};
  // Only the addresses that do not have it yet.
  std::vector<std::string> done = SplitAddresses(report.delivered_to);
  std::vector<std::string> to;
  for (const std::string& a : message->to) {
    if (std::find(done.begin(), done.end(), a) == done.end()) to.push_back(a);
  }
  if (to.empty()) return {true, false, "every address has it", report.delivered_to};
  message->to = to;
  Result<std::string> mime = options.mail.signer
                                 ? mail::BuildSignedMime(*message, *options.mail.signer)
                                 : mail::BuildMime(*message);
  if (!mime.ok()) {
    return {false, false, "cannot build the message: " + mime.status().message(),
            report.delivered_to};
  }
  const mail::SendResult sent = mail::Send(options.mail.smtp, *message, *mime);
  std::string accepted, refused, pending;
  for (const mail::RecipientResult& r : sent.recipients) {
    std::string& list = r.ok ? accepted : r.permanent ? refused : pending;
    list += (list.empty() ? "" : ", ") + r.address;
    if (r.ok) done.push_back(r.address);
  }
  std::string delivered;
  for (const std::string& a : done) delivered += (delivered.empty() ? "" : ",") + a;
  if (sent.ok) {
    return {true, false, "accepted for " + accepted + " as " + message->message_id, delivered};
  }
  if (!pending.empty() || sent.recipients.empty()) {
    // Someone can still get it: a retry, to those only.
    return {false, false, sent.detail, delivered};
  }
  if (!done.empty()) {
    // Every address has answered; those that could take it have it.
    return {true, false,
            "accepted for " + delivered + "; refused for " + refused + ": " + sent.detail,
            delivered};
  }
  return {false, true, sent.detail, delivered};
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
  const std::string last = FormatTimestamp(report.cutoff_us - 1, 0);
  const std::string day = report.cutoff_us - report.period_start_us < 86400LL * 1000000
                              ? last.substr(0, 13)
                              : last.substr(0, 10);
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
  m.message_id = "<" + report.id + "@" + mail::MessageIdDomain(options.producer) + ">";
  m.headers.emplace_back("X-Kizuna-Report", report.id);
  m.date_us = options.now_us;
  return m;
}

Result<DeliveryStats> DeliverDue(AlertsDb& db, const RouteTable& routes,
                                 const DeliveryOptions& options) {
  if (options.policy == nullptr) return Internal("DeliverDue: no sharing policy");
  DeliveryStats stats;
  KIZUNA_ASSIGN_OR_RETURN(std::vector<ReportRow> due, db.DueReports(options.now_us, options.limit));
  for (ReportRow& listed : due) {
    const int index = routes.IndexOf(listed.recipient);
    const int64_t attempts = listed.attempts + 1;
    auto settle = [&](std::string_view state, const std::string& detail, int64_t n, int64_t next,
                      bool sent, const std::string& delivered) -> Status {
      KIZUNA_ASSIGN_OR_RETURN(bool moved, SetState(db, listed, state, options.now_us, detail, n,
                                                   next, sent, delivered));
      (void)moved;  // someone else moved it first: theirs stands
      return Status::Ok();
    };
    if (index < 0) {
      KIZUNA_RETURN_IF_ERROR(settle(kGaveUp, "recipient " + listed.recipient + " no longer exists",
                                    listed.attempts, 0, false, listed.delivered_to));
      ++stats.gave_up;
      continue;
    }
    const Recipient& recipient = routes.recipients()[index];
    // The decision again, as it stands now.
    std::string why;
    if (!MayReach(*options.policy, listed.tlp, "", AffectedParty(*options.policy, recipient),
                  &why)) {
      KIZUNA_RETURN_IF_ERROR(settle(kGaveUp, "the sharing decision refuses it: " + why,
                                    listed.attempts, 0, false, listed.delivered_to));
      ++stats.gave_up;
      continue;
    }
    if (recipient.channel == Channel::kEmail && !options.mail.configured) {
      // Not an attempt: the report waits for the operator to configure mail.
      KIZUNA_RETURN_IF_ERROR(settle(
          kQueued, "e-mail is not configured ([alerts] smtp_url); the report waits",
          listed.attempts, options.now_us + options.retry_after_us, false, listed.delivered_to));
      ++stats.retrying;
      continue;
    }
    // Claim it: only one deliverer sends a report, and only until its lease ends.
    KIZUNA_ASSIGN_OR_RETURN(bool claimed, SetState(db, listed, kSending, options.now_us,
                                                   "attempt " + std::to_string(attempts) + " by " +
                                                       std::string(ChannelName(recipient.channel)),
                                                   attempts, options.now_us + kSendingLeaseUs,
                                                   false, listed.delivered_to));
    if (!claimed) continue;
    listed.state = std::string(kSending);
    listed.attempts = attempts;
    Outcome outcome;
    if (recipient.channel == Channel::kFeed) {
      outcome = {true, false, "available on the feed to " + recipient.org, ""};
    } else {
      auto report = db.Report(listed.id);
      if (report.ok()) {
        if (Status body = LoadReportBody(db, &*report); !body.ok()) report = body;
      }
      if (!report.ok()) {
        // One unreadable report does not hold up the others.
        outcome = {false, false, report.status().message(), listed.delivered_to};
      } else if (recipient.channel == Channel::kEmail) {
        outcome = SendByEmail(*report, recipient, options);
      } else if (!options.to_node) {
        outcome = {false, false, "no federation in this process; the node delivers it",
                   listed.delivered_to};
      } else {
        Status stored = options.to_node(*report, recipient.peer, report->body);
        outcome =
            stored.ok()
                ? Outcome{true, false,
                          "stored for peer " + recipient.peer + " (federation delivers it)", ""}
                : Outcome{false, false, stored.message(), ""};
      }
    }
    if (outcome.ok) {
      KIZUNA_RETURN_IF_ERROR(
          settle(kSent, outcome.detail, attempts, 0, true, outcome.delivered_to));
      ++stats.sent;
    } else if (outcome.permanent || attempts >= options.max_attempts) {
      KIZUNA_RETURN_IF_ERROR(
          settle(kGaveUp, (outcome.permanent ? "" : "too many attempts: ") + outcome.detail,
                 attempts, 0, false, outcome.delivered_to));
      spdlog::warn("alerts: report {} for {} not delivered: {}", listed.id, listed.recipient,
                   outcome.detail);
      ++stats.gave_up;
    } else {
      const int64_t wait =
          std::min(kMaxRetryUs, options.retry_after_us << std::min<int64_t>(attempts - 1, 20));
      KIZUNA_RETURN_IF_ERROR(settle(kQueued,
                                    std::string(kFailed) + ": " + outcome.detail +
                                        "; next attempt at " +
                                        FormatTimestamp(options.now_us + wait, 0),
                                    attempts, options.now_us + wait, false, outcome.delivered_to));
      ++stats.retrying;
    }
  }
  return stats;
}

Status AcknowledgeReport(AlertsDb& db, const std::string& report_id, int64_t now_us,
                         const std::string& by) {
  KIZUNA_ASSIGN_OR_RETURN(ReportRow report, db.Report(report_id));
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
