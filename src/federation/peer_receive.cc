#include "federation/peer_worker.h"

#include <algorithm>
#include <charconv>

#include "common/time.h"
#include "correlation/sightings.h"
#include "federation/signing.h"
#include "http/sse.h"
#include "spdlog/spdlog.h"
#include "stix/stix.h"
#include "taxii/taxii.h"

namespace kizuna::federation {

namespace {

// What a partner's coordination collection may add to ours: directory
// entries (identities), extension definitions, the kizuna coordination
// objects and a joint incident's objects.
bool IsCoordinationObject(const json::value& value) {
  const json::object* o = value.if_object();
  if (!o) return false;
  const std::string type(stix::StringProperty(*o, "type"));
  if (type == "identity" || type == "extension-definition" || type == "incident" ||
      type.rfind("kizuna-", 0) == 0) {
    return true;
  }
  return (type == "note" || type == "relationship") && o->contains(sharing::kIncidentProperty);
}

}  // namespace

Status Federation::PeerWorker::Ingest(const json::array& objects, const RemoteCollection& remote,
                                      std::string_view channel) {
  store::Store& store = context_.node->store();
  {
    std::lock_guard lock(mutex_);
    last_ingest_added_ = 0;
  }
  // A partner's sightings (of what we produced) join ours in the
  // sightings collection, with the rest of its sightings collection (its
  // identity, which names the observer); everything else goes `into`.
  const bool from_sightings = remote.alias == sharing::kSightingsAlias;
  json::array sightings, others;
  for (const json::value& object : objects) {
    const json::object* o = object.if_object();
    const bool sighting = from_sightings || (o && stix::StringProperty(*o, "type") == "sighting");
    (sighting ? sightings : others).push_back(object);
  }
  if (!sightings.empty()) {
    KIZUNA_ASSIGN_OR_RETURN(store::Collection ours, correlation::EnsureSightingsCollection(
                                                        store, sharing::kSightingsAlias,
                                                        context_.node->identity().identity_id,
                                                        context_.node->identity().name));
    KIZUNA_RETURN_IF_ERROR(IngestInto(ours, sightings, remote.id, channel));
  }
  if (others.empty()) return Status::Ok();
  // A partner's coordination objects (its directory entry, what it
  // addresses to us, joint incidents' updates) join ours in the
  // coordination collection, which every partner reads: so a joint
  // incident's update can go on to the other participants whatever the
  // [[peer]]s' `share` says (the sharing decision says to whom).
  // Only what coordination is made of: the rest follows `into`.
  if (remote.alias == sharing::kCoordinationAlias) {
    json::array coordination, rest;
    for (json::value& object : others) {
      (IsCoordinationObject(object) ? coordination : rest).push_back(std::move(object));
    }
    if (!coordination.empty()) {
      KIZUNA_ASSIGN_OR_RETURN(
          store::Collection ours,
          sharing::EnsureCollection(store, sharing::kCoordinationAlias, "Coordination",
                                    "The team directory, drills, emergencies and joint incidents "
                                    "shared with partners",
                                    context_.node->config().name));
      KIZUNA_RETURN_IF_ERROR(IngestInto(ours, coordination, remote.id, channel));
    }
    others = std::move(rest);
    if (others.empty()) return Status::Ok();
  }
  auto into = store.GetCollection(config_.into);
  if (!into.ok()) {
    return FailedPrecondition("peer " + config_.name + ": our collection '" + config_.into +
                              "' (into) does not exist");
  }
  return IngestInto(*into, others, remote.id, channel);
}

Status Federation::PeerWorker::IngestInto(const store::Collection& into, const json::array& objects,
                                          const std::string& remote_collection,
                                          std::string_view channel) {
  store::Store& store = context_.node->store();
  taxii::IngestOptions options = context_.ingest;
  options.writer.kind = taxii::Writer::Kind::kPeer;
  options.writer.origin = config_.name;
  options.writer.name = "peer " + config_.name;
  {
    std::lock_guard lock(mutex_);
    options.writer.identity = status_.partner_identity;
  }
  KIZUNA_ASSIGN_OR_RETURN(std::vector<store::Organization> organizations,
                          store.ListOrganizations());
  options.writer.home_identities =
      taxii::HomeIdentities(context_.node->identity().identity_id, organizations);
  auto status = taxii::IngestObjects(store, into.id, objects, 0, options);
  if (!status.ok()) return status.status();
  std::vector<AuditEntry> entries;
  entries.reserve(objects.size());
  uint64_t added = 0;
  for (const store::StatusDetail& d : status->successes) {
    // A repeated delivery is audited as such and not counted as received.
    entries.push_back({d.id, d.version, d.message.empty() ? "received" : "already-present"});
    if (d.message.empty()) ++added;
  }
  for (const store::StatusDetail& d : status->failures) {
    entries.push_back({d.id, d.version, "rejected: " + d.message});
  }
  if (context_.audit) {
    // What an unsigned partner sent carries no proof of origin: the audit says so.
    const std::string how =
        config_.unsigned_partner ? std::string(channel) + " (unsigned)" : std::string(channel);
    context_.audit->Record("received", config_.name, how, remote_collection, entries);
  }
  {
    std::lock_guard lock(mutex_);
    status_.received += added;
    status_.rejected += status->failures.size();
    last_ingest_added_ += added;
  }
  if (!status->failures.empty()) {
    spdlog::warn("peer {}: refused {} invalid object(s) from {}; first: {} ({})", config_.name,
                 status->failures.size(), channel, status->failures[0].id,
                 status->failures[0].message);
  }
  if (added > 0 && context_.bus) context_.bus->Notify();
  return Status::Ok();
}

Status Federation::PeerWorker::PullCollection(http::Client& client,
                                              const RemoteCollection& collection) {
  int64_t cursor = PullCursor(collection.id);
  std::string api_root;
  {
    std::lock_guard lock(mutex_);
    api_root = api_root_;
  }
  const std::string base = api_root + "collections/" + collection.id +
                           "/objects/?limit=" + std::to_string(kPullPageSize);
  // The filter of this round of paging, repeated on every page.
  std::string added_after =
      cursor == 0 ? "" : "&added_after=" + PercentEncode(FormatTimestamp(cursor));
  std::string next;
  for (int pages = 0; !stopping(); ++pages) {
    if (pages == kMaxPagesPerRound) return Status::Ok();  // the rest in the next round
    std::string url = base + added_after;
    if (!next.empty()) url += "&next=" + PercentEncode(next);
    auto response = client.Send("GET", url, BaseHeaders());
    if (!response.ok()) return response.status();
    Contact();
    if (response->status != 200) {
      return Unavailable("pulling collection " + collection.id + " answered " +
                         Describe(*response));
    }
    Status signed_ok = CheckSigned(config_.public_key, response->headers, response->body);
    if (!signed_ok.ok()) {
      Reject();
      return Status(signed_ok.code(), "pulling collection " + collection.id + ": " +
                                          signed_ok.message() + "; page refused");
    }
    auto parsed = stix::ParseJson(response->body, context_.ingest.max_json_depth);
    if (!parsed.ok() || !parsed->is_object()) {
      Reject();
      return InvalidArgument("pulling collection " + collection.id +
                             ": the answer is not a TAXII envelope; page refused");
    }
    if (EntitlementChanged(collection.id, response->headers.Get(sharing::kEntitlementHeader))) {
      Rediscover();
      cursor = 0;
      added_after.clear();
      next.clear();
      continue;  // this page was chosen under the old rights
    }
    const json::object& envelope = parsed->get_object();
    const json::value* objects = envelope.if_contains("objects");
    if (objects && !objects->is_array()) {
      Reject();
      return InvalidArgument("pulling collection " + collection.id +
                             ": 'objects' is not a list; page refused");
    }
    bool nothing_new = true;
    if (objects && !objects->get_array().empty()) {
      KIZUNA_RETURN_IF_ERROR(Ingest(objects->get_array(), collection, "pull"));
      std::lock_guard lock(mutex_);
      nothing_new = last_ingest_added_ == 0;
    }
    bool advanced = false;
    if (std::string_view last = response->headers.Get("X-TAXII-Date-Added-Last"); !last.empty()) {
      auto last_us = ParseTimestamp(last);
      if (last_us.ok() && *last_us > cursor && *last_us < NowUs() + kMaxCursorAheadUs) {
        cursor = *last_us;
        advanced = true;
        SetPullCursor(collection.id, cursor);
      }
    }
    bool more = false;
    if (const json::value* v = envelope.if_contains("more"); v && v->is_bool()) {
      more = v->get_bool();
    }
    if (!more) break;
    // A partner repeating itself (nothing new, the cursor standing still)
    // gets no more requests this round.
    if (nothing_new && !advanced) break;
    next = stix::StringProperty(envelope, "next");
    if (next.empty()) {
      // "more" without a `next` (some servers): a new round after what we
      // have, if we got anywhere; otherwise try again at the next poll.
      if (!advanced) break;
      added_after = "&added_after=" + PercentEncode(FormatTimestamp(cursor));
    }
  }
  std::lock_guard lock(mutex_);
  status_.last_sync_us = NowUs();
  return Status::Ok();
}

void Federation::PeerWorker::StreamLoop(RemoteCollection collection) {
  auto backoff = 1000ms;
  while (!stopping()) {
    ClientLease client(*this);
    Status pulled = PullCollection(*client, collection);
    if (pulled.ok() && !stopping()) {
      {
        std::lock_guard lock(mutex_);
        status_.state = "streaming";
        status_.last_error.clear();
      }
      SaveStatus(true);
      Status streamed = Stream(*client, collection);
      if (streamed.code() == Code::kUnsupported) {
        spdlog::info("peer {}: no live stream for {}; polling it", config_.name, collection.id);
        break;
      }
      if (streamed.ok()) {
        backoff = 1000ms;
        WaitFor(200ms);  // the partner ended the stream (a restart?): reconnect
        continue;
      }
      pulled = streamed;
    }
    if (stopping()) break;
    SetError(pulled);
    WaitFor(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
  }
  std::lock_guard lock(mutex_);
  streaming_.erase(collection.id);
  if (!stopping_) unstreamable_.insert(collection.id);
}

Status Federation::PeerWorker::Stream(http::Client& client, const RemoteCollection& collection) {
  http::Headers headers = BaseHeaders();
  headers.Set("Accept", "text/event-stream");
  headers.Set("Last-Event-ID", std::to_string(PullCursor(collection.id)));
  http::SseParser parser;
  Status failure;
  bool rights_changed = false;
  auto on_data = [&](std::string_view bytes) {
    {
      // An open stream (events, or the keep-alive every 15 s) means we
      // have everything the partner has: in sync as of now.
      std::lock_guard lock(mutex_);
      status_.last_contact_us = status_.last_sync_us = NowUs();
    }
    SaveStatus(false);
    std::vector<http::SseEvent> events;
    Status fed = parser.Feed(bytes, &events);
    if (!fed.ok()) {
      failure = InvalidArgument("the live stream is malformed: " + fed.message());
      return false;
    }
    for (const http::SseEvent& event : events) {
      if (event.event == sharing::kEntitlementEvent) {
        if (event.data != PullEntitlement(collection.id)) {
          // Our rights changed since the pull: pull again (from the
          // beginning) before following the stream.
          failure = Unavailable("our rights changed");
          rights_changed = true;
          Rediscover();  // other collections may be open to us now
          return false;
        }
        continue;
      }
      if (event.event != kStreamEvent) continue;
      const std::string* signature = event.Field("signature");
      if (!config_.public_key.empty() &&
          (!signature || !VerifySignature(config_.public_key, event.data, *signature))) {
        Reject();
        failure = PermissionDenied(
            "a live stream event's signature does not match the key "
            "registered for " +
            config_.name + "; event refused");
        return false;
      }
      auto parsed = stix::ParseJson(event.data, context_.ingest.max_json_depth);
      const json::value* objects = parsed.ok() && parsed->is_object()
                                       ? parsed->get_object().if_contains("objects")
                                       : nullptr;
      int64_t seq = 0;
      auto [ptr, ec] = std::from_chars(event.id.data(), event.id.data() + event.id.size(), seq);
      if (!objects || !objects->is_array() || ec != std::errc() ||
          ptr != event.id.data() + event.id.size() || seq < 0 ||
          seq > NowUs() + kMaxCursorAheadUs) {
        Reject();
        failure = InvalidArgument("a live stream event is not what kizuna sends; refused");
        return false;
      }
      Status ingested = Ingest(objects->get_array(), collection, "stream");
      if (!ingested.ok()) {
        failure = ingested;
        return false;
      }
      if (seq > PullCursor(collection.id)) SetPullCursor(collection.id, seq);
      std::lock_guard lock(mutex_);
      status_.last_sync_us = NowUs();
    }
    return !stopping();
  };
  auto response =
      client.Stream("GET", config_.url + "/api/v1/collections/" + collection.id + "/stream",
                    headers, on_data, kStreamIdleTimeoutMs);
  if (rights_changed) return Status::Ok();  // the caller pulls again, then streams
  if (!failure.ok()) return failure;
  if (!response.ok()) return stopping() ? Status::Ok() : response.status();
  if (response->status == 404 || response->status == 405) {
    return Unsupported("the partner offers no live stream");
  }
  if (response->status != 200) {
    return Unavailable("the live stream answered " + Describe(*response));
  }
  return Status::Ok();
}

}  // namespace kizuna::federation
