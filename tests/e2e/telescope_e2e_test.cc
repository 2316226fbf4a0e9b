// The telescope end to end, as a team runs it: real `kizuna serve`
// processes on loopback, sensors that upload synthetic captures with
// `kizuna sensor upload` and `kizuna sensor run`, and the views read back
// with `kizuna telescope …` and the REST API. Every expectation is derived
// from the data (`kizuna sensor report` of the same capture, synth's truth),
// never typed in:
//   UploadIsExactAndASecondUploadCountsNothing   totals equal the report
//   UploadsAreSignedAndBoundToTheirSensor       who may upload and read what
//   SpoolSurvivesRestartsOfSensorAndNode         nothing lost, nothing twice
//   SurgeFoundAtTheOutbreakAndRecordedAsStix     surges, their STIX report, the stream
//   GreenPartnerSharesCountsButNoAddresses       federation at TLP:GREEN
//   AmberPartnerSharesExactSetsAndAddresses      federation at TLP:AMBER
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "common/time.h"
#include "http/sse.h"
#include "node/config.h"
#include "node/node.h"
#include "platform/jobs.h"
#include "sensor/interval.h"
#include "sensor/upload.h"
#include "stix/stix.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"
#include "tests/support/eventually.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test_support::Eventually;

constexpr const char* kIntervals = "/api/v1/telescope/intervals";
// Every port and source in a view (the reports of these captures hold fewer).
constexpr const char* kAll = "10000";

json::value Parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value() : v;
}

// A capture written by `kizuna sensor synth`, what `kizuna sensor report`
// says of it and what the generator says it put in.
struct Capture {
  std::string path;
  json::value report;
  json::value truth;
};

json::value Report(const std::string& pcap) {
  CommandResult r = RunKizuna({"sensor", "report", "--pcap", pcap, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return Parse(r.out);
}

Capture Synth(const std::string& path, int packets, int duration_s, int seed,
              int outbreak_at_s = -1, int outbreak_sources = 3000) {
  std::vector<std::string> args = {"sensor",     "synth",
                                   "--out",      path,
                                   "--packets",  std::to_string(packets),
                                   "--duration", std::to_string(duration_s),
                                   "--seed",     std::to_string(seed),
                                   "--truth",    path + ".truth.json"};
  if (outbreak_at_s >= 0) {
    args.insert(args.end(), {"--outbreak-at", std::to_string(outbreak_at_s), "--outbreak-sources",
                             std::to_string(outbreak_sources)});
  }
  CommandResult r = RunKizuna(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Capture capture{path, Report(path), Parse(ReadFile(path + ".truth.json"))};
  // The report counts exactly what the generator wrote.
  EXPECT_EQ(capture.report.at("packets"), capture.truth.at("packets"));
  EXPECT_EQ(capture.report.at("sources"), capture.truth.at("sources"));
  return capture;
}

// Two classic pcap files of one link type as one (the second's records
// after the first's): `sensor report` of it counts the union of both.
std::string Concatenate(const std::string& a, const std::string& b, const std::string& out) {
  const std::string first = ReadFile(a);
  const std::string second = ReadFile(b);
  EXPECT_GE(first.size(), 24u);
  EXPECT_EQ(first.substr(0, 24), second.substr(0, 24)) << "not the same pcap header";
  WriteFile(out, first + second.substr(24));
  return out;
}

std::string AddSensor(NodeProcess& node, const std::string& name) {
  CommandResult r = RunKizuna({"telescope", "sensor", "add", node.dir(), name, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json::value v = Parse(r.out);
  EXPECT_EQ(v.at("sensor"), name.c_str());
  return std::string(v.at("token").as_string());
}

// What `kizuna sensor upload` printed.
struct Uploaded {
  int exit_code = -1;
  unsigned long long intervals = 0, stored = 0, present = 0;
  std::string out, err;
};

Uploaded Upload(NodeProcess& node, const std::string& token, const std::string& pcap) {
  CommandResult r =
      RunKizuna({"sensor", "upload", "--pcap", pcap, "--node", node.base_url(), "--token", token});
  Uploaded u{r.exit_code, 0, 0, 0, r.out, r.err};
  const size_t at = r.out.find(": ");
  if (at == std::string::npos ||
      std::sscanf(r.out.c_str() + at + 2,
                  "%llu intervals in %*u batches from %*u frames; %llu objects stored, %llu "
                  "already present",
                  &u.intervals, &u.stored, &u.present) != 3) {
    ADD_FAILURE() << "unexpected output: " << r.out << r.err;
  }
  return u;
}

// What `kizuna sensor run CONFIG --once` did: its exit code and the
// figures of its last line.
struct Ran {
  int exit_code = -1;
  unsigned long long files = 0, intervals = 0, sent = 0, waiting = 0;
  std::string out, err;
};

Ran RunOnce(const std::string& config) {
  CommandResult r = RunKizuna({"sensor", "run", config, "--once"});
  Ran ran{r.exit_code, 0, 0, 0, 0, r.out, r.err};
  if (std::sscanf(r.LastLine().c_str(),
                  "%llu files, %llu intervals, %llu batches sent, %llu waiting in the spool",
                  &ran.files, &ran.intervals, &ran.sent, &ran.waiting) != 4) {
    ADD_FAILURE() << "unexpected output: " << r.out << r.err;
  }
  return ran;
}

json::value Cli(const std::vector<std::string>& args) {
  CommandResult r = RunKizuna(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return Parse(r.out);
}

// `kizuna telescope top DIR --json` over everything the node holds.
json::value TopCli(NodeProcess& node, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"telescope", "top", node.dir(), "--json", "--top", kAll};
  args.insert(args.end(), extra.begin(), extra.end());
  return Cli(args);
}

json::value Api(NodeProcess& node, const std::string& path, const std::string& key = "") {
  http::Response r = node.Request("GET", path, key.empty() ? node.admin_key() : key);
  return r.status == 200 ? Parse(r.body) : json::value();
}

json::value TopApi(NodeProcess& node) {
  return Api(node, std::string("/api/v1/telescope/top?top=") + kAll);
}

// (proto/port) -> (packets, sources) of a report's or a view's "ports".
std::map<std::string, std::pair<int64_t, int64_t>> Ports(const json::value& doc) {
  std::map<std::string, std::pair<int64_t, int64_t>> out;
  for (const json::value& p : doc.at("ports").as_array()) {
    out[std::string(p.at("proto").as_string()) + "/" + std::to_string(p.at("port").as_int64())] = {
        p.at("packets").to_number<int64_t>(), p.at("sources").to_number<int64_t>()};
  }
  return out;
}

int64_t Int(const json::value& doc, const char* key) { return doc.at(key).to_number<int64_t>(); }

// A view's totals, for failure messages (the whole view is long).
std::string Brief(const json::value& view) {
  if (!view.is_object()) return json::serialize(view);
  json::object out;
  for (const char* key : {"intervals", "packets", "sources", "exact"}) {
    if (const json::value* v = view.as_object().if_contains(key)) out[key] = *v;
  }
  return json::serialize(out);
}

// A view of the node that must be what `kizuna sensor report` counted:
// packets, distinct sources, every port, classes and fingerprints, exactly.
void ExpectEqualsReport(const json::value& view, const json::value& report) {
  ASSERT_TRUE(view.is_object()) << view;
  EXPECT_EQ(Int(view, "packets"), Int(report, "packets"));
  EXPECT_EQ(Int(view, "sources"), Int(report, "sources"));
  EXPECT_EQ(view.at("exact"), true);
  EXPECT_EQ(view.at("classes"), report.at("classes"));
  EXPECT_EQ(view.at("fingerprints"), report.at("fingerprints"));
  // Port by port: every port the view lists (the busiest, up to kAll),
  // as the report counted it; a failure names only what differs.
  const auto got = Ports(view), want = Ports(report);
  EXPECT_EQ(got.size(), std::min<size_t>(want.size(), std::stoul(kAll)));
  EXPECT_TRUE(got.contains("tcp/23"));
  for (const auto& [port, counts] : got) {
    auto it = want.find(port);
    if (it == want.end()) {
      ADD_FAILURE() << port << " is not in the report";
    } else {
      EXPECT_EQ(counts, it->second) << port << " (packets, sources)";
    }
  }
  for (const json::value& p : view.at("ports").as_array()) EXPECT_EQ(p.at("exact"), true) << p;
}

// A hand-made interval of one source, as a sensor would send it.
sensor::WireInterval OneSource(const std::string& sensor_name, int64_t start_s, uint32_t address,
                               const std::string& address_text, uint64_t packets) {
  sensor::WireInterval w;
  w.sensor = sensor_name;
  w.start_s = start_s;
  w.seconds = 60;
  w.part = "handmade-" + std::to_string(start_s);
  w.packets = packets;
  w.first_us = start_s * 1000000 + 1000;
  w.last_us = w.first_us + 1000;
  w.fingerprint_rules = "test";
  w.sources.v4.Add(address);
  sensor::WireInterval::Port port;
  port.proto = sensor::PortProto::kTcp;
  port.port = 23;
  port.packets = packets;
  port.sources.v4.Add(address);
  w.ports.push_back(std::move(port));
  w.classes["scan"].v4.Add(address);
  sensor::WireInterval::Source source;
  source.address = address_text;
  source.packets = packets;
  source.ports = 1;
  source.destinations = packets;
  source.first_us = w.first_us;
  source.last_us = w.last_us;
  source.profile[0] = packets;  // syn
  w.top_sources.push_back(std::move(source));
  return w;
}

std::string Batch(const std::vector<std::string>& intervals) {
  std::string body = "{\"intervals\":[";
  for (size_t i = 0; i < intervals.size(); ++i) body += (i ? "," : "") + intervals[i];
  return body + "]}";
}

// The body's signature with the key a sensor's token derives.
std::string Sign(const std::string& body, const std::string& token) {
  const sensor::SensorKeys keys = sensor::SensorKeysFromToken(token);
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(body.data()),
                       body.size(), reinterpret_cast<const unsigned char*>(keys.secret_key.data()));
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(signature), sizeof signature));
}

http::Response PostIntervals(NodeProcess& node, const std::string& key, const std::string& body,
                             const std::string& signature) {
  std::map<std::string, std::string> headers = {{"Content-Type", "application/json"}};
  if (!signature.empty()) headers[std::string(sensor::kSensorSignatureHeader)] = signature;
  return node.Request("POST", kIntervals, key, body, headers);
}

// Every object of `type` in a collection (by alias), as the admin reads it.
std::vector<json::object> Objects(NodeProcess& node, const std::string& collection,
                                  const std::string& type) {
  std::vector<json::object> out;
  std::string next;
  for (int pages = 0; pages < 1000; ++pages) {
    std::string path =
        "/taxii2/root/collections/" + collection + "/objects/?limit=1000&match[type]=" + type;
    if (!next.empty()) path += "&next=" + next;
    http::Response r = node.Get(path);
    if (r.status != 200) {
      ADD_FAILURE() << path << ": " << r.status << " " << r.body;
      break;
    }
    json::value page = Parse(r.body);
    if (!page.is_object()) break;
    if (const json::value* objects = page.as_object().if_contains("objects")) {
      for (const json::value& o : objects->as_array()) out.push_back(o.as_object());
    }
    const json::value* more = page.as_object().if_contains("more");
    if (more == nullptr || !more->as_bool()) break;
    next = std::string(page.at("next").as_string());
  }
  return out;
}

int64_t Micros(const json::value& time) {
  auto t = ParseTimestamp(std::string(time.as_string()));
  EXPECT_TRUE(t.ok()) << time;
  return t.ok() ? *t : 0;
}

// The first surge of `proto/port` on `metric` in a surges view (null if none).
const json::object* FindSurge(const json::value& surges, const std::string& proto, int port,
                              const std::string& metric) {
  if (!surges.is_array()) return nullptr;
  for (const json::value& s : surges.as_array()) {
    const json::object& o = s.as_object();
    if (o.at("proto") == proto.c_str() && o.at("port") == port &&
        o.at("metric") == metric.c_str()) {
      return &o;
    }
  }
  return nullptr;
}

// The node's sensors (`telescope sensor list --json`) by "origin/sensor".
std::map<std::string, json::object> SensorList(NodeProcess& node) {
  std::map<std::string, json::object> out;
  json::value list = Cli({"telescope", "sensor", "list", node.dir(), "--json"});
  if (!list.is_array()) return out;
  for (const json::value& v : list.as_array()) {
    const json::object& o = v.as_object();
    out[std::string(o.at("origin").as_string()) + "/" + std::string(o.at("sensor").as_string())] =
        o;
  }
  return out;
}

// ---------------------------------------------------------------------------

TEST(TelescopeE2e, UploadIsExactAndASecondUploadCountsNothing) {
  TempDir work;
  const Capture capture = Synth(work.path() + "/day.pcap", 40000, 3 * 3600, 7);
  // The report is the generator's truth.
  EXPECT_EQ(capture.report.at("classes"), capture.truth.at("classes"));
  EXPECT_EQ(capture.report.at("fingerprints"), capture.truth.at("fingerprints"));

  NodeProcess node("CERT-Home");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  const std::string token = AddSensor(node, "tokyo-1");

  const Uploaded first = Upload(node, token, capture.path);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_GT(first.intervals, 0u);
  EXPECT_EQ(first.stored, 2 * first.intervals);  // a summary and a sources object each
  EXPECT_EQ(first.present, 0u);

  // What the upload answered is stored: the CLI reads the node's store.
  const json::value cli = TopCli(node);
  ExpectEqualsReport(cli, capture.report);
  EXPECT_EQ(Int(cli, "intervals"), static_cast<int64_t>(first.intervals));
  // The REST API serves the same view once the module has followed the change.
  json::value api;
  ASSERT_TRUE(Eventually([&] { return (api = TopApi(node)) == cli; }))
      << "API: " << Brief(api) << "\nCLI: " << Brief(cli) << node.ServerLog();
  auto sensors = SensorList(node);
  ASSERT_TRUE(sensors.contains("home/tokyo-1"));
  EXPECT_EQ(Int(sensors["home/tokyo-1"], "intervals"), static_cast<int64_t>(first.intervals));
  EXPECT_EQ(Int(sensors["home/tokyo-1"], "packets"), Int(capture.report, "packets"));

  // The same file again: the node has every interval, nothing counts twice.
  const Uploaded second = Upload(node, token, capture.path);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.intervals, first.intervals);
  EXPECT_EQ(second.stored, 0u);
  EXPECT_EQ(second.present, first.stored);
  EXPECT_TRUE(TopCli(node) == cli) << Brief(TopCli(node));
  EXPECT_TRUE(TopApi(node) == cli) << Brief(TopApi(node));

  // With geo data loaded, the sources by country and AS: every IPv4 source
  // placed (the fixture covers all of IPv4), IPv6 ones not; CLI and API agree.
  WriteFile(work.path() + "/asn.csv", "0.0.0.0,255.255.255.255,64500,Everywhere Net\n");
  WriteFile(work.path() + "/country.csv", "0.0.0.0,255.255.255.255,JP\n");
  const CommandResult loaded = RunKizuna(
      {"geo", "load", node.dir(), work.path() + "/asn.csv", work.path() + "/country.csv"});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  const json::value by_api = Api(node, "/api/v1/telescope/breakdown");
  ASSERT_TRUE(by_api.is_object());
  EXPECT_EQ(Int(by_api, "sources"), Int(capture.report, "sources"));
  const json::array& countries = by_api.at("countries").as_array();
  ASSERT_EQ(countries.size(), 1u);
  EXPECT_EQ(countries[0].at("country"), "JP");
  EXPECT_EQ(countries[0].at("sources").to_number<int64_t>() + Int(by_api, "unplaced"),
            Int(capture.report, "sources"));
  EXPECT_EQ(by_api.at("asns").at(0).at("as_name"), "Everywhere Net");
  const json::value by_cli = Cli({"telescope", "breakdown", node.dir(), "--json"});
  EXPECT_EQ(by_cli, by_api);
  const json::value telnet = Api(node, "/api/v1/telescope/breakdown?proto=tcp&port=23");
  ASSERT_TRUE(telnet.is_object());
  EXPECT_EQ(Int(telnet, "sources"), Ports(capture.report)["tcp/23"].second);
}

TEST(TelescopeE2e, UploadsAreSignedAndBoundToTheirSensor) {
  NodeProcess node("CERT-Home");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  const std::string token = AddSensor(node, "osaka-1");
  const std::string other_token = AddSensor(node, "osaka-2");
  const std::string member = node.AddUser("CERT-Home", "analyst");

  const int64_t start = 1795392000;  // 2026-11-23T00:00:00Z
  const std::string good =
      sensor::EncodeWire(OneSource("osaka-1", start, 0xC0000207, "192.0.2.7", 5));
  const std::string body = Batch({good});

  // No signature, a signature of another body, the other sensor's key: 401.
  for (const std::string& signature :
       {std::string(), Sign(Batch({good, good}), token), Sign(body, other_token),
        std::string("bm90IGEgc2lnbmF0dXJl")}) {
    http::Response r = PostIntervals(node, token, body, signature);
    EXPECT_EQ(r.status, 401) << signature << ": " << r.body;
    EXPECT_NE(r.body.find(sensor::kSensorSignatureHeader), std::string::npos) << r.body;
  }
  // The body changed after it was signed.
  {
    std::string changed = body;
    changed.replace(changed.find("\"packets\":5"), 11, "\"packets\":6");
    EXPECT_EQ(PostIntervals(node, token, changed, Sign(body, token)).status, 401);
  }
  // Signed right, but in another sensor's name: 403.
  {
    const std::string claimed =
        Batch({sensor::EncodeWire(OneSource("osaka-2", start, 0xC0000208, "192.0.2.8", 5))});
    http::Response r = PostIntervals(node, token, claimed, Sign(claimed, token));
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_NE(r.body.find("osaka-2"), std::string::npos) << r.body;
  }
  // A member's or the admin's key is no sensor's: 403, whatever it signs.
  EXPECT_EQ(PostIntervals(node, member, body, Sign(body, member)).status, 403);
  EXPECT_EQ(PostIntervals(node, node.admin_key(), body, Sign(body, token)).status, 403);
  // No key at all, or an unknown one: 401.
  EXPECT_EQ(PostIntervals(node, "", body, Sign(body, token)).status, 401);
  EXPECT_EQ(PostIntervals(node, "kz_0000000000000000_nope", body, Sign(body, token)).status, 401);

  // Malformed intervals, signed right: 400 saying what, and nothing of the
  // batch is stored (the good interval beside the bad one neither).
  json::object wire = sensor::WireObject(OneSource("osaka-1", start, 0xC0000207, "192.0.2.7", 5));
  auto malformed = [&](const std::function<void(json::object&)>& spoil) {
    json::object copy = wire;
    spoil(copy);
    return json::serialize(copy);
  };
  const std::vector<std::pair<std::string, std::string>> bad = {
      {malformed([](json::object& o) { o["sources"].as_object()["count"] = 2; }), "count"},
      {malformed([](json::object& o) { o["sources"].as_object()["v4"] = "%%not base64%%"; }), "v4"},
      {malformed([](json::object& o) { o["start"] = "2026-11-23T00:00:30Z"; }), "boundary"},
      {malformed([](json::object& o) { o["packets"] = 1; }), "more packets"},
      {malformed([](json::object& o) { o.erase("ports"); }), "ports"},
  };
  for (const auto& [interval, why] : bad) {
    const std::string batch = Batch({good, interval});
    http::Response r = PostIntervals(node, token, batch, Sign(batch, token));
    EXPECT_EQ(r.status, 400) << why << ": " << r.body;
    EXPECT_NE(r.body.find("intervals[1]"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(why), std::string::npos) << r.body;
  }
  for (const std::string& garbage : {std::string("{\"intervals\":"), std::string("[]")}) {
    http::Response r = PostIntervals(node, token, garbage, Sign(garbage, token));
    EXPECT_EQ(r.status, 400) << r.body;
  }

  // Nothing so far was stored: the good interval is new to the node now.
  http::Response accepted = PostIntervals(node, token, body, Sign(body, token));
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  const json::value answer = Parse(accepted.body);
  EXPECT_EQ(answer.at("objects_stored"), 2) << accepted.body;
  EXPECT_EQ(answer.at("objects_already_present"), 0) << accepted.body;
  const json::value top = TopCli(node);
  EXPECT_EQ(Int(top, "intervals"), 1) << top;
  EXPECT_EQ(Int(top, "packets"), 5) << top;
  ASSERT_EQ(top.at("top_sources").as_array().size(), 1u) << top;
  EXPECT_EQ(top.at("top_sources").at(0).at("address"), "192.0.2.7");
  EXPECT_EQ(top.at("top_sources").at(0).at("sensors"), json::array({"osaka-1"}));
  EXPECT_EQ(Int(SensorList(node)["home/osaka-2"], "intervals"), 0);

  // A sensor's key uploads and nothing else: no view, no collection.
  for (const char* view : {"/api/v1/telescope/top", "/api/v1/telescope/sensors",
                           "/api/v1/telescope/surges", "/api/v1/telescope/ports/tcp/23"}) {
    EXPECT_EQ(node.Request("GET", view, token).status, 403) << view;
    EXPECT_EQ(node.Request("GET", view, "").status, 401) << view;      // no key
    EXPECT_EQ(node.Request("GET", view, member).status, 200) << view;  // a member reads
  }
  const int taxii =
      node.Request("GET", "/taxii2/root/collections/telescope/objects/", token).status;
  EXPECT_TRUE(taxii == 403 || taxii == 404) << taxii;
}

TEST(TelescopeE2e, SpoolSurvivesRestartsOfSensorAndNode) {
  TempDir work;
  const std::string watch = work.path() + "/watch";
  const std::string spool = work.path() + "/spool";
  fs::create_directories(watch);
  const Capture first = Synth(work.path() + "/c1.pcap", 20000, 3600, 31);
  const Capture second = Synth(work.path() + "/c2.pcap", 20000, 3600, 32);
  const json::value both =
      Report(Concatenate(first.path, second.path, work.path() + "/union.pcap"));

  NodeProcess node("CERT-Home");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  node.PinPort();  // it comes back at the URL the sensor knows
  const std::string token = AddSensor(node, "kyoto-1");
  ASSERT_TRUE(node.Stop());

  const std::string config = work.path() + "/sensor.toml";
  WriteFile(config, "node = \"" + node.base_url() + "\"\ntoken = \"" + token +
                        "\"\nsensor = \"kyoto-1\"\nwatch = \"" + watch + "\"\nspool = \"" + spool +
                        "\"\nsettle_seconds = 0\n");
  auto spooled = [&] {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(spool)) {
      n += entry.path().filename().string().ends_with(".batch.json");
    }
    return n;
  };
  // Files arrive in the watched directory whole (as a rotating capture does).
  fs::rename(first.path, watch + "/c1.pcap");

  // The node is down: the sensor takes the file and keeps its batches.
  const Ran down = RunOnce(config);
  EXPECT_EQ(down.exit_code, 0) << down.out << down.err;
  EXPECT_EQ(down.files, 1u) << down.out << down.err;
  EXPECT_GT(down.intervals, 0u);
  EXPECT_EQ(down.sent, 0u);
  EXPECT_GT(down.waiting, 0u);
  EXPECT_EQ(spooled(), down.waiting);
  EXPECT_NE(ReadFile(spool + "/done").find("c1.pcap"), std::string::npos);
  EXPECT_EQ(Int(TopCli(node), "packets"), 0);

  // The node is back: the spool goes out, the file is not taken again.
  ASSERT_TRUE(node.Start(&error)) << error;
  const Ran back = RunOnce(config);
  EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
  EXPECT_EQ(back.files, 0u) << back.err;
  EXPECT_EQ(back.intervals, 0u) << back.err;
  EXPECT_EQ(back.sent, down.waiting) << back.err;
  EXPECT_EQ(back.waiting, 0u) << back.err;
  EXPECT_EQ(spooled(), 0u);
  ExpectEqualsReport(TopCli(node), first.report);

  // A capture that arrives later is taken on the next run.
  fs::rename(second.path, watch + "/c2.pcap");
  const Ran later = RunOnce(config);
  EXPECT_EQ(later.exit_code, 0) << later.out << later.err;
  EXPECT_EQ(later.files, 1u) << later.err;
  EXPECT_GT(later.sent, 0u) << later.err;
  EXPECT_EQ(later.waiting, 0u) << later.err;
  EXPECT_EQ(spooled(), 0u);

  // The node answered, so it has it: even a kill -9 right after loses nothing.
  node.Kill();
  ASSERT_TRUE(node.Start(&error)) << error;
  const json::value cli = TopCli(node);
  ExpectEqualsReport(cli, both);
  json::value api;
  ASSERT_TRUE(Eventually([&] { return (api = TopApi(node)) == cli; }))
      << "API: " << Brief(api) << "\nCLI: " << Brief(cli);

  // A run with nothing new sends nothing and counts nothing twice.
  const Ran again = RunOnce(config);
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(again.files + again.intervals + again.sent, 0u) << again.out << again.err;
  EXPECT_TRUE(TopCli(node) == cli) << Brief(TopCli(node));
}

// Whether `id` comes in an objects event of a collection's live stream,
// read from its start as the admin.
bool OnTheStream(NodeProcess& node, const std::string& collection, const std::string& id) {
  http::Client client;
  http::Headers headers;
  headers.Set("Authorization", "Bearer " + node.admin_key());
  headers.Set("Last-Event-ID", "0");
  http::SseParser parser;
  bool seen = false;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  auto head = client.Stream(
      "GET", node.Url("/api/v1/collections/" + collection + "/stream"), headers,
      [&](std::string_view bytes) {
        std::vector<http::SseEvent> events;
        if (!parser.Feed(bytes, &events).ok()) return false;
        for (const http::SseEvent& event : events) {
          seen = seen || (event.event == "objects" && event.data.find(id) != std::string::npos);
        }
        return !seen && std::chrono::steady_clock::now() < deadline;
      },
      20000);
  return head.ok() && head->status == 200 && seen;
}

TEST(TelescopeE2e, SurgeFoundAtTheOutbreakAndRecordedAsStix) {
  TempDir work;
  const int64_t outbreak_at_s = 2 * 3600;  // after the detector's first hour
  const Capture outbreak =
      Synth(work.path() + "/outbreak.pcap", 40000, 3 * 3600, 51, outbreak_at_s, 3000);
  const int64_t outbreak_us = outbreak.truth.at("outbreak_start_us").to_number<int64_t>();
  ASSERT_GT(outbreak_us, 0);
  // The outbreak's beginning lies past the end of this one's traffic.
  const Capture quiet = Synth(work.path() + "/quiet.pcap", 40000, 3 * 3600, 52, 10 * 3600, 3000);

  NodeProcess node("CERT-Home"), calm("CERT-Calm");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  ASSERT_TRUE(calm.Start(&error)) << error;
  ASSERT_EQ(Upload(node, AddSensor(node, "nagoya-1"), outbreak.path).exit_code, 0);
  ASSERT_EQ(Upload(calm, AddSensor(calm, "nagoya-2"), quiet.path).exit_code, 0);

  const json::value surges = Cli({"telescope", "surges", node.dir(), "--json"});
  const json::object* found = FindSurge(surges, "tcp", 23, "sources");
  ASSERT_NE(found, nullptr) << surges;
  const int64_t start_us = Micros(found->at("start"));
  EXPECT_LE(std::llabs(start_us - outbreak_us), 3 * 60 * 1000000LL)
      << found->at("start") << " against the outbreak at " << FormatTimestamp(outbreak_us);
  EXPECT_EQ(found->at("first_seen_by"), "home");
  EXPECT_GT(found->at("observed").to_number<double>(),
            2 * found->at("baseline").to_number<double>());
  json::value api;
  ASSERT_TRUE(Eventually([&] { return (api = Api(node, "/api/v1/telescope/surges")) == surges; }))
      << api << "\n"
      << surges;

  // No outbreak, no surge.
  EXPECT_EQ(Cli({"telescope", "surges", calm.dir(), "--json"}), json::value(json::array()));
  ASSERT_TRUE(
      Eventually([&] { return Int(TopApi(calm), "packets") == Int(quiet.report, "packets"); }));
  EXPECT_EQ(Api(calm, "/api/v1/telescope/surges"), json::value(json::array()));

  // The running node records each surge as STIX. Its job ran when the node
  // first started (nothing to find then) and runs again a minute later;
  // rather than wait that minute, the test stops the node, moves the job's
  // persisted last run two minutes back (as if the node had been down that
  // long: a job that fell due while the node was down runs at start,
  // platform/jobs.h) and starts it again.
  ASSERT_TRUE(node.Stop());
  {
    auto opened = node::Node::Open(node.dir());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    const int64_t earlier = SystemClock::Instance().NowMicros() - 120LL * 1000000;
    ASSERT_TRUE(
        (*opened)
            ->store()
            .SetMeta(platform::JobLastRunKey("telescope", "surges"), std::to_string(earlier))
            .ok());
  }
  ASSERT_TRUE(node.Start(&error)) << error;
  // The collection by its title, then its reports over TAXII.
  std::string collection;
  const json::value collections = Parse(node.Get("/taxii2/root/collections/").body);
  for (const json::value& c : collections.at("collections").as_array()) {
    if (c.at("title") == "Telescope") collection = std::string(c.at("id").as_string());
  }
  ASSERT_FALSE(collection.empty()) << collections;
  std::vector<json::object> reports;
  ASSERT_TRUE(
      Eventually([&] { return !(reports = Objects(node, collection, "report")).empty(); }, 30s))
      << node.ServerLog();
  const json::object* report = nullptr;
  for (const json::object& r : reports) {
    const json::object& facts = r.at("x_kizuna_surge").as_object();
    if (facts.at("port") == 23 && facts.at("proto") == "tcp" && facts.at("metric") == "sources") {
      report = &r;
    }
  }
  ASSERT_NE(report, nullptr) << json::value_from(reports);
  EXPECT_EQ(report->at("labels"), json::array({"telescope-surge"}));
  EXPECT_EQ(report->at("x_kizuna_surge").at("start"), found->at("start"));
  EXPECT_EQ(report->at("object_marking_refs"),
            json::array({json::string(stix::TlpMarkingId(stix::Tlp::kGreen))}));
  // Its evidence: the new sources, as observed-data under the sources' marking.
  const std::string evidence(report->at("object_refs").at(0).as_string());
  ASSERT_TRUE(evidence.starts_with("observed-data--")) << evidence;
  const json::object* observed = nullptr;
  const std::vector<json::object> all_observed = Objects(node, collection, "observed-data");
  for (const json::object& o : all_observed) {
    if (o.at("id") == evidence.c_str()) observed = &o;
  }
  ASSERT_NE(observed, nullptr) << evidence;
  EXPECT_EQ(observed->at("x_kizuna_observation"), "infected-host");
  EXPECT_GT(observed->at("number_observed").to_number<int64_t>(), 0);
  EXPECT_EQ(observed->at("object_marking_refs"),
            json::array({json::string(stix::TlpMarkingId(stix::Tlp::kAmber))}));
  // And the surge is an event on the collection's live stream.
  EXPECT_TRUE(OnTheStream(node, collection, std::string(report->at("id").as_string())));
}

// Two teams, each with a sensor, partners sharing their telescope
// collections at `tlp`; `a_outbreak_s`/`b_outbreak_s` into each capture.
struct Partners {
  TempDir work;
  NodeProcess a{"CERT-A"}, b{"CERT-B"};
  Capture at_a, at_b;
  json::value both;  // `sensor report` of both captures as one

  void SetUp(stix::Tlp tlp, int packets, int a_outbreak_s, int b_outbreak_s) {
    at_a = Synth(work.path() + "/a.pcap", packets, 3 * 3600, 61, a_outbreak_s);
    at_b = Synth(work.path() + "/b.pcap", packets, 3 * 3600, 62, b_outbreak_s);
    both = Report(Concatenate(at_a.path, at_b.path, work.path() + "/both.pcap"));
    std::string error;
    ASSERT_TRUE(a.Start(&error)) << error;
    ASSERT_TRUE(b.Start(&error)) << error;
    const auto tune = [tlp](node::PeerConfig& peer) {
      peer.max_tlp = tlp;
      peer.share = {"default", "telescope"};
    };
    // `share` filters what a partner may read; reading a collection other
    // than `default` also takes a grant for the partner's organization.
    // Granted first, the partners find the collection on their first sync.
    for (auto [node, partner] : {std::pair{&a, "cert-b"}, std::pair{&b, "cert-a"}}) {
      CommandResult granted =
          RunKizuna({"collection", "grant", node->dir(), "telescope", "--org", partner, "--read"});
      ASSERT_EQ(granted.exit_code, 0) << granted.err;
    }
    Federate(a, "cert-a", b, "cert-b", tune, tune);
    ASSERT_TRUE(a.WaitForConfig()) << a.ServerLog();
    ASSERT_TRUE(b.WaitForConfig()) << b.ServerLog();
    const Uploaded up_a = Upload(a, AddSensor(a, "sensor-a"), at_a.path);
    ASSERT_EQ(up_a.exit_code, 0) << up_a.err;
    const Uploaded up_b = Upload(b, AddSensor(b, "sensor-b"), at_b.path);
    ASSERT_EQ(up_b.exit_code, 0) << up_b.err;
    // A holds its partner's intervals once the packets add up.
    const int64_t sum = Int(at_a.report, "packets") + Int(at_b.report, "packets");
    ASSERT_TRUE(Eventually([&] { return Int(TopCli(a), "packets") == sum; }, 60s))
        << Brief(TopCli(a)) << a.ServerLog() << b.ServerLog();
    ASSERT_TRUE(Eventually([&] {
      const json::value top = TopApi(a);
      return top.is_object() && Int(top, "packets") == sum;
    })) << a.ServerLog();
  }
};

TEST(TelescopeE2e, GreenPartnerSharesCountsButNoAddresses) {
  Partners p;
  ASSERT_NO_FATAL_FAILURE(p.SetUp(stix::Tlp::kGreen, 20000, -1, -1));
  const json::value merged = TopCli(p.a);
  const json::value own = TopCli(p.a, {"--origin", "home"});
  ExpectEqualsReport(own, p.at_a.report);

  // Counts add up; distinct sources are the merged sketches' estimate of the
  // union, within three standard errors of the sketch (1.6 %, sensor/sketch.h)
  // of the true union: the estimate of one data set is off by up to about
  // twice the standard error once in twenty, so a 3 % bound would fail for
  // some seeds with nothing wrong.
  constexpr double kTolerance = 3 * 0.016;
  EXPECT_EQ(Int(merged, "packets"), Int(p.both, "packets"));
  EXPECT_EQ(merged.at("exact"), false);
  const double union_sources = static_cast<double>(Int(p.both, "sources"));
  EXPECT_NEAR(static_cast<double>(Int(merged, "sources")), union_sources,
              kTolerance * union_sources)
      << merged.at("sources") << " for a union of " << p.both.at("sources");
  const auto ports = Ports(merged), truth = Ports(p.both);
  EXPECT_EQ(ports.size(), std::min<size_t>(truth.size(), std::stoul(kAll)));
  for (const auto& [port, counts] : ports) {
    ASSERT_TRUE(truth.contains(port)) << port;
    EXPECT_EQ(counts.first, truth.at(port).first) << port;  // packets: exact
  }
  ASSERT_TRUE(ports.contains("tcp/23"));
  for (const json::value& port : merged.at("ports").as_array()) {
    if (port.at("proto") == "tcp" && port.at("port") == 23) {
      EXPECT_EQ(port.at("exact"), false);
    }
  }
  const double telnet = static_cast<double>(truth.at("tcp/23").second);
  EXPECT_NEAR(static_cast<double>(ports.at("tcp/23").second), telnet, kTolerance * telnet);

  // B's sensor is listed under B's name, without its addresses.
  auto sensors = SensorList(p.a);
  ASSERT_TRUE(sensors.contains("cert-b/sensor-b")) << json::value_from(sensors);
  EXPECT_EQ(sensors["cert-b/sensor-b"].at("exact"), false);
  EXPECT_EQ(sensors["cert-b/sensor-b"].at("account"), false);
  EXPECT_EQ(Int(sensors["cert-b/sensor-b"], "packets"), Int(p.at_b.report, "packets"));
  EXPECT_EQ(sensors["home/sensor-a"].at("exact"), true);

  // No address of B's reaches A: A's busiest sources are its own, and no
  // answer of A names an address that only B saw.
  EXPECT_TRUE(merged.at("top_sources") == own.at("top_sources"));
  for (const json::value& s : merged.at("top_sources").as_array()) {
    EXPECT_EQ(s.at("sensors"), json::array({"sensor-a"})) << s;
  }
  std::set<std::string> only_b;
  const json::value at_b = TopCli(p.b, {"--origin", "home"});
  ASSERT_FALSE(at_b.at("top_sources").as_array().empty());
  const std::string own_text = json::serialize(own);
  for (const json::value& s : at_b.at("top_sources").as_array()) {
    const std::string address(s.at("address").as_string());
    if (own_text.find("\"" + address + "\"") == std::string::npos) only_b.insert(address);
  }
  ASSERT_FALSE(only_b.empty());
  std::string answers = json::serialize(merged) + json::serialize(TopApi(p.a)) +
                        p.a.Get("/api/v1/telescope/sensors").body +
                        p.a.Get("/api/v1/telescope/surges").body +
                        p.a.Get("/api/v1/telescope/ports/tcp/23").body +
                        json::serialize(json::value_from(SensorList(p.a)));
  // Everything A holds from B, as stored.
  const std::vector<json::object> from_b = Objects(p.a, "default", "x-kizuna-telescope-summary");
  EXPECT_EQ(from_b.size(), static_cast<size_t>(Int(sensors["cert-b/sensor-b"], "intervals")));
  for (const json::object& o : from_b) answers += json::serialize(o);
  EXPECT_TRUE(Objects(p.a, "default", "x-kizuna-telescope-sources").empty());
  for (const std::string& address : only_b) {
    EXPECT_EQ(answers.find(address), std::string::npos) << address << " of B's reached A";
  }
}

TEST(TelescopeE2e, AmberPartnerSharesExactSetsAndAddresses) {
  Partners p;
  // B's outbreak starts half an hour before A's.
  ASSERT_NO_FATAL_FAILURE(p.SetUp(stix::Tlp::kAmber, 30000, 2 * 3600, 3 * 3600 / 2));
  const json::value merged = TopCli(p.a);
  // The exact sets travel: the union is exact, as if one sensor saw both.
  ExpectEqualsReport(merged, p.both);
  auto sensors = SensorList(p.a);
  ASSERT_TRUE(sensors.contains("cert-b/sensor-b")) << json::value_from(sensors);
  EXPECT_EQ(sensors["cert-b/sensor-b"].at("exact"), true);

  // B's busiest source is among A's, credited to B's sensor.
  const json::value at_b = TopCli(p.b, {"--origin", "home"});
  const json::value& busiest = at_b.at("top_sources").at(0);
  const json::object* listed = nullptr;
  for (const json::value& s : merged.at("top_sources").as_array()) {
    if (s.at("address") == busiest.at("address")) listed = &s.as_object();
  }
  ASSERT_NE(listed, nullptr) << busiest << " not among A's busiest sources";
  bool credited = false;
  for (const json::value& name : listed->at("sensors").as_array()) {
    credited = credited || name == "cert-b/sensor-b";
  }
  EXPECT_TRUE(credited) << *listed;
  EXPECT_GE(Int(*listed, "packets"), Int(busiest, "packets"));

  // Both saw an outbreak on 23/tcp; B's began first, and A's surges say so.
  const json::value surges = Cli({"telescope", "surges", p.a.dir(), "--json"});
  const json::object* found = FindSurge(surges, "tcp", 23, "sources");
  ASSERT_NE(found, nullptr) << surges;
  EXPECT_EQ(found->at("first_seen_by"), "cert-b") << surges;
  const int64_t b_outbreak_us = p.at_b.truth.at("outbreak_start_us").to_number<int64_t>();
  EXPECT_LE(std::llabs(Micros(found->at("start")) - b_outbreak_us), 3 * 60 * 1000000LL)
      << found->at("start") << " against B's outbreak at " << FormatTimestamp(b_outbreak_us);
}

}  // namespace
}  // namespace kizuna::e2e
