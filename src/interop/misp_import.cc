#include "interop/misp_import.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

#include "common/time.h"
#include "common/uuid.h"
#include "http/http.h"
#include "stix/stix.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr uintmax_t kMaxEventBytes = 256ull * 1024 * 1024;
// Over the network: as a peer's answers (a parsed event takes several times its size).
constexpr size_t kMaxFetchedBytes = 64ull * 1024 * 1024;

void Keep(std::vector<std::string>* list, std::string line) {
  if (list->size() < kMaxListErrors) list->push_back(std::move(line));
}

Result<json::value> ReadJson(const std::string& path, int max_depth) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return IoError("cannot read " + path);
  if (size > kMaxEventBytes) return TooLarge(path + ": larger than 256 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto parsed = stix::ParseJson(buffer.str(), max_depth);
  if (!parsed.ok()) return InvalidArgument(path + ": " + parsed.status().message());
  return std::move(*parsed);
}

// Objects of MISP events on their way into the collection, in batches of
// up to 1,000 objects of one origin: small events share a transaction (a
// feed of 10,000 events is not 10,000 commits).
class EventWriter {
 public:
  // `flushed` runs after each batch is stored and its events' after_stored.
  EventWriter(const ImportTarget& target, MispImportSummary* summary, store::StatusRecord* results,
              std::function<Status()> flushed = {})
      : target_(target), summary_(summary), results_(results), flushed_(std::move(flushed)) {}

  // Converts and checks one event and queues its objects; `after_stored`
  // runs once they are all stored.
  Status Add(const json::value& event, const MispImportOptions& options, const std::string& where,
             const std::string& origin, std::function<Status()> after_stored = {}) {
    // After its last object (a refused event is done with too: read again
    // when it changes).
    auto queued = [&] {
      if (after_stored) after_stored_.push_back(std::move(after_stored));
      return Status::Ok();
    };
    auto converted = MispEventToStix(event, options);
    if (!converted.ok()) {
      Keep(&summary_->errors, where + ": " + converted.status().message());
      return queued();
    }
    // A MISP event is its creator organisation's, never this team's: it is
    // stored under the origin "misp:<Orgc uuid>", as a partner's objects are
    // under the partner's name, so it may add versions only of what that
    // origin stored first (never of the home team's or anyone else's
    // objects), and it may not claim this node's identities.
    const std::string creator = converted->creator_identity;
    if (creator.empty()) {
      Keep(&summary_->errors, where + ": the event names no creator organisation (Orgc.uuid)");
      return queued();
    }
    if (target_.home_identities.contains(creator)) {
      Keep(&summary_->errors, where + ": the event claims this node's identity " + creator);
      return queued();
    }
    const std::string writer_origin =
        origin.empty() ? "misp:" + creator.substr(creator.find("--") + 2) : origin;
    if (!ingest_ || ingest_->writer.origin != writer_origin) {
      // One batch, one writer.
      KIZUNA_RETURN_IF_ERROR(Flush());
      ingest_ = target_.ingest;
      ingest_->writer.kind = taxii::Writer::Kind::kPeer;
      ingest_->writer.origin = writer_origin;
      ingest_->writer.identity.clear();
      ingest_->writer.admin = false;
      ingest_->writer.home_identities = target_.home_identities;
      ingest_->writer.name = "MISP events of " + writer_origin;
    }
    ++summary_->events;
    summary_->attributes += converted->attributes;
    summary_->sightings += converted->sightings;
    for (std::string& note : converted->notes)
      Keep(&summary_->notes, "event " + converted->event_uuid + ": " + note);
    for (json::object& object : converted->objects) {
      // An organisation named in the event (a sighting's) that is one of
      // ours stays ours: MISP does not create this node's identities.
      const json::value* id = object.if_contains("id");
      if (id == nullptr || !id->is_string()) continue;
      const std::string object_id(id->as_string());
      if (target_.home_identities.contains(object_id)) continue;
      event_of_[object_id] = converted->event_uuid;
      batch_.emplace_back(std::move(object));
      if (batch_.size() >= 1000) KIZUNA_RETURN_IF_ERROR(Flush());
    }
    return queued();
  }

  Status Flush() {
    if (!batch_.empty()) {
      KIZUNA_ASSIGN_OR_RETURN(store::StatusRecord status,
                              taxii::IngestObjects(*target_.store, target_.collection_id, batch_,
                                                   target_.user_id, *ingest_));
      for (const auto& s : status.successes)
        (s.message.empty() ? summary_->objects_added : summary_->objects_present)++;
      for (const auto& f : status.failures) {
        ++summary_->objects_refused;
        Keep(&summary_->errors, "event " + event_of_[f.id] + ": " + f.id + ": " + f.message);
      }
      if (results_) {
        results_->successes.insert(results_->successes.end(), status.successes.begin(),
                                   status.successes.end());
        results_->failures.insert(results_->failures.end(), status.failures.begin(),
                                  status.failures.end());
      }
      batch_.clear();
      event_of_.clear();
      if (target_.after_batch) target_.after_batch();
    }
    for (auto& after : after_stored_) KIZUNA_RETURN_IF_ERROR(after());
    after_stored_.clear();
    return flushed_ ? flushed_() : Status::Ok();
  }

 private:
  const ImportTarget& target_;
  MispImportSummary* summary_;
  store::StatusRecord* results_;
  std::optional<taxii::IngestOptions> ingest_;  // of the queued objects
  json::array batch_;
  std::map<std::string, std::string> event_of_;  // a queued object's event uuid
  std::vector<std::function<Status()>> after_stored_;
  std::function<Status()> flushed_;
};

}  // namespace

Status StoreMispEvent(const ImportTarget& target, const json::value& event,
                      const MispImportOptions& options, const std::string& where,
                      const std::string& origin, MispImportSummary* summary,
                      store::StatusRecord* results) {
  EventWriter writer(target, summary, results);
  KIZUNA_RETURN_IF_ERROR(writer.Add(event, options, where, origin));
  return writer.Flush();
}

namespace {

int64_t ManifestTimestamp(const json::object& entry) {
  const json::value* t = entry.if_contains("timestamp");
  if (t == nullptr) return 0;
  if (t->is_int64()) return t->as_int64();
  if (t->is_uint64()) return static_cast<int64_t>(t->as_uint64());
  if (t->is_string()) {
    try {
      return std::stoll(std::string(t->as_string()));
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

}  // namespace

bool IsMispFeed(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "manifest.json", ec);
}

bool LooksLikeMispEvent(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return head.find("\"Event\"") != std::string::npos ||
         (head.find("\"response\"") != std::string::npos &&
          head.find("\"info\"") != std::string::npos);
}

Result<MispImportSummary> ImportMispFile(const ImportTarget& target, const std::string& path,
                                         const MispImportOptions& options) {
  MispImportSummary summary;
  KIZUNA_ASSIGN_OR_RETURN(json::value parsed, ReadJson(path, target.ingest.max_json_depth));
  std::vector<const json::value*> events;
  if (parsed.is_array()) {
    for (const json::value& e : parsed.as_array()) events.push_back(&e);
  } else if (parsed.is_object() && parsed.as_object().contains("response") &&
             parsed.at("response").is_array()) {
    for (const json::value& e : parsed.at("response").as_array()) events.push_back(&e);
  } else {
    events.push_back(&parsed);
  }
  EventWriter writer(target, &summary, nullptr);
  for (size_t i = 0; i < events.size(); ++i) {
    KIZUNA_RETURN_IF_ERROR(writer.Add(
        *events[i], options, path + (events.size() > 1 ? "[" + std::to_string(i) + "]" : ""), "",
        [&target, i]() {
          if (target.progress) target.progress(static_cast<int64_t>(i + 1));
          return Status::Ok();
        }));
  }
  KIZUNA_RETURN_IF_ERROR(writer.Flush());
  return summary;
}

namespace {

// A feed's manifest and events, from `read` ("manifest.json", "<uuid>.json"),
// named `where` + file in messages.
Result<MispImportSummary> ImportFeed(
    const ImportTarget& target, const std::string& where,
    const std::function<Result<json::value>(const std::string& file)>& read,
    const MispImportOptions& options) {
  MispImportSummary summary;
  const std::string manifest_path = where + "manifest.json";
  KIZUNA_ASSIGN_OR_RETURN(json::value manifest, read("manifest.json"));
  if (!manifest.is_object())
    return InvalidArgument(manifest_path + ": expected an object of event uuids");
  int64_t done = 0;
  // The events a batch stored count as read, in one transaction.
  std::vector<std::pair<std::string, std::string>> stored_events;
  EventWriter writer(target, &summary, nullptr, [&]() -> Status {
    KIZUNA_RETURN_IF_ERROR(target.store->SetMetas(stored_events));
    done += static_cast<int64_t>(stored_events.size());
    stored_events.clear();
    if (target.progress && done > 0) target.progress(done);
    return Status::Ok();
  });
  for (const auto& [key, value] : manifest.as_object()) {
    const std::string uuid(key);
    if (!IsUuid(uuid) || !value.is_object()) {
      Keep(&summary.errors, manifest_path + ": '" + uuid.substr(0, 60) + "' is not an event uuid");
      continue;
    }
    const int64_t timestamp = ManifestTimestamp(value.as_object());
    // Per collection: the same feed may fill two; and the manifest's
    // timestamp as read, never later than now (a far-future one would
    // freeze the event).
    const std::string meta_key = "misp:event:" + target.collection_id + ":" + uuid;
    KIZUNA_ASSIGN_OR_RETURN(std::optional<std::string> last, target.store->GetMeta(meta_key));
    if (last && timestamp > 0) {
      int64_t seen = 0;
      try {
        seen = std::stoll(*last);
      } catch (...) {
        seen = 0;
      }
      if (timestamp <= seen) {
        ++summary.events_unchanged;
        continue;
      }
    }
    const std::string event_path = where + uuid + ".json";
    auto event = read(uuid + ".json");
    if (!event.ok()) {
      Keep(&summary.errors, event.status().message());
      continue;
    }
    // The event counts as read once its objects are stored (a crash before
    // reads it again: what was stored is then already present).
    KIZUNA_RETURN_IF_ERROR(writer.Add(*event, options, event_path, "", [&, meta_key, timestamp] {
      const int64_t now = SystemClock::Instance().NowMicros() / 1000000;
      stored_events.emplace_back(meta_key, std::to_string(std::min(timestamp, now)));
      return Status::Ok();
    }));
  }
  KIZUNA_RETURN_IF_ERROR(writer.Flush());
  return summary;
}

}  // namespace

Result<MispImportSummary> ImportMispFeed(const ImportTarget& target, const std::string& dir,
                                         const MispImportOptions& options) {
  const int depth = target.ingest.max_json_depth;
  return ImportFeed(
      target, (fs::path(dir) / "").string(),
      [&](const std::string& file) { return ReadJson((fs::path(dir) / file).string(), depth); },
      options);
}

Result<MispImportSummary> ImportMispFeedUrl(const ImportTarget& target, const std::string& url,
                                            const MispFeedSource& source,
                                            const MispImportOptions& options) {
  if (!IsFeedUrl(url)) return InvalidArgument("a feed URL starts with https:// or http://");
  std::string base = url;
  if (base.size() >= 13 && base.ends_with("manifest.json")) base.resize(base.size() - 13);
  if (!base.ends_with('/')) base += '/';
  http::ClientOptions client_options;
  client_options.ca_file = source.ca_file;
  client_options.timeout_ms = 60000;
  client_options.max_response_bytes = kMaxFetchedBytes;
  http::Client client(client_options);
  const int depth = target.ingest.max_json_depth;
  auto fetch = [&](const std::string& file) -> Result<json::value> {
    http::Headers headers = source.headers;
    headers.Set("Accept", "application/json");
    auto response = client.Send("GET", base + file, headers);
    if (!response.ok()) return Unavailable(base + file + ": " + response.status().message());
    if (response->status != 200) {
      return Unavailable(base + file + ": the server answered HTTP " +
                         std::to_string(response->status));
    }
    auto parsed = stix::ParseJson(response->body, depth);
    if (!parsed.ok()) return InvalidArgument(base + file + ": " + parsed.status().message());
    return std::move(*parsed);
  };
  return ImportFeed(target, base, fetch, options);
}

bool IsFeedUrl(std::string_view text) {
  return text.starts_with("https://") || text.starts_with("http://");
}

}  // namespace kizuna::interop
