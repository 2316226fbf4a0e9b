// The TAXII 2.1 server: discovery, API root, collections, objects (get, add,
// delete), object versions, manifest and status, with the specification's
// filters, paging, headers, content negotiation and error messages.
//
// TaxiiService::Handle is a pure function of (request, authenticated user)
// over the store; the node's router authenticates first. Paging tokens are
// stateless (the last date_added served), so a `next` survives restarts and
// works on any process that serves the same store. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "http/http.h"
#include "store/store.h"
#include "taxii/ingest.h"

namespace kizuna::taxii {

inline constexpr const char* kTaxiiMediaType = "application/taxii+json;version=2.1";

// What one reader may see of one collection: the node's sharing policy at
// the TAXII boundary (sharing/policy.h decides; the daemon wires it).
struct ReadScope {
  bool may_read_collection = true;
  // The node's config lets this reader write here without a grant: a
  // partner, into the collection that receives what comes from it.
  bool partner_may_write = false;
  // Likewise for reading: a partner, the sightings collection (where it is
  // given only the sightings due to it, sharing/policy.h).
  bool partner_may_read = false;
  // Empty: every version. Otherwise true for the versions the reader may
  // receive; it is given their json and origin.
  std::function<bool(const store::StoredObject&)> admits;
  // Called with the object versions a GET of objects hands out (the audit
  // log of what left the node); empty: not recorded.
  std::function<void(const store::Collection&, const std::vector<store::StoredObject>&)> on_release;
};
using ReadPolicy = std::function<ReadScope(const store::User&, const store::Collection&)>;

struct TaxiiOptions {
  std::string api_root = "root";  // served at /taxii2/<api_root>/
  std::string title = "kizuna";
  std::string description;
  std::string contact;
  std::string public_url;  // "https://host:port"; empty: from the Host header
  uint64_t max_body_bytes = 64ull * 1024 * 1024;
  uint64_t max_page_size = 1000;
  uint64_t default_page_size = 1000;
  IngestOptions ingest;
  ReadPolicy read_policy;  // empty: grants alone decide
  // Who a user writes as (taxii/producers.h): its origin and what it may
  // change. Empty function: everyone writes as the home team.
  std::function<Writer(const store::User&)> writer_of;
  // The key `next` tokens are sealed with (derived from the node's key).
  std::string next_token_key;
};

class TaxiiService {
 public:
  TaxiiService(store::Store& store, TaxiiOptions options);

  // Serves every path under /taxii2/.
  http::Response Handle(const http::Request& request, const store::User& user);

 private:
  struct Route;
  http::Response Discovery(const http::Request& request);
  http::Response ApiRoot();
  http::Response Collections(const store::User& user, const std::string& media_type);
  ReadScope ScopeOf(const store::User& user, const store::Collection& collection) const;
  // What `user` may do with a collection: admins everything, others their grants.
  Result<store::Grant> RightsOf(const store::User& user, const std::string& collection_id);
  http::Response GetObjects(const http::Request& request, const store::Collection& collection,
                            const std::string* object_id, const std::string& media_type,
                            const ReadScope& scope);
  http::Response AddObjects(const http::Request& request, const store::User& user,
                            const store::Collection& collection, const ReadScope& scope);
  http::Response DeleteObject(const http::Request& request, const store::User& user,
                              const store::Collection& collection, const std::string& object_id,
                              const ReadScope& scope);
  // A page of what the reader may see: versions it may not see are skipped
  // as if absent, so a page's size, `more` and `next` tell nothing of them,
  // and match[version] first/last choose among the visible versions
  // (visible_versions.h).
  // At most kMaxScannedPerPage stored versions are read for one page; past
  // that the page ends early (more, with `next_after_us` where to go on).
  struct VisiblePage {
    std::vector<store::StoredObject> objects;
    bool more = false;
    int64_t next_after_us = 0;  // with more: the date_added the next page starts after
  };
  static constexpr size_t kMaxScannedPerPage = 50000;
  Result<VisiblePage> ReadVisible(const std::string& collection_id, store::ObjectQuery query,
                                  const ReadScope& scope);
  Writer WriterOf(const store::User& user) const;
  http::Response Versions(const http::Request& request, const store::Collection& collection,
                          const std::string& object_id, const std::string& media_type,
                          const ReadScope& scope);
  http::Response Manifest(const http::Request& request, const store::Collection& collection,
                          const std::string& media_type, const ReadScope& scope);
  http::Response GetStatus(const store::User& user, const std::string& status_id,
                           const std::string& media_type);

  store::Store& store_;
  const TaxiiOptions options_;
};

// Content negotiation. The media type to answer with for an Accept header,
// or nullopt when nothing acceptable is offered (406). No version parameter
// means 2.1.
std::optional<std::string> NegotiateAccept(std::string_view accept);
// True when a request body's Content-Type is a TAXII/STIX 2.1 JSON type.
bool IsAcceptableContentType(std::string_view content_type);

// The status resource as TAXII 2.1 JSON.
std::string StatusToJson(const store::StatusRecord& status);

// A timestamp as TAXII shows it: milliseconds when that loses nothing, else microseconds.
std::string TaxiiTimestamp(int64_t micros);

}  // namespace kizuna::taxii
