#include "federation/peer_worker.h"

#include <algorithm>

#include "common/encoding.h"
#include "federation/signing.h"
#include "spdlog/spdlog.h"
#include "stix/stix.h"
#include "taxii/taxii.h"

namespace kizuna::federation {

Status Federation::PeerWorker::PushPending(http::Client& client) {
  if (!push_enabled_ || push_url_.empty() || !context_.bus) return Status::Ok();
  store::Store& store = context_.node->store();
  std::shared_ptr<const sharing::SharingPolicy> policy = policy_();
  const sharing::Recipient recipient = policy->ForPeer(config_.name);
  std::set<std::string> shared;
  {
    auto collections = store.ListCollections();
    if (!collections.ok()) return collections.status();
    for (const store::Collection& c : *collections) {
      if (policy->MayReadCollection(recipient, c)) shared.insert(c.id);
    }
  }
  int64_t cursor;
  const std::string entitlement = policy->Entitlement(recipient);
  bool restart = !push_subscription_;
  {
    std::lock_guard lock(mutex_);
    if (entitlement != push_entitlement_) {
      // What we withheld under other rights may be due now: from the start.
      if (status_.push_cursor != 0) {
        spdlog::info("peer {}: its rights changed; pushing again from the beginning", config_.name);
      }
      status_.push_cursor = 0;
      push_entitlement_ = entitlement;
      restart = true;
    }
    cursor = status_.push_cursor;
  }
  if (restart) {
    bus::SubscriptionOptions options;
    options.name = "push to " + config_.name;
    options.after_seq = cursor;
    options.batch_limit = kPushBatch;
    options.on_ready = [this] { PushReady(); };
    push_subscription_.reset();
    push_subscription_ = context_.bus->Subscribe(std::move(options));
  }
  while (!stopping()) {
    KIZUNA_ASSIGN_OR_RETURN(std::vector<store::Change> changes, push_subscription_->Next());
    if (changes.empty()) break;
    std::string body = "{\"objects\":[";
    std::vector<AuditEntry> entries;
    for (const store::Change& change : changes) {
      if (change.kind != store::Change::Kind::kAdded || !shared.count(change.collection_id)) {
        continue;
      }
      if (!policy->MayRelease(change.object, recipient)) continue;
      if (!entries.empty()) body += ',';
      body += change.object.json;
      entries.push_back({change.object.id, taxii::TaxiiTimestamp(change.object.version_us), ""});
    }
    body += "]}";
    if (!entries.empty()) {
      if (Status pushed = PushBatch(client, body, &entries); !pushed.ok()) {
        push_subscription_->Seek(cursor);  // the batch again on the next try
        return pushed;
      }
    }
    cursor = changes.back().seq;
    KIZUNA_RETURN_IF_ERROR(SavePushCursor(store, config_.name, {cursor, entitlement}));
    {
      std::lock_guard lock(mutex_);
      status_.push_cursor = cursor;
    }
    if (context_.audit && !entries.empty()) {
      context_.audit->Record("sent", config_.name, "push", push_url_, entries);
    }
    SaveStatus(false);
  }
  return Status::Ok();
}

Status Federation::PeerWorker::PushBatch(http::Client& client, const std::string& body,
                                         std::vector<AuditEntry>* entries) {
  http::Headers headers = BaseHeaders();
  headers.Set("Content-Type", taxii::kTaxiiMediaType);
  headers.Set(kSignatureHeader, Base64Encode(context_.node->Sign(body)));
  auto response = client.Send("POST", push_url_ + "objects/", headers, body);
  if (!response.ok()) return response.status();
  Contact();
  if (response->status != 202) {
    return Unavailable("pushing to " + push_url_ + " answered " + Describe(*response));
  }
  auto status = stix::ParseJson(response->body, 32);
  for (int polls = 0; status.ok() && status->is_object() && !stopping(); ++polls) {
    const json::object& o = status->get_object();
    if (stix::StringProperty(o, "status") != "pending") break;
    if (polls >= 300) return Unavailable("the partner's status stayed pending for a minute");
    WaitFor(200ms);
    auto polled = client.Send(
        "GET",
        api_root_ + "status/" + PercentEncode(std::string(stix::StringProperty(o, "id"))) + "/",
        BaseHeaders());
    if (!polled.ok()) return polled.status();
    if (polled->status != 200) {
      return Unavailable("reading the push status answered " + Describe(*polled));
    }
    status = stix::ParseJson(polled->body, 32);
  }
  std::map<std::string, std::string> failures;
  uint64_t accepted = entries->size();
  if (status.ok() && status->is_object()) {
    if (const json::value* list = status->get_object().if_contains("failures");
        list && list->is_array()) {
      for (const json::value& f : list->get_array()) {
        if (!f.is_object()) continue;
        failures[std::string(stix::StringProperty(f.get_object(), "id"))] =
            std::string(stix::StringProperty(f.get_object(), "message"));
      }
    }
  }
  for (AuditEntry& entry : *entries) {
    auto it = failures.find(entry.object_id);
    if (it == failures.end()) {
      entry.outcome = "sent";
    } else {
      entry.outcome = "refused by the partner: " + it->second;
      --accepted;
    }
  }
  std::lock_guard lock(mutex_);
  status_.sent += accepted;
  return Status::Ok();
}

}  // namespace kizuna::federation
