// MMDB files (MaxMind DB: GeoLite2, DB-IP lite, ip-location-db's mmdb
// packages) read into ranges once, at load time, by walking the search tree
// with libmaxminddb's public MMDB_read_node: lookups then take the one fast
// path of every other format, and libmaxminddb is not needed to answer.
#include <maxminddb.h>

#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "geo/internal.h"

namespace kizuna::geo::internal {

namespace {

struct MmdbCloser {
  void operator()(MMDB_s* db) const {
    MMDB_close(db);
    delete db;
  }
};
using MmdbHandle = std::unique_ptr<MMDB_s, MmdbCloser>;

constexpr uint32_t kNone = 0xffffffffu;

// The records one data entry gives, per layer (kNone: nothing there).
struct Answer {
  uint32_t asn = kNone, country = kNone;
};

std::optional<std::string_view> StringAt(MMDB_entry_s entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING) {
    return std::nullopt;
  }
  return std::string_view(data.utf8_string, data.data_size);
}

std::optional<uint64_t> NumberAt(MMDB_entry_s entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16:
      return data.uint16;
    case MMDB_DATA_TYPE_UINT32:
      return data.uint32;
    case MMDB_DATA_TYPE_UINT64:
      return data.uint64;
    case MMDB_DATA_TYPE_INT32:
      return data.int32 < 0 ? std::nullopt : std::optional<uint64_t>(data.int32);
    default:
      return std::nullopt;
  }
}

class Walker {
 public:
  Walker(MMDB_s* db, LayerBuilder* asn, LayerBuilder* country, ReadReport* report)
      : db_(db), asn_(asn), country_(country), report_(report) {}

  Status Walk(const std::string& name) {
    const int width = db_->metadata.ip_version == 6 ? 128 : 32;
    const uint32_t node_count = db_->metadata.node_count;
    // The IPv4 subtree of an IPv6 tree is the node 96 zero bits down; other
    // records that point to it (::ffff:0:0/96, 2002::/16, Teredo) are
    // aliases, read once through ::/96 only.
    uint64_t ipv4_start = kNone;
    if (width == 128) {
      uint64_t node = 0;
      int depth = 0;
      for (; depth < 96; ++depth) {
        MMDB_search_node_s n;
        if (MMDB_read_node(db_, static_cast<uint32_t>(node), &n) != MMDB_SUCCESS ||
            n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
          break;
        }
        node = n.left_record;
      }
      if (depth == 96) ipv4_start = node;
    }
    // Each item is a search node to read or a data record to add; the left
    // (lower) child comes off the stack first, so ranges come in address
    // order (Add joins adjacent blocks of the same data).
    struct Pending {
      bool data;
      uint32_t node;
      MMDB_entry_s entry;
      int depth;
      U128 prefix;
    };
    std::vector<Pending> stack{{false, 0, {}, 0, 0}};
    uint64_t visited = 0;
    while (!stack.empty()) {
      const Pending at = stack.back();
      stack.pop_back();
      if (at.data) {
        const U128 last =
            at.depth == 0 ? ~U128(0) : at.prefix | ((U128(1) << (width - at.depth)) - 1);
        Add(width, at.prefix, width == 128 ? last : (last & 0xffffffffu), Read(at.entry));
        continue;
      }
      // A tree visits each node once (a writer that shares subtrees, a few
      // times): far more means a damaged file whose records loop back or
      // fan out, which must not keep us walking.
      if (++visited > 4 * uint64_t{node_count} + 64) {
        return InvalidArgument(name + ": MMDB search tree is not a tree (damaged file)");
      }
      MMDB_search_node_s n;
      if (MMDB_read_node(db_, at.node, &n) != MMDB_SUCCESS) {
        return InvalidArgument(name + ": MMDB search tree node " + std::to_string(at.node) +
                               " unreadable (damaged file)");
      }
      for (int bit = 1; bit >= 0; --bit) {
        const uint8_t type = bit ? n.right_record_type : n.left_record_type;
        const uint64_t record = bit ? n.right_record : n.left_record;
        const int depth = at.depth + 1;
        const U128 prefix = at.prefix | (U128(bit) << (width - depth));
        switch (type) {
          case MMDB_RECORD_TYPE_SEARCH_NODE: {
            if (depth >= width) {
              return InvalidArgument(name + ": MMDB search tree deeper than its addresses");
            }
            const bool canonical_v4 = depth == 96 && prefix == 0;
            if (record == ipv4_start && !canonical_v4) break;  // an alias
            stack.push_back({false, static_cast<uint32_t>(record), {}, depth, prefix});
            break;
          }
          case MMDB_RECORD_TYPE_DATA:
            stack.push_back(
                {true, 0, bit ? n.right_record_entry : n.left_record_entry, depth, prefix});
            break;
          case MMDB_RECORD_TYPE_EMPTY:
            break;
          default:
            return InvalidArgument(name + ": MMDB record of an unknown type (damaged file)");
        }
      }
    }
    Flush();
    return Status::Ok();
  }

 private:
  Answer Read(MMDB_entry_s entry) {
    auto cached = cache_.find(entry.offset);
    if (cached != cache_.end()) return cached->second;
    Answer answer;
    static const char* const kAsnPath[] = {"autonomous_system_number", nullptr};
    static const char* const kOrgPath[] = {"autonomous_system_organization", nullptr};
    static const char* const kCountryPath[] = {"country", "iso_code", nullptr};
    static const char* const kCountryCodePath[] = {"country_code", nullptr};
    if (auto number = NumberAt(entry, kAsnPath); number && *number != 0 && *number <= 0xffffffffu) {
      const std::string_view org = StringAt(entry, kOrgPath).value_or("");
      answer.asn = asn_->InternAsn(static_cast<uint32_t>(*number), org.substr(0, 512));
    }
    auto code = StringAt(entry, kCountryPath);
    if (!code) code = StringAt(entry, kCountryCodePath);
    if (code && code->size() == 2) {
      std::string upper(*code);
      bool letters = true;
      for (char& c : upper) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        letters = letters && c >= 'A' && c <= 'Z';
      }
      if (letters && upper != "ZZ") answer.country = country_->InternCountry(upper);
    }
    if (answer.asn == kNone && answer.country == kNone) ++report_->bad_lines;
    cache_.emplace(entry.offset, answer);
    return answer;
  }

  // Adjacent blocks of the same data (a writer cuts each range into CIDR
  // blocks) are put together again: the tree is walked in address order.
  void Add(int width, U128 first, U128 last, const Answer& answer) {
    const bool v4 = width == 32 || last <= 0xffffffffu;  // ::/96 is IPv4 in an IPv6 tree
    if (pending_ && pending_v4_ == v4 && pending_last_ + 1 == first &&
        pending_answer_.asn == answer.asn && pending_answer_.country == answer.country) {
      pending_last_ = last;
      return;
    }
    Flush();
    pending_ = true;
    pending_v4_ = v4;
    pending_first_ = first;
    pending_last_ = last;
    pending_answer_ = answer;
  }

  void Flush() {
    if (!pending_) return;
    pending_ = false;
    const bool v4 = pending_v4_;
    const U128 first = pending_first_, last = pending_last_;
    const Answer& answer = pending_answer_;
    bool added = false;
    for (auto [layer, record] :
         {std::pair{asn_, answer.asn}, std::pair{country_, answer.country}}) {
      if (record == kNone) continue;
      if (v4) {
        layer->Add4(static_cast<uint32_t>(first), static_cast<uint32_t>(last), record);
      } else {
        layer->Add6(first, last, record);
      }
      added = true;
      (layer == asn_ ? report_->asn : report_->country) = true;
    }
    if (added) ++report_->ranges;
  }

  MMDB_s* db_;
  LayerBuilder* asn_;
  LayerBuilder* country_;
  ReadReport* report_;
  std::unordered_map<uint32_t, Answer> cache_;  // data offset -> records
  bool pending_ = false;                        // a range not yet added (Add, Flush)
  bool pending_v4_ = false;
  U128 pending_first_ = 0, pending_last_ = 0;
  Answer pending_answer_;
};

}  // namespace

bool LooksLikeMmdb(std::string_view bytes) {
  // The metadata section starts with this marker, within the last 128 KiB.
  static constexpr std::string_view kMarker = "\xAB\xCD\xEFMaxMind.com";
  const size_t window = 128 * 1024;
  const std::string_view tail = bytes.size() > window ? bytes.substr(bytes.size() - window) : bytes;
  return tail.rfind(kMarker) != std::string_view::npos;
}

Status ReadMmdb(const std::string& path, const ReadOptions& options, LayerBuilder* asn,
                LayerBuilder* country, ReadReport* report, SourceInfo* info) {
  MmdbHandle db(new MMDB_s{});
  const int opened = MMDB_open(path.c_str(), MMDB_MODE_MMAP, db.get());
  if (opened != MMDB_SUCCESS) {
    // MMDB_open leaves nothing to close when it fails.
    delete db.release();
    return InvalidArgument(options.file_name +
                           ": not a readable MMDB file: " + MMDB_strerror(opened));
  }
  report->format = "mmdb";
  if (db->metadata.database_type != nullptr) info->mmdb_type = db->metadata.database_type;
  info->mmdb_build_epoch = db->metadata.build_epoch;
  Walker walker(db.get(), asn, country, report);
  KIZUNA_RETURN_IF_ERROR(walker.Walk(options.file_name));
  if (report->bad_lines != 0 && options.bad_line) {
    options.bad_line(options.file_name + ": " + std::to_string(report->bad_lines) +
                     " data records with neither an AS number nor a country code");
  }
  if (report->ranges == 0) {
    return InvalidArgument(options.file_name +
                           ": no network with an AS number (autonomous_system_number) or a "
                           "country code (country.iso_code) in this MMDB");
  }
  return Status::Ok();
}

}  // namespace kizuna::geo::internal
