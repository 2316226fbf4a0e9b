#include "sensor/run.h"

#include <pcap/pcap.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "common/encoding.h"
#include "common/time.h"
#include "node/config_section.h"
#include "sensor/capture.h"

namespace kizuna::sensor {

namespace fs = std::filesystem;

namespace {

// Enough for Ethernet with VLAN tags, IPv6 extension headers and TCP.
constexpr int kLiveSnaplen = 512;
constexpr int kLiveBufferBytes = 64 << 20;
constexpr int kLiveTimeoutMs = 200;

// pcap, pcapng, cap, and tcpdump -C's numbered files (x.pcap1, x.pcap01).
bool IsCapture(const fs::path& path) {
  std::string ext = path.extension().string();
  if (ext.starts_with(".pcap") && ext != ".pcapng") {
    ext = ext.substr(5);
    return std::all_of(ext.begin(), ext.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  return ext == ".pcapng" || ext == ".cap";
}

std::string DoneListPath(const RunConfig& config) { return config.upload.spool_dir + "/done"; }

std::set<std::string> ReadDone(const std::string& path) {
  std::set<std::string> done;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) done.insert(line);
  }
  return done;
}

Status AppendDone(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << "\n";
  out.flush();
  if (!out) return IoError("cannot write " + path);
  return Status::Ok();
}

}  // namespace

Result<RunConfig> LoadRunConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  KIZUNA_ASSIGN_OR_RETURN(node::ConfigSection section, node::ConfigSection::Parse("", text.str()));
  RunConfig config;
  std::string token_file, spool;
  section.String("node", &config.upload.node_url);
  section.String("token", &config.upload.token);
  section.String("token_file", &token_file);
  section.String("sensor", &config.upload.sensor);
  section.String("ca_file", &config.upload.ca_file);
  section.StringList("darknet", &config.darknet);
  section.String("watch", &config.watch);
  section.String("interface", &config.interface);
  section.String("spool", &spool);
  section.String("fingerprints", &config.fingerprints);
  section.Integer("interval_seconds", &config.interval_seconds, 1, 86400);
  section.Integer("settle_seconds", &config.settle_seconds, 0, 86400);
  section.RejectUnknown();
  KIZUNA_RETURN_IF_ERROR(section.status());
  const fs::path base = fs::path(path).parent_path();
  const auto resolve = [&](const std::string& p) {
    return p.empty() || fs::path(p).is_absolute() ? p : (base / p).string();
  };
  if (!token_file.empty()) {
    std::ifstream t(resolve(token_file));
    if (!t) return NotFound("token_file: cannot read " + resolve(token_file));
    std::getline(t, config.upload.token);
  }
  if (config.upload.node_url.empty()) return InvalidArgument(path + ": node: missing");
  if (config.upload.token.empty()) return InvalidArgument(path + ": token or token_file: missing");
  if (config.watch.empty() == config.interface.empty()) {
    return InvalidArgument(path + ": give one of watch (a directory) or interface");
  }
  if (86400 % config.interval_seconds != 0) {
    return InvalidArgument(path + ": interval_seconds must divide 86400");
  }
  config.watch = resolve(config.watch);
  config.upload.ca_file = resolve(config.upload.ca_file);
  config.fingerprints = resolve(config.fingerprints);
  config.upload.spool_dir = resolve(spool.empty() ? "spool" : spool);
  return config;
}

SensorRun::SensorRun(RunConfig config) : config_(std::move(config)), uploader_(config_.upload) {}

Status SensorRun::Run(const std::function<void(const std::string&)>& log) {
  KIZUNA_ASSIGN_OR_RETURN(Darknet darknet, Darknet::Parse(config_.darknet));
  if (!config_.fingerprints.empty()) {
    KIZUNA_ASSIGN_OR_RETURN(FingerprintSet rules, LoadFingerprints(config_.fingerprints));
    rules_ = std::make_unique<FingerprintSet>(std::move(rules));
  }
  // The spool exists before the node is asked anything: a sensor started
  // while its node is down still captures (once it knows its name).
  Status resolved = uploader_.Resolve();
  while (!resolved.ok() && resolved.code() == Code::kUnavailable && !stopping_ && !config_.once) {
    log("node unreachable (" + resolved.message() + "); trying again");
    for (int waited = 0; waited < config_.poll_ms * 5 && !stopping_; waited += 100) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    resolved = uploader_.Resolve();
  }
  KIZUNA_RETURN_IF_ERROR(resolved);
  if (Status flushed = uploader_.Flush(); !flushed.ok()) {
    log("spool: " + std::to_string(uploader_.spooled()) + " batches wait for the node (" +
        flushed.message() + ")");
  }
  return config_.watch.empty() ? CaptureLive(darknet, log) : FollowDirectory(darknet, log);
}

Status SensorRun::FollowDirectory(const Darknet& darknet,
                                  const std::function<void(const std::string&)>& log) {
  const std::string done_path = DoneListPath(config_);
  std::set<std::string> done = ReadDone(done_path);
  auto last_flush = std::chrono::steady_clock::now();
  while (!stopping_) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(config_.watch, ec)) {
      if (entry.is_regular_file() && IsCapture(entry.path())) files.push_back(entry.path());
    }
    if (ec) return IoError("watch: " + config_.watch + ": " + ec.message());
    // Oldest first, by when they were last written (tcpdump -C's x.pcap10
    // comes after x.pcap9), then by name.
    std::vector<std::pair<fs::file_time_type, fs::path>> by_time;
    for (const fs::path& f : files) by_time.emplace_back(fs::last_write_time(f, ec), f);
    std::sort(by_time.begin(), by_time.end());
    for (size_t i = 0; i < files.size(); ++i) files[i] = by_time[i].second;
    const auto now = fs::file_time_type::clock::now();
    for (size_t i = 0; i < files.size() && !stopping_; ++i) {
      const fs::path& file = files[i];
      // Finished: a newer capture beside it, or quiet for settle_seconds.
      // --once too: a capture taken while it grows would be marked done
      // with its last minutes missing (the parts sent would not change).
      const bool newer_exists = i + 1 < files.size();
      const auto modified = fs::last_write_time(file, ec);
      const bool settled = !ec && now - modified > std::chrono::seconds(config_.settle_seconds);
      if (!newer_exists && !settled) continue;
      auto identity = CaptureIdentity(file.string());
      if (!identity.ok()) continue;
      const std::string key = *identity + " " + file.filename().string();
      if (done.contains(key)) continue;
      auto sent = UploadCapture(file.string(), darknet, config_.interval_seconds, uploader_,
                                nullptr, rules());
      if (!sent.ok()) {
        log(file.string() + ": " + sent.status().message());
        // A capture that cannot be read as one is left for good; anything
        // else (the spool's disk, the node's setup) is tried again later,
        // so the file is not marked as taken.
        const Code code = sent.status().code();
        if (code != Code::kInvalidArgument && code != Code::kNotFound) {
          if (config_.once) return sent.status();
          continue;
        }
      } else {
        log(file.filename().string() + ": " + std::to_string(sent->intervals) + " intervals, " +
            std::to_string(sent->split.frames) + " frames" +
            (sent->split.file_error.empty() ? "" : " (" + sent->split.file_error + ")") +
            (uploader_.spooled() != 0
                 ? ", " + std::to_string(uploader_.spooled()) + " batches spooled"
                 : "") +
            (uploader_.stats().refused != 0
                 ? ", " + std::to_string(uploader_.stats().refused) +
                       " batches refused by the node so far (kept as spool/*.refused)"
                 : ""));
      }
      KIZUNA_RETURN_IF_ERROR(AppendDone(done_path, key));
      done.insert(key);
      ++files_taken_;
    }
    if (uploader_.spooled() != 0 &&
        std::chrono::steady_clock::now() - last_flush > std::chrono::seconds(2)) {
      last_flush = std::chrono::steady_clock::now();
      Status flushed = uploader_.Flush();
      if (flushed.ok()) log("spool sent");
    }
    if (config_.once) {
      // What the node could not take now waits in the spool for the next
      // run: a node that is away is no failure of the sensor (as in
      // Uploader::Send); a refusal or a spool that cannot be read is.
      Status flushed = uploader_.Flush();
      if (!flushed.ok() && flushed.code() == Code::kUnavailable) {
        log("spool: " + std::to_string(uploader_.spooled()) + " batches wait for the node (" +
            flushed.message() + ")");
        return Status::Ok();
      }
      return flushed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(config_.poll_ms));
  }
  return Status::Ok();
}

Status SensorRun::CaptureLive(const Darknet& darknet,
                              const std::function<void(const std::string&)>& log) {
  char error[PCAP_ERRBUF_SIZE] = {0};
  pcap_t* pcap = pcap_create(config_.interface.c_str(), error);
  if (pcap == nullptr) return InvalidArgument("interface " + config_.interface + ": " + error);
  // Headers are all that is counted: a short snapshot keeps the kernel's
  // ring from filling in a burst (with 256 KiB frames a 2 MiB ring held 8).
  pcap_set_snaplen(pcap, kLiveSnaplen);
  pcap_set_buffer_size(pcap, kLiveBufferBytes);
  pcap_set_promisc(pcap, 1);
  pcap_set_timeout(pcap, kLiveTimeoutMs);
  if (pcap_activate(pcap) < 0) {
    const std::string why = pcap_geterr(pcap);
    pcap_close(pcap);
    return PermissionDenied("interface " + config_.interface + ": " + why);
  }
  const LinkType link = LinkTypeOfDlt(pcap_datalink(pcap));
  log("capturing on " + config_.interface);
  // A live capture's parts: this run, then the interval's piece.
  const std::string run_id = "live-" + HexEncode(RandomBytes(8));
  std::map<int64_t, std::unique_ptr<Summary>> open;
  std::map<int64_t, int> pieces;
  const int64_t seconds = config_.interval_seconds;
  Status status = Status::Ok();
  const auto close_before = [&](int64_t before_s) -> Status {
    std::vector<WireInterval> batch;
    while (!open.empty() && open.begin()->first < before_s) {
      const int64_t start = open.begin()->first;
      const int piece = pieces[start]++;
      batch.push_back(ToWire(*open.begin()->second, uploader_.sensor(), start, seconds,
                             run_id + "-" + std::to_string(piece)));
      open.erase(open.begin());
    }
    if (batch.empty()) return Status::Ok();
    Status sent = uploader_.Send(batch);
    log(std::to_string(batch.size()) + " intervals sent" +
        (uploader_.spooled() != 0 ? " (" + std::to_string(uploader_.spooled()) + " spooled)" : ""));
    return sent;
  };
  Packet packet;
  const auto take = [&](const pcap_pkthdr* header, const u_char* data) {
    const int64_t ts_us = int64_t{header->ts.tv_sec} * 1000000 + header->ts.tv_usec;
    const DecodeStatus decoded = Decode(link, data, header->caplen, &packet);
    if (packet.ip_version == 0 || decoded == DecodeStatus::kMalformed ||
        !darknet.Contains(packet)) {
      return;
    }
    const int64_t ts_s = ts_us / 1000000;
    auto& summary = open[ts_s - ts_s % seconds];
    if (!summary) summary = std::make_unique<Summary>(rules());
    summary->Add(packet, ts_us);
  };
  // Non-blocking reads after our own poll: a blocking read may wait for
  // ever on a quiet interface (the kernel hands over a block of packets
  // when it is full or its timeout expires, and an empty one never), and
  // the stop must be seen.
  if (pcap_setnonblock(pcap, 1, error) != 0) {
    const std::string why = error;
    pcap_close(pcap);
    return IoError("interface " + config_.interface + ": " + why);
  }
  const int fd = pcap_get_selectable_fd(pcap);
  const auto wait_for_packets = [&](int ms) {
    pollfd ready{fd, POLLIN, 0};
    ::poll(&ready, 1, ms);
  };
  // Every packet waiting now; false on a capture error.
  const auto read_waiting = [&]() {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    int got = 0;
    while ((got = pcap_next_ex(pcap, &header, &data)) == 1) take(header, data);
    if (got == PCAP_ERROR) {
      status = IoError("interface " + config_.interface + ": " + pcap_geterr(pcap));
      return false;
    }
    return true;
  };
  while (!stopping_) {
    wait_for_packets(kLiveTimeoutMs);
    if (!read_waiting()) break;
    // An interval is sent two seconds after its end.
    const int64_t now_s = SystemClock::Instance().NowMicros() / 1000000;
    status = close_before(now_s - 2 - seconds + 1);
    if (!status.ok() && status.code() != Code::kUnavailable) break;
    status = Status::Ok();
  }
  // What the kernel captured before the stop is still counted: a
  // part-filled block is handed over when its timeout expires.
  if (status.ok()) {
    wait_for_packets(2 * kLiveTimeoutMs);
    read_waiting();
  }
  if (pcap_stat counts{}; pcap_stats(pcap, &counts) == 0 && counts.ps_drop != 0) {
    log(std::to_string(counts.ps_drop) + " packets dropped by the kernel (the sensor fell behind)");
  }
  pcap_close(pcap);
  Status last = close_before(INT64_MAX);
  return status.ok() ? last : status;
}

}  // namespace kizuna::sensor
