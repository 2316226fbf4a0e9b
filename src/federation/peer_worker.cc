#include "federation/peer_worker.h"

#include <algorithm>
#include <utility>

#include "common/encoding.h"
#include "federation/signing.h"
#include "spdlog/spdlog.h"
#include "stix/stix.h"
#include "taxii/taxii.h"

namespace kizuna::federation {

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

PushCursor LoadPushCursor(store::Store& store, const std::string& peer) {
  PushCursor cursor;
  auto text = store.GetMeta(MetaKey(peer, "push"));
  if (!text.ok() || !*text) return cursor;
  // "<seq>" (as older nodes wrote it) or "<seq> <entitlement>".
  std::string_view saved = **text;
  const size_t space = saved.find(' ');
  cursor.seq = std::atoll(std::string(saved.substr(0, space)).c_str());
  if (space != std::string_view::npos) cursor.entitlement = std::string(saved.substr(space + 1));
  return cursor;
}

Status SavePushCursor(store::Store& store, const std::string& peer, const PushCursor& cursor) {
  return store.SetMeta(MetaKey(peer, "push"),
                       std::to_string(cursor.seq) + " " + cursor.entitlement);
}

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
  return a.name == b.name && a.kind == b.kind && a.url == b.url && a.token == b.token &&
         a.public_key == b.public_key && a.org == b.org && a.max_tlp == b.max_tlp &&
         a.pull == b.pull && a.into == b.into && a.share == b.share && a.push == b.push &&
         a.push_to == b.push_to && a.reshare == b.reshare && a.stream == b.stream &&
         a.poll_seconds == b.poll_seconds && a.ca_file == b.ca_file &&
         a.pinned_cert_sha256 == b.pinned_cert_sha256;
}

Federation::PeerWorker::PeerWorker(
    const FederationContext& context, node::PeerConfig config,
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
  const PushCursor push = LoadPushCursor(store, config_.name);
  status_.push_cursor = push.seq;
  push_entitlement_ = push.entitlement;
}

void Federation::PeerWorker::Stop() {
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

void Federation::PeerWorker::Signal(bool PeerWorker::*flag) {
  {
    std::lock_guard lock(mutex_);
    this->*flag = true;
    woken_ = true;
  }
  wake_.notify_all();
}

http::Headers Federation::PeerWorker::BaseHeaders() const {
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

void Federation::PeerWorker::SetError(const Status& error) {
  {
    std::lock_guard lock(mutex_);
    status_.last_error = error.message();
    status_.state = IsNotPartnerYet(error) ? "waiting" : "retrying";
  }
  spdlog::warn("peer {}: {}", config_.name, error.message());
  SaveStatus(true);
}

void Federation::PeerWorker::SaveStatus(bool force) {
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

void Federation::PeerWorker::FlushStatus() {
  bool due;
  {
    std::lock_guard lock(mutex_);
    due = status_dirty_ && NowUs() - last_status_save_us_ >= 1000000;
  }
  if (due) SaveStatus(true);
}

bool Federation::PeerWorker::EntitlementChanged(const std::string& collection,
                                                std::string_view entitlement) {
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

Status Federation::PeerWorker::Discover(http::Client& client) {
  auto discovery = client.Send("GET", config_.url + "/taxii2/", BaseHeaders());
  if (!discovery.ok()) return discovery.status();
  Contact();
  if (discovery->status == 403 && Describe(*discovery).find(kNotPartnerYet) != std::string::npos) {
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

std::vector<RemoteCollection> Federation::PeerWorker::PulledCollections() const {
  std::vector<RemoteCollection> out;
  for (const RemoteCollection& c : remote_) {
    if (!c.can_read) continue;
    // Its sightings of what we produced come through its sightings
    // collection, the alert reports it addressed to us through its alerts
    // collection and its directory entry through its coordination
    // collection, whatever else we pull.
    if (!config_.pull.empty() && !sharing::EveryPartnerReads(c.alias) &&
        std::none_of(config_.pull.begin(), config_.pull.end(),
                     [&](const std::string& name) { return Names(c, name); })) {
      continue;
    }
    out.push_back(c);
  }
  return out;
}

Status Federation::PeerWorker::Cycle(http::Client& client) {
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

void Federation::PeerWorker::Run() {
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

}  // namespace kizuna::federation
