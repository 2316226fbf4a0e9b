#include "alerts/directory_recipients.h"

#include <map>
#include <set>

namespace kizuna::alerts {

bool IsDirectoryRecipient(std::string_view name) {
  return name.substr(0, kDirectoryRecipientPrefix.size()) == kDirectoryRecipientPrefix;
}

std::vector<Recipient> DirectoryRecipients(const std::vector<coordination::DirectoryEntry>& entries,
                                           const std::vector<Recipient>& configured,
                                           const node::NodeConfig& config) {
  // The rules configured recipients name: theirs stay theirs.
  std::set<uint32_t> asns;
  std::set<std::string> prefixes, countries, domains;
  for (const Recipient& r : configured) {
    if (IsDirectoryRecipient(r.name)) continue;
    asns.insert(r.asns.begin(), r.asns.end());
    for (const Prefix& p : r.prefixes) prefixes.insert(FormatPrefix(p));
    countries.insert(r.countries.begin(), r.countries.end());
    domains.insert(r.domains.begin(), r.domains.end());
  }
  std::map<std::string, const node::PeerConfig*> peers;
  for (const node::PeerConfig& p : config.peers) peers[p.name] = &p;
  std::vector<Recipient> out;
  for (const coordination::DirectoryEntry& e : entries) {
    auto peer = peers.find(e.peer);
    if (e.own || peer == peers.end()) continue;
    Recipient r;
    r.name = std::string(kDirectoryRecipientPrefix) + e.peer;
    for (uint32_t asn : e.asns) {
      if (!asns.count(asn)) r.asns.push_back(asn);
    }
    for (const std::string& text : e.prefixes) {
      auto prefix = ParsePrefix(text);
      if (prefix.ok() && !prefixes.count(FormatPrefix(*prefix))) r.prefixes.push_back(*prefix);
    }
    for (const std::string& c : e.countries) {
      if (!countries.count(c)) r.countries.push_back(c);
    }
    for (const std::string& d : e.domains) {
      if (!domains.count(d)) r.domains.push_back(d);
    }
    r.format = ReportFormat::kStix;
    r.channel = Channel::kNode;
    r.peer = e.peer;
    r.org = peer->second->org.empty() ? e.peer : peer->second->org;
    r.tlp = stix::Tlp::kAmber;
    if (!ValidateRecipient(r).ok()) continue;  // nothing left of its constituency
    out.push_back(std::move(r));
  }
  return out;
}

Result<int> SyncDirectoryRecipients(AlertsDb& db, store::Store& store,
                                    const node::NodeConfig& config,
                                    const node::NodeIdentity& identity, bool enabled,
                                    int64_t now_us) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Recipient> current, db.Recipients());
  std::vector<Recipient> wanted;
  if (enabled) {
    KIZUNA_ASSIGN_OR_RETURN(std::vector<coordination::DirectoryEntry> entries,
                            coordination::ListDirectory(store, config.peers, identity, now_us,
                                                        /*stale_after_days=*/3650));
    wanted = DirectoryRecipients(entries, current, config);
  }
  std::map<std::string, std::string> had;  // name -> its JSON
  for (const Recipient& r : current) {
    if (IsDirectoryRecipient(r.name)) had[r.name] = RecipientToJson(r);
  }
  int changed = 0;
  for (const Recipient& r : wanted) {
    auto it = had.find(r.name);
    const std::string json = RecipientToJson(r);
    if (it == had.end() || it->second != json) {
      KIZUNA_RETURN_IF_ERROR(db.PutRecipient(r));
      ++changed;
    }
    if (it != had.end()) had.erase(it);
  }
  for (const auto& [name, json] : had) {
    Status removed = db.RemoveRecipient(name);
    if (!removed.ok() && removed.code() != Code::kNotFound) return removed;
    ++changed;
  }
  return changed;
}

}  // namespace kizuna::alerts
