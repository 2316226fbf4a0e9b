// Federation peers as operators manage them: `kizuna peer add|remove|list|
// audit`, the REST API /api/v1/peers, and `kizuna demo`.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <random>
#include <thread>

#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

std::string PublicKeyOf(const std::string& dir) {
  CommandResult r = RunKizuna({"identity", dir});
  if (r.exit_code != 0) return "";
  return std::string(json::parse(r.out).at("public_key").as_string());
}

int Lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

bool WaitFor(const std::function<bool()>& done, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

// A socket bound to 127.0.0.1:port (0: any free port), held until destroyed.
class PortHolder {
 public:
  explicit PortHolder(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;  // as servers bind: a port in TIME_WAIT counts as free
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 1) != 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
    socklen_t length = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
  }
  ~PortHolder() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Three consecutive ports that are free now.
uint16_t FreeBasePort() {
  std::mt19937 random(std::random_device{}());
  for (int attempt = 0; attempt < 200; ++attempt) {
    uint16_t base = static_cast<uint16_t>(20000 + random() % 30000);
    PortHolder a(base), b(base + 1), c(base + 2);
    if (a.ok() && b.ok() && c.ok()) return base;
  }
  return 0;
}

class PeerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() + "/node";
    partner_ = tmp_.path() + "/partner";
    ASSERT_EQ(RunKizuna({"init", dir_, "--name", "CERT-Home"}).exit_code, 0);
    ASSERT_EQ(RunKizuna({"init", partner_, "--name", "CERT-Partner"}).exit_code, 0);
    partner_key_ = PublicKeyOf(partner_);
    ASSERT_EQ(partner_key_.size(), 44u);
  }
  std::vector<std::string> Add(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "peer",    "add",  dir_,           name,        "--url", "http://127.0.0.1:1",
        "--token", kToken, "--public-key", partner_key_};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::string Config() const { return ReadFile(dir_ + "/kizuna.toml"); }

  static constexpr const char* kToken = "kz_secret-token-of-the-partner";
  TempDir tmp_;
  std::string dir_, partner_, partner_key_;
};

TEST_F(PeerCli, AddListRemoveRoundTrip) {
  auto r = RunKizuna({"peer", "list", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no peers"), std::string::npos) << r.out;

  r = RunKizuna(Add("CERT-Partner", {"--max-tlp", "green", "--poll-seconds", "5", "--no-stream",
                                     "--push", "never", "--share", "default", "--pull", "feeds"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("added peer CERT-Partner"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("within a second"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("user add"), std::string::npos) << "hint about the partner's user";
  const std::string config = Config();
  EXPECT_NE(config.find("name = \"CERT-Partner\""), std::string::npos) << config;
  EXPECT_NE(config.find("max_tlp = \"green\""), std::string::npos) << config;
  EXPECT_NE(config.find("stream = false"), std::string::npos) << config;

  r = RunKizuna({"peer", "list", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("CERT-Partner"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("http://127.0.0.1:1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("green"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(kToken), std::string::npos) << "never the token";

  r = RunKizuna({"peer", "list", dir_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find(kToken), std::string::npos) << "never the token";
  EXPECT_EQ(r.out.find("\"token\""), std::string::npos) << r.out;
  json::value list = json::parse(r.out);
  ASSERT_EQ(list.as_array().size(), 1u);
  const json::object& peer = list.as_array()[0].as_object();
  EXPECT_EQ(peer.at("name"), "CERT-Partner");
  EXPECT_EQ(peer.at("url"), "http://127.0.0.1:1");
  EXPECT_EQ(peer.at("max_tlp"), "green");
  EXPECT_EQ(peer.at("org"), "CERT-Partner");
  EXPECT_EQ(std::string(peer.at("public_key").as_string()), partner_key_);
  EXPECT_EQ(peer.at("stream"), false);
  EXPECT_EQ(peer.at("push"), "never");
  EXPECT_EQ(peer.at("poll_seconds"), 5);
  EXPECT_EQ(peer.at("pull").as_array().size(), 1u);
  EXPECT_TRUE(peer.at("status").is_null()) << "no node ran yet";

  // A duplicate name is refused and changes nothing.
  r = RunKizuna(Add("CERT-Partner"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_EQ(Config(), config);

  r = RunKizuna({"peer", "remove", dir_, "CERT-Partner"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("removed peer CERT-Partner"), std::string::npos) << r.out;
  EXPECT_EQ(Config().find("CERT-Partner"), std::string::npos);
  r = RunKizuna({"peer", "list", dir_, "--json"});
  EXPECT_EQ(json::parse(r.out).as_array().size(), 0u);
  r = RunKizuna({"peer", "remove", dir_, "CERT-Partner"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no peer named 'CERT-Partner'"), std::string::npos) << r.err;
}

TEST_F(PeerCli, BadInputLeavesTheConfigUnchanged) {
  const std::string before = Config();
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"peer", "add", dir_, "P", "--url", "ftp://partner.example", "--token", "k", "--public-key",
        partner_key_},
       "url"},
      {{"peer", "add", dir_, "P", "--url", "http://127.0.0.1:1", "--token", "k", "--public-key",
        "not-a-key"},
       "--public-key"},
      {Add("P", {"--max-tlp", "red"}), "red never leaves"},
      {Add("P", {"--max-tlp", "purple"}), "--max-tlp"},
      {Add("P", {"--push", "sometimes"}), "--push"},
      {Add("P", {"--into", "no-such-collection"}), "no collection"},
      {Add("P", {"--share", "nope"}), "no collection"},
      {Add("P", {"--pin-sha256", "abc"}), "--pin-sha256"},
      {Add("bad name!"), "NAME"},
      {Add("CERT-Home"), "own organization"},  // this node's own name
      {Add("P", {"--org", "CERT-Home"}), "own organization"},
      {{"peer", "add", dir_, "P", "--url", "http://127.0.0.1:1", "--public-key", partner_key_},
       "--token"},
      // A partner without a key is an unsigned one only when said so.
      {{"peer", "add", dir_, "P", "--url", "http://127.0.0.1:1", "--token", "k"}, "unsigned"},
      {{"peer", "add", dir_, "P", "--url", "http://127.0.0.1:1", "--token", "k", "--public-key",
        partner_key_, "--unsigned"},
       "excludes"},
      {{"peer", "add", tmp_.path() + "/nowhere", "P", "--url", "http://127.0.0.1:1", "--token", "k",
        "--public-key", partner_key_},
       "nowhere"},
  };
  for (const Case& c : cases) {
    auto r = RunKizuna(c.args);
    EXPECT_NE(r.exit_code, 0) << c.says;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.says << ": " << r.err;
    EXPECT_LE(Lines(r.err), 2) << r.err;  // CLI11's usage errors add a --help hint
    EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
    EXPECT_EQ(Config(), before) << c.says;
  }
  auto r = RunKizuna({"peer", "remove", dir_, "nobody"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_EQ(Config(), before);
}

TEST_F(PeerCli, AnUnsignedPartnerIsAddedOnlyWhenMarkedSo) {
  auto r = RunKizuna({"peer", "add", dir_, "medallion", "--url", "http://127.0.0.1:1", "--token",
                      "user:password", "--unsigned"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(Config().find("unsigned = true"), std::string::npos) << Config();
  r = RunKizuna({"peer", "list", dir_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"unsigned\":true"), std::string::npos) << r.out;
}

TEST_F(PeerCli, AuditPrintsTheLogFilteredByPeerAndCount) {
  auto r = RunKizuna({"peer", "audit", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "") << "nothing exchanged yet";
  std::string log;
  for (int i = 0; i < 5; ++i) {
    for (const char* peer : {"CERT-A", "CERT-B"}) {
      log += std::string(R"({"time":"2026-01-01T00:00:00Z","direction":"sent","peer":")") + peer +
             R"(","channel":"read","collection":"c","id":"indicator--)" + std::to_string(i) +
             R"(","version":"v","outcome":"sent"})" + "\n";
    }
  }
  WriteFile(dir_ + "/audit.log", log);
  r = RunKizuna({"peer", "audit", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out), 10);
  r = RunKizuna({"peer", "audit", dir_, "--peer", "CERT-B", "--last", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Lines(r.out), 2) << r.out;
  EXPECT_EQ(r.out.find("CERT-A"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("indicator--4"), std::string::npos) << "the last ones";
  r = RunKizuna({"peer", "audit", tmp_.path() + "/nowhere"});
  EXPECT_NE(r.exit_code, 0);
}

// Two running nodes federated with nothing but the CLI; `peer list` shows
// the running node's persisted status, `peer audit` what arrived.
TEST(PeerCliRunning, ARunningNodePicksUpAPeerAndListShowsItsState) {
  NodeProcess home("CERT-Home"), partner("CERT-Partner");
  std::string error;
  ASSERT_TRUE(home.Start(&error)) << error;
  ASSERT_TRUE(partner.Start(&error)) << error;
  const std::string key_at_partner = partner.AddUser("CERT-Home", "sync");
  auto r = RunKizuna({"peer", "add", home.dir(), "CERT-Partner", "--url", partner.base_url(),
                      "--token", key_at_partner, "--public-key", PublicKeyOf(partner.dir())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The partner's half: it serves us only once it has us as its peer.
  r = RunKizuna({"peer", "add", partner.dir(), "CERT-Home", "--url", home.base_url(), "--token",
                 home.AddUser("CERT-Partner", "sync"), "--public-key", PublicKeyOf(home.dir())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // `peer add` says the running node applies it "within a second": both have.
  ASSERT_TRUE(home.WaitForConfig()) << home.ServerLog();
  ASSERT_TRUE(partner.WaitForConfig()) << partner.ServerLog();

  const std::string indicator =
      R"({"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--6a1f3c43-8a4b-4c5e-9a8e-2b0c4a1d7e01","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}]})";
  auto posted = partner.Post("/taxii2/root/collections/default/objects/", indicator);
  ASSERT_EQ(posted.status, 202) << posted.body;

  json::object status;
  bool synced = WaitFor(
      [&] {
        auto list = RunKizuna({"peer", "list", home.dir(), "--json"});
        if (list.exit_code != 0) return false;
        json::value v = json::parse(list.out);
        if (v.as_array().empty() || !v.as_array()[0].at("status").is_object()) return false;
        status = v.as_array()[0].at("status").as_object();
        return status.at("received").to_number<int64_t>() >= 1;
      },
      30);
  ASSERT_TRUE(synced) << json::serialize(status) << home.ServerLog();
  std::string state(status.at("state").as_string());
  EXPECT_TRUE(state == "streaming" || state == "polling") << state;
  EXPECT_FALSE(status.at("last_contact").is_null());

  r = RunKizuna({"peer", "list", home.dir()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(state), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(key_at_partner), std::string::npos) << "never the token";

  r = RunKizuna({"peer", "audit", home.dir(), "--peer", "CERT-Partner"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("indicator--6a1f3c43-8a4b-4c5e-9a8e-2b0c4a1d7e01"), std::string::npos)
      << r.out;

  // The REST API shows the same peer with its live status.
  auto got = home.Get("/api/v1/peers");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body.find(key_at_partner), std::string::npos) << "never the token";
  json::value peers = json::parse(got.body).at("peers");
  ASSERT_EQ(peers.as_array().size(), 1u);
  EXPECT_GE(peers.as_array()[0].at("status").at("received").to_number<int64_t>(), 1);
}

TEST(PeerApi, AdminsListAddAndRemovePeersMembersMayNot) {
  NodeProcess home("CERT-Home");
  std::string error;
  ASSERT_TRUE(home.Start(&error)) << error;
  const std::string member = home.AddUser("CERT-Home", "analyst");
  const std::string partner_key = PublicKeyOf(home.dir());  // any valid Ed25519 key
  const std::map<std::string, std::string> json_type = {{"Content-Type", "application/json"}};
  const std::string kToken = "kz_partner-token-never-shown";
  const std::string body = R"({"name":"CERT-Partner","url":"http://127.0.0.1:1","token":")" +
                           kToken + R"(","public_key":")" + partner_key +
                           R"(","max_tlp":"amber+strict","share":["default"],"poll_seconds":5})";

  EXPECT_EQ(home.Request("GET", "/api/v1/peers", member).status, 403);
  EXPECT_EQ(home.Request("POST", "/api/v1/peers", member, body, json_type).status, 403);
  EXPECT_EQ(home.Request("DELETE", "/api/v1/peers/CERT-Partner", member).status, 403);

  auto r = home.Get("/api/v1/peers");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"peers":[]})"));

  const std::string before = ReadFile(home.dir() + "/kizuna.toml");
  const std::vector<std::pair<std::string, int>> bad = {
      {"{bad json", 400},
      {R"({"name":"X","url":"http://127.0.0.1:1","token":"k"})", 400},  // no public key
      {R"({"name":"X","url":"gopher://x","token":"k","public_key":")" + partner_key + "\"}", 400},
      {R"({"name":"X","url":"http://127.0.0.1:1","token":"k","public_key":"nope"})", 400},
      {R"({"name":"X","url":"http://127.0.0.1:1","token":"k","public_key":")" + partner_key +
           R"(","max_tlp":"red"})",
       400},
      {R"({"name":"X","url":"http://127.0.0.1:1","token":"k","public_key":")" + partner_key +
           R"(","colour":"blue"})",
       400},
      {R"({"name":"X","url":"http://127.0.0.1:1","token":"k","public_key":")" + partner_key +
           R"(","into":"nowhere"})",
       400},
  };
  for (const auto& [text, status] : bad) {
    r = home.Request("POST", "/api/v1/peers", home.admin_key(), text, json_type);
    EXPECT_EQ(r.status, status) << text << " → " << r.body;
    EXPECT_TRUE(json::parse(r.body).as_object().contains("description")) << r.body;
  }
  EXPECT_EQ(ReadFile(home.dir() + "/kizuna.toml"), before);

  r = home.Request("POST", "/api/v1/peers", home.admin_key(), body, json_type);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body.find(kToken), std::string::npos) << "never the token";
  EXPECT_EQ(json::parse(r.body).at("max_tlp"), "amber+strict");
  EXPECT_NE(ReadFile(home.dir() + "/kizuna.toml").find(kToken), std::string::npos);
  r = home.Request("POST", "/api/v1/peers", home.admin_key(), body, json_type);
  EXPECT_EQ(r.status, 409) << r.body;
  // A partner without a key only when marked unsigned.
  r = home.Request("POST", "/api/v1/peers", home.admin_key(),
                   R"({"name":"plain","url":"http://127.0.0.1:1","token":"u:p","unsigned":true})",
                   json_type);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body).at("unsigned"), true) << r.body;
  r = home.Request("DELETE", "/api/v1/peers/plain", home.admin_key());
  EXPECT_EQ(r.status, 200) << r.body;
  // A MISP instance: no key of its own; nothing else is a kind.
  r = home.Request("POST", "/api/v1/peers", home.admin_key(),
                   R"({"name":"circl","kind":"misp","url":"https://127.0.0.1:1","token":"k"})",
                   json_type);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body).at("kind"), "misp") << r.body;
  EXPECT_NE(ReadFile(home.dir() + "/kizuna.toml").find("kind = \"misp\""), std::string::npos);
  r = home.Request("DELETE", "/api/v1/peers/circl", home.admin_key());
  EXPECT_EQ(r.status, 200) << r.body;
  r = home.Request("POST", "/api/v1/peers", home.admin_key(),
                   R"({"name":"x","kind":"opencti","url":"https://127.0.0.1:1","token":"k"})",
                   json_type);
  EXPECT_EQ(r.status, 400) << r.body;

  // The running node picks the new peer up: its live status appears.
  ASSERT_TRUE(home.WaitForConfig()) << home.ServerLog();
  json::value listed;
  bool live = WaitFor(
      [&] {
        auto got = home.Get("/api/v1/peers");
        if (got.status != 200) return false;
        EXPECT_EQ(got.body.find(kToken), std::string::npos) << "never the token";
        listed = json::parse(got.body);
        const json::array& peers = listed.at("peers").as_array();
        return peers.size() == 1 && peers[0].at("status").is_object();
      },
      30);
  ASSERT_TRUE(live) << json::serialize(listed) << home.ServerLog();
  const json::value& peer = listed.at("peers").as_array()[0];
  EXPECT_EQ(peer.at("name"), "CERT-Partner");
  EXPECT_EQ(peer.at("url"), "http://127.0.0.1:1");
  EXPECT_EQ(peer.at("poll_seconds"), 5);
  EXPECT_TRUE(peer.at("status").as_object().contains("state"));

  r = home.Request("DELETE", "/api/v1/peers/CERT-Partner", home.admin_key());
  ASSERT_EQ(r.status, 200) << r.body;
  r = home.Request("DELETE", "/api/v1/peers/CERT-Partner", home.admin_key());
  EXPECT_EQ(r.status, 404) << r.body;
  r = home.Get("/api/v1/peers");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"peers":[]})"));
  EXPECT_EQ(ReadFile(home.dir() + "/kizuna.toml").find(kToken), std::string::npos);
}

TEST(Demo, PropagatesTheSampleDataAndRedStaysHome) {
  const uint16_t base = FreeBasePort();
  ASSERT_NE(base, 0);
  TempDir tmp;
  auto r = RunKizuna({"demo", "--exit-after-demo", "--base-port", std::to_string(base), "--dir",
                      tmp.path() + "/demo"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("TLP:RED stayed home"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("every shareable object reached both partners"), std::string::npos) << r.out;
  for (const char* team : {"CERT-Aurora", "CERT-Borealis", "CERT-Cascadia"}) {
    EXPECT_NE(r.out.find(team), std::string::npos) << team;
  }
  EXPECT_NE(r.out.find("/borealis/admin.key"), std::string::npos) << r.out;
  // The telescope: the first node merges its partners' sensors and names
  // whose darknet saw the outbreak first.
  EXPECT_NE(r.out.find("of CERT-Borealis"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("of CERT-Cascadia"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("surge on 23/tcp"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("first seen by CERT-Borealis"), std::string::npos) << r.out;
  // The nodes were stopped: their ports are free again.
  PortHolder again(base);
  EXPECT_TRUE(again.ok());
}

TEST(Demo, SaysSoWhenAPortIsTaken) {
  PortHolder taken(0);
  ASSERT_TRUE(taken.ok());
  TempDir tmp;
  auto r = RunKizuna({"demo", "--exit-after-demo", "--base-port", std::to_string(taken.port()),
                      "--dir", tmp.path() + "/demo"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
}

}  // namespace
}  // namespace kizuna::e2e
