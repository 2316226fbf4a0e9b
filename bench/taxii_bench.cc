// taxii_bench: TAXII 2.1 throughput and latency, kizuna beside a peer server.
//
// Cases (one sequential client, the same generated indicators for both):
//   ingest   POST envelopes of --batch indicators until --objects are added (objects/s)
//   paging   GET the collection in pages of --page objects, following `next` (objects/s)
//   get      --gets single-object GETs by id, random ids (p50, p99 latency)
//
// Without --kizuna-url it creates a fresh node in a temp dir and starts
// `kizuna serve` itself. With --peer-url (e.g. medallion's API root
// collection URL) it runs the same cases against that server and prints the
// ratio kizuna/peer.
//
//   taxii_bench --objects 10000
//     --peer-url http://127.0.0.1:5000/api1/collections/ID/ --peer-user u --peer-password p
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/uuid.h"
#include "http/http.h"
#include "tests/e2e/harness.h"

namespace {

using kizuna::http::Client;
using kizuna::http::Headers;
using Clock = std::chrono::steady_clock;

struct Target {
  std::string name;
  std::string collection_url;  // ends in '/'
  std::string authorization;
  bool paging_by_next = true;
};

struct Figures {
  double ingest_per_s = 0;
  double paging_per_s = 0;
  double get_p50_ms = 0;
  double get_p99_ms = 0;
  size_t paged = 0;
};

std::string Indicator(const std::string& id, int n) {
  char ip[32];
  std::snprintf(ip, sizeof ip, "%d.%d.%d.%d", 1 + n % 223, (n >> 8) & 255, (n >> 16) & 255,
                n & 255);
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + id +
         R"(","created":"2024-03-01T10:00:00.000Z","modified":"2024-03-01T10:00:00.000Z","name":"C2 server )" +
         ip +
         R"(","description":"Command and control server observed by darknet sensors","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = ')" +
         ip +
         R"(']","pattern_type":"stix","valid_from":"2024-03-01T10:00:00Z","labels":["botnet","mirai"],"confidence":80,"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]})";
}

Headers BaseHeaders(const Target& t) {
  Headers h;
  h.Set("Accept", "application/taxii+json;version=2.1");
  h.Set("Authorization", t.authorization);
  return h;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

bool Run(const Target& target, const std::vector<std::string>& ids, size_t batch, size_t page,
         size_t gets, Figures* out) {
  kizuna::http::ClientOptions client_options;
  client_options.timeout_ms = 3600 * 1000;  // medallion takes minutes per page
  Client client(client_options);
  Headers post_headers = BaseHeaders(target);
  post_headers.Set("Content-Type", "application/taxii+json;version=2.1");
  // One authenticated request first: a key's Argon2id verification happens
  // once per server process, not per object, and is not what ingest measures.
  auto warm = client.Send("GET", target.collection_url, BaseHeaders(target));
  if (!warm.ok() || warm->status != 200) {
    std::fprintf(stderr, "%s: cannot read the collection: %s\n", target.name.c_str(),
                 warm.ok() ? warm->body.substr(0, 300).c_str() : warm.status().message().c_str());
    return false;
  }
  // ingest
  auto start = Clock::now();
  for (size_t i = 0; i < ids.size(); i += batch) {
    std::string body = R"({"objects":[)";
    for (size_t j = i; j < std::min(ids.size(), i + batch); ++j) {
      if (j > i) body += ',';
      body += Indicator(ids[j], static_cast<int>(j));
    }
    body += "]}";
    auto r = client.Send("POST", target.collection_url + "objects/", post_headers, body);
    if (!r.ok() || r->status != 202) {
      std::fprintf(stderr, "%s: POST failed: %s\n", target.name.c_str(),
                   r.ok() ? r->body.substr(0, 300).c_str() : r.status().message().c_str());
      return false;
    }
    std::fprintf(stderr, "\r%s ingest: %zu/%zu", target.name.c_str(),
                 std::min(ids.size(), i + batch), ids.size());
  }
  out->ingest_per_s = ids.size() / Seconds(Clock::now() - start);
  std::fprintf(stderr, "\n");
  // paging
  Headers get_headers = BaseHeaders(target);
  start = Clock::now();
  std::string next;
  size_t seen = 0;
  std::string added_after;
  while (true) {
    std::string url = target.collection_url + "objects/?limit=" + std::to_string(page);
    if (!next.empty()) url += "&next=" + next;
    auto r = client.Send("GET", url, get_headers);
    if (!r.ok() || r->status != 200) {
      std::fprintf(stderr, "%s: GET failed: %s\n", target.name.c_str(),
                   r.ok() ? r->body.substr(0, 300).c_str() : r.status().message().c_str());
      return false;
    }
    boost::json::value v = boost::json::parse(r->body);
    const auto& o = v.as_object();
    size_t n = o.contains("objects") ? o.at("objects").as_array().size() : 0;
    seen += n;
    std::fprintf(stderr, "\r%s paging: %zu", target.name.c_str(), seen);
    if (!o.contains("more") || !o.at("more").as_bool() || n == 0) break;
    if (!o.contains("next")) break;
    next = std::string(o.at("next").as_string());
  }
  out->paged = seen;
  out->paging_per_s = seen / Seconds(Clock::now() - start);
  std::fprintf(stderr, "\n");
  // single GETs
  std::mt19937 rng(42);
  std::vector<double> ms;
  for (size_t i = 0; i < gets; ++i) {
    const std::string& id = ids[rng() % ids.size()];
    auto t0 = Clock::now();
    auto r = client.Send("GET", target.collection_url + "objects/" + id + "/", get_headers);
    ms.push_back(Seconds(Clock::now() - t0) * 1000);
    if (!r.ok() || r->status != 200) {
      std::fprintf(stderr, "%s: GET object failed\n", target.name.c_str());
      return false;
    }
  }
  std::sort(ms.begin(), ms.end());
  out->get_p50_ms = ms[ms.size() / 2];
  out->get_p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  return true;
}

std::string Arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t objects = std::stoul(Arg(argc, argv, "--objects", "10000"));
  const size_t batch = std::stoul(Arg(argc, argv, "--batch", "1000"));
  const size_t page = std::stoul(Arg(argc, argv, "--page", "1000"));
  const size_t gets = std::stoul(Arg(argc, argv, "--gets", "1000"));
  std::vector<std::string> ids;
  for (size_t i = 0; i < objects; ++i) ids.push_back("indicator--" + kizuna::NewUuid4());

  std::unique_ptr<kizuna::e2e::NodeProcess> node;
  Target kizuna_target{"kizuna", Arg(argc, argv, "--kizuna-url", ""), "", true};
  if (kizuna_target.collection_url.empty()) {
    node = std::make_unique<kizuna::e2e::NodeProcess>("CERT-Bench");
    std::string error;
    if (!node->Start(&error)) {
      std::fprintf(stderr, "cannot start kizuna: %s\n", error.c_str());
      return 1;
    }
    kizuna_target.collection_url = node->Url("/taxii2/root/collections/default/");
    kizuna_target.authorization = "Bearer " + node->admin_key();
  } else {
    kizuna_target.authorization = "Bearer " + Arg(argc, argv, "--kizuna-key", "");
  }
  std::printf("taxii_bench: %zu indicators, POST batches of %zu, pages of %zu, %zu single GETs\n",
              objects, batch, page, gets);
  Figures k;
  if (!Run(kizuna_target, ids, batch, page, gets, &k)) return 1;
  std::printf(
      "%-10s ingest %10.0f objects/s   paging %10.0f objects/s   GET p50 %8.3f ms  p99 %8.3f ms\n",
      "kizuna", k.ingest_per_s, k.paging_per_s, k.get_p50_ms, k.get_p99_ms);
  std::string peer_url = Arg(argc, argv, "--peer-url", "");
  if (!peer_url.empty()) {
    Target peer{Arg(argc, argv, "--peer-name", "medallion"), peer_url,
                "Basic " + kizuna::Base64Encode(Arg(argc, argv, "--peer-user", "") + ":" +
                                                Arg(argc, argv, "--peer-password", "")),
                true};
    std::vector<std::string> peer_ids;
    for (size_t i = 0; i < objects; ++i) peer_ids.push_back("indicator--" + kizuna::NewUuid4());
    Figures p;
    if (!Run(peer, peer_ids, batch, page, gets, &p)) return 1;
    std::printf(
        "%-10s ingest %10.0f objects/s   paging %10.0f objects/s   GET p50 %8.3f ms  p99 %8.3f "
        "ms\n",
        peer.name.c_str(), p.ingest_per_s, p.paging_per_s, p.get_p50_ms, p.get_p99_ms);
    std::printf("%-10s ingest %9.1fx   paging %9.1fx   GET p50 %9.1fx faster\n", "ratio",
                k.ingest_per_s / p.ingest_per_s, k.paging_per_s / p.paging_per_s,
                p.get_p50_ms / k.get_p50_ms);
  }
  std::printf("targets: ingest >= 20000 objects/s, paging >= 50000 objects/s, GET p50 < 1 ms\n");
  return 0;
}
