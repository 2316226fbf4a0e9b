// Public advisories: reports the team chooses to publish, served without
// sign-in as HTML pages and an Atom feed for awareness raising. A report is
// shown only while its newest version may go to the public under the
// sharing decision (SharingPolicy::ForPublic: TLP:CLEAR, no sharing group)
// and is not revoked; the objects it refers to are listed only where they
// may go to the public too. Nothing above CLEAR is ever reachable here: a
// report re-marked AMBER after it was published disappears with it.
//
// Which reports are published is kept in the store (meta key
// "interop:advisories": their ids, JSON). Stateless functions over the
// store; thread-safe as the store is.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "sharing/policy.h"
#include "store/store.h"

namespace kizuna::interop {

inline constexpr size_t kMaxAdvisories = 1000;

struct Advisory {
  store::StoredObject report;             // the newest version, with json
  std::vector<store::StoredObject> refs;  // what it refers to that the public may see
};

// The ids published, in the order they were published.
Result<std::vector<std::string>> PublishedAdvisoryIds(store::Store& store);

// Publishes a report: it must exist and its newest version may go to the
// public (else a clear error naming why). Publishing twice changes nothing.
Status PublishAdvisory(store::Store& store, const sharing::SharingPolicy& policy,
                       const std::string& report_id);
// Takes it off the public pages (NotFound when it was not published).
Status UnpublishAdvisory(store::Store& store, const std::string& report_id);

// The published reports the public may see now, newest first (by modified).
Result<std::vector<Advisory>> PublicAdvisories(store::Store& store,
                                               const sharing::SharingPolicy& policy,
                                               const std::string& refs_of = "");

// The pages: the index, one advisory (`base` is the advisories' URL path,
// "/api/v1/interop/advisories"), and the Atom feed (`site` is the node's
// public origin, "https://node.example", for absolute links).
std::string AdvisoryIndexHtml(const std::string& team, const std::vector<Advisory>& advisories,
                              const std::string& base);
std::string AdvisoryHtml(const std::string& team, const Advisory& advisory,
                         const std::string& base);
std::string AdvisoryAtom(const std::string& team, const std::vector<Advisory>& advisories,
                         const std::string& site, const std::string& base, int64_t now_us);

}  // namespace kizuna::interop
