#include "federation/federation.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "common/time.h"
#include "federation/peer_worker.h"
#include "spdlog/spdlog.h"
#include "stix/stix.h"

namespace kizuna::federation {

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
  std::vector<std::unique_ptr<PeerRunner>> retired;
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
    std::unique_ptr<PeerRunner> worker;
    PolicySource policy_source = [this] { return policy(); };
    if (peer.kind == node::PeerKind::kMisp) {
      if (!context_.misp_peer) {
        spdlog::warn("peer {}: a MISP peer, and this node runs none", peer.name);
        continue;
      }
      worker = context_.misp_peer(context_, peer, std::move(policy_source));
    } else {
      worker = std::make_unique<PeerWorker>(context_, peer, std::move(policy_source));
    }
    PeerRunner* started = worker.get();
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
  std::map<std::string, std::unique_ptr<PeerRunner>> workers;
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
