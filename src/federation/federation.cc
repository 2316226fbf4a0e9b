#include "federation/federation.h"

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <set>
#include <thread>
#include <utility>

#include "common/encoding.h"
#include "common/time.h"
#include "correlation/sightings.h"
#include "federation/signing.h"
#include "http/sse.h"
#include "spdlog/spdlog.h"
#include "stix/stix.h"
#include "taxii/taxii.h"

namespace kizuna::federation {
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr size_t kPullPageSize = 1000;
constexpr size_t kPushBatch = 500;
constexpr auto kMaxBackoff = 15s;
constexpr int kStreamIdleTimeoutMs = 45000;
// Bounds on what one partner can make us do (memory, threads, disk).
constexpr size_t kMaxResponseBytes = 64 * 1024 * 1024;
constexpr int kMaxPagesPerRound = 200;     // then the next round resumes from the cursor
constexpr size_t kMaxStreamsPerPeer = 16;  // further collections are polled
constexpr int64_t kMaxCursorAheadUs = 86400LL * 1000000;  // a cursor past now+1 day is bogus

int64_t NowUs() { return SystemClock::Instance().NowMicros(); }

std::string PercentEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string MetaKey(const std::string& peer, std::string_view what) {
  return "peer:" + peer + ":" + std::string(what);
}

// A partner's collection as its TAXII server lists it.
struct RemoteCollection {
  std::string id;
  std::string alias;
  std::string title;
  bool can_read = false;
  bool can_write = false;
};

bool Names(const RemoteCollection& c, const std::string& name) {
  return name == c.id || (!c.alias.empty() && name == c.alias) || name == c.title;
}

std::string Describe(const http::Response& response) {
  std::string what = "HTTP " + std::to_string(response.status);
  boost::system::error_code ec;
  json::value body = json::parse(response.body, ec);
  if (!ec && body.is_object()) {
    for (const char* key : {"title", "description"}) {
      if (const json::value* v = body.get_object().if_contains(key); v && v->is_string()) {
        what += std::string(": ") + std::string(v->get_string());
      }
    }
  }
  // Partner text: bounded, one line, no control characters.
  if (what.size() > 300) what = what.substr(0, 300) + "...";
  for (char& c : what) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return what;
}

// The partner answered that it has not configured us as its peer yet.
bool IsNotPartnerYet(const Status& status) {
  return status.code() == Code::kFailedPrecondition &&
         status.message().rfind(kNotPartnerYet, 0) == 0;
}

// "scheme://host:port" of a URL.
std::string OriginOf(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t path = url.find('/', scheme + 3);
  return std::string(url.substr(0, path));
}

bool SamePeer(const node::PeerConfig& a, const node::PeerConfig& b) {
  return a.name == b.name && a.url == b.url && a.token == b.token && a.public_key == b.public_key &&
         a.org == b.org && a.max_tlp == b.max_tlp && a.pull == b.pull && a.into == b.into &&
         a.share == b.share && a.push == b.push && a.push_to == b.push_to &&
         a.reshare == b.reshare && a.stream == b.stream && a.poll_seconds == b.poll_seconds &&
         a.ca_file == b.ca_file && a.pinned_cert_sha256 == b.pinned_cert_sha256;
}

}  // namespace

std::string PeerStatusToJson(const PeerStatus& status) {
  json::object out;
  out["name"] = status.name;
  out["url"] = status.url;
  out["state"] = status.state;
  out["partner_is_kizuna"] = status.partner_is_kizuna;
  out["partner_identity"] = status.partner_identity;
  auto time_or_null = [](int64_t us) -> json::value {
    if (us == 0) return nullptr;
    return json::value(FormatTimestamp(us, 3));
  };
  out["last_contact"] = time_or_null(status.last_contact_us);
  out["last_sync"] = time_or_null(status.last_sync_us);
  out["lag_seconds"] =
      status.last_sync_us == 0
          ? json::value(nullptr)
          : json::value(std::max<int64_t>(0, (NowUs() - status.last_sync_us) / 1000000));
  json::object cursors;
  for (const auto& [collection, cursor] : status.pull_cursors) {
    cursors[collection] = cursor == 0 ? json::value(nullptr) : json::value(FormatTimestamp(cursor));
  }
  out["pull_cursors"] = std::move(cursors);
  json::object entitlements;
  for (const auto& [collection, entitlement] : status.pull_entitlements) {
    entitlements[collection] = entitlement;
  }
  out["entitlements"] = std::move(entitlements);
  out["push_cursor"] = status.push_cursor;
  out["received"] = status.received;
  out["sent"] = status.sent;
  out["rejected"] = status.rejected;
  out["last_error"] = status.last_error;
  return json::serialize(out);
}

Result<std::optional<PeerStatus>> LoadPeerStatus(store::Store& store, const std::string& name) {
  KIZUNA_ASSIGN_OR_RETURN(auto text, store.GetMeta(MetaKey(name, "status")));
  if (!text) return std::optional<PeerStatus>();
  boost::system::error_code ec;
  json::value parsed = json::parse(*text, ec);
  if (ec || !parsed.is_object()) return std::optional<PeerStatus>();
  const json::object& o = parsed.get_object();
  PeerStatus status;
  status.name = name;
  auto str = [&](const char* key) { return std::string(stix::StringProperty(o, key)); };
  auto time = [&](const char* key) -> int64_t {
    auto parsed_time = ParseTimestamp(str(key));
    return parsed_time.ok() ? *parsed_time : 0;
  };
  auto number = [&](const char* key) -> uint64_t {
    const json::value* v = o.if_contains(key);
    if (!v) return 0;
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64()) return static_cast<uint64_t>(std::max<int64_t>(0, v->get_int64()));
    return 0;
  };
  status.url = str("url");
  status.state = str("state");
  if (const json::value* v = o.if_contains("partner_identity"); v && v->is_string()) {
    status.partner_identity = v->get_string();
  }
  if (const json::value* v = o.if_contains("partner_is_kizuna"); v && v->is_bool()) {
    status.partner_is_kizuna = v->get_bool();
  }
  status.last_contact_us = time("last_contact");
  status.last_sync_us = time("last_sync");
  if (const json::value* v = o.if_contains("pull_cursors"); v && v->is_object()) {
    for (const auto& [collection, cursor] : v->get_object()) {
      int64_t us = 0;
      if (cursor.is_string()) {
        auto parsed_time = ParseTimestamp(cursor.get_string());
        if (parsed_time.ok()) us = *parsed_time;
      }
      status.pull_cursors[std::string(collection)] = us;
    }
  }
  if (const json::value* v = o.if_contains("entitlements"); v && v->is_object()) {
    for (const auto& [collection, entitlement] : v->get_object()) {
      if (entitlement.is_string()) {
        status.pull_entitlements[std::string(collection)] = std::string(entitlement.get_string());
      }
    }
  }
  status.push_cursor = static_cast<int64_t>(number("push_cursor"));
  status.received = number("received");
  status.sent = number("sent");
  status.rejected = number("rejected");
  status.last_error = str("last_error");
  return std::optional<PeerStatus>(std::move(status));
}

// ---------------------------------------------------------------------------

class Federation::PeerWorker {
 public:
  PeerWorker(const FederationContext& context, node::PeerConfig config,
             std::function<std::shared_ptr<const sharing::SharingPolicy>()> policy)
      : context_(context), config_(std::move(config)), policy_(std::move(policy)) {
    status_.name = config_.name;
    status_.url = config_.url;
    store::Store& store = context_.node->store();
    if (auto saved = LoadPeerStatus(store, config_.name); saved.ok() && *saved) {
      status_.received = (*saved)->received;
      status_.sent = (*saved)->sent;
      status_.rejected = (*saved)->rejected;
      status_.last_sync_us = (*saved)->last_sync_us;
      status_.pull_cursors = (*saved)->pull_cursors;
      status_.pull_entitlements = (*saved)->pull_entitlements;
    }
    if (auto push = store.GetMeta(MetaKey(config_.name, "push")); push.ok() && *push) {
      // "<cursor>" or "<cursor> <entitlement>": the cursor holds only under
      // the rights it was taken with.
      std::string_view text = **push;
      status_.push_cursor = std::atoll(std::string(text.substr(0, text.find(' '))).c_str());
      if (size_t space = text.find(' '); space != std::string_view::npos) {
        push_entitlement_ = std::string(text.substr(space + 1));
      }
    }
  }

  ~PeerWorker() { Stop(); }

  const node::PeerConfig& config() const { return config_; }

  void Start() {
    main_ = std::thread([this] { Run(); });
  }

  void Stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      for (http::Client* client : clients_) client->Abort();
    }
    wake_.notify_all();
    if (main_.joinable()) main_.join();
    std::vector<std::thread> streams;
    {
      std::lock_guard lock(mutex_);
      streams.swap(stream_threads_);
    }
    for (std::thread& thread : streams) thread.join();
    {
      std::lock_guard lock(mutex_);
      status_.state = "stopped";
    }
    SaveStatus(true);
  }

  PeerStatus status() const {
    std::lock_guard lock(mutex_);
    return status_;
  }

 private:
  // A client registered for Abort() on Stop().
  class ClientLease {
   public:
    explicit ClientLease(PeerWorker& worker) : worker_(worker) {
      http::ClientOptions options;
      if (!worker.config_.ca_file.empty()) {
        options.ca_file = worker.context_.node->Resolve(worker.config_.ca_file);
      }
      options.pinned_cert_sha256 = worker.config_.pinned_cert_sha256;
      options.timeout_ms = 30000;
      options.max_response_bytes = kMaxResponseBytes;
      client_ = std::make_unique<http::Client>(options);
      std::lock_guard lock(worker_.mutex_);
      if (worker_.stopping_) client_->Abort();
      worker_.clients_.insert(client_.get());
    }
    ~ClientLease() {
      std::lock_guard lock(worker_.mutex_);
      worker_.clients_.erase(client_.get());
    }
    http::Client& operator*() { return *client_; }

   private:
    PeerWorker& worker_;
    std::unique_ptr<http::Client> client_;
  };

  bool stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // Sets `flag` for the main loop and wakes it.
  void Signal(bool PeerWorker::*flag) {
    {
      std::lock_guard lock(mutex_);
      this->*flag = true;
      woken_ = true;
    }
    wake_.notify_all();
  }

  // Asks the main loop for a full cycle (discovery included) at once.
  void Rediscover() { Signal(&PeerWorker::rediscover_); }

  bool TakeRediscover() {
    std::lock_guard lock(mutex_);
    return std::exchange(rediscover_, false);
  }

  // Sleeps up to `duration`; true when woken by Stop, PushReady or Rediscover.
  bool WaitFor(std::chrono::milliseconds duration) {
    std::unique_lock lock(mutex_);
    bool woken = wake_.wait_for(lock, duration, [&] { return stopping_ || woken_; });
    woken_ = false;
    return woken;
  }

  http::Headers BaseHeaders() const {
    http::Headers headers;
    // A kizuna API key (or any bearer token), or "user:password" for TAXII
    // servers that take HTTP Basic (medallion, many others).
    const bool basic =
        config_.token.find(':') != std::string::npos && config_.token.rfind("kz_", 0) != 0;
    headers.Set("Authorization",
                basic ? "Basic " + Base64Encode(config_.token) : "Bearer " + config_.token);
    headers.Set("Accept", taxii::kTaxiiMediaType);
    headers.Set(kWantSignatureHeader, "1");
    headers.Set(kFederationHeader, "1");
    return headers;
  }

  void Contact() {
    std::lock_guard lock(mutex_);
    status_.last_contact_us = NowUs();
  }

  void SetState(std::string state) {
    std::lock_guard lock(mutex_);
    status_.state = std::move(state);
  }

  void SetError(const Status& error) {
    {
      std::lock_guard lock(mutex_);
      status_.last_error = error.message();
      status_.state = IsNotPartnerYet(error) ? "waiting" : "retrying";
    }
    spdlog::warn("peer {}: {}", config_.name, error.message());
    SaveStatus(true);
  }

  // Persists the status for `kizuna peer list` (at most once a second unless
  // forced; a skipped save is made up by FlushStatus from the main loop).
  void SaveStatus(bool force) {
    std::string text;
    {
      std::lock_guard lock(mutex_);
      const int64_t now = NowUs();
      if (!force && now - last_status_save_us_ < 1000000) {
        status_dirty_ = true;
        return;
      }
      last_status_save_us_ = now;
      status_dirty_ = false;
      text = PeerStatusToJson(status_);
    }
    Status saved = context_.node->store().SetMeta(MetaKey(config_.name, "status"), text);
    if (!saved.ok()) spdlog::warn("peer {}: saving status: {}", config_.name, saved.message());
  }

  void FlushStatus() {
    bool due;
    {
      std::lock_guard lock(mutex_);
      due = status_dirty_ && NowUs() - last_status_save_us_ >= 1000000;
    }
    if (due) SaveStatus(true);
  }

  int64_t PullCursor(const std::string& collection) {
    std::lock_guard lock(mutex_);
    auto it = status_.pull_cursors.find(collection);
    return it == status_.pull_cursors.end() ? 0 : it->second;
  }

  void SetPullCursor(const std::string& collection, int64_t cursor) {
    {
      std::lock_guard lock(mutex_);
      status_.pull_cursors[collection] = cursor;
    }
    SaveStatus(false);
  }

  // Rights that grow reach back: the partner tells us, with every page and
  // at the start of every stream, the entitlement it serves us under. When it
  // is not the one our cursor was taken with, what it withheld then may be
  // due now: the cursor starts over (repeats are stored as already present).
  // True when the cursor was reset.
  bool EntitlementChanged(const std::string& collection, std::string_view entitlement) {
    if (entitlement.empty() || entitlement.size() > 64) return false;
    bool reset;
    {
      std::lock_guard lock(mutex_);
      std::string& known = status_.pull_entitlements[collection];
      if (known == entitlement) return false;
      int64_t& cursor = status_.pull_cursors[collection];
      reset = cursor != 0;
      if (reset) {
        spdlog::info("peer {}: our rights on {} changed; pulling it again from the beginning",
                     config_.name, collection);
      }
      known = std::string(entitlement);
      cursor = 0;
    }
    SaveStatus(true);  // the cursor and its entitlement in one write
    return reset;
  }

  std::string PullEntitlement(const std::string& collection) {
    std::lock_guard lock(mutex_);
    auto it = status_.pull_entitlements.find(collection);
    return it == status_.pull_entitlements.end() ? "" : it->second;
  }

  // ---- discovery

  Status Discover(http::Client& client) {
    auto discovery = client.Send("GET", config_.url + "/taxii2/", BaseHeaders());
    if (!discovery.ok()) return discovery.status();
    Contact();
    if (discovery->status == 403 &&
        Describe(*discovery).find(kNotPartnerYet) != std::string::npos) {
      return FailedPrecondition(std::string(kNotPartnerYet) + ": " + config_.url +
                                " has not configured this node as its peer yet (" +
                                Describe(*discovery) + ")");
    }
    if (discovery->status != 200) {
      return Unavailable("TAXII discovery at " + config_.url + "/taxii2/ answered " +
                         Describe(*discovery));
    }
    auto parsed = stix::ParseJson(discovery->body, 32);
    if (!parsed.ok() || !parsed->is_object()) {
      return InvalidArgument("the partner's TAXII discovery is not a JSON object");
    }
    std::string root(stix::StringProperty(parsed->get_object(), "default"));
    if (root.empty()) {
      const json::value* roots = parsed->get_object().if_contains("api_roots");
      if (roots && roots->is_array() && !roots->get_array().empty() &&
          roots->get_array()[0].is_string()) {
        root = std::string(roots->get_array()[0].get_string());
      }
    }
    if (root.empty()) return InvalidArgument("the partner's TAXII server names no API root");
    if (root.rfind("http://", 0) != 0 && root.rfind("https://", 0) != 0) {
      root = config_.url + (root.front() == '/' ? "" : "/") + root;
    }
    if (root.back() != '/') root += '/';
    // Discovery is not signed: it may not send us (and our token) elsewhere.
    if (OriginOf(root) != OriginOf(config_.url)) {
      return PermissionDenied("the partner's discovery names an API root on another server (" +
                              OriginOf(root).substr(0, 200) + "); refused");
    }
    {
      std::lock_guard lock(mutex_);
      api_root_ = root;
    }

    auto listed = client.Send("GET", api_root_ + "collections/", BaseHeaders());
    if (!listed.ok()) return listed.status();
    if (listed->status != 200) {
      return Unavailable("listing the partner's collections answered " + Describe(*listed));
    }
    auto collections = stix::ParseJson(listed->body, 32);
    if (!collections.ok() || !collections->is_object()) {
      return InvalidArgument("the partner's collection list is not a JSON object");
    }
    remote_.clear();
    if (const json::value* list = collections->get_object().if_contains("collections");
        list && list->is_array()) {
      for (const json::value& item : list->get_array()) {
        if (!item.is_object()) continue;
        const json::object& o = item.get_object();
        RemoteCollection c;
        c.id = stix::StringProperty(o, "id");
        c.alias = stix::StringProperty(o, "alias");
        c.title = stix::StringProperty(o, "title");
        if (const json::value* v = o.if_contains("can_read"); v && v->is_bool()) {
          c.can_read = v->get_bool();
        }
        if (const json::value* v = o.if_contains("can_write"); v && v->is_bool()) {
          c.can_write = v->get_bool();
        }
        // The id goes into URLs: only what a TAXII collection id may be.
        bool safe = !c.id.empty() && c.id.size() <= 128;
        for (char ch : c.id) {
          safe = safe && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_');
        }
        if (safe) remote_.push_back(std::move(c));
      }
    }

    // A kizuna partner proves it holds the key we registered for it.
    auto node_info = client.Send("GET", config_.url + "/api/v1/node", BaseHeaders());
    bool is_kizuna = false;
    std::string partner_identity;
    if (node_info.ok() && node_info->status == 200) {
      auto info = stix::ParseJson(node_info->body, 16);
      if (info.ok() && info->is_object() && info->get_object().contains("identity")) {
        is_kizuna = true;
        partner_identity = stix::StringProperty(info->get_object(), "identity");
        if (partner_identity.rfind("identity--", 0) != 0) partner_identity.clear();
        std::string key(stix::StringProperty(info->get_object(), "public_key"));
        if (!config_.public_key.empty() && key != config_.public_key) {
          return PermissionDenied("the partner's node key is not the public_key registered for " +
                                  config_.name);
        }
      }
    }
    {
      std::lock_guard lock(mutex_);
      status_.partner_is_kizuna = is_kizuna;
      status_.partner_identity = partner_identity;
    }
    push_enabled_ = config_.push == node::PushMode::kAlways ||
                    (config_.push == node::PushMode::kAuto && !is_kizuna);
    push_url_.clear();
    if (push_enabled_) {
      for (const RemoteCollection& c : remote_) {
        if (!c.can_write) continue;
        if (config_.push_to.empty() || Names(c, config_.push_to)) {
          push_url_ = api_root_ + "collections/" + c.id + "/";
          break;
        }
      }
    }
    return Status::Ok();
  }

  std::vector<RemoteCollection> PulledCollections() const {
    std::vector<RemoteCollection> out;
    for (const RemoteCollection& c : remote_) {
      if (!c.can_read) continue;
      // Its sightings of what we produced come through its sightings
      // collection, whatever else we pull.
      if (!config_.pull.empty() && c.alias != sharing::kSightingsAlias &&
          std::none_of(config_.pull.begin(), config_.pull.end(),
                       [&](const std::string& name) { return Names(c, name); })) {
        continue;
      }
      out.push_back(c);
    }
    return out;
  }

  // ---- receiving

  // Stores what the partner sent (each object validated; invalid ones are
  // refused one by one) and records it in the audit log.
  Status Ingest(const json::array& objects, const RemoteCollection& remote,
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
    auto into = store.GetCollection(config_.into);
    if (!into.ok()) {
      return FailedPrecondition("peer " + config_.name + ": our collection '" + config_.into +
                                "' (into) does not exist");
    }
    return IngestInto(*into, others, remote.id, channel);
  }

  Status IngestInto(const store::Collection& into, const json::array& objects,
                    const std::string& remote_collection, std::string_view channel) {
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

  void Reject() {
    std::lock_guard lock(mutex_);
    ++status_.rejected;
  }

  // Pulls one collection from its cursor to the end, page by page (the
  // server's `next`, with the original added_after repeated on every page).
  Status PullCollection(http::Client& client, const RemoteCollection& collection) {
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

  // ---- pushing

  Status PushPending(http::Client& client) {
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
          spdlog::info("peer {}: its rights changed; pushing again from the beginning",
                       config_.name);
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
      KIZUNA_RETURN_IF_ERROR(
          store.SetMeta(MetaKey(config_.name, "push"), std::to_string(cursor) + " " + entitlement));
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

  // The bus has changes past the push cursor (called on the bus's thread).
  void PushReady() { Signal(&PeerWorker::push_ready_); }

  bool TakePushReady() {
    std::lock_guard lock(mutex_);
    return std::exchange(push_ready_, false);
  }

  // POSTs one envelope and follows its status resource until it is complete.
  Status PushBatch(http::Client& client, const std::string& body,
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

  // ---- the live stream of one collection

  void StreamLoop(RemoteCollection collection) {
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

  Status Stream(http::Client& client, const RemoteCollection& collection) {
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

  // ---- the main loop

  Status Cycle(http::Client& client) {
    KIZUNA_RETURN_IF_ERROR(Discover(client));
    bool polling = false;
    bool kizuna;
    {
      std::lock_guard lock(mutex_);
      kizuna = status_.partner_is_kizuna;
    }
    for (const RemoteCollection& collection : PulledCollections()) {
      if (stopping()) return Status::Ok();
      if (kizuna && config_.stream) {
        std::lock_guard lock(mutex_);
        if (streaming_.count(collection.id)) continue;
        if (!unstreamable_.count(collection.id) && !stopping_ &&
            stream_threads_.size() < kMaxStreamsPerPeer) {
          try {
            stream_threads_.emplace_back([this, collection] { StreamLoop(collection); });
            streaming_.insert(collection.id);
            continue;
          } catch (const std::system_error& e) {
            spdlog::warn("peer {}: cannot start a stream thread ({}); polling {}", config_.name,
                         e.what(), collection.id);
          }
        }
      }
      polling = true;
      KIZUNA_RETURN_IF_ERROR(PullCollection(client, collection));
    }
    KIZUNA_RETURN_IF_ERROR(PushPending(client));
    {
      std::lock_guard lock(mutex_);
      if (polling || streaming_.empty()) status_.state = "polling";
      if (!polling && !streaming_.empty()) status_.state = "streaming";
      status_.last_error.clear();
    }
    SaveStatus(true);
    return Status::Ok();
  }

  void Run() {
    auto backoff = 1000ms;
    auto next_cycle = std::chrono::steady_clock::now();
    ClientLease client(*this);
    while (!stopping()) {
      const auto now = std::chrono::steady_clock::now();
      Status result;
      bool ran = false;
      if (TakeRediscover() || now >= next_cycle) {
        next_cycle = std::min(next_cycle, now);
        result = Cycle(*client);
        ran = true;
      } else if (push_enabled_ && TakePushReady()) {
        result = PushPending(*client);
        ran = true;
      }
      if (ran) {
        if (result.ok()) {
          backoff = 1000ms;
          if (now >= next_cycle) next_cycle = now + std::chrono::seconds(config_.poll_seconds);
        } else if (!stopping()) {
          SetError(result);
          if (IsNotPartnerYet(result)) {
            // Its operator may add us any moment: ask again soon, cheaply.
            next_cycle = std::chrono::steady_clock::now() + 1000ms;
          } else {
            next_cycle = std::chrono::steady_clock::now() + backoff;
            backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
          }
        }
      }
      FlushStatus();
      WaitFor(100ms);
    }
  }

  const FederationContext context_;
  const node::PeerConfig config_;
  const std::function<std::shared_ptr<const sharing::SharingPolicy>()> policy_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  bool rediscover_ = false;
  bool push_ready_ = false;
  std::set<http::Client*> clients_;
  PeerStatus status_;
  int64_t last_status_save_us_ = 0;
  bool status_dirty_ = false;           // a change not persisted yet
  uint64_t last_ingest_added_ = 0;      // new versions in the last Ingest (all its collections)
  std::set<std::string> streaming_;     // collections a stream thread owns
  std::set<std::string> unstreamable_;  // collections the partner streams not
  std::vector<std::thread> stream_threads_;
  std::thread main_;

  std::string api_root_;  // guarded by mutex_: stream threads read it
  // Main-thread state (discovery results).
  std::vector<RemoteCollection> remote_;
  std::atomic<bool> push_enabled_{false};
  std::string push_url_;
  std::string push_entitlement_;  // guarded by mutex_
  // Main thread only; declared last so it unsubscribes before the rest goes.
  std::unique_ptr<bus::Subscription> push_subscription_;
};

// ---------------------------------------------------------------------------

namespace {

// The sharing decision on a sighting needs the first version of what was
// sighted (its producer): read from the store when asked.
sharing::FirstVersionLookup FirstVersionIn(store::Store& store) {
  return [&store](const std::string& id) -> std::optional<store::StoredObject> {
    auto history = store.ObjectHistory(id, 1);
    if (!history.ok() || history->empty()) return std::nullopt;
    return std::move(history->front());
  };
}

}  // namespace

Federation::Federation(FederationContext context)
    : context_(context),
      policy_(std::make_shared<sharing::SharingPolicy>(context.node->config(),
                                                       FirstVersionIn(context.node->store()))) {}

Federation::~Federation() { Stop(); }

std::shared_ptr<const sharing::SharingPolicy> Federation::policy() const {
  std::lock_guard lock(mutex_);
  return policy_;
}

void Federation::Reload(const node::NodeConfig& config) {
  std::vector<std::unique_ptr<PeerWorker>> retired;
  std::vector<node::PeerConfig> to_start;
  {
    std::lock_guard lock(mutex_);
    policy_ =
        std::make_shared<sharing::SharingPolicy>(config, FirstVersionIn(context_.node->store()));
    std::set<std::string> wanted;
    for (const node::PeerConfig& peer : config.peers) {
      wanted.insert(peer.name);
      auto it = workers_.find(peer.name);
      if (it != workers_.end() && SamePeer(it->second->config(), peer)) continue;
      if (it != workers_.end()) {
        retired.push_back(std::move(it->second));
        workers_.erase(it);
      }
      to_start.push_back(peer);
    }
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (wanted.count(it->first)) {
        ++it;
      } else {
        retired.push_back(std::move(it->second));
        it = workers_.erase(it);
      }
    }
  }
  // Outside the lock (a stopping worker may still ask for the policy), and
  // before the replacements exist: a new worker starts from the cursors and
  // counts its predecessor saved when it stopped.
  for (auto& worker : retired) {
    spdlog::info("peer {}: stopped", worker->config().name);
    worker->Stop();
  }
  retired.clear();
  for (const node::PeerConfig& peer : to_start) {
    auto worker = std::make_unique<PeerWorker>(context_, peer, [this] { return policy(); });
    PeerWorker* started = worker.get();
    {
      std::lock_guard lock(mutex_);
      if (workers_.count(peer.name)) continue;  // a concurrent Reload got there first
      workers_[peer.name] = std::move(worker);
    }
    spdlog::info("peer {}: syncing with {}", peer.name, peer.url);
    started->Start();
  }
}

void Federation::Stop() {
  std::map<std::string, std::unique_ptr<PeerWorker>> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& [name, worker] : workers) worker->Stop();
}

std::vector<PeerStatus> Federation::Statuses() const {
  std::lock_guard lock(mutex_);
  std::vector<PeerStatus> out;
  for (const auto& [name, worker] : workers_) out.push_back(worker->status());
  return out;
}

std::string Federation::PeerIdentity(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = workers_.find(name);
  return it == workers_.end() ? "" : it->second->status().partner_identity;
}

}  // namespace kizuna::federation
