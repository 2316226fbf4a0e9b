#include "taxii/producers.h"

#include <algorithm>

namespace kizuna::taxii {
namespace {

// Enough versions to tell whether a writer may see any of them.
constexpr size_t kHistoryLimit = 64;

std::string ProducerName(const store::StoredObject& first) {
  if (first.origin.empty()) return "this node's team";
  if (first.origin.rfind("org:", 0) == 0) return "organization " + first.origin.substr(4);
  return "partner " + first.origin;
}

// Whether `writer` is the producer of the object whose first version is `first`.
ProducerVerdict Judge(const Writer& writer, const store::StoredObject& first) {
  ProducerVerdict verdict;
  const std::string owner = ProducerName(first);
  auto refuse = [&](std::string why) {
    verdict.kind = ProducerVerdict::Kind::kRefuse;
    verdict.why = std::move(why);
    return verdict;
  };
  switch (writer.kind) {
    case Writer::Kind::kHome:
      if (first.origin.empty()) return verdict;
      if (writer.admin) {
        verdict.admin_override = "produced by " + owner;
        return verdict;
      }
      return refuse("produced by " + owner + "; only its producer (or a node admin) changes it");
    case Writer::Kind::kOrganization:
      if (first.origin == writer.origin) return verdict;
      return refuse("produced by " + owner + "; only its producer changes it");
    case Writer::Kind::kPeer:
      if (first.origin.empty() || first.origin.rfind("org:", 0) == 0) {
        return refuse("produced on the receiving node (" + owner +
                      "); a partner never changes it there");
      }
      if (first.origin == writer.origin) return verdict;
      if (!writer.identity.empty() && first.created_by_ref == writer.identity) return verdict;
      // A partner's object that names no producer has none to protect: in a
      // mesh its next version may arrive by any partner first.
      if (first.created_by_ref.empty()) return verdict;
      return refuse("produced by " + owner + "; only its producer changes it");
  }
  return verdict;
}

}  // namespace

std::set<std::string> HomeIdentities(const std::string& node_identity,
                                     const std::vector<store::Organization>& organizations) {
  std::set<std::string> identities = {node_identity};
  for (const store::Organization& organization : organizations) {
    if (!organization.identity_id.empty()) identities.insert(organization.identity_id);
  }
  return identities;
}

Result<ProducerVerdict> CheckNewVersion(store::Store& store, const Writer& writer,
                                        const std::string& collection_id,
                                        const stix::ObjectInfo& info, const Visibility& visible,
                                        bool held) {
  ProducerVerdict verdict;
  auto refuse = [&](std::string why) {
    verdict.kind = ProducerVerdict::Kind::kRefuse;
    verdict.why = std::move(why);
    return verdict;
  };
  if (writer.kind == Writer::Kind::kOrganization && !info.created_by_ref.empty() &&
      info.created_by_ref != writer.identity) {
    return refuse("created_by_ref must be your organization's identity " + writer.identity);
  }
  if (writer.kind == Writer::Kind::kPeer && writer.home_identities.count(info.created_by_ref)) {
    return refuse("created_by_ref names an identity of the receiving node");
  }
  const int64_t version = info.modified_us != 0 ? info.modified_us : info.created_us;
  if (version == 0 || !held) return verdict;  // an SCO, or the first version of all
  {
    // A version this collection already holds changes nothing, whoever
    // sends it again (the same version elsewhere proves nothing: a copy
    // with other content would be a forgery).
    store::ObjectQuery same;
    same.ids = {info.id};
    same.versions = {version};
    same.include_json = false;
    same.limit = 1;
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage held, store.QueryObjects(collection_id, same));
    if (!held.objects.empty()) return verdict;
  }
  KIZUNA_ASSIGN_OR_RETURN(std::vector<store::StoredObject> history,
                          store.ObjectHistory(info.id, kHistoryLimit));
  if (history.empty()) return verdict;
  const store::StoredObject& first = history.front();
  if (!first.created_by_ref.empty() && info.created_by_ref != first.created_by_ref) {
    verdict = refuse("produced by " + first.created_by_ref +
                     "; a new version cannot name another producer");
  } else {
    verdict = Judge(writer, first);
  }
  if (verdict.kind == ProducerVerdict::Kind::kRefuse && visible &&
      std::none_of(history.begin(), history.end(), visible)) {
    verdict.kind = ProducerVerdict::Kind::kHidden;
  }
  return verdict;
}

Result<ProducerVerdict> CheckDelete(store::Store& store, const Writer& writer,
                                    const std::string& id) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<store::StoredObject> history, store.ObjectHistory(id, 1));
  if (history.empty()) return ProducerVerdict{};
  ProducerVerdict verdict = Judge(writer, history.front());
  if (verdict.kind == ProducerVerdict::Kind::kRefuse) {
    verdict.why = "only its producer deletes it: " + verdict.why;
  }
  return verdict;
}

}  // namespace kizuna::taxii
