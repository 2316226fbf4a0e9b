#include "cli/demo_telescope.h"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>

#include "common/uuid.h"
#include "http/http.h"
#include "sensor/synth.h"
#include "sensor/upload.h"
#include "telescope/module.h"
#include "telescope/sensors.h"

namespace kizuna::cli {

namespace json = boost::json;

Status PrepareDemoTelescope(std::vector<DemoTelescopeNode>& nodes,
                            const std::vector<store::Store*>& stores) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    store::Store& store = *stores[i];
    KIZUNA_ASSIGN_OR_RETURN(
        telescope::NewSensor sensor,
        telescope::AddSensorAccount(store, nodes[i].name, "darknet-" + std::to_string(i + 1)));
    nodes[i].sensor_token = sensor.token;
    store::Collection collection;
    collection.id = NewUuid4();
    collection.title = "Telescope";
    collection.alias = "telescope";
    KIZUNA_RETURN_IF_ERROR(store.CreateCollection(collection));
    KIZUNA_RETURN_IF_ERROR(telescope::GrantHomeRead(store, nodes[i].name, collection.id));
    for (size_t j = 0; j < nodes.size(); ++j) {
      if (i == j) continue;
      KIZUNA_ASSIGN_OR_RETURN(store::Organization org, store.EnsureOrganization(nodes[j].name));
      store::Grant grant;
      grant.collection_id = collection.id;
      grant.org_id = org.id;
      grant.can_read = true;
      KIZUNA_RETURN_IF_ERROR(store.SetGrant(grant));
    }
  }
  return Status::Ok();
}

bool ShowDemoTelescope(const std::vector<DemoTelescopeNode>& nodes, const std::string& work_dir,
                       double deadline_seconds, const std::function<bool(int)>& nap) {
  std::printf("\nthe telescope: a darknet sensor at each team, the same botnet outbreak\n");
  // Six hours of darknet traffic; the outbreak reaches Borealis's darknet
  // first, Aurora's 20 minutes later, Cascadia's 40.
  const int64_t outbreak_s[] = {4 * 3600 + 1200, 4 * 3600, 4 * 3600 + 2400};
  uint64_t expected = 0;  // intervals the first node should end up holding
  for (size_t i = 0; i < nodes.size(); ++i) {
    sensor::SynthOptions options;
    options.packets = 120000;
    options.duration_s = 6 * 3600;
    options.seed = static_cast<uint32_t>(11 + i);
    options.darknet = 0xC6120000 + (static_cast<uint32_t>(i) << 8);
    options.darknet_length = 24;
    options.outbreak_at_s = outbreak_s[i % 3];
    options.outbreak_sources = 2000;
    const std::string pcap = work_dir + "/" + nodes[i].name + "-darknet.pcap";
    if (Status written = sensor::WriteSynth(options, pcap, nullptr); !written.ok()) {
      std::printf("  %s: %s\n", nodes[i].name.c_str(), written.message().c_str());
      return false;
    }
    sensor::UploadOptions upload;
    upload.node_url = nodes[i].url;
    upload.token = nodes[i].sensor_token;
    sensor::Uploader uploader(upload);
    Status resolved = uploader.Resolve();
    auto sent = resolved.ok() ? sensor::UploadCapture(pcap, {}, 60, uploader)
                              : Result<sensor::UploadCaptureResult>(resolved);
    if (!sent.ok()) {
      std::printf("  %s: upload failed: %s\n", nodes[i].name.c_str(),
                  sent.status().message().c_str());
      return false;
    }
    expected += sent->intervals;
    std::printf("  %-14s sensor %s uploaded %llu intervals (%llu packets) from %s\n",
                nodes[i].name.c_str(), uploader.sensor().c_str(),
                static_cast<unsigned long long>(sent->intervals),
                static_cast<unsigned long long>(sent->split.frames), pcap.c_str());
  }
  std::fflush(stdout);

  // The first node's merged view: every sensor, then the surge.
  http::ClientOptions client_options;
  client_options.timeout_ms = 30000;
  http::Client client(client_options);
  const DemoTelescopeNode& home = nodes[0];
  http::Headers headers;
  headers.Set("Authorization", "Bearer " + home.admin_key);
  const auto get = [&](const std::string& path) -> std::optional<json::value> {
    auto r = client.Send("GET", home.url + path, headers);
    if (!r.ok() || r->status != 200) return std::nullopt;
    boost::system::error_code ec;
    json::value v = json::parse(r->body, ec);
    if (ec) return std::nullopt;
    return v;
  };
  const auto started = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  std::optional<json::value> sensors, surges;
  bool complete = false;
  // Every partner's intervals first (cheap to ask), then the surges once.
  while (seconds() < deadline_seconds) {
    sensors = get("/api/v1/telescope/sensors");
    uint64_t held = 0;
    if (sensors && sensors->is_array()) {
      for (const json::value& s : sensors->as_array()) {
        held += s.as_object().at("intervals").to_number<uint64_t>();
      }
    }
    if (held == expected) {
      complete = true;
      break;
    }
    if (!nap(250)) return false;
  }
  // The surges are computed per request; a busy node may answer late, so
  // they are asked for again until the deadline.
  const auto has_outbreak = [](const std::optional<json::value>& found) {
    if (!found || !found->is_array()) return false;
    for (const json::value& s : found->as_array()) {
      if (s.at("port") == 23 && s.at("metric") == "sources") return true;
    }
    return false;
  };
  for (;;) {
    surges = get("/api/v1/telescope/surges");
    if (!complete || has_outbreak(surges) || seconds() >= deadline_seconds) break;
    if (!nap(250)) return false;
  }
  std::printf("%s's merged view (after %.1f s):\n", home.name.c_str(), seconds());
  if (sensors && sensors->is_array()) {
    for (const json::value& s : sensors->as_array()) {
      std::printf("  sensor %-10s of %-14s %5llu intervals %8llu packets%s\n",
                  std::string(s.at("sensor").as_string()).c_str(),
                  std::string(s.at("origin").as_string()).c_str(),
                  static_cast<unsigned long long>(s.at("intervals").to_number<uint64_t>()),
                  static_cast<unsigned long long>(s.at("packets").to_number<uint64_t>()),
                  s.at("exact").as_bool() ? "" : "  (counts and sketches only)");
    }
  }
  bool borealis_first = false;
  if (surges && surges->is_array()) {
    for (const json::value& s : surges->as_array()) {
      std::printf(
          "  surge on %s/%s from %s: %s %.0f against a baseline of %.1f, first seen by %s\n",
          std::to_string(s.at("port").to_number<int>()).c_str(),
          std::string(s.at("proto").as_string()).c_str(),
          std::string(s.at("start").as_string()).c_str(),
          std::string(s.at("metric").as_string()).c_str(), s.at("observed").to_number<double>(),
          s.at("baseline").to_number<double>(),
          std::string(s.at("first_seen_by").as_string()).c_str());
      if (s.at("port") == 23 && s.at("metric") == "sources") {
        borealis_first = s.at("first_seen_by").as_string() == nodes[1].name;
      }
    }
  }
  if (!complete) {
    std::printf("  not every sensor's data or the surge arrived within %.0f s\n", deadline_seconds);
  }
  std::printf("try:\n  kizuna telescope top %s --since 2h\n  kizuna telescope surges %s\n",
              home.dir.c_str(), home.dir.c_str());
  return complete && borealis_first;
}

}  // namespace kizuna::cli
