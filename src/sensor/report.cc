#include "sensor/report.h"

#include <boost/json.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "common/time.h"
#include "sensor/capture.h"

namespace kizuna::sensor {

namespace json = boost::json;

Result<Darknet> Darknet::Parse(const std::vector<std::string>& prefixes) {
  Darknet darknet;
  for (const std::string& text : prefixes) {
    if (text.find(':') != std::string::npos) {
      auto prefix = correlation::ParseIpv6Prefix(text);
      if (!prefix.ok())
        return InvalidArgument("darknet prefix " + text + ": " + prefix.status().message());
      darknet.v6.push_back(*prefix);
    } else {
      auto prefix = correlation::ParseIpv4Prefix(text);
      if (!prefix.ok())
        return InvalidArgument("darknet prefix " + text + ": " + prefix.status().message());
      darknet.v4.push_back(*prefix);
    }
  }
  return darknet;
}

bool Darknet::Contains(const Packet& p) const {
  if (empty()) return true;
  if (p.ip_version == 4) {
    for (const auto& prefix : v4) {
      const uint32_t mask = prefix.length == 0 ? 0 : ~uint32_t{0} << (32 - prefix.length);
      if ((p.dst4 & mask) == prefix.network) return true;
    }
    return false;
  }
  for (const auto& prefix : v6) {
    int bits = prefix.length;
    bool inside = true;
    for (int i = 0; i < 16 && bits > 0 && inside; ++i, bits -= 8) {
      const uint8_t mask = bits >= 8 ? 0xFF : static_cast<uint8_t>(0xFF << (8 - bits));
      inside = (p.dst6[i] & mask) == (prefix.network[i] & mask);
    }
    if (inside) return true;
  }
  return false;
}

namespace {

// Frames are read and decoded on a second thread and handed to the one
// that counts them in chunks, in order: the counting sees the same packets
// in the same order as on one thread.
struct DecodedFrame {
  Packet packet;
  int64_t ts_us;
};
struct Chunk {
  std::vector<DecodedFrame> frames;  // to count, in order
  bool progress = false;             // report (done, total) after counting them
  uint64_t done = 0, total = 0;
};
constexpr size_t kChunkFrames = 512;
constexpr size_t kChunks = 8;

// Chunks go round between the reader (free -> full) and the counter.
class ChunkRing {
 public:
  ChunkRing() : chunks_(kChunks) {
    for (Chunk& c : chunks_) {
      c.frames.reserve(kChunkFrames);
      free_.push_back(&c);
    }
  }
  // Null once the ring is stopped.
  Chunk* TakeFree() { return Take(free_); }
  void PutFull(Chunk* c) { Put(full_, c); }
  // Null after the last chunk once the reader is done (or stopped).
  Chunk* TakeFull() { return Take(full_); }
  void PutFree(Chunk* c) {
    c->frames.clear();
    c->progress = false;
    Put(free_, c);
  }
  // No more chunks: the reader's end, or the counter giving up.
  void Stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    changed_.notify_all();
  }

 private:
  Chunk* Take(std::deque<Chunk*>& from) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !from.empty() || stopped_; });
    if (from.empty()) return nullptr;
    Chunk* c = from.front();
    from.pop_front();
    return c;
  }
  void Put(std::deque<Chunk*>& to, Chunk* c) {
    std::lock_guard lock(mutex_);
    to.push_back(c);
    changed_.notify_all();
  }
  std::vector<Chunk> chunks_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Chunk*> free_, full_;
  bool stopped_ = false;
};

}  // namespace

Result<CaptureReport> AnalyzeCapture(
    const std::string& path, const Darknet& darknet,
    const std::function<void(uint64_t done, uint64_t total)>& progress) {
  KIZUNA_ASSIGN_OR_RETURN(std::unique_ptr<CaptureReader> reader, CaptureReader::Open(path));
  CaptureReport report;
  // The reader thread counts frames, decode results and packets outside
  // the darknet in these; this thread counts the rest into the summary.
  uint64_t frames = 0, outside = 0;
  std::array<uint64_t, 5> decode{};
  ChunkRing ring;
  std::thread read([&] {
    Frame frame;
    const LinkType link = reader->link();
    Chunk* chunk = ring.TakeFree();
    while (chunk != nullptr && reader->Next(&frame)) {
      ++frames;
      if (chunk->frames.size() == chunk->frames.capacity()) {
        ring.PutFull(chunk);
        if ((chunk = ring.TakeFree()) == nullptr) return;
      }
      chunk->frames.emplace_back();
      DecodedFrame& out = chunk->frames.back();
      const DecodeStatus status = Decode(link, frame.data, frame.caplen, &out.packet);
      ++decode[static_cast<size_t>(status)];
      // A malformed frame is only counted as such; a cut one still has its
      // source (without a port).
      const Packet& packet = out.packet;
      if (packet.ip_version != 0 && status != DecodeStatus::kMalformed &&
          darknet.Contains(packet)) {
        out.ts_us = frame.ts_us;
      } else {
        if (packet.ip_version != 0 && status != DecodeStatus::kMalformed) ++outside;
        chunk->frames.pop_back();
      }
      if (progress && (frames & 0xFFFFF) == 0) {
        // From a pipe the size is unknown: frames so far, then.
        chunk->progress = true;
        chunk->done = reader->size() != 0 ? reader->position() : frames;
        chunk->total = reader->size();
        ring.PutFull(chunk);
        chunk = ring.TakeFree();
      }
    }
    if (chunk != nullptr) ring.PutFull(chunk);
    ring.Stop();  // (the counter takes what is full first)
  });
  try {
    while (Chunk* chunk = ring.TakeFull()) {
      const size_t n = chunk->frames.size();
      const DecodedFrame* frames_in = chunk->frames.data();
      for (size_t i = 0; i < n; ++i) {
        // (Written by the other thread: fetched ahead from its cache.)
        __builtin_prefetch(frames_in + i + 4);
        report.summary.Add(frames_in[i].packet, frames_in[i].ts_us);
      }
      if (chunk->progress) progress(chunk->done, chunk->total);
      ring.PutFree(chunk);
    }
  } catch (...) {
    ring.Stop();
    read.join();
    throw;
  }
  read.join();
  report.frames = frames;
  report.decode = decode;
  report.outside = outside;
  if (!reader->status().ok()) report.file_error = reader->status().message();
  if (progress) progress(reader->size() != 0 ? reader->size() : report.frames, reader->size());
  return report;
}

std::string CaptureReportJson(const CaptureReport& report) {
  const Summary& s = report.summary;
  json::object out;
  out["packets"] = s.packets();
  out["sources"] = s.sources().size();
  json::array ports;
  for (const Summary::PortEntry& entry : s.Ports()) {
    ports.push_back(json::object{{"proto", PortProtoName(entry.proto)},
                                 {"port", entry.port},
                                 {"packets", entry.stats->packets},
                                 {"sources", entry.stats->sources.size()}});
  }
  out["ports"] = std::move(ports);
  json::object classes;
  for (TrafficClass c :
       {TrafficClass::kScan, TrafficClass::kBackscatter, TrafficClass::kUdp, TrafficClass::kIcmp}) {
    classes[TrafficClassName(c)] = s.class_sources(c).size();
  }
  out["classes"] = std::move(classes);
  json::object fingerprints;
  for (size_t r = 0; r < s.fingerprints().size(); ++r) {
    fingerprints[s.fingerprints().name(r)] = s.fingerprint_sources(r).size();
  }
  out["fingerprints"] = std::move(fingerprints);
  out["fingerprint_rules"] = s.fingerprints().version();
  json::object undecoded;
  for (DecodeStatus status : {DecodeStatus::kTruncated, DecodeStatus::kMalformed,
                              DecodeStatus::kUnsupportedLink, DecodeStatus::kNotIp}) {
    undecoded[DecodeStatusName(status)] = report.decode[static_cast<size_t>(status)];
  }
  out["frames"] = report.frames;
  out["undecoded"] = std::move(undecoded);
  out["outside"] = report.outside;
  if (s.packets() != 0) {
    out["first"] = FormatTimestamp(s.first_us());
    out["last"] = FormatTimestamp(s.last_us());
  }
  if (!report.file_error.empty()) out["file_error"] = report.file_error;
  return json::serialize(out);
}

std::string CaptureReportText(const CaptureReport& report, size_t top) {
  const Summary& s = report.summary;
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%llu packets from %llu sources",
                static_cast<unsigned long long>(s.packets()),
                static_cast<unsigned long long>(s.sources().size()));
  out += line;
  if (s.packets() != 0) {
    out += ", " + FormatTimestamp(s.first_us(), 0) + " to " + FormatTimestamp(s.last_us(), 0);
  }
  out += "\n";
  const uint64_t undecoded = report.frames - report.decode[0];
  if (undecoded != 0 || report.outside != 0) {
    std::snprintf(line, sizeof line,
                  "%llu frames: %llu not fully decoded (truncated %llu, malformed %llu, "
                  "not IP %llu, unsupported link %llu), %llu outside the darknet\n",
                  static_cast<unsigned long long>(report.frames),
                  static_cast<unsigned long long>(undecoded),
                  static_cast<unsigned long long>(report.decode[1]),
                  static_cast<unsigned long long>(report.decode[2]),
                  static_cast<unsigned long long>(report.decode[4]),
                  static_cast<unsigned long long>(report.decode[3]),
                  static_cast<unsigned long long>(report.outside));
    out += line;
  }
  out += "sources by class:";
  for (TrafficClass c :
       {TrafficClass::kScan, TrafficClass::kBackscatter, TrafficClass::kUdp, TrafficClass::kIcmp}) {
    std::snprintf(line, sizeof line, " %s %llu", std::string(TrafficClassName(c)).c_str(),
                  static_cast<unsigned long long>(s.class_sources(c).size()));
    out += line;
  }
  out += "\nsources by fingerprint:";
  for (size_t r = 0; r < s.fingerprints().size(); ++r) {
    std::snprintf(line, sizeof line, " %s %llu", s.fingerprints().name(r).c_str(),
                  static_cast<unsigned long long>(s.fingerprint_sources(r).size()));
    out += line;
  }
  out += "\n\nproto   port      packets    sources\n";
  size_t shown = 0;
  for (const Summary::PortEntry& entry : s.Ports()) {
    if (shown++ == top) break;
    std::snprintf(line, sizeof line, "%-6s %5u %12llu %10llu\n",
                  std::string(PortProtoName(entry.proto)).c_str(), entry.port,
                  static_cast<unsigned long long>(entry.stats->packets),
                  static_cast<unsigned long long>(entry.stats->sources.size()));
    out += line;
  }
  if (!report.file_error.empty()) out += "warning: " + report.file_error + "\n";
  return out;
}

}  // namespace kizuna::sensor
