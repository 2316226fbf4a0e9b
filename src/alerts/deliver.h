// Delivering reports, tracked: every queued report goes out by its
// recipient's channel — e-mail (SMTP, the report attached, optionally
// OpenPGP-signed), a partner's node (the STIX bundle, through federation),
// or the pull feed (nothing to push: the report becomes available) — and its
// state is kept: queued -> sending -> sent | failed (retried with backoff,
// back to queued) | gave-up; acknowledged when the recipient says so.
//
// Nothing lost, nothing twice: the attempt is recorded ("sending", with the
// attempt number) before the channel is used and "sent" as soon as the
// channel accepted it, each in its own transaction. A report found
// "sending" after a crash is sent again with the same identity (the same
// Message-ID, the same STIX ids), so a receiver that got it just before the
// crash can tell the repeat; an SMTP server has the message only once it
// answered 250 to it, and the node records "sent" at that answer.
//
// Every report passes the sharing decision again just before it leaves (the
// policy may have changed since it was built): a report whose TLP the
// recipient may no longer receive fails permanently with the reason.
//
// Functions only; they take the database's lock per state change, never
// across a channel's network I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "alerts/alerts_db.h"
#include "alerts/recipients.h"
#include "mail/mail.h"
#include "mail/settings.h"
#include "sharing/policy.h"

namespace kizuna::alerts {

using mail::MailSettings;  // the [alerts] smtp_* keys (mail/settings.h)

struct DeliveryOptions {
  int64_t now_us = 0;
  const sharing::SharingPolicy* policy = nullptr;  // required
  MailSettings mail;
  std::string producer;  // the node's team name (subject, Message-ID domain)
  // Channel node: stores the report's STIX bundle for `peer` (federation
  // carries it); ok when stored.
  std::function<Status(const ReportRow& report, const std::string& peer, const std::string& bundle)>
      to_node;
  int max_attempts = 10;
  int64_t retry_after_us = 5LL * 60 * 1000000;  // doubled per attempt, at most 6 hours
  int limit = 100;                              // reports per call
};

struct DeliveryStats {
  int sent = 0, retrying = 0, gave_up = 0;
};

// Sends every report that is due: queued with next_attempt <= now, or left
// "sending" by a crash.
Result<DeliveryStats> DeliverDue(AlertsDb& db, const RouteTable& routes,
                                 const DeliveryOptions& options);

// Records the recipient's acknowledgement of a report (idempotent: the first
// time is kept). `by` names who acknowledged ("user alice of ISP-A").
Status AcknowledgeReport(AlertsDb& db, const std::string& report_id, int64_t now_us,
                         const std::string& by);

// The e-mail a report is sent as (also for previews and tests).
Result<mail::Message> ReportMessage(const ReportRow& report, const Recipient& recipient,
                                    const DeliveryOptions& options);

}  // namespace kizuna::alerts
