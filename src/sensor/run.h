// `kizuna sensor run CONFIG`: a sensor that keeps going. It follows a
// directory of rotating captures (tcpdump -G / -C, dumpcap ring buffers) or
// captures live from an interface (libpcap), cuts the traffic into
// intervals and uploads them (upload.h: signed, spooled, resent after a
// failure or a restart).
//
// A capture file is taken once it is finished: a newer file exists beside
// it, or it has not changed for `settle_seconds`. Files taken are listed in
// SPOOL/done (identity and name), so a restart does not take them again;
// if it did (the list lost), the node would still count them once.
//
// Live capture: each interval is sent once the clock is two seconds past
// its end; a stop (SIGINT, SIGTERM) sends what is open first.
//
// Thread-safety: one SensorRun per process; Stop() may be called from a
// signal-handling thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "sensor/report.h"
#include "sensor/upload.h"

namespace kizuna::sensor {

struct RunConfig {
  UploadOptions upload;
  std::vector<std::string> darknet;
  std::string watch;      // a directory of captures (*.pcap, *.pcapng, *.cap)
  std::string interface;  // or a live interface
  int64_t interval_seconds = 60;
  int settle_seconds = 10;
  int poll_ms = 1000;
  std::string fingerprints;  // a rule set file (JSON); empty: the built-in rules
  bool once = false;         // take the finished captures that are there, send, and stop
};

// Reads the sensor's TOML config: node, token (or token_file), sensor,
// darknet = [...], watch or interface, spool (default: beside the config,
// "spool"), interval_seconds, settle_seconds, ca_file, fingerprints (a rule
// set file).
Result<RunConfig> LoadRunConfig(const std::string& path);

class SensorRun {
 public:
  explicit SensorRun(RunConfig config);
  // Runs until Stop() (or, with `once`, until done). Progress lines go to `log`.
  Status Run(const std::function<void(const std::string&)>& log);
  void Stop() { stopping_ = true; }
  const UploadStats& stats() const { return uploader_.stats(); }
  uint64_t files_taken() const { return files_taken_; }

 private:
  Status FollowDirectory(const Darknet& darknet,
                         const std::function<void(const std::string&)>& log);
  Status CaptureLive(const Darknet& darknet, const std::function<void(const std::string&)>& log);
  RunConfig config_;
  Uploader uploader_;
  std::unique_ptr<FingerprintSet> rules_;  // from config_.fingerprints, else null
  const FingerprintSet& rules() const { return rules_ ? *rules_ : FingerprintSet::BuiltIn(); }
  std::atomic<bool> stopping_{false};
  uint64_t files_taken_ = 0;
};

}  // namespace kizuna::sensor
