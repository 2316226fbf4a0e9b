// `kizuna sensor upload` (one capture's intervals to a node) and `kizuna
// sensor run CONFIG` (a sensor that keeps going: a directory of rotating
// captures or a live interface). The work is in sensor/upload.h and
// sensor/run.h.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "cli/progress.h"
#include "sensor/run.h"
#include "sensor/upload.h"

namespace kizuna::cli {
namespace {

struct UploadArgs {
  std::string pcap;
  sensor::UploadOptions upload;
  std::vector<std::string> darknet;
  int64_t interval = 60;
  bool progress = false;
  std::string fingerprints;
  std::string token_file;
};

int Upload(UploadArgs args) {
  if (!args.token_file.empty()) {
    std::ifstream in(args.token_file);
    if (!in || !std::getline(in, args.upload.token)) {
      return Fail(NotFound("--token-file: cannot read " + args.token_file));
    }
  }
  if (args.upload.token.empty()) return Fail(InvalidArgument("give --token or --token-file"));
  auto darknet = sensor::Darknet::Parse(args.darknet);
  if (!darknet.ok()) return Fail(darknet.status());
  if (args.interval <= 0 || 86400 % args.interval != 0) {
    return Fail(InvalidArgument("--interval: seconds dividing 86400"));
  }
  std::optional<sensor::FingerprintSet> rules;
  if (!args.fingerprints.empty()) {
    auto loaded = sensor::LoadFingerprints(args.fingerprints);
    if (!loaded.ok()) return Fail(loaded.status());
    rules = std::move(*loaded);
  }
  sensor::Uploader uploader(args.upload);
  if (Status resolved = uploader.Resolve(); !resolved.ok()) return Fail(resolved);
  ProgressLine progress(args.progress, "upload");
  auto result =
      sensor::UploadCapture(args.pcap, *darknet, args.interval, uploader, std::ref(progress),
                            rules ? *rules : sensor::FingerprintSet::BuiltIn());
  progress.Finish();
  if (!result.ok()) {
    return Fail(Status(result.status().code(),
                       result.status().message() +
                           " (upload again: what the node already has is not counted twice)"));
  }
  if (!result->split.file_error.empty()) {
    std::fprintf(stderr, "kizuna: warning: %s (what came before it is sent)\n",
                 result->split.file_error.c_str());
  }
  const sensor::UploadStats& stats = uploader.stats();
  std::printf(
      "sensor %s: %llu intervals in %llu batches from %llu frames; %llu objects stored, %llu "
      "already present\n",
      uploader.sensor().c_str(), static_cast<unsigned long long>(result->intervals),
      static_cast<unsigned long long>(stats.batches),
      static_cast<unsigned long long>(result->split.frames),
      static_cast<unsigned long long>(stats.objects_stored),
      static_cast<unsigned long long>(stats.objects_already_present));
  return 0;
}

struct RunArgs {
  std::string config;
  bool once = false;
};

sensor::SensorRun* running = nullptr;

int Run(const RunArgs& args) {
  auto config = sensor::LoadRunConfig(args.config);
  if (!config.ok()) return Fail(config.status());
  config->once = args.once;
  sensor::SensorRun run(std::move(*config));
  // SIGINT/SIGTERM end the run cleanly (what is open is sent or spooled).
  // SIGUSR2 only wakes the waiter at the end; it is blocked in every thread
  // (the waiter inherits the mask) before the waiter starts, or its default
  // action would end the process.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  running = &run;
  std::thread waiter([signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal != SIGUSR2 && running != nullptr) running->Stop();
  });
  Status status = run.Run(
      [](const std::string& line) { std::fprintf(stderr, "kizuna sensor: %s\n", line.c_str()); });
  running = nullptr;
  // Wake the waiter (it ignores this signal) and join it.
  pthread_kill(waiter.native_handle(), SIGUSR2);
  waiter.join();
  if (!status.ok()) return Fail(status);
  const sensor::UploadStats& stats = run.stats();
  std::printf("%llu files, %llu intervals, %llu batches sent, %zu waiting in the spool\n",
              static_cast<unsigned long long>(run.files_taken()),
              static_cast<unsigned long long>(stats.intervals),
              static_cast<unsigned long long>(stats.batches), static_cast<size_t>(stats.spooled));
  return 0;
}

}  // namespace

void AddSensorUploadCommands(CLI::App* sensor, int* code) {
  auto upload_args = std::make_shared<UploadArgs>();
  auto* upload = sensor->add_subcommand(
      "upload", "Send a capture's per-interval summaries (timestamps from the packets) to a node");
  upload->add_option("--pcap", upload_args->pcap, "the capture (pcap or pcapng)")->required();
  upload->add_option("--node", upload_args->upload.node_url, "the node's URL")->required();
  auto* token = upload->add_option("--token", upload_args->upload.token,
                                   "the sensor's token (kizuna telescope sensor add)");
  auto* token_file = upload->add_option("--token-file", upload_args->token_file,
                                        "a file holding the token (not seen in `ps`)");
  token->excludes(token_file);
  token_file->excludes(token);
  upload->add_option("--sensor", upload_args->upload.sensor,
                     "the sensor's name (default: the token's)");
  upload->add_option("--darknet", upload_args->darknet,
                     "count only traffic to this prefix (repeatable; default: all)");
  upload->add_option("--interval", upload_args->interval, "seconds per interval")
      ->capture_default_str();
  upload->add_option("--spool", upload_args->upload.spool_dir,
                     "keep batches here until the node has them (sent again next time)");
  upload->add_option("--fingerprints", upload_args->fingerprints,
                     "scanner fingerprint rules (JSON) instead of the built-in ones");
  upload->add_option("--ca-file", upload_args->upload.ca_file, "the node's CA certificate (PEM)");
  upload->add_flag("--progress", upload_args->progress,
                   "progress on stderr (always on a terminal)");
  upload->callback([code, upload_args] { *code = Upload(*upload_args); });

  auto run_args = std::make_shared<RunArgs>();
  auto* run = sensor->add_subcommand(
      "run",
      "Run a sensor: follow a directory of rotating captures or capture live, upload "
      "every interval");
  run->add_option("CONFIG", run_args->config, "the sensor's config (TOML)")->required();
  run->add_flag("--once", run_args->once,
                "take the finished captures that are there, send them, and stop");
  run->callback([code, run_args] { *code = Run(*run_args); });
}

}  // namespace kizuna::cli
