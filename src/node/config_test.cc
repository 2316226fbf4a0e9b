#include "node/config.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(config->store.synchronous, "FULL");
  EXPECT_EQ(config->sharing.default_tlp, stix::Tlp::kAmber);
  EXPECT_EQ(config->taxii.api_root, "root");
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
      {"[store]\nbackend = \"oracle\"\n", "store.backend"},
      {"[sharing]\ndefault_tlp = \"purple\"\n", "sharing.default_tlp"},
      {"[taxii]\napi_root = \"a/b\"\n", "taxii.api_root"},
      {"[server]\ntls_cert = \"c.pem\"\n", "tls_key"},
      {"[log]\nlevel = \"loud\"\n", "log.level"},
      {"server = 5\n", "server"},
      {"nonsense = 1\n", "nonsense: unknown key"},
      {"[server\n", "kizuna.toml:"},
      // Found by config_fuzzer: toml++ quotes the bad bytes, newline included.
      {"allow_plain_http = fals\nx = 1\n", "kizuna.toml:1:"},
      {"[server]\nlis\x01ten = 1\n", "kizuna.toml:"},
  };
  for (const auto& c : cases) {
    auto config = ParseConfig(c.toml, "kizuna.toml");
    ASSERT_FALSE(config.ok()) << c.toml;
    EXPECT_NE(config.status().message().find(c.expected), std::string::npos)
        << c.toml << " -> " << config.status().message();
    EXPECT_EQ(config.status().message().find('\n'), std::string::npos) << "one line";
  }
}

}  // namespace
}  // namespace kizuna::node
