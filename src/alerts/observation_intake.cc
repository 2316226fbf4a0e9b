#include "alerts/observation_intake.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "alerts/partner_observations.h"
#include "alerts/pipeline.h"
#include "alerts/telescope_intake.h"

namespace kizuna::alerts {

namespace {

constexpr std::string_view kCursor = "observations:store";

constexpr const char* kObservationObjectsSql = R"sql(
CREATE TABLE IF NOT EXISTS observation_objects(
  ref TEXT PRIMARY KEY,
  origin TEXT NOT NULL,
  kind TEXT NOT NULL,
  received INTEGER NOT NULL,
  observations INTEGER NOT NULL,
  refused TEXT NOT NULL DEFAULT ''
);
)sql";

// Whether `ref` was taken before (a refusal does not count).
Result<bool> TakenBefore(AlertsDb& db, const std::string& ref) {
  auto lock = db.Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement seen,
      db.connection().Prepare("SELECT 1 FROM observation_objects WHERE ref = ?1 AND refused = ''"));
  seen.Bind(1, ref);
  return seen.Step();
}

Status Record(AlertsDb& db, const std::string& ref, const std::string& origin,
              std::string_view kind, int64_t now_us, int64_t observations,
              const std::string& refused) {
  auto lock = db.Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement put,
      db.connection().Prepare(
          "INSERT INTO observation_objects(ref, origin, kind, received, observations, refused) "
          "VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(ref) DO UPDATE SET origin = excluded.origin, "
          "kind = excluded.kind, received = excluded.received, observations = "
          "excluded.observations, refused = excluded.refused"));
  put.Bind(1, ref)
      .Bind(2, origin)
      .Bind(3, kind)
      .Bind(4, now_us)
      .Bind(5, observations)
      .Bind(6, refused);
  return put.Run();
}

}  // namespace

Status EnsureObservationTables(AlertsDb& db) {
  auto lock = db.Lock();
  return db.connection().Exec(kObservationObjectsSql);
}

std::string CollectionIdOf(store::Store& store, const std::string& id_or_alias) {
  auto collection = store.GetCollection(id_or_alias);
  return collection.ok() ? collection->id : std::string();
}

Result<TakeResult> TakeIn(const ObservationContext& context, const store::Change& change,
                          std::string_view kind,
                          const std::function<Result<std::optional<Extracted>>()>& extract) {
  TakeResult result;
  const store::StoredObject& object = change.object;
  AlertsDb& db = *context.db;
  KIZUNA_ASSIGN_OR_RETURN(bool before, TakenBefore(db, object.id));
  if (before) return result;
  Result<std::optional<Extracted>> extracted = extract();
  if (!extracted.ok()) {
    if (extracted.status().code() != Code::kInvalidArgument) return extracted.status();
    result.refused = extracted.status().message();
    spdlog::warn("alerts: refused {} {}{}: {}; nothing of it was taken in", kind, object.id,
                 object.origin.empty() ? std::string() : " from peer " + object.origin,
                 result.refused);
    KIZUNA_RETURN_IF_ERROR(
        Record(db, object.id, object.origin, kind, context.now_us, 0, result.refused));
    return result;
  }
  if (!extracted->has_value()) return result;
  const Extracted& e = **extracted;
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Recipient> recipients, db.Recipients());
  const RouteTable routes(std::move(recipients));
  IngestOptions options;
  options.origin = e.origin;
  options.tlp = e.tlp;
  options.now_us = context.now_us;
  Ingester ingester(db, context.geo, routes, options);
  int64_t too_old = 0;
  for (const Observation& o : e.observations) {
    if (context.max_age_us > 0 && o.time_us < context.now_us - context.max_age_us) {
      ++too_old;
      continue;
    }
    KIZUNA_RETURN_IF_ERROR(ingester.Add(o));
  }
  KIZUNA_RETURN_IF_ERROR(ingester.Flush());
  if (too_old > 0) {
    spdlog::info("alerts: {} observations of {} are older than the {} days alerted on; left out",
                 too_old, object.id, context.max_age_us / (86400LL * 1000000));
  }
  result.taken = true;
  result.observations = ingester.stats().observations;
  result.unrouted = ingester.stats().unrouted;
  KIZUNA_RETURN_IF_ERROR(
      Record(db, object.id, e.origin, kind, context.now_us, result.observations, ""));
  spdlog::info("alerts: took in {} {}{}: {} observations ({} unrouted)", kind, object.id,
               e.origin.empty() ? std::string() : " from peer " + e.origin, result.observations,
               result.unrouted);
  return result;
}

Status ObservationFollower::Apply(const std::vector<store::Change>& changes) {
  std::shared_ptr<const sharing::SharingPolicy> policy = options_.policy();
  std::shared_ptr<const geo::GeoDb> geo = options_.geo ? options_.geo->Get() : nullptr;
  ObservationContext context;
  context.db = options_.db;
  context.store = options_.store;
  context.geo = geo.get();
  context.policy = policy.get();
  context.max_age_us = int64_t{std::max(options_.max_age_days, 0)} * 86400LL * 1000000;
  context.identity_id = options_.identity_id;
  context.bot_fingerprints = options_.bot_fingerprints;
  context.now_us = options_.clock->NowMicros();
  for (const store::Change& change : changes) {
    if (change.kind != store::Change::Kind::kAdded) continue;
    const store::StoredObject& o = change.object;
    if (o.origin.empty()) {
      if (!options_.from_telescope) continue;
      if (telescope_collection_id_.empty()) {
        // Made by the telescope module when it starts; looked for until it is there.
        telescope_collection_id_ = CollectionIdOf(*options_.store, options_.telescope_collection);
      }
      context.telescope_collection_id = telescope_collection_id_;
      if (!IsOwnTelescopeObject(context, change)) continue;
      KIZUNA_RETURN_IF_ERROR(TakeInTelescopeObject(context, change).status());
    } else {
      if (!options_.from_partners || (o.type != "observed-data" && o.type != "sighting")) continue;
      KIZUNA_RETURN_IF_ERROR(TakeInPartnerObservation(context, change).status());
    }
  }
  return Status::Ok();
}

ObservationFollower::ObservationFollower(Options options)
    : options_(std::move(options)),
      follower_(StoreFollower::Options{
          .db = options_.db,
          .store = options_.store,
          .bus = options_.bus,
          .cursor = std::string(kCursor),
          .name = "alerts observations",
          .types = {"x-kizuna-telescope-sources", "observed-data", "sighting"},
          .limit = 200,
          .apply = [this](const std::vector<store::Change>& changes) { return Apply(changes); },
          .after = nullptr}) {}

Status ObservationFollower::RunOnce() {
  KIZUNA_RETURN_IF_ERROR(EnsureObservationTables(*options_.db));
  return follower_.CatchUp();
}

Status ObservationFollower::Start() {
  KIZUNA_RETURN_IF_ERROR(EnsureObservationTables(*options_.db));
  return follower_.Start();
}

void ObservationFollower::Stop() { follower_.Stop(); }

}  // namespace kizuna::alerts
