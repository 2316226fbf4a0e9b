#include "alerts/status.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <tuple>

#include "alerts/module.h"
#include "alerts/node_channel.h"
#include "alerts/reports.h"
#include "common/time.h"

namespace kizuna::alerts {

namespace json = boost::json;

namespace {

json::value TimeOrNull(int64_t micros) {
  return micros == 0 ? json::value(nullptr) : json::value(FormatTimestamp(micros, 0));
}

}  // namespace

json::object ReportJson(const ReportRow& r) {
  return json::object{{"id", r.id},
                      {"recipient", r.recipient},
                      {"period_start", FormatTimestamp(r.period_start_us, 0)},
                      {"cutoff", FormatTimestamp(r.cutoff_us, 0)},
                      {"created", FormatTimestamp(r.created_us, 0)},
                      {"format", r.format},
                      {"channel", r.channel},
                      {"tlp", r.tlp},
                      {"events", r.events},
                      {"suppressed", r.suppressed},
                      {"withheld", r.withheld},
                      {"state", r.state},
                      {"attempts", r.attempts},
                      {"next_attempt", TimeOrNull(r.next_attempt_us)},
                      {"last_error", r.last_error},
                      {"sent", TimeOrNull(r.sent_us)},
                      {"acknowledged", TimeOrNull(r.acknowledged_us)},
                      {"filename", r.filename}};
}

json::object IngestResultJson(const IngestResult& result) {
  json::array errors;
  for (const LineError& e : result.read.errors) {
    errors.push_back(json::object{{"line", e.line}, {"message", e.message}});
  }
  json::object per_recipient;
  for (const auto& [name, n] : result.stats.per_recipient) per_recipient[name] = n;
  return json::object{
      {"records", result.read.records},        {"accepted", result.read.accepted},
      {"rejected", result.read.rejected},      {"errors", std::move(errors)},
      {"format", result.read.format_detected}, {"report_type", result.read.report_type},
      {"new_events", result.stats.new_events}, {"merged", result.stats.merged},
      {"unrouted", result.stats.unrouted},     {"per_recipient", std::move(per_recipient)}};
}

Result<json::object> StatusJson(AlertsDb& db) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Recipient> recipients, db.Recipients());
  json::object events;
  json::array per_recipient;
  json::object states;
  {
    auto lock = db.Lock();
    store::sqlite::Connection& c = db.connection();
    auto sum = [&](const std::string& sql, const std::string& arg) -> Result<int64_t> {
      KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement statement, c.Prepare(sql));
      if (!arg.empty()) statement.Bind(1, arg);
      KIZUNA_ASSIGN_OR_RETURN(bool row, statement.Step());
      return row ? statement.ColumnInt(0) : 0;
    };
    KIZUNA_ASSIGN_OR_RETURN(const int64_t total,
                            sum("SELECT coalesce(sum(events), 0) FROM event_chunks", ""));
    KIZUNA_ASSIGN_OR_RETURN(
        const int64_t unrouted,
        sum("SELECT coalesce(sum(events), 0) FROM event_chunks WHERE recipient = ''", ""));
    KIZUNA_ASSIGN_OR_RETURN(const int64_t reported,
                            sum("SELECT coalesce(sum(included), 0) FROM cuts", ""));
    KIZUNA_ASSIGN_OR_RETURN(const int64_t suppressed,
                            sum("SELECT coalesce(sum(suppressed), 0) FROM cuts", ""));
    KIZUNA_ASSIGN_OR_RETURN(const int64_t withheld,
                            sum("SELECT coalesce(sum(withheld), 0) FROM cuts", ""));
    int64_t pending_total = 0;
    for (const Recipient& r : recipients) {
      KIZUNA_ASSIGN_OR_RETURN(const int64_t since, LastCutoff(c, r.name));
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement pending,
          c.Prepare("SELECT coalesce(sum(events), 0) FROM event_chunks WHERE recipient = ?1 AND "
                    "received >= ?2"));
      pending.Bind(1, r.name).Bind(2, since);
      KIZUNA_ASSIGN_OR_RETURN(bool has, pending.Step());
      const int64_t n = has ? pending.ColumnInt(0) : 0;
      pending.Reset();
      pending_total += n;
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement last,
          c.Prepare("SELECT count(*), max(created), (SELECT state FROM reports WHERE recipient = "
                    "?1 ORDER BY rowid DESC LIMIT 1) FROM reports WHERE recipient = ?1"));
      last.Bind(1, r.name);
      KIZUNA_ASSIGN_OR_RETURN(bool any, last.Step());
      json::object entry{
          {"name", r.name},
          {"channel", ChannelName(r.channel)},
          {"pending", n},
          {"reports", any ? last.ColumnInt(0) : 0},
          {"last_report", any && !last.ColumnIsNull(1)
                              ? json::value(FormatTimestamp(last.ColumnInt(1), 0))
                              : json::value(nullptr)},
          {"last_state",
           any && !last.ColumnIsNull(2) ? json::value(last.ColumnText(2)) : json::value(nullptr)}};
      last.Reset();
      per_recipient.push_back(std::move(entry));
    }
    events = json::object{{"total", total},       {"pending", pending_total},
                          {"reported", reported}, {"suppressed", suppressed},
                          {"withheld", withheld}, {"unrouted", unrouted}};
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement by_state,
                            c.Prepare("SELECT state, count(*) FROM reports GROUP BY state"));
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool more, by_state.Step());
      if (!more) break;
      states[by_state.ColumnText(0)] = by_state.ColumnInt(1);
    }
  }
  KIZUNA_ASSIGN_OR_RETURN(std::vector<ReportRow> recent, db.Reports("", 20));
  json::array recent_json;
  for (const ReportRow& r : recent) recent_json.push_back(ReportJson(r));
  // Per-event states (node_channel.h): what partners' nodes and the re-check said.
  KIZUNA_ASSIGN_OR_RETURN(json::object event_states, EventStatesJson(db, 0));
  return json::object{{"events", std::move(events)},
                      {"recipients", std::move(per_recipient)},
                      {"reports", std::move(states)},
                      {"event_states", std::move(event_states.at("counts"))},
                      {"recent", std::move(recent_json)}};
}

std::string FormatFeedPosition(const FeedPosition& position) {
  std::string text = FormatTimestamp(position.since_us, 6);
  if (position.report == 0) return text;
  return text + "~" + std::to_string(position.report) + "~" + std::to_string(position.skip);
}

Result<FeedPosition> ParseFeedPosition(std::string_view text) {
  FeedPosition position;
  const size_t tilde = text.find('~');
  KIZUNA_ASSIGN_OR_RETURN(position.since_us, ParseTimestamp(text.substr(0, tilde)));
  if (tilde == std::string_view::npos) return position;
  auto number = [](std::string_view digits, int64_t* out) {
    if (digits.empty() || digits.size() > 18) return false;
    int64_t value = 0;
    for (char ch : digits) {
      if (ch < '0' || ch > '9') return false;
      value = value * 10 + (ch - '0');
    }
    *out = value;
    return true;
  };
  const std::string_view rest = text.substr(tilde + 1);
  const size_t second = rest.find('~');
  if (second == std::string_view::npos || !number(rest.substr(0, second), &position.report) ||
      !number(rest.substr(second + 1), &position.skip) || position.report == 0) {
    return InvalidArgument("a feed position is TIME or TIME~REPORT~SKIP, as `next` gave it");
  }
  return position;
}

Result<FeedPage> FeedEvents(AlertsDb& db, const sharing::SharingPolicy& policy,
                            const std::vector<Recipient>& recipients, const FeedPosition& from,
                            int64_t limit) {
  FeedPage page;
  limit = std::max<int64_t>(limit, 1);
  std::map<std::string, sharing::Recipient> parties;
  for (const Recipient& r : recipients) {
    parties[r.name] = AffectedParty(policy, r);
  }
  auto lock = db.Lock();
  store::sqlite::Connection& c = db.connection();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, false));
  // The recipients' reports from `from`, oldest first.
  struct Listed {
    int64_t rowid = 0, created = 0, cutoff = 0;
    std::string recipient;
  };
  std::vector<Listed> reports;
  for (const Recipient& r : recipients) {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement list,
        c.Prepare("SELECT rowid, created, cutoff FROM reports WHERE recipient = ?1 AND "
                  "created >= ?2"));
    list.Bind(1, r.name).Bind(2, from.since_us);
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, list.Step());
      if (!row) break;
      const Listed listed{list.ColumnInt(0), list.ColumnInt(1), list.ColumnInt(2), r.name};
      if (listed.created == from.since_us && listed.rowid < from.report) continue;  // shown
      reports.push_back(listed);
    }
  }
  std::sort(reports.begin(), reports.end(), [](const Listed& a, const Listed& b) {
    return std::tie(a.created, a.rowid) < std::tie(b.created, b.rowid);
  });
  page.next = from;
  for (const Listed& report : reports) {
    if (static_cast<int64_t>(page.events.size()) >= limit) {
      page.more = true;
      page.next = FeedPosition{report.created, report.rowid, 0};
      break;
    }
    const int64_t skip =
        report.created == from.since_us && report.rowid == from.report ? from.skip : 0;
    const sharing::Recipient& party = parties.at(report.recipient);
    int64_t walked = 0;
    bool full = false;
    Status status =
        ForEachEventInReport(c, report.recipient, report.cutoff, [&](const EventRow& e) -> Status {
          if (walked < skip) {
            ++walked;
            return Status::Ok();
          }
          if (static_cast<int64_t>(page.events.size()) >= limit) {
            full = true;
            return FailedPrecondition("the page is full");  // stops the walk
          }
          ++walked;
          if (MayReach(policy, e.tlp, e.origin, party)) page.events.push_back(e);
          return Status::Ok();
        });
    if (full) {
      page.more = true;
      page.next = FeedPosition{report.created, report.rowid, walked};
      break;
    }
    KIZUNA_RETURN_IF_ERROR(status);
    page.next = FeedPosition{report.created + 1, 0, 0};
  }
  return page;
}

BuildOptions BuildOptionsFor(const node::Node& node, const sharing::SharingPolicy* policy,
                             int64_t now_us) {
  BuildOptions build;
  build.now_us = now_us;
  build.policy = policy;
  build.producer = node.config().name;
  build.producer_identity = node.identity().identity_id;
  return build;
}

DeliveryOptions DeliveryOptionsFor(const AlertsConfig& config, const node::Node& node,
                                   const sharing::SharingPolicy* policy, int64_t now_us) {
  DeliveryOptions deliver;
  deliver.now_us = now_us;
  deliver.policy = policy;
  deliver.mail = config.mail;
  deliver.producer = node.config().name;
  deliver.max_attempts = config.max_attempts;
  deliver.retry_after_us = int64_t{config.retry_minutes} * 60 * 1000000;
  return deliver;
}

}  // namespace kizuna::alerts
