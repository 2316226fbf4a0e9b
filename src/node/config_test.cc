#include "node/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/encoding.h"
#include "node/config_section.h"

namespace kizuna::node {
namespace {

TEST(Config, DefaultTextParsesToTheDefaults) {
  auto config = ParseConfig(DefaultConfigText("CERT-X", "127.0.0.1", 9000), "kizuna.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->name, "CERT-X");
  EXPECT_EQ(config->server.host, "127.0.0.1");
  EXPECT_EQ(config->server.port, 9000);
  NodeConfig defaults;
  EXPECT_EQ(config->limits.max_body_bytes, defaults.limits.max_body_bytes);
  EXPECT_EQ(config->limits.max_page_size, defaults.limits.max_page_size);
  EXPECT_EQ(config->limits.worker_threads, defaults.limits.worker_threads);
  EXPECT_EQ(config->limits.worker_queue, defaults.limits.worker_queue);
  EXPECT_EQ(config->limits.import_threads, 1);
  EXPECT_EQ(config->limits.import_queue, 32);
  EXPECT_EQ(config->store.synchronous, "FULL");
  EXPECT_EQ(config->sharing.default_tlp, stix::Tlp::kAmber);
  EXPECT_EQ(config->taxii.api_root, "root");
}

TEST(Config, ImportLaneIsSizedApartFromTheWorkLane) {
  auto config = ParseConfig(
      "[limits]\nworker_threads = 1\nworker_queue = 2\nimport_threads = 4\nimport_queue = 0\n",
      "kizuna.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->limits.worker_threads, 1);
  EXPECT_EQ(config->limits.worker_queue, 2);
  EXPECT_EQ(config->limits.import_threads, 4);
  EXPECT_EQ(config->limits.import_queue, 0) << "0: an import waits for no other";
}

TEST(Config, IPv6Listen) {
  auto config = ParseConfig(DefaultConfigText("x", "::1", 8443), "k");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server.host, "::1");
  EXPECT_TRUE(IsLoopbackHost(config->server.host));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
}

TEST(Config, ErrorsNameTheKey) {
  struct Case {
    const char* toml;
    const char* expected;
  } cases[] = {
      {"[server]\nlisten = \"nohost\"\n", "server.listen"},
      {"[server]\nthreads = \"four\"\n", "server.threads"},
      {"[server]\nthreads = 0\n", "server.threads"},
      {"[server]\nlisen = \"127.0.0.1:1\"\n", "server.lisen: unknown key"},
      {"[limits]\nmax_page_size = -5\n", "limits.max_page_size"},
      {"[limits]\nmax_page_size = 10\ndefault_page_size = 20\n", "limits.default_page_size"},
      {"[limits]\nworker_threads = 0\n", "limits.worker_threads"},
      {"[limits]\nimport_threads = 0\n", "limits.import_threads"},
      {"[limits]\nimport_threads = 257\n", "limits.import_threads"},
      {"[limits]\nimport_queue = -1\n", "limits.import_queue"},
      {"[limits]\nimport_queue = 100001\n", "limits.import_queue"},
      {"[limits]\nimport_queu = 4\n", "limits.import_queu: unknown key"},
      {"[store]\nbackend = \"oracle\"\n", "store.backend"},
      {"[sharing]\ndefault_tlp = \"purple\"\n", "sharing.default_tlp"},
      {"[taxii]\napi_root = \"a/b\"\n", "taxii.api_root"},
      {"[server]\ntls_cert = \"c.pem\"\n", "tls_key"},
      {"[log]\nlevel = \"loud\"\n", "log.level"},
      {"server = 5\n", "server"},
      {"nonsense = 1\n", "nonsense: unknown key"},
      {"[[nonsense]]\nx = 1\n", "nonsense: unknown key"},
      {"[server\n", "kizuna.toml:"},
      // Found by config_fuzzer: toml++ quotes the bad bytes, newline included.
      {"allow_plain_http = fals\nx = 1\n", "kizuna.toml:1:"},
      {"[server]\nlis\x01ten = 1\n", "kizuna.toml:"},
      // Found by config_fuzzer: a float far past int64 where an integer belongs
      // (toml++'s conversion of it is undefined behaviour; UBSan stops there).
      {"[limits]\nmax_page_size = 2.22222e+101\n", "limits.max_page_size: expected an integer"},
      {"[server]\nthreads = 4.0\n", "server.threads: expected an integer"},
  };
  for (const auto& c : cases) {
    auto config = ParseConfig(c.toml, "kizuna.toml");
    ASSERT_FALSE(config.ok()) << c.toml;
    EXPECT_NE(config.status().message().find(c.expected), std::string::npos)
        << c.toml << " -> " << config.status().message();
    EXPECT_EQ(config.status().message().find('\n'), std::string::npos) << "one line";
  }
}

TEST(Config, OtherTablesAreKeptForTheirModules) {
  auto config = ParseConfig(
      "name = \"x\"\n[telescope]\ninterval = 60\n[[telescope.sensor]]\nname = \"tokyo\"\n"
      "[alerts]\n",
      "kizuna.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->sections.size(), 2u);
  auto telescope = ConfigSection::Parse("telescope", config->sections.at("telescope"));
  ASSERT_TRUE(telescope.ok()) << telescope.status().ToString();
  EXPECT_TRUE(telescope->present());
  int interval = 0;
  telescope->Integer("interval", &interval, 1, 3600);
  std::vector<ConfigSection> sensors = telescope->Tables("sensor");
  ASSERT_EQ(sensors.size(), 1u);
  std::string name;
  sensors[0].String("name", &name);
  EXPECT_EQ(interval, 60);
  EXPECT_EQ(name, "tokyo");
  telescope->RejectUnknown();
  EXPECT_TRUE(telescope->status().ok()) << telescope->status().ToString();
  auto alerts = ConfigSection::Parse("alerts", config->sections.at("alerts"));
  ASSERT_TRUE(alerts.ok());
  EXPECT_TRUE(alerts->present());
  EXPECT_FALSE(ConfigSection("absent").present());
}

const std::string kKey = Base64Encode(std::string(32, 'k'));

std::string PeerBlock(const std::string& name, const std::string& extra = "") {
  return "[[peer]]\nname = \"" + name + "\"\nurl = \"http://127.0.0.1:9001/\"\n" +
         "token = \"kz_0123456789abcdef_secret\"\npublic_key = \"" + kKey + "\"\n" + extra;
}

TEST(Config, PeersAndSharingGroups) {
  std::string toml =
      "[sharing]\nexternal_max_tlp = \"amber\"\n"
      "[[sharing.group]]\nname = \"asean\"\nmembers = [\"cert-b\"]\n" +
      PeerBlock("cert-b",
                "max_tlp = \"amber+strict\"\npull = [\"feed\"]\n"
                "push = \"always\"\nreshare = true\norg = \"B\"\n") +
      PeerBlock("cert-c");
  auto config = ParseConfig(toml, "k");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->peers.size(), 2u);
  const PeerConfig& b = config->peers[0];
  EXPECT_EQ(b.url, "http://127.0.0.1:9001") << "the trailing slash is dropped";
  EXPECT_EQ(b.max_tlp, stix::Tlp::kAmberStrict);
  EXPECT_EQ(b.pull, std::vector<std::string>{"feed"});
  EXPECT_EQ(b.push, PushMode::kAlways);
  EXPECT_TRUE(b.reshare);
  EXPECT_EQ(b.org, "B");
  const PeerConfig& c = config->peers[1];
  EXPECT_EQ(c.org, "cert-c") << "org defaults to the peer's name";
  EXPECT_EQ(c.max_tlp, stix::Tlp::kAmber);
  EXPECT_EQ(c.push, PushMode::kAuto);
  EXPECT_EQ(c.share, std::vector<std::string>{"default"});
  EXPECT_EQ(c.into, "default");
  EXPECT_EQ(config->sharing.external_max_tlp, stix::Tlp::kAmber);
  ASSERT_EQ(config->sharing.groups.size(), 1u);
  EXPECT_EQ(config->sharing.groups[0].members, std::vector<std::string>{"cert-b"});
}

TEST(Config, AnUnsignedPartnerIsSaidSo) {
  auto config = ParseConfig(
      "[[peer]]\nname = \"medallion\"\nurl = \"http://x\"\ntoken = \"u:p\"\nunsigned = true\n",
      "k");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->peers[0].unsigned_partner);
  EXPECT_TRUE(config->peers[0].public_key.empty());
}

TEST(Config, AMispInstanceIsAPeerWithoutAKey) {
  const std::string toml =
      "[[peer]]\nname = \"circl\"\nkind = \"misp\"\nurl = \"https://misp.example/\"\n"
      "token = \"0123456789abcdef\"\n";
  auto config = ParseConfig(toml, "k");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->peers[0].kind, PeerKind::kMisp);
  EXPECT_EQ(config->peers[0].url, "https://misp.example");
  // Written back by `kizuna peer add`, it reads the same.
  const std::string path = testing::TempDir() + "/misp-kizuna.toml";
  std::ofstream(path) << "name = \"cert-a\"\n";
  ASSERT_TRUE(AddPeerToConfigFile(path, config->peers[0]).ok());
  auto reread = LoadConfig(path);
  ASSERT_TRUE(reread.ok()) << reread.status().ToString();
  EXPECT_EQ(reread->peers[0].kind, PeerKind::kMisp);
  EXPECT_TRUE(reread->peers[0].public_key.empty());
  // Nothing else is a kind, and MISP signs nothing.
  auto bad = ParseConfig(toml + "public_key = \"" + std::string(44, 'A') + "\"\n", "k");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("peer[0].public_key: a MISP instance has no signing key"),
            std::string::npos)
      << bad.status().message();
  bad = ParseConfig(PeerBlock("b", "kind = \"opencti\"\n"), "k");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("peer[0].kind: must be taxii or misp"), std::string::npos)
      << bad.status().message();
}

TEST(Config, PeerErrorsNameTheKey) {
  struct Case {
    std::string toml;
    const char* expected;
  } cases[] = {
      {PeerBlock("b", "max_tlp = \"red\"\n"), "peer[0].max_tlp"},
      {PeerBlock("b", "colour = 1\n"), "peer[0].colour: unknown key"},
      {PeerBlock("b") + PeerBlock("b"), "peer[1].name: 'b' is defined twice"},
      {PeerBlock("b/c"), "peer[0].name"},
      {PeerBlock("b", "push = \"sometimes\"\n"), "peer[0].push"},
      {PeerBlock("b", "pinned_cert_sha256 = \"abc\"\n"), "peer[0].pinned_cert_sha256"},
      {"[[peer]]\nname = \"b\"\nurl = \"ftp://x\"\ntoken = \"t\"\n", "peer[0].url"},
      {"[[peer]]\nname = \"b\"\nurl = \"http://x\"\n", "peer[0].token"},
      {"[[peer]]\nname = \"b\"\nurl = \"http://x\"\ntoken = \"t\"\npublic_key = \"abc\"\n",
       "peer[0].public_key"},
      {"[[peer]]\nname = \"b\"\nurl = \"http://x\"\ntoken = \"t\"\n",
       "peer[0].public_key: the partner's Ed25519 key is required"},
      {PeerBlock("b", "unsigned = true\n"), "peer[0].unsigned: a partner with a public_key signs"},
      {"peer = 3\n", "peer: expected [[peer]] tables"},
      {"[[sharing.group]]\nname = \"g\"\nmembers = [\"nobody\"]\n",
       "sharing.group[0].members: 'nobody' is not a peer"},
      {"[sharing]\nexternal_max_tlp = \"red\"\n", "sharing.external_max_tlp"},
      {"name = \"cert-b\"\n" + PeerBlock("cert-b"), "peer[0].org: 'cert-b' is this node's own"},
  };
  for (const auto& c : cases) {
    auto config = ParseConfig(c.toml, "kizuna.toml");
    ASSERT_FALSE(config.ok()) << c.toml;
    EXPECT_NE(config.status().message().find(c.expected), std::string::npos)
        << c.toml << " -> " << config.status().message();
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(Config, AddAndRemovePeersInTheFile) {
  std::string path = testing::TempDir() + "/peers-kizuna.toml";
  {
    std::ofstream out(path);
    out << DefaultConfigText("CERT-A", "127.0.0.1", 9000);
  }
  PeerConfig b;
  b.name = "cert-b";
  b.url = "http://127.0.0.1:9002";
  b.token = "kz_0123456789abcdef_with\"quote";
  b.public_key = kKey;
  b.max_tlp = stix::Tlp::kGreen;
  PeerConfig c = b;
  c.name = "cert-c";
  c.reshare = true;
  ASSERT_TRUE(AddPeerToConfigFile(path, b).ok());
  ASSERT_TRUE(AddPeerToConfigFile(path, c).ok());
  auto duplicate = AddPeerToConfigFile(path, b);
  EXPECT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.message().find("defined twice"), std::string::npos);

  auto config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->peers.size(), 2u);
  EXPECT_EQ(config->peers[0].token, b.token) << "strings are escaped";
  EXPECT_EQ(config->peers[0].max_tlp, stix::Tlp::kGreen);
  EXPECT_TRUE(config->peers[1].reshare);
  EXPECT_EQ(config->name, "CERT-A");

  ASSERT_TRUE(RemovePeerFromConfigFile(path, "cert-b").ok());
  EXPECT_EQ(RemovePeerFromConfigFile(path, "cert-b").code(), Code::kNotFound);
  config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->peers.size(), 1u);
  EXPECT_EQ(config->peers[0].name, "cert-c");
  EXPECT_NE(ReadAll(path).find("# Partner nodes"), std::string::npos) << "comments are kept";
  std::remove(path.c_str());
}

}  // namespace
}  // namespace kizuna::node
