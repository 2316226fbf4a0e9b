// `kizuna geo load|lookup|status` as an operator runs them: on a node made
// by `kizuna init`, with ip-location-db and iptoasn files, exact JSON lines,
// nulls, bad addresses and bad files; and a load while `kizuna serve` runs.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

// Lines of `text`, without their '\n'.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// A node with ip-location-db's asn and asn-country files (excerpts of the
// real ones, IPv4 and IPv6) loaded.
struct GeoNode {
  TempDir tmp;
  std::string dir = tmp.path() + "/node";
  GeoNode() {
    auto r = RunKizuna({"init", dir, "--name", "CERT-Geo"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    WriteFile(tmp.path() + "/asn-ipv4.csv",
              "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
              "1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd\n"
              "1.0.16.0,1.0.16.255,2519,ARTERIA Networks Corporation\n");
    WriteFile(tmp.path() + "/asn-ipv6.csv",
              "2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n");
    WriteFile(tmp.path() + "/asn-country-ipv4.csv",
              "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n1.0.4.0,1.0.7.255,AU\n"
              "1.0.16.0,1.0.16.255,JP\n");
    WriteFile(tmp.path() + "/asn-country-ipv6.csv",
              "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n");
  }
  std::vector<std::string> Files() const {
    return {tmp.path() + "/asn-ipv4.csv", tmp.path() + "/asn-ipv6.csv",
            tmp.path() + "/asn-country-ipv4.csv", tmp.path() + "/asn-country-ipv6.csv"};
  }
  CommandResult Load(std::vector<std::string> files) const {
    std::vector<std::string> args = {"geo", "load", dir};
    args.insert(args.end(), files.begin(), files.end());
    return RunKizuna(args);
  }
};

TEST(GeoCli, LoadAndLookUp) {
  GeoNode node;
  auto r = node.Load(node.Files());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("asn-ipv4.csv: ip-location-db asn csv, 3 ranges (asn), 0 bad lines"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("asn-country-ipv6.csv: ip-location-db country csv, 1 ranges (country)"),
            std::string::npos)
      << r.err;

  r = RunKizuna({"geo", "lookup", node.dir, "1.0.0.1", "1.0.16.9", "1.0.2.3", "10.0.0.1",
                 "2001:200::1", "2001:200:ffff::1", "::ffff:1.0.5.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(
      Lines(r.out),
      (std::vector<std::string>{
          R"({"ip":"1.0.0.1","asn":13335,"as_name":"Cloudflare, Inc.","country":"AU","prefix":"1.0.0.0/24"})",
          R"({"ip":"1.0.16.9","asn":2519,"as_name":"ARTERIA Networks Corporation","country":"JP","prefix":"1.0.16.0/24"})",
          R"({"ip":"1.0.2.3","asn":null,"as_name":null,"country":"CN","prefix":null})",
          R"({"ip":"10.0.0.1","asn":null,"as_name":null,"country":null,"prefix":null})",
          R"({"ip":"2001:200::1","asn":2500,"as_name":"WIDE Project","country":"JP","prefix":"2001:200::/40"})",
          R"({"ip":"2001:200:ffff::1","asn":null,"as_name":null,"country":"JP","prefix":null})",
          R"({"ip":"::ffff:1.0.5.5","asn":38803,"as_name":"Gtelecom Pty Ltd","country":"AU","prefix":"1.0.4.0/22"})",
      }));

  // A bad address: one line on stderr, the others still answered, exit 1.
  r = RunKizuna({"geo", "lookup", node.dir, "1.0.0.1", "1.0.0.256", "2001:200::1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "kizuna: not an IPv4 or IPv6 address: 1.0.0.256\n");
  ASSERT_EQ(Lines(r.out).size(), 2u) << r.out;
  EXPECT_EQ(json::parse(Lines(r.out)[1]).at("ip"), "2001:200::1");

  r = RunKizuna({"geo", "status", node.dir, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value status = json::parse(r.out);
  const json::array& layers = status.at("layers").as_array();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].at("layer"), "asn");
  EXPECT_EQ(layers[0].at("ipv4_ranges"), 3);
  EXPECT_EQ(layers[0].at("ipv6_ranges"), 1);
  EXPECT_EQ(layers[1].at("layer"), "country");
  EXPECT_EQ(layers[1].at("ipv4_ranges"), 4);
  const std::string version(status.at("version").as_string());
  EXPECT_EQ(version.rfind("asn: asn-ipv4.csv sha256:", 0), 0u) << version;
  EXPECT_NE(version.find("; country: asn-country-ipv4.csv sha256:"), std::string::npos);

  // iptoasn replaces both layers; "Not routed" is unknown.
  WriteFile(node.tmp.path() + "/ip2asn-v4.tsv",
            "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n"
            "1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n");
  r = node.Load({node.tmp.path() + "/ip2asn-v4.tsv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunKizuna({"geo", "lookup", node.dir, "1.0.0.1", "1.0.2.3", "1.0.16.9"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      Lines(r.out),
      (std::vector<std::string>{
          R"({"ip":"1.0.0.1","asn":13335,"as_name":"CLOUDFLARENET","country":"US","prefix":"1.0.0.0/24"})",
          R"({"ip":"1.0.2.3","asn":null,"as_name":null,"country":null,"prefix":null})",
          R"({"ip":"1.0.16.9","asn":null,"as_name":null,"country":null,"prefix":null})",
      }));
}

TEST(GeoCli, NothingLoadedAnswersNull) {
  GeoNode node;
  auto r = RunKizuna({"geo", "lookup", node.dir, "8.8.8.8", "2001:db8::1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"ip\":\"8.8.8.8\",\"asn\":null,\"as_name\":null,\"country\":null,\"prefix\":null}\n"
            "{\"ip\":\"2001:db8::1\",\"asn\":null,\"as_name\":null,\"country\":null,\"prefix\":"
            "null}\n");
  r = RunKizuna({"geo", "status", node.dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no geo data loaded"), std::string::npos);
}

TEST(GeoCli, BadInputIsOneClearLine) {
  GeoNode node;
  ASSERT_EQ(node.Load(node.Files()).exit_code, 0);
  // Bad lines are reported with their numbers, and the rest is loaded.
  WriteFile(node.tmp.path() + "/some-bad.csv",
            "1.0.0.0,1.0.0.255,64500,Good\nnot,a,range\n1.0.1.0,1.0.0.0,1,Backwards\n");
  auto r = node.Load({node.tmp.path() + "/some-bad.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("some-bad.csv:2: not an address range: not - a"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("some-bad.csv:3: first address after the last"), std::string::npos);
  EXPECT_NE(r.err.find("1 ranges (asn), 2 bad lines"), std::string::npos);

  // A file with no usable line changes nothing.
  WriteFile(node.tmp.path() + "/garbage.csv", "hello\nworld\n");
  r = node.Load({node.tmp.path() + "/asn-ipv6.csv", node.tmp.path() + "/garbage.csv"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("kizuna: "), std::string::npos);
  EXPECT_NE(r.err.find("garbage.csv: no usable line"), std::string::npos) << r.err;
  r = RunKizuna({"geo", "lookup", node.dir, "1.0.0.1"});
  EXPECT_NE(r.out.find("\"asn\":64500"), std::string::npos) << r.out;

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"geo", "load", node.dir, node.tmp.path() + "/absent.csv"},
           {"geo", "load", node.tmp.path() + "/not-a-node", node.tmp.path() + "/asn-ipv4.csv"},
           {"geo", "lookup", node.tmp.path() + "/not-a-node", "1.0.0.1"},
           {"geo", "status", node.tmp.path() + "/not-a-node"},
           {"geo", "lookup", node.dir},
           {"geo", "load", node.dir},
           {"geo"},
       }) {
    r = RunKizuna(args);
    EXPECT_NE(r.exit_code, 0) << args[1];
    EXPECT_LT(r.exit_code, 128) << "no crash";
    EXPECT_FALSE(r.err.empty());
  }
  for (const char* command : {"load", "lookup", "status"}) {
    r = RunKizuna({"geo", command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("DIR"), std::string::npos) << command;
  }
}

TEST(GeoCli, LoadWhileTheNodeRuns) {
  NodeProcess node;
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  TempDir tmp;
  WriteFile(tmp.path() + "/asn.csv", "1.0.0.0,1.0.0.255,13335,Cloudflare\n");
  auto r = RunKizuna({"geo", "load", node.dir(), tmp.path() + "/asn.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunKizuna({"geo", "lookup", node.dir(), "1.0.0.1"});
  EXPECT_EQ(r.out,
            "{\"ip\":\"1.0.0.1\",\"asn\":13335,\"as_name\":\"Cloudflare\",\"country\":null,"
            "\"prefix\":\"1.0.0.0/24\"}\n");
  EXPECT_EQ(node.Get("/api/v1/node").status, 200);  // the node is unaffected
  EXPECT_TRUE(node.Stop());
}

}  // namespace
}  // namespace kizuna::e2e
