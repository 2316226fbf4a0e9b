// A node configured through kizuna.toml: TLS, and the request limits.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "node/config.h"
#include "tests/support/eventually.h"

#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

void ReplaceInConfig(const NodeProcess& node, const std::string& from, const std::string& to) {
  std::string path = node.dir() + "/kizuna.toml";
  std::string config = ReadFile(path);
  size_t at = config.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  config.replace(at, from.size(), to);
  WriteFile(path, config);
}

// An envelope of `n` indicators.
std::string EnvelopeOfIndicators(int n) {
  std::string out = R"({"objects":[)";
  char id[64];
  for (int i = 0; i < n; ++i) {
    std::snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", i);
    out +=
        std::string(i ? "," : "") + R"({"type":"indicator","spec_version":"2.1","id":")" + id +
        R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
  }
  return out + "]}";
}

TEST(NodeConfig, LimitsComeFromTheConfig) {
  NodeProcess node("CERT-Limits");
  ReplaceInConfig(node, "max_body_bytes = 67108864", "max_body_bytes = 4096");
  ReplaceInConfig(node, "max_objects_per_request = 10000", "max_objects_per_request = 5");
  ReplaceInConfig(node, "max_page_size = 1000", "max_page_size = 3");
  ReplaceInConfig(node, "default_page_size = 1000", "default_page_size = 2");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  const std::string objects = "/taxii2/root/collections/default/objects/";
  auto r = node.Get("/taxii2/root/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(boost::json::parse(r.body).at("max_content_length").to_number<int>(), 4096);
  r = node.Post(objects, EnvelopeOfIndicators(40));  // > 4096 bytes
  EXPECT_EQ(r.status, 413) << r.body;
  r = node.Post(objects, EnvelopeOfIndicators(6));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("limit is 5"), std::string::npos) << r.body;
  r = node.Post(objects, EnvelopeOfIndicators(5));
  ASSERT_EQ(r.status, 202) << r.body;
  auto count = [&](const std::string& query) {
    auto response = node.Get(objects + query);
    return boost::json::parse(response.body).at("objects").as_array().size();
  };
  EXPECT_EQ(count(""), 2u);            // default page size
  EXPECT_EQ(count("?limit=100"), 3u);  // capped at max_page_size
  EXPECT_EQ(count("?limit=1"), 1u);
}

TEST(NodeConfig, ServesHttpsWithTheConfiguredCertificate) {
  NodeProcess node("CERT-TLS");
  const std::string cert = node.dir() + "/cert.pem", key = node.dir() + "/key.pem";
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
      "/CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      key + " -out " + cert + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a test certificate";
  ReplaceInConfig(node, "tls_cert = \"\"", "tls_cert = \"cert.pem\"");
  ReplaceInConfig(node, "tls_key = \"\"", "tls_key = \"key.pem\"");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  ASSERT_EQ(node.base_url().rfind("https://", 0), 0u) << node.base_url();

  http::Headers headers;
  headers.Set("Authorization", "Bearer " + node.admin_key());
  http::ClientOptions trusted;
  trusted.ca_file = cert;
  http::Client client(trusted);
  auto r = client.Send("GET", node.Url("/taxii2/"), headers);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("https://"), std::string::npos) << "discovery names the https URL";

  http::Client untrusting;  // system trust store: a self-signed certificate is refused
  EXPECT_FALSE(untrusting.Send("GET", node.Url("/taxii2/"), headers).ok());
  http::Client plain;
  std::string http_url = "http://" + node.base_url().substr(8) + "/taxii2/";
  auto plain_response = plain.Send("GET", http_url, headers);
  EXPECT_TRUE(!plain_response.ok() || plain_response->status >= 400);
}

TEST(NodeConfig, MissingCertificateIsOneClearLine) {
  NodeProcess node("CERT-NoCert");
  ReplaceInConfig(node, "tls_cert = \"\"", "tls_cert = \"missing.pem\"");
  ReplaceInConfig(node, "tls_key = \"\"", "tls_key = \"missing-key.pem\"");
  auto r = RunKizuna({"serve", node.dir()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
}

// A capability module reads its own section of kizuna.toml; a bad value, a
// misspelt key or a section no module is named after stops the node with
// one line naming the key, and every CLI command refuses the config too.
TEST(NodeConfig, BadModuleSectionIsOneClearLine) {
  NodeProcess node("CERT-Sections");
  const std::string path = node.dir() + "/kizuna.toml";
  const std::string good = ReadFile(path);
  struct Case {
    std::string section;
    std::string expected;
  } cases[] = {
      {"[matching]\nbogus = 1\n", "kizuna.toml: matching.bogus: unknown key"},
      {"[matchng]\n",
       "kizuna.toml: [matchng]: unknown section (the node's modules are: alerts, console, "
       "coordination, core, geo, interop, matching, peers, taxii, telescope)"},
      {"[coordination]\ndirectory_tlp = \"red\"\n", "kizuna.toml: coordination.directory_tlp:"},
      {"[coordination]\nstale_after_days = 0\n", "kizuna.toml: coordination.stale_after_days:"},
      {"[alerts]\ningest_tlp = \"purple\"\n", "kizuna.toml: alerts.ingest_tlp:"},
      {"[alerts]\nsmtp_url = \"smtp://mail.example.org\"\n", "kizuna.toml: alerts.smtp_from:"},
      {"[telescope]\nsummary_tlp = \"purple\"\n", "kizuna.toml: telescope.summary_tlp:"},
      {"[console]\nsession_idle_minutes = 0\n", "kizuna.toml: console.session_idle_minutes:"},
      {"[[telescope.sensor]]\nname = \"bad name\"\n", "kizuna.toml: telescope.sensor[0].name:"},
  };
  for (const Case& c : cases) {
    WriteFile(path, good + "\n" + c.section);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"serve", node.dir()}, {"user", "list", node.dir()}}) {
      auto r = RunKizuna(args, "", std::chrono::seconds(30));
      EXPECT_FALSE(r.timed_out) << args[0];
      EXPECT_NE(r.exit_code, 0) << args[0];
      EXPECT_NE(r.err.find(c.expected), std::string::npos) << args[0] << ": " << r.err;
      std::string err = r.err;
      while (!err.empty() && err.back() == '\n') err.pop_back();
      EXPECT_EQ(err.find('\n'), std::string::npos) << "one line: " << r.err;
    }
  }
  WriteFile(path, good);
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
}

// A running node keeps its config when the edited file has a bad module
// section, and applies the file once it is fixed.
TEST(NodeConfig, RunningNodeRefusesABadModuleSection) {
  NodeProcess node("CERT-Reload");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  const std::string path = node.dir() + "/kizuna.toml";
  const std::string good = ReadFile(path);
  WriteFile(path, good + "\n[telescop]\nsensors = 3\n");
  ASSERT_TRUE(test_support::Eventually([&] {
    return node.ServerLog().find("[telescop]: unknown section") != std::string::npos;
  })) << node.ServerLog();
  auto r = node.Get("/api/v1/node");
  ASSERT_EQ(r.status, 200);
  const auto config = boost::json::parse(r.body).at("config");
  EXPECT_NE(config.at("digest").as_string(), node::ConfigDigest(ReadFile(path)));
  EXPECT_EQ(config.at("generation").to_number<int>(), 1);
  WriteFile(path, good + "\n# fixed\n");
  EXPECT_TRUE(node.WaitForConfig());
}

}  // namespace
}  // namespace kizuna::e2e
