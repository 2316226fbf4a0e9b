// `kizuna sensor …`: darknet sensor commands that need no node. `report`
// analyses a capture (DESIGN.md's contract), `synth` writes a synthetic one
// (`upload` and `run`, which talk to a node: sensor_upload.cc).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>

#include "cli/commands.h"
#include "cli/progress.h"
#include "common/time.h"
#include "sensor/report.h"
#include "sensor/synth.h"

namespace kizuna::cli {
namespace {

struct ReportArgs {
  std::string pcap;
  bool json = false;
  std::vector<std::string> darknet;
  size_t top = 20;
  bool progress = false;
  std::string fingerprints;
};

int Report(const ReportArgs& args) {
  auto darknet = sensor::Darknet::Parse(args.darknet);
  if (!darknet.ok()) return Fail(darknet.status());
  std::optional<sensor::FingerprintSet> rules;
  if (!args.fingerprints.empty()) {
    auto loaded = sensor::LoadFingerprints(args.fingerprints);
    if (!loaded.ok()) return Fail(loaded.status());
    rules = std::move(*loaded);
  }
  ProgressLine progress(args.progress, "read");
  auto report = sensor::AnalyzeCapture(args.pcap, *darknet, std::ref(progress),
                                       rules ? *rules : sensor::FingerprintSet::BuiltIn());
  progress.Finish();
  if (!report.ok()) return Fail(report.status());
  if (!report->file_error.empty()) {
    std::fprintf(stderr, "kizuna: warning: %s (what came before it is counted)\n",
                 report->file_error.c_str());
  }
  const std::string out = args.json ? sensor::CaptureReportJson(*report) + "\n"
                                    : sensor::CaptureReportText(*report, args.top);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

struct SynthArgs {
  std::string out, truth, start = "2026-11-22T00:00:00Z", darknet = "198.18.0.0/16",
                          link = "ethernet";
  sensor::SynthOptions options;
  bool progress = false;
};

int Synth(SynthArgs args) {
  auto start = ParseTimestamp(args.start);
  if (!start.ok()) return Fail(InvalidArgument("--start: " + start.status().message()));
  args.options.start_us = *start;
  auto darknet = correlation::ParseIpv4Prefix(args.darknet);
  if (!darknet.ok()) return Fail(InvalidArgument("--darknet: " + darknet.status().message()));
  args.options.darknet = darknet->network;
  args.options.darknet_length = darknet->length;
  static const std::pair<const char*, sensor::LinkType> kLinks[] = {
      {"ethernet", sensor::LinkType::kEthernet},
      {"raw", sensor::LinkType::kRaw},
      {"sll", sensor::LinkType::kLinuxSll},
      {"sll2", sensor::LinkType::kLinuxSll2},
      {"null", sensor::LinkType::kNull}};
  bool known = false;
  for (const auto& [name, link] : kLinks) {
    if (args.link == name) {
      args.options.link = link;
      known = true;
    }
  }
  if (!known) return Fail(InvalidArgument("--link: ethernet, raw, sll, sll2 or null"));
  if (args.options.vlan > 4095) return Fail(InvalidArgument("--vlan: an 802.1Q id is 0 to 4095"));
  if (args.options.vlan >= 0 && args.options.link != sensor::LinkType::kEthernet) {
    return Fail(InvalidArgument("--vlan: only an Ethernet capture carries VLAN tags"));
  }
  if (args.options.outbreak_sources > 10000000) {
    return Fail(InvalidArgument("--outbreak-sources: at most 10,000,000"));
  }
  if (*start < 0 || *start > int64_t{4102444800} * 1000000) {  // 1970 to 2100
    return Fail(InvalidArgument("--start: between 1970 and 2100 (pcap keeps 32-bit seconds)"));
  }
  sensor::SynthTruth truth;
  ProgressLine progress(args.progress, "packets");
  Status written = sensor::WriteSynth(args.options, args.out, args.truth.empty() ? nullptr : &truth,
                                      std::ref(progress));
  progress.Finish();
  if (!written.ok()) return Fail(written);
  if (!args.truth.empty()) {
    std::ofstream file(args.truth, std::ios::trunc);
    file << truth.Json() << "\n";
    if (!file) return Fail(IoError("cannot write " + args.truth));
  }
  std::fprintf(stderr, "wrote %llu packets to %s\n",
               static_cast<unsigned long long>(args.options.packets), args.out.c_str());
  return 0;
}

}  // namespace

void AddSensorCommands(CLI::App& app, int* code) {
  auto* sensor = app.add_subcommand("sensor", "Darknet sensor: analyse and generate captures");
  sensor->require_subcommand(1);

  auto report_args = std::make_shared<ReportArgs>();
  auto* report = sensor->add_subcommand(
      "report", "Analyse a pcap or pcapng capture offline: ports, sources, classes, scanners");
  report->add_option("--pcap", report_args->pcap, "the capture (pcap or pcapng)")->required();
  report->add_flag("--json", report_args->json, "one JSON object (the CLI contract)");
  report->add_option("--darknet", report_args->darknet,
                     "count only traffic to this prefix (repeatable; default: all)");
  report->add_option("--top", report_args->top, "ports in the table")->capture_default_str();
  report->add_option("--fingerprints", report_args->fingerprints,
                     "scanner fingerprint rules (JSON) instead of the built-in ones");
  report->add_flag("--progress", report_args->progress,
                   "progress on stderr (always on a terminal)");
  report->callback([code, report_args] { *code = Report(*report_args); });

  auto synth_args = std::make_shared<SynthArgs>();
  auto* synth = sensor->add_subcommand(
      "synth",
      "Write a synthetic darknet capture (background, backscatter, scanners, an outbreak)");
  synth->add_option("--out", synth_args->out, "the capture to write")->required();
  synth->add_option("--packets", synth_args->options.packets)->capture_default_str();
  synth->add_option("--seed", synth_args->options.seed)->capture_default_str();
  synth->add_option("--start", synth_args->start, "time of the first packet (RFC 3339)")
      ->capture_default_str();
  synth->add_option("--duration", synth_args->options.duration_s, "seconds the traffic spans")
      ->capture_default_str();
  synth->add_option("--darknet", synth_args->darknet, "the IPv4 darknet")->capture_default_str();
  synth->add_option("--outbreak-at", synth_args->options.outbreak_at_s,
                    "seconds after the start (default: two thirds of the way)");
  synth->add_option("--outbreak-sources", synth_args->options.outbreak_sources)
      ->capture_default_str();
  synth
      ->add_option("--outbreak-share", synth_args->options.outbreak_share,
                   "of the packets once it has begun")
      ->capture_default_str();
  synth->add_option("--ipv6-share", synth_args->options.ipv6_share)->capture_default_str();
  synth->add_option("--link", synth_args->link, "ethernet, raw, sll, sll2 or null")
      ->capture_default_str();
  synth->add_option("--vlan", synth_args->options.vlan, "Ethernet: an 802.1Q tag");
  synth->add_flag("--pcapng", synth_args->options.pcapng, "pcapng instead of pcap");
  synth->add_option("--truth", synth_args->truth,
                    "also write what was generated, as JSON (distinct sources per class, "
                    "fingerprint and port)");
  synth->add_flag("--progress", synth_args->progress, "progress on stderr (always on a terminal)");
  synth->callback([code, synth_args] { *code = Synth(*synth_args); });

  AddSensorUploadCommands(sensor, code);
}

}  // namespace kizuna::cli
