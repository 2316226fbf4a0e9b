#include "interop/misp_peer.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "bus/bus.h"
#include "common/time.h"
#include "common/uuid.h"
#include "http/http.h"
#include "interop/misp_export.h"
#include "interop/misp_import.h"
#include "sharing/policy.h"
#include "spdlog/spdlog.h"
#include "stix/stix.h"
#include "taxii/producers.h"
#include "taxii/taxii.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr size_t kMaxResponseBytes = 64 * 1024 * 1024;
constexpr size_t kPushBatch = 500;
constexpr int kMaxJsonDepth = 64;
constexpr auto kMaxBackoff = 60s;

int64_t NowUs() { return SystemClock::Instance().NowMicros(); }

// MISP writes numbers as strings ("1700000000") or numbers.
int64_t NumberOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(std::min<uint64_t>(v->as_uint64(), INT64_MAX));
  if (v->is_string()) {
    const std::string text(v->as_string());
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return 0;
    return std::stoll(text);
  }
  return 0;
}

// "<id>" of "type--<id>".
std::string UuidPart(std::string_view id) {
  const size_t dashes = id.find("--");
  return dashes == std::string_view::npos ? std::string(id) : std::string(id.substr(dashes + 2));
}

// Whether MISP refused what we sent (it will refuse it again), as opposed
// to not taking it now: no answer, our key refused, overload.
bool Refusal(const http::Response& response) {
  if (response.status == 401 || response.status == 408 || response.status == 429 ||
      response.status >= 500) {
    return false;
  }
  return response.body.find("Authentication failed") == std::string::npos;
}

std::string Describe(const http::Response& response) {
  std::string body = response.body.substr(0, 200);
  for (char& c : body) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return "HTTP " + std::to_string(response.status) + (body.empty() ? "" : ": " + body);
}

class MispPeer final : public federation::PeerRunner {
 public:
  MispPeer(const federation::FederationContext& context, node::PeerConfig config,
           federation::PolicySource policy)
      : context_(context), config_(std::move(config)), policy_(std::move(policy)) {
    status_.name = config_.name;
    status_.url = config_.url;
    store::Store& store = context_.node->store();
    if (auto saved = federation::LoadPeerStatus(store, config_.name); saved.ok() && *saved) {
      status_.received = (*saved)->received;
      status_.sent = (*saved)->sent;
      status_.rejected = (*saved)->rejected;
      status_.last_sync_us = (*saved)->last_sync_us;
    }
    const federation::PushCursor push = federation::LoadPushCursor(store, config_.name);
    status_.push_cursor = push.seq;
    push_entitlement_ = push.entitlement;
  }

  ~MispPeer() override { Stop(); }

  const node::PeerConfig& config() const override { return config_; }

  void Start() override {
    main_ = std::thread([this] { Run(); });
  }

  void Stop() override {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      if (client_) client_->Abort();
    }
    wake_.notify_all();
    if (main_.joinable()) main_.join();
    {
      std::lock_guard lock(mutex_);
      status_.state = "stopped";
    }
    SaveStatus();
  }

  federation::PeerStatus status() const override {
    std::lock_guard lock(mutex_);
    return status_;
  }

 private:
  bool stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  void Wake() {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    wake_.notify_all();
  }

  void WaitFor(std::chrono::milliseconds duration) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, duration, [&] { return stopping_ || woken_; });
    woken_ = false;
  }

  void SaveStatus() {
    std::string text;
    {
      std::lock_guard lock(mutex_);
      text = federation::PeerStatusToJson(status_);
    }
    Status saved =
        context_.node->store().SetMeta(federation::MetaKey(config_.name, "status"), text);
    if (!saved.ok()) spdlog::warn("peer {}: saving status: {}", config_.name, saved.message());
  }

  http::Headers Headers() const {
    http::Headers headers;
    headers.Set("Authorization", config_.token);
    headers.Set("Accept", "application/json");
    headers.Set("Content-Type", "application/json");
    headers.Set("User-Agent", "kizuna MISP sync");
    return headers;
  }

  Result<http::Response> Call(std::string_view method, const std::string& path,
                              const std::string& body = "") {
    auto response = client_->Send(method, config_.url + path, Headers(), body);
    if (!response.ok()) return response.status();
    {
      std::lock_guard lock(mutex_);
      status_.last_contact_us = NowUs();
    }
    if (response->status == 401 || response->status == 403) {
      if (path.starts_with("/servers/getVersion")) {
        return PermissionDenied("the MISP instance refused our auth key (" + Describe(*response) +
                                ")");
      }
    }
    return response;
  }

  Result<json::value> CallJson(std::string_view method, const std::string& path,
                               const std::string& body = "") {
    KIZUNA_ASSIGN_OR_RETURN(http::Response response, Call(method, path, body));
    if (response.status != 200) {
      return Unavailable(std::string(method) + " " + path + " answered " + Describe(response));
    }
    auto parsed = stix::ParseJson(response.body, kMaxJsonDepth);
    if (!parsed.ok()) {
      return InvalidArgument(std::string(method) + " " + path + ": " + parsed.status().message());
    }
    return std::move(*parsed);
  }

  std::set<std::string> HomeIdentities() {
    auto organizations = context_.node->store().ListOrganizations();
    if (!organizations.ok()) return {context_.node->identity().identity_id};
    return taxii::HomeIdentities(context_.node->identity().identity_id, *organizations);
  }

  // ---- pull

  Status Pull() {
    store::Store& store = context_.node->store();
    auto into = store.GetCollection(config_.into);
    if (!into.ok()) {
      return FailedPrecondition("our collection '" + config_.into + "' (into) does not exist");
    }
    KIZUNA_ASSIGN_OR_RETURN(json::value index,
                            CallJson("POST", "/events/index", R"({"minimal":1,"published":1})"));
    if (!index.is_array()) return InvalidArgument("/events/index: expected an array of events");
    const std::set<std::string> home = HomeIdentities();
    ImportTarget target;
    target.store = &store;
    target.collection_id = into->id;
    target.ingest = context_.ingest;
    target.home_identities = home;
    target.after_batch = [this] {
      if (context_.bus) context_.bus->Notify();
    };
    MispImportOptions options;
    options.default_tlp = policy_()->default_tlp();
    for (const json::value& entry : index.as_array()) {
      if (stopping()) return Status::Ok();
      if (!entry.is_object()) continue;
      const json::object& e = entry.as_object();
      const std::string uuid = stix::StringProperty(e, "uuid");
      if (!IsUuid(uuid)) {
        Reject("an index entry without an event uuid");
        continue;
      }
      // An event of ours that the instance holds (we pushed it): not taken back.
      if (const std::string orgc = stix::StringProperty(e, "orgc_uuid");
          !orgc.empty() && home.contains("identity--" + orgc)) {
        continue;
      }
      const int64_t timestamp = NumberOf(e, "timestamp");
      const int64_t sighting_timestamp = NumberOf(e, "sighting_timestamp");
      const std::string state_key = federation::MetaKey(config_.name, "event:" + uuid);
      KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> seen, store.GetMeta(state_key));
      const std::string now_state =
          std::to_string(timestamp) + " " + std::to_string(sighting_timestamp);
      if (seen) {
        int64_t seen_timestamp = 0, seen_sightings = 0;
        std::sscanf(seen->c_str(), "%ld %ld", &seen_timestamp, &seen_sightings);
        if (timestamp <= seen_timestamp && sighting_timestamp <= seen_sightings) continue;
      }
      // A transport error ends the round; an event the instance will not
      // give (gone since the index, unreadable) does not hold back the
      // rest, and is asked for again next round.
      KIZUNA_ASSIGN_OR_RETURN(http::Response view, Call("GET", "/events/view/" + uuid));
      if (view.status != 200) {
        Reject("event " + uuid + ": " + Describe(view));
        continue;
      }
      auto event = stix::ParseJson(view.body, kMaxJsonDepth);
      if (!event.ok()) {
        Reject("event " + uuid + ": " + event.status().message());
        continue;
      }
      KIZUNA_RETURN_IF_ERROR(StoreEvent(target, *event, uuid, options));
      KIZUNA_RETURN_IF_ERROR(store.SetMeta(state_key, now_state));
    }
    std::lock_guard lock(mutex_);
    status_.last_sync_us = NowUs();
    return Status::Ok();
  }

  Status StoreEvent(const ImportTarget& target, const json::value& event, const std::string& uuid,
                    const MispImportOptions& options) {
    MispImportSummary summary;
    store::StatusRecord results;
    KIZUNA_RETURN_IF_ERROR(
        StoreMispEvent(target, event, options, "event " + uuid, config_.name, &summary, &results));
    std::vector<federation::AuditEntry> entries;
    uint64_t added = 0, refused = 0;
    for (const store::StatusDetail& d : results.successes) {
      entries.push_back({d.id, d.version, d.message.empty() ? "received" : "already-present"});
      if (d.message.empty()) ++added;
    }
    for (const store::StatusDetail& d : results.failures) {
      entries.push_back({d.id, d.version, "rejected: " + d.message});
      ++refused;
    }
    if (entries.empty() && !summary.errors.empty()) {
      entries.push_back({"event " + uuid, "", "rejected: " + summary.errors.front()});
      ++refused;
    }
    if (context_.audit && !entries.empty()) {
      context_.audit->Record("received", config_.name, "misp pull (unsigned)", target.collection_id,
                             entries);
    }
    std::lock_guard lock(mutex_);
    status_.received += added;
    status_.rejected += refused;
    return Status::Ok();
  }

  void Reject(const std::string& why) {
    spdlog::warn("peer {}: {}", config_.name, why);
    std::lock_guard lock(mutex_);
    ++status_.rejected;
  }

  // ---- push

  Status Push() {
    if (config_.push == node::PushMode::kNever || !context_.bus) return Status::Ok();
    store::Store& store = context_.node->store();
    std::shared_ptr<const sharing::SharingPolicy> policy = policy_();
    const sharing::Recipient recipient = policy->ForPeer(config_.name);
    std::set<std::string> shared;
    {
      KIZUNA_ASSIGN_OR_RETURN(std::vector<store::Collection> collections, store.ListCollections());
      for (const store::Collection& c : collections) {
        if (policy->MayReadCollection(recipient, c)) shared.insert(c.id);
      }
    }
    const std::string entitlement = policy->Entitlement(recipient);
    int64_t cursor;
    bool restart = !subscription_;
    {
      std::lock_guard lock(mutex_);
      if (entitlement != push_entitlement_) {
        // What we withheld under other rights may be due now: from the start.
        status_.push_cursor = 0;
        push_entitlement_ = entitlement;
        restart = true;
      }
      cursor = status_.push_cursor;
    }
    if (restart) {
      bus::SubscriptionOptions options;
      options.name = "push to MISP " + config_.name;
      options.after_seq = cursor;
      options.batch_limit = kPushBatch;
      options.on_ready = [this] {
        {
          std::lock_guard lock(mutex_);
          push_ready_ = true;
        }
        Wake();
      };
      subscription_.reset();
      subscription_ = context_.bus->Subscribe(std::move(options));
    }
    while (!stopping()) {
      KIZUNA_ASSIGN_OR_RETURN(std::vector<store::Change> changes, subscription_->Next());
      if (changes.empty()) break;
      std::vector<const store::Change*> released;
      for (const store::Change& change : changes) {
        if (change.kind != store::Change::Kind::kAdded || !shared.count(change.collection_id)) {
          continue;
        }
        if (policy->MayRelease(change.object, recipient)) released.push_back(&change);
      }
      if (Status pushed = PushObjects(released, *policy, recipient); !pushed.ok()) {
        subscription_->Seek(cursor);  // the batch again on the next try
        return pushed;
      }
      cursor = changes.back().seq;
      KIZUNA_RETURN_IF_ERROR(
          federation::SavePushCursor(store, config_.name, {cursor, entitlement}));
      {
        std::lock_guard lock(mutex_);
        status_.push_cursor = cursor;
      }
      SaveStatus();
    }
    return Status::Ok();
  }

  Status PushObjects(const std::vector<const store::Change*>& released,
                     const sharing::SharingPolicy& policy, const sharing::Recipient& recipient) {
    if (released.empty()) return Status::Ok();
    std::vector<json::object> objects;
    std::map<std::string, size_t> index;  // id -> its place in objects and entries
    std::vector<federation::AuditEntry> entries;
    std::vector<json::object> sightings;  // of the instance's own attributes
    int strictest = sharing::TlpRank(stix::Tlp::kClear);
    auto add = [&](const store::StoredObject& stored, json::object object) {
      strictest = std::max(strictest, sharing::TlpRank(policy.EffectiveTlp(stored.tlp)));
      federation::AuditEntry entry{stored.id, taxii::TaxiiTimestamp(stored.version_us), ""};
      if (auto it = index.find(stored.id); it != index.end()) {
        // A later version in the same batch replaces the earlier one.
        objects[it->second] = std::move(object);
        entries[it->second] = std::move(entry);
        return;
      }
      index[stored.id] = objects.size();
      objects.push_back(std::move(object));
      entries.push_back(std::move(entry));
    };
    for (const store::Change* change : released) {
      auto parsed = stix::ParseJson(change->object.json, kMaxJsonDepth);
      if (!parsed.ok() || !parsed->is_object()) continue;
      json::object& o = parsed->as_object();
      const std::string type = stix::StringProperty(o, "type");
      if (type == "sighting" && FromThisPeer(stix::StringProperty(o, "sighting_of_ref"))) {
        sightings.push_back(std::move(o));
        continue;
      }
      // A report carries what it refers to (an event holds its attributes).
      if (type == "report" || type == "grouping") {
        AddReferenced(*change, o, policy, recipient, add, index);
      }
      add(change->object, std::move(o));
    }
    if (!objects.empty()) {
      MispExportOptions options;
      options.org_name = context_.node->config().name;
      options.org_uuid = UuidPart(context_.node->identity().identity_id);
      options.loose_info = context_.node->config().name + " indicators";
      options.now_seconds = NowUs() / 1000000;
      MispExport exported = StixToMispEvents(objects, options);
      // The distribution of what is pushed together follows the strictest
      // TLP among it (an unmarked object counts at the default TLP): CLEAR
      // all communities, GREEN connected communities, otherwise this one.
      const std::string distribution = strictest <= sharing::TlpRank(stix::Tlp::kClear)   ? "3"
                                       : strictest <= sharing::TlpRank(stix::Tlp::kGreen) ? "2"
                                                                                          : "1";
      std::string refused;
      for (json::object& event : exported.events) {
        event["distribution"] = distribution;
        Status pushed = PushEvent(event);
        // Only the instance's refusal of an event moves on; anything else
        // (no answer, our key refused, its overload, our store) is tried
        // again with the whole batch.
        if (pushed.code() == Code::kFailedPrecondition) {
          refused = pushed.message();
        } else if (!pushed.ok()) {
          return pushed;
        }
      }
      for (federation::AuditEntry& entry : entries) {
        entry.outcome = refused.empty() ? "sent" : "refused by the partner: " + refused;
      }
      if (context_.audit) {
        context_.audit->Record("sent", config_.name, "misp push", config_.url, entries);
      }
      std::lock_guard lock(mutex_);
      if (refused.empty()) status_.sent += entries.size();
    }
    // After the events: a sighting is not idempotent in MISP, so each is
    // sent once (remembered) and only once the batch's events are in.
    for (const json::object& sighting : sightings) {
      KIZUNA_RETURN_IF_ERROR(PushSighting(sighting));
    }
    return Status::Ok();
  }

  // Whether the object `id` was first stored from this peer.
  bool FromThisPeer(const std::string& id) {
    if (id.empty()) return false;
    auto history = context_.node->store().ObjectHistory(id, 1);
    return history.ok() && !history->empty() && history->front().origin == config_.name;
  }

  template <typename Add>
  void AddReferenced(const store::Change& report_change, const json::object& report,
                     const sharing::SharingPolicy& policy, const sharing::Recipient& recipient,
                     Add& add, const std::map<std::string, size_t>& index) {
    const json::value* refs = report.if_contains("object_refs");
    if (refs == nullptr || !refs->is_array()) return;
    store::ObjectQuery query;
    query.include_origin = true;
    for (const json::value& ref : refs->as_array()) {
      if (ref.is_string() && !index.contains(std::string(ref.as_string())) &&
          query.ids.size() < 5000) {
        query.ids.emplace_back(ref.as_string());
      }
    }
    if (query.ids.empty()) return;
    auto page = context_.node->store().QueryObjects(report_change.collection_id, query);
    if (!page.ok()) return;
    for (const store::StoredObject& object : page->objects) {
      if (!policy.MayRelease(object, recipient) || index.contains(object.id)) continue;
      auto parsed = stix::ParseJson(object.json, kMaxJsonDepth);
      if (parsed.ok() && parsed->is_object()) add(object, std::move(parsed->as_object()));
    }
  }

  // Adds the event, or edits it when the instance holds it, with a
  // timestamp newer than the last one pushed (MISP refuses an edit that is
  // not newer than its copy).
  Status PushEvent(json::object& event) {
    store::Store& store = context_.node->store();
    const std::string uuid = stix::StringProperty(event, "uuid");
    // It goes into a URL path and a meta key (an object's x_misp_uuid may say anything).
    if (!IsUuid(uuid)) return FailedPrecondition("an event uuid that is not one");
    const std::string key = federation::MetaKey(config_.name, "pushed:" + uuid);
    KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> last, store.GetMeta(key));
    int64_t timestamp = std::max<int64_t>(NumberOf(event, "timestamp"), NowUs() / 1000000);
    if (last) timestamp = std::max<int64_t>(timestamp, std::atoll(last->c_str()) + 1);
    event["timestamp"] = std::to_string(timestamp);
    event["published"] = true;
    event["locked"] = true;  // a synced copy, as MISP's own push marks it
    if (NumberOf(event, "publish_timestamp") == 0) {
      event["publish_timestamp"] = std::to_string(timestamp);
    }
    const std::string body = json::serialize(json::object{{"Event", event}});
    KIZUNA_ASSIGN_OR_RETURN(
        http::Response response,
        Call("POST", (last ? "/events/edit/" + uuid : "/events/add") + "/metadata:1", body));
    if (!last && response.status == 404 && response.headers.Has("Location")) {
      // It holds the event already (pushed before our state was saved).
      KIZUNA_ASSIGN_OR_RETURN(response, Call("POST", "/events/edit/" + uuid + "/metadata:1", body));
    } else if (last && response.status == 404) {
      // Its admin deleted our event: it is added again.
      KIZUNA_ASSIGN_OR_RETURN(response, Call("POST", "/events/add/metadata:1", body));
    }
    if (response.status != 200) {
      const std::string why = "event " + uuid + ": " + Describe(response);
      return Refusal(response) ? FailedPrecondition(why) : Unavailable(why);
    }
    return store.SetMeta(key, std::to_string(timestamp));
  }

  Status PushSighting(const json::object& sighting) {
    const std::string attribute = UuidPart(stix::StringProperty(sighting, "sighting_of_ref"));
    if (!IsUuid(attribute)) return Status::Ok();
    int64_t seconds = 0;
    for (const char* key : {"last_seen", "first_seen", "created"}) {
      if (auto t = ParseTimestamp(stix::StringProperty(sighting, key)); t.ok()) {
        seconds = *t / 1000000;
        break;
      }
    }
    json::object body{{"uuid", attribute},
                      {"type", "0"},
                      {"source", context_.node->config().name},
                      {"timestamp", std::to_string(seconds)}};
    const std::string id = stix::StringProperty(sighting, "id");
    const std::string sent_key = federation::MetaKey(
        config_.name, "sighted:" + id + "@" + stix::StringProperty(sighting, "modified"));
    KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> sent,
                            context_.node->store().GetMeta(sent_key));
    if (sent) return Status::Ok();
    KIZUNA_ASSIGN_OR_RETURN(http::Response response,
                            Call("POST", "/sightings/add/" + attribute, json::serialize(body)));
    if (response.status != 200 && !Refusal(response)) {
      return Unavailable("pushing a sighting answered " + Describe(response));
    }
    KIZUNA_RETURN_IF_ERROR(context_.node->store().SetMeta(sent_key, "1"));
    // MISP answers 200 also when it added nothing: only a Sighting in the
    // answer says it took it.
    auto answer = stix::ParseJson(response.body, kMaxJsonDepth);
    const bool taken = response.status == 200 && answer.ok() && answer->is_object() &&
                       answer->as_object().contains("Sighting");
    const std::string outcome = taken ? "sent" : "refused by the partner: " + Describe(response);
    if (context_.audit) {
      context_.audit->Record("sent", config_.name, "misp push", config_.url,
                             {{id, stix::StringProperty(sighting, "modified"), outcome}});
    }
    std::lock_guard lock(mutex_);
    if (taken) ++status_.sent;
    return Status::Ok();
  }

  // ---- the loop

  Status Cycle() {
    KIZUNA_ASSIGN_OR_RETURN(json::value version, CallJson("GET", "/servers/getVersion"));
    if (!version.is_object() || stix::StringProperty(version.as_object(), "version").empty()) {
      return InvalidArgument("/servers/getVersion: not a MISP instance's answer");
    }
    // Each way on its own: a failing pull does not hold back what we push.
    Status pulled = Pull();
    Status pushed = Push();
    KIZUNA_RETURN_IF_ERROR(pulled);
    KIZUNA_RETURN_IF_ERROR(pushed);
    {
      std::lock_guard lock(mutex_);
      status_.state = "polling";
      status_.last_error.clear();
    }
    SaveStatus();
    return Status::Ok();
  }

  void Run() {
    http::ClientOptions options;
    if (!config_.ca_file.empty()) options.ca_file = context_.node->Resolve(config_.ca_file);
    options.pinned_cert_sha256 = config_.pinned_cert_sha256;
    options.timeout_ms = 30000;
    options.max_response_bytes = kMaxResponseBytes;
    {
      std::lock_guard lock(mutex_);
      client_ = std::make_unique<http::Client>(options);
      if (stopping_) client_->Abort();
    }
    auto backoff = 1000ms;
    auto next_cycle = std::chrono::steady_clock::now();
    while (!stopping()) {
      const auto now = std::chrono::steady_clock::now();
      bool push_ready;
      {
        std::lock_guard lock(mutex_);
        push_ready = std::exchange(push_ready_, false);
      }
      Status result;
      bool ran = false;
      if (now >= next_cycle) {
        result = Cycle();
        ran = true;
      } else if (push_ready && subscription_) {
        result = Push();
        if (result.ok()) SaveStatus();
        ran = true;
      }
      if (ran && result.ok()) {
        backoff = 1000ms;
        if (now >= next_cycle) next_cycle = now + std::chrono::seconds(config_.poll_seconds);
      } else if (ran && !stopping()) {
        {
          std::lock_guard lock(mutex_);
          status_.last_error = result.message();
          status_.state = "retrying";
        }
        spdlog::warn("peer {}: {}", config_.name, result.message());
        SaveStatus();
        next_cycle = std::chrono::steady_clock::now() + backoff;
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
      }
      WaitFor(100ms);
    }
    subscription_.reset();
  }

  const federation::FederationContext context_;
  const node::PeerConfig config_;
  const federation::PolicySource policy_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  bool push_ready_ = false;
  federation::PeerStatus status_;
  std::string push_entitlement_;          // guarded by mutex_
  std::unique_ptr<http::Client> client_;  // created on the worker's thread; Abort() from Stop
  std::unique_ptr<bus::Subscription> subscription_;  // the worker's thread only
  std::thread main_;
};

}  // namespace

std::unique_ptr<federation::PeerRunner> MakeMispPeer(const federation::FederationContext& context,
                                                     node::PeerConfig config,
                                                     federation::PolicySource policy) {
  return std::make_unique<MispPeer>(context, std::move(config), std::move(policy));
}

}  // namespace kizuna::interop
