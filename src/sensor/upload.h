// A sensor's way to the node: per-interval summaries of captures, sent in
// signed batches to `POST /api/v1/telescope/intervals`, never lost.
//
// Signing: the sensor's token (its API key) also derives an Ed25519 key
// pair (SensorKeysFromToken); each request carries the body's signature in
// X-Kizuna-Sensor-Signature, and the node, which kept only the public half
// when it created the account, checks it. So a node's stored data cannot
// forge a sensor's uploads, and a body changed on the way is refused.
//
// No loss, no double count: with a spool directory, a batch is written
// there (and synced) before it is sent and removed only once the node
// answered that it stored it; Flush() resends what a failure or a restart
// left behind, oldest first. The node keeps one copy per (sensor, start,
// part), so a batch sent twice (the answer lost on the way) counts once.
//
// Thread-safety: one Uploader per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sensor/interval.h"

namespace kizuna::http {
class Client;
}

namespace kizuna::sensor {

struct SensorKeys {
  std::string public_key;  // 32 bytes
  std::string secret_key;  // 64 bytes
};
SensorKeys SensorKeysFromToken(std::string_view token);
inline constexpr std::string_view kSensorSignatureHeader = "X-Kizuna-Sensor-Signature";

struct UploadOptions {
  std::string node_url;  // https://host:port (http:// on loopback)
  std::string token;
  std::string sensor;     // empty: asked of the node (the account's sensor)
  std::string spool_dir;  // empty: no spool (a failed batch is an error)
  std::string ca_file;    // TLS: the node's CA (PEM); empty: the system's
  size_t batch_intervals = 60;
  // A batch is cut before it passes this many bytes (the node takes 64 MiB
  // by default: limits.max_body_bytes); an interval larger goes alone.
  size_t batch_bytes = size_t{8} << 20;
  // Tries per batch before Send gives up (with a spool: leaves it there).
  int attempts = 3;
  int retry_ms = 500;  // the first wait between tries, doubling
};

struct UploadStats {
  uint64_t intervals = 0, batches = 0, objects_stored = 0, objects_already_present = 0;
  uint64_t spooled = 0;    // batches left in the spool for later
  uint64_t refused = 0;    // batches the node will never take, set aside as *.refused
  uint64_t too_large = 0;  // posts the node refused for their size (then cut)
};

class Uploader {
 public:
  explicit Uploader(UploadOptions options);
  ~Uploader();
  // Checks the node's URL (https://, or http:// to a loopback address only:
  // the token travels in the clear otherwise) and asks the node which sensor
  // the token belongs to, when not given.
  Status Resolve();
  const std::string& sensor() const { return options_.sensor; }
  size_t batch_intervals() const { return options_.batch_intervals; }
  // Sends one batch (spooling it first when there is a spool).
  Status Send(const std::vector<WireInterval>& intervals);
  // Resends spooled batches, oldest first; stops at the first failure.
  Status Flush();
  size_t spooled() const;
  const UploadStats& stats() const { return stats_; }

 private:
  Status Post(const std::string& body, int attempts);
  Status SendBody(const std::string& body);
  // Post, and a batch the node answers for but does not take whole sent
  // again in parts (halves when the node found it bad, parts of a size it
  // takes when too large), down to single intervals: what the node refuses
  // alone goes to `refused`. Ok when every part was taken or refused.
  // (`cut_off`: its whole was cut off; one try each, not options_.attempts.)
  Status PostInParts(const std::string& body, std::vector<std::string>* refused,
                     bool cut_off = false);
  bool NodeAnswers();
  // The most bytes a batch is cut to: batch_bytes, or half the smallest
  // batch the node refused for its size.
  size_t PartBytes() const;
  size_t too_large_from_ = 0;  // 0: the node has refused nothing for its size
  std::string last_refusal_;
  UploadOptions options_;
  SensorKeys keys_;
  std::unique_ptr<http::Client> client_;
  UploadStats stats_;
  uint64_t sequence_ = 0;
};

// Cuts a capture into intervals (SplitCapture) and sends them in batches;
// `part` of each is the file's identity and the interval's piece.
struct UploadCaptureResult {
  SplitStats split;
  uint64_t intervals = 0;
};
Result<UploadCaptureResult> UploadCapture(
    const std::string& path, const Darknet& darknet, int64_t interval_seconds, Uploader& uploader,
    const std::function<void(uint64_t done, uint64_t total)>& progress = nullptr,
    const FingerprintSet& rules = FingerprintSet::BuiltIn());

}  // namespace kizuna::sensor
