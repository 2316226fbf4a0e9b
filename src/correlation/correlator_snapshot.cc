// Correlator::SaveSnapshot / LoadSnapshot (see correlator.h).
//
// The file: a header ("KZCORSNP", the format, the fingerprint of this build
// and its normalization libraries, the payload's size and checksum), then
// the payload: which store and change it ends at, the options it was built
// with, the index, the tracked indicators, collections, patterns and the
// sighting book.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>

#include "common/files.h"
#include "common/uuid.h"
#include "correlation/correlator.h"
#include "correlation/correlator_internal.h"

namespace kizuna::correlation {

using internal::SnapshotReader;
using internal::SnapshotWriter;

namespace {

constexpr std::string_view kMagic = "KZCORSNP";
// Raise with any change to what is written or to a struct written as bytes.
constexpr uint32_t kFormat = 2;
constexpr std::string_view kStoreIdKey = "store_id";

// What else a snapshot depends on: how this build lays out and hashes the
// index's tables (a build that hashes differently would miss every key),
// and the lists that decide normal forms.
std::string BuildFingerprint() {
  // The layout cannot change while the process runs: worked out once.
  static const uint64_t layout = IndicatorIndex::LayoutFingerprint();
  return std::to_string(layout) + "; " + NormalizationFingerprint();
}

Status WriteWhole(const std::string& path, std::string_view bytes) {
  // Its own temporary name: `kizuna serve` and a `kizuna match` may save
  // at once, and each must rename a whole file of its own.
  const std::string temporary = path + ".tmp-" + NewUuid4();
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot write " + temporary + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      return IoError("cannot write " + temporary + ": " + std::strerror(error));
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return IoError("cannot write " + path + ": " + std::strerror(error));
  }
  return Status::Ok();
}

// The change a snapshot ends at, as the store holds it: what tells this
// store's history from a restored backup's with the same id.
struct ChangeMark {
  int64_t seq = 0;
  std::string id;
  int64_t version_us = 0;
};

Result<ChangeMark> MarkAt(store::Store& store, int64_t seq) {
  ChangeMark mark{.seq = seq, .id = {}, .version_us = 0};
  if (seq <= 0) return mark;
  auto changes = store.ListChanges(
      store::ChangeQuery{.after_seq = seq - 1, .types = {}, .limit = 1, .include_origin = false});
  if (!changes.ok()) return changes.status();
  for (const store::Change& change : *changes) {
    if (change.seq != seq) continue;
    mark.id = change.object.id;
    mark.version_us = change.object.version_us;
  }
  return mark;
}

void SaveMeta(SnapshotWriter& out, const IndicatorMeta& meta) {
  out.String(meta.id);
  out.I64(meta.modified_us);
  out.String(meta.name);
  out.U64(meta.labels.size());
  for (const std::string& label : meta.labels) out.String(label);
  out.U8(static_cast<uint8_t>(meta.tlp));
  out.String(meta.producer);
  out.I64(meta.confidence);
  out.I64(meta.valid_until_us);
  out.U8(meta.revoked ? 1 : 0);
}

bool LoadMeta(SnapshotReader& in, IndicatorMeta* meta) {
  uint64_t labels;
  uint8_t tlp, revoked;
  int64_t confidence;
  if (!in.String(&meta->id) || !in.I64(&meta->modified_us) || !in.String(&meta->name) ||
      !in.Count(&labels, 8)) {
    return false;
  }
  meta->labels.resize(labels);
  for (std::string& label : meta->labels) {
    if (!in.String(&label)) return false;
  }
  if (!in.U8(&tlp) || tlp > static_cast<uint8_t>(stix::Tlp::kRed) || !in.String(&meta->producer) ||
      !in.I64(&confidence) || confidence < -1 || confidence > 100 ||
      !in.I64(&meta->valid_until_us) || !in.U8(&revoked)) {
    return false;
  }
  meta->tlp = static_cast<stix::Tlp>(tlp);
  meta->confidence = static_cast<int>(confidence);
  meta->revoked = revoked != 0;
  return true;
}

}  // namespace

Status Correlator::SaveSnapshot(const std::string& path) {
  // Holding refresh_mu_ keeps Refresh and Apply out, so the index, the
  // tracking, the sighting book and the cursor are one consistent cut;
  // matching only reads and goes on.
  std::lock_guard refresh(refresh_mu_);
  auto store_id = store_.GetOrSetMeta(std::string(kStoreIdKey), NewUuid4());
  if (!store_id.ok()) return store_id.status();
  SnapshotWriter payload;
  {
    std::shared_lock lock(mu_);
    auto mark = MarkAt(store_, cursor_);
    if (!mark.ok()) return mark.status();
    payload.String(*store_id);
    payload.I64(mark->seq);
    payload.String(mark->id);
    payload.I64(mark->version_us);
    payload.U64(options_.max_results);
    payload.U64(collections_.size());
    for (const std::string& collection : collections_) payload.String(collection);
    // The index and the tracking table are sections of their own, so that a
    // load reads them on two threads.
    SnapshotWriter index;
    index_.SaveTo(index);
    payload.String(index.bytes());
    SnapshotWriter tracked;
    tracked.U64(tracked_.size());
    tracked.U64(tracked_.capacity());
    tracked_.ForEachEntry([&](const internal::IdKey& key, const Tracked& entry) {
      tracked.U64(key.hi);
      tracked.U64(key.lo);
      tracked.I64(entry.placed_version);
      tracked.U8(entry.in_index ? 1 : 0);
      const auto entries = entry.versions.entries();
      tracked.U64(entries.size());
      for (const auto& [collection, version] : entries) {
        tracked.U32(collection);
        tracked.I64(version);
      }
    });
    payload.String(tracked.bytes());
    payload.U64(patterns_.size());
    for (const auto& [id, entry] : patterns_) {
      SaveMeta(payload, entry->meta);
      payload.String(entry->text);
    }
    payload.U64(unsupported_);
  }
  sighting_book_.SaveTo(payload);

  SnapshotWriter file;
  file.bytes().append(kMagic);
  file.U32(kFormat);
  file.String(BuildFingerprint());
  file.U64(payload.bytes().size());
  file.U64(internal::Checksum64(payload.bytes()));
  file.bytes().append(payload.bytes());
  return WriteWhole(path, file.bytes());
}

Status Correlator::LoadSnapshot(const std::string& path) {
  auto file = MappedFile::Open(path);
  if (!file.ok()) {
    if (file.status().code() == Code::kNotFound) {
      return NotFound("no correlation snapshot at " + path);
    }
    return file.status();
  }
  auto damaged = [&](std::string_view what) {
    return InvalidArgument("correlation snapshot " + path + " is damaged (" + std::string(what) +
                           ")");
  };
  auto other = [&](std::string_view what) {
    return FailedPrecondition("correlation snapshot " + path + " is " + std::string(what));
  };
  std::string_view view = (*file)->bytes();
  if (!view.starts_with(kMagic)) return damaged("not a snapshot");
  view.remove_prefix(kMagic.size());
  SnapshotReader header(view);
  uint32_t format;
  std::string fingerprint;
  uint64_t size, checksum;
  if (!header.U32(&format) || !header.String(&fingerprint) || !header.U64(&size) ||
      !header.U64(&checksum)) {
    return damaged("header");
  }
  if (format != kFormat || fingerprint != BuildFingerprint()) {
    return other("from another build of kizuna or another public suffix list");
  }
  const size_t header_size = 4 + 8 + fingerprint.size() + 8 + 8;
  if (view.size() - header_size != size) return damaged("truncated");
  const std::string_view payload = view.substr(header_size);
  // The checksum runs beside the parsing (nothing is kept unless it holds).
  auto checksum_ok = std::async(std::launch::async, [payload, checksum] {
    return internal::Checksum64(payload) == checksum;
  });

  SnapshotReader in(payload);
  std::string store_id, mark_id;
  int64_t seq, mark_version;
  uint64_t max_results;
  std::string_view index_bytes, tracked_bytes;
  uint64_t collection_count;
  std::vector<std::string> collections;
  bool parsed = in.String(&store_id) && in.I64(&seq) && in.String(&mark_id) &&
                in.I64(&mark_version) && in.U64(&max_results) && in.Count(&collection_count, 8);
  for (uint64_t i = 0; parsed && i < collection_count; ++i) {
    parsed = in.String(&collections.emplace_back());
  }
  if (!parsed || !in.Bytes(&index_bytes) || !in.Bytes(&tracked_bytes)) {
    return checksum_ok.get() ? damaged("payload") : damaged("checksum");
  }
  auto current_id = store_.GetMeta(std::string(kStoreIdKey));
  if (!current_id.ok()) return current_id.status();
  if (!current_id->has_value() || **current_id != store_id) return other("another store's");
  if (max_results != options_.max_results) return other("built with another max_results");
  auto mark = MarkAt(store_, seq);
  if (!mark.ok()) return mark.status();
  if (mark->id != mark_id || mark->version_us != mark_version) {
    return other("not of this store's history (restored from a backup?)");
  }

  std::lock_guard refresh(refresh_mu_);
  if (cursor() != 0 || GetStats().indexed != 0) {
    return FailedPrecondition("the correlator is not empty");
  }
  // The tracking table on another thread while this one loads the index.
  auto tracked_loaded = std::async(std::launch::async, [tracked_bytes, collection_count] {
    return LoadTracked(tracked_bytes, collection_count);
  });
  SnapshotReader index_in(index_bytes);
  const Status index_loaded = index_.LoadFrom(index_in);
  std::optional<internal::IdTable<Tracked>> tracked = tracked_loaded.get();
  const bool intact = checksum_ok.get();
  auto fail = [&](Status status) {
    index_.Clear();
    sighting_book_.Clear();
    std::unique_lock lock(mu_);
    tracked_ = {};
    collections_.clear();
    collection_numbers_.clear();
    patterns_.clear();
    unsupported_ = 0;
    return status;
  };
  if (!intact) return fail(damaged("checksum"));
  if (!index_loaded.ok()) return fail(index_loaded);
  if (!tracked || !index_in.done()) return fail(damaged("tracked"));

  std::unique_lock lock(mu_);
  tracked_ = std::move(*tracked);
  for (const std::string& collection : collections) CollectionNumber(collection);
  if (collections_.size() != collection_count) return fail(damaged("collections"));
  uint64_t count;
  if (!in.Count(&count, 64)) return fail(damaged("patterns"));
  for (uint64_t i = 0; i < count; ++i) {
    auto entry = std::make_unique<PatternIndicator>();
    if (!LoadMeta(in, &entry->meta) || !in.String(&entry->text)) return fail(damaged("patterns"));
    auto parsed = pattern::ParsePattern(entry->text);
    if (!parsed.ok()) return fail(damaged("pattern"));
    entry->pattern = std::move(parsed).value();
    std::string id = entry->meta.id;
    patterns_[std::move(id)] = std::move(entry);
  }
  uint64_t unsupported;
  if (!in.U64(&unsupported)) return fail(damaged("counts"));
  unsupported_ = unsupported;
  if (!sighting_book_.LoadFrom(in) || !in.done()) return fail(damaged("sightings"));
  cursor_ = seq;
  applied_.notify_all();
  return Status::Ok();
}

std::optional<internal::IdTable<Correlator::Tracked>> Correlator::LoadTracked(
    std::string_view bytes, uint64_t collections) {
  SnapshotReader in(bytes);
  uint64_t count, capacity;
  if (!in.Count(&count, 33) || !in.U64(&capacity) || capacity > 4 * count + 4096) {
    return std::nullopt;
  }
  internal::IdTable<Tracked> table;
  table.Reserve(count, capacity);
  for (uint64_t i = 0; i < count; ++i) {
    internal::IdKey key;
    int64_t placed;
    uint8_t in_index;
    uint64_t versions;
    if (!in.U64(&key.hi) || !in.U64(&key.lo) || !in.I64(&placed) || !in.U8(&in_index) ||
        !in.Count(&versions, 12)) {
      return std::nullopt;
    }
    Tracked& tracked = table[key];
    tracked.placed_version = placed;
    tracked.in_index = in_index != 0;
    for (uint64_t v = 0; v < versions; ++v) {
      uint32_t collection;
      int64_t version;
      if (!in.U32(&collection) || collection >= collections || !in.I64(&version)) {
        return std::nullopt;
      }
      tracked.versions.Add(collection, version);
    }
  }
  if (!in.done()) return std::nullopt;
  return table;
}

}  // namespace kizuna::correlation
