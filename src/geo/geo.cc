// GeoDb: the compiled layers of a node directory, and the lookups.
#include "geo/geo.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>

#include "common/files.h"
#include "geo/internal.h"

namespace kizuna::geo {

using internal::JoinedSegment;
using internal::Layer;
using internal::LayerKind;
using internal::U128;

namespace internal {

Result<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot read " + path + ": " + std::strerror(errno));
  std::string out;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return IoError("cannot read " + path + ": " + std::strerror(error));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace internal

namespace {

U128 ToU128(const correlation::Ipv6Bytes& bytes) {
  U128 value = 0;
  for (uint8_t b : bytes) value = (value << 8) | b;
  return value;
}

correlation::Ipv6Bytes FromU128(U128 value) {
  correlation::Ipv6Bytes bytes;
  for (int i = 15; i >= 0; --i) {
    bytes[i] = static_cast<uint8_t>(value);
    value >>= 8;
  }
  return bytes;
}

}  // namespace

std::string GeoPrefix::ToString() const {
  if (!v6) {
    std::string text = correlation::FormatIpv4(v4);
    char bits[4];
    text += '/';
    text.append(bits, std::to_chars(bits, bits + sizeof bits, int{length}).ptr);
    return text;
  }
  char text[INET6_ADDRSTRLEN];
  ::inet_ntop(AF_INET6, v6_network.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(length);
}

std::string GeoAnswerJson(std::string_view ip, const GeoAnswer& answer) {
  namespace json = boost::json;
  json::object out;
  out["ip"] = ip;
  out["asn"] = answer.asn == 0 ? json::value(nullptr) : json::value(answer.asn);
  out["as_name"] = answer.asn == 0 ? json::value(nullptr) : json::value(answer.as_name);
  out["country"] = answer.country.empty() ? json::value(nullptr) : json::value(answer.country);
  out["prefix"] = answer.prefix ? json::value(answer.prefix->ToString()) : json::value(nullptr);
  return json::serialize(out);
}

struct GeoDb::Layers {
  // Each layer's kind, load time and sources (and, when joined here, its
  // records' names: `as_names`/`countries` point into them).
  std::array<std::optional<Layer>, internal::kLayerKinds> layers;
  // The hot path: both layers joined, so that a lookup walks one table (two
  // walks cost twice the cache misses, which are most of a lookup's time).
  // The arrays are in the mapped joined file, or joined here.
  std::unique_ptr<MappedFile> joined_file;
  internal::Table<uint32_t, JoinedSegment<uint32_t>> v4_joined_here;
  internal::Table<U128, JoinedSegment<U128>> v6_joined_here;
  internal::TableView<uint32_t, JoinedSegment<uint32_t>> v4;
  internal::TableView<U128, JoinedSegment<U128>> v6;
  std::string_view as_names, countries;
  // Each layer's range counts (its own tables are dropped once joined).
  std::array<std::pair<uint64_t, uint64_t>, internal::kLayerKinds> ranges{};
};

GeoDb::GeoDb(std::unique_ptr<Layers> layers) : layers_(std::move(layers)) {}
GeoDb::~GeoDb() = default;

std::shared_ptr<const GeoDb> GeoDb::Empty() {
  return std::shared_ptr<const GeoDb>(new GeoDb(std::make_unique<Layers>()));
}

Result<std::shared_ptr<const GeoDb>> GeoDb::Open(const std::string& node_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(node_dir, ec)) {
    return NotFound("no node directory " + node_dir);
  }
  auto layers = std::make_unique<Layers>();
  const std::string geo_dir = node_dir + "/geo/";
  auto layer_path = [&](LayerKind kind) {
    return geo_dir + std::string(internal::LayerName(kind)) + ".kgeo";
  };
  const std::string joined_path = geo_dir + "joined.kgeo";

  // The joined file, when it was joined from the layer files there now.
  std::array<uint64_t, internal::kLayerKinds> checksums{};
  bool layer_files_readable = true;
  for (LayerKind kind : {LayerKind::kAsn, LayerKind::kCountry}) {
    Result<uint64_t> checksum = internal::ReadLayerChecksum(layer_path(kind));
    if (checksum.ok()) {
      checksums[static_cast<int>(kind)] = *checksum;
    } else if (checksum.status().code() != Code::kNotFound) {
      layer_files_readable = false;  // reading it properly below says why
    }
  }
  if (layer_files_readable && checksums != std::array<uint64_t, internal::kLayerKinds>{}) {
    if (auto file = MappedFile::Open(joined_path); file.ok()) {
      if (auto parsed = internal::ParseJoined((*file)->bytes(), checksums); parsed.ok()) {
        layers->layers = std::move(parsed->layers);
        const internal::JoinedParts& parts = parsed->parts;
        layers->ranges = parts.ranges;
        layers->as_names = parts.as_names;
        layers->countries = parts.countries;
        layers->v4 = parts.v4;
        layers->v6 = parts.v6;
        layers->joined_file = std::move(*file);
        return std::shared_ptr<const GeoDb>(new GeoDb(std::move(layers)));
      }
    }
  }

  // Otherwise the layers are read and joined here, and the joined file
  // written for the next opening (best effort: a reader without write
  // access to the directory still answers).
  for (LayerKind kind : {LayerKind::kAsn, LayerKind::kCountry}) {
    const std::string path = layer_path(kind);
    if (!std::filesystem::exists(path, ec)) continue;
    KIZUNA_ASSIGN_OR_RETURN(std::string bytes, internal::ReadWholeFile(path));
    KIZUNA_ASSIGN_OR_RETURN(Layer layer, Layer::Parse(bytes, path));
    if (layer.kind != kind) return InvalidArgument(path + ": holds another layer");
    layers->layers[static_cast<int>(kind)] = std::move(layer);
  }
  Layers& l = *layers;
  const Layer* asn = l.layers[0] ? &*l.layers[0] : nullptr;
  const Layer* country = l.layers[1] ? &*l.layers[1] : nullptr;
  l.v4_joined_here = internal::JoinLayers<uint32_t>(asn, country);
  l.v6_joined_here = internal::JoinLayers<U128>(asn, country);
  l.v4 = l.v4_joined_here.View();
  l.v6 = l.v6_joined_here.View();
  if (asn != nullptr) l.as_names = asn->arena;
  if (country != nullptr) l.countries = country->arena;
  internal::JoinedParts parts;
  for (size_t i = 0; i < l.layers.size(); ++i) {
    std::optional<Layer>& layer = l.layers[i];
    if (!layer) continue;
    parts.layers[i] = &*layer;
    l.ranges[i] = {layer->v4.segments.size(), layer->v6.segments.size()};
    layer->v4 = {};  // only the joined table is read
    layer->v6 = {};
  }
  if (asn != nullptr || country != nullptr) {
    parts.ranges = l.ranges;
    parts.as_names = l.as_names;
    parts.countries = l.countries;
    parts.v4 = l.v4;
    parts.v6 = l.v6;
    (void)ReplaceFileDurably(joined_path, internal::SerializeJoined(parts), 0644);
  }
  return std::shared_ptr<const GeoDb>(new GeoDb(std::move(layers)));
}

bool GeoDb::mapped() const { return layers_->joined_file != nullptr; }

namespace {

GeoPrefix MakePrefix(uint32_t network, int length) {
  return GeoPrefix{.v4 = network, .length = static_cast<uint8_t>(length)};
}
GeoPrefix MakePrefix(U128 network, int length) {
  return GeoPrefix{
      .v6 = true, .v6_network = FromU128(network), .length = static_cast<uint8_t>(length)};
}

// What the joined segment holding `address` says (none: nullptr).
template <typename Key>
GeoAnswer AnswerOf(const JoinedSegment<Key>* piece, std::string_view as_names,
                   std::string_view countries, Key address) {
  GeoAnswer answer;
  if (piece == nullptr) return answer;
  if (piece->has_asn) {
    answer.asn = piece->asn;
    answer.as_name = as_names.substr(piece->as_name_offset, piece->as_name_size);
    constexpr int kBits = sizeof(Key) * 8;
    const int length = internal::LargestBlock(address, piece->asn_first, piece->asn_last);
    const Key mask = length == 0 ? Key(0) : static_cast<Key>(~Key(0) << (kBits - length));
    answer.prefix = MakePrefix(static_cast<Key>(address & mask), length);
  }
  answer.country = countries.substr(piece->country_offset, piece->country_size);
  return answer;
}

}  // namespace

GeoAnswer GeoDb::LookupV4(uint32_t address) const {
  return AnswerOf(layers_->v4.Find(address), layers_->as_names, layers_->countries, address);
}

void GeoDb::LookupV4Batch(const uint32_t* addresses, size_t count, GeoAnswer* out) const {
  constexpr size_t kBatch = internal::TableView<uint32_t, JoinedSegment<uint32_t>>::kBatch;
  const JoinedSegment<uint32_t>* found[kBatch];
  for (size_t start = 0; start < count; start += kBatch) {
    const size_t n = std::min(kBatch, count - start);
    layers_->v4.FindBatch(addresses + start, n, found);
    for (size_t i = 0; i < n; ++i) {
      out[start + i] =
          AnswerOf(found[i], layers_->as_names, layers_->countries, addresses[start + i]);
    }
  }
}

GeoAnswer GeoDb::LookupV6(const correlation::Ipv6Bytes& bytes) const {
  const U128 address = ToU128(bytes);
  if ((address >> 32) == 0xffff) return LookupV4(static_cast<uint32_t>(address));
  return AnswerOf(layers_->v6.Find(address), layers_->as_names, layers_->countries, address);
}

std::optional<GeoAnswer> GeoDb::Lookup(std::string_view ip_text) const {
  if (auto v4 = correlation::ParseIpv4(ip_text)) return LookupV4(*v4);
  if (ip_text.find(':') != std::string_view::npos) {
    if (auto v6 = correlation::ParseIpv6(ip_text)) return LookupV6(*v6);
  }
  return std::nullopt;
}

std::string GeoDb::version() const {
  std::string out;
  for (const auto& layer : layers_->layers) {
    if (!layer) continue;
    if (!out.empty()) out += "; ";
    out += std::string(internal::LayerName(layer->kind)) + ": " + layer->Version();
  }
  return out.empty() ? "none" : out;
}

std::vector<GeoLayerInfo> GeoDb::layers() const {
  std::vector<GeoLayerInfo> out;
  for (size_t i = 0; i < layers_->layers.size(); ++i) {
    const std::optional<Layer>& layer = layers_->layers[i];
    if (!layer) continue;
    out.push_back({std::string(internal::LayerName(layer->kind)), layers_->ranges[i].first,
                   layers_->ranges[i].second, layer->Version()});
  }
  return out;
}

}  // namespace kizuna::geo
