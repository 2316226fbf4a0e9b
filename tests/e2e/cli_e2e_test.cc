// The `kizuna` command line as people use it: init, identity, users, keys,
// collections, import/export, config errors, --help, bad arguments.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>

#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

int Mode(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 0777;
}

TEST(Cli, InitCreatesANodeWithPrivateKeys) {
  TempDir tmp;
  std::string dir = tmp.path() + "/node";
  auto r = RunKizuna({"init", dir, "--name", "CERT-JP", "--listen", "127.0.0.1:18443"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("admin.key"), std::string::npos);
  EXPECT_EQ(Mode(dir + "/admin.key"), 0600);
  EXPECT_EQ(Mode(dir + "/identity.key"), 0600);
  std::string config = ReadFile(dir + "/kizuna.toml");
  EXPECT_NE(config.find("listen = \"127.0.0.1:18443\""), std::string::npos);
  EXPECT_NE(config.find("# "), std::string::npos) << "the config is commented";
  // A second init refuses to overwrite.
  r = RunKizuna({"init", dir});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("already"), std::string::npos);

  r = RunKizuna({"identity", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value id = json::parse(r.out);
  EXPECT_EQ(std::string(id.at("identity").as_string()).rfind("identity--", 0), 0u);
  EXPECT_EQ(id.at("name"), "CERT-JP");
  EXPECT_EQ(id.at("public_key").as_string().size(), 44u);  // base64 of 32 bytes
}

TEST(Cli, UserAddPrintsAWorkingKeyLast) {
  NodeProcess node("CERT-Users");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  auto r = RunKizuna({"user", "add", node.dir(), "--org", "CERT-FR", "--name", "analyst"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string key = r.LastLine();
  EXPECT_EQ(key.rfind("kz_", 0), 0u);
  auto who = node.Request("GET", "/api/v1/whoami", key);
  ASSERT_EQ(who.status, 200) << who.body;
  EXPECT_EQ(json::parse(who.body).at("organization"), "CERT-FR");
  // The running node sees a revocation made by the CLI at once.
  r = RunKizuna({"user", "revoke-key", node.dir(), key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(node.Request("GET", "/api/v1/whoami", key).status, 401);
  r = RunKizuna({"user", "key", node.dir(), "--org", "CERT-FR", "--name", "analyst"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(node.Request("GET", "/api/v1/whoami", r.LastLine()).status, 200);
  r = RunKizuna({"user", "disable", node.dir(), "--org", "CERT-FR", "--name", "analyst"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(node.Request("GET", "/api/v1/whoami", r.LastLine()).status, 401);
  r = RunKizuna({"user", "list", node.dir()});
  EXPECT_NE(r.out.find("analyst"), std::string::npos);
  EXPECT_NE(r.out.find("disabled"), std::string::npos);
  // Duplicate user and bad role are clear errors.
  r = RunKizuna({"user", "add", node.dir(), "--org", "CERT-FR", "--name", "analyst"});
  EXPECT_NE(r.exit_code, 0);
  r = RunKizuna({"user", "add", node.dir(), "--org", "CERT-FR", "--name", "x", "--role", "god"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("role"), std::string::npos);
}

TEST(Cli, RestApiManagesUsersAndCollections) {
  NodeProcess node("CERT-Rest");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  auto r = node.Request("POST", "/api/v1/users", node.admin_key(),
                        R"({"organization":"CERT-DE","name":"api-user"})",
                        {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string key(json::parse(r.body).at("api_key").as_string());
  EXPECT_EQ(node.Request("GET", "/api/v1/whoami", key).status, 200);
  r = node.Request("POST", "/api/v1/collections", node.admin_key(),
                   R"({"title":"Botnet C2","alias":"c2"})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id(json::parse(r.body).at("id").as_string());
  r = node.Request("PUT", "/api/v1/collections/" + id + "/grants", node.admin_key(),
                   R"({"organization":"CERT-DE","can_read":true,"can_write":false})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = node.Request("GET", "/taxii2/root/collections/c2/", key);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("can_write"), false);
  EXPECT_EQ(node.Request("POST", "/api/v1/users", node.admin_key(), "{bad").status, 400);
  EXPECT_EQ(node.Request("GET", "/api/v1/nothing", node.admin_key()).status, 404);
}

TEST(Cli, ImportAndExportRoundTripTheOfficialExamples) {
  TempDir tmp;
  std::string dir = tmp.path() + "/node";
  ASSERT_EQ(RunKizuna({"init", dir}).exit_code, 0);
  std::vector<std::string> files;
  size_t expected = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::string(KIZUNA_SHARED_DATA) + "/stix21-examples")) {
    if (entry.path().extension() != ".json") continue;
    files.push_back(entry.path());
    json::value v = json::parse(ReadFile(entry.path()));
    expected += v.as_object().contains("objects") ? v.at("objects").as_array().size() : 1;
  }
  ASSERT_GE(files.size(), 8u);
  std::vector<std::string> args = {"import", dir};
  args.insert(args.end(), files.begin(), files.end());
  auto r = RunKizuna(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 rejected"), std::string::npos) << r.out;
  r = RunKizuna({"export", dir, "--max-tlp", "red", "--all-versions"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value bundle = json::parse(r.out);
  EXPECT_EQ(bundle.at("type"), "bundle");
  // Some example files share objects (identities, marking definitions).
  EXPECT_GT(bundle.at("objects").as_array().size(), 200u);
  EXPECT_LE(bundle.at("objects").as_array().size(), expected);
  // Re-importing is idempotent.
  r = RunKizuna(args);
  EXPECT_NE(r.out.find(" 0 added"), std::string::npos) << r.out;
}

TEST(Cli, TheAttackBundleImportsCompletely) {
  TempDir tmp;
  std::string dir = tmp.path() + "/node";
  ASSERT_EQ(RunKizuna({"init", dir}).exit_code, 0);
  auto r = RunKizuna(
      {"import", dir, std::string(KIZUNA_SHARED_DATA) + "/mitre-attack/ics-attack-18.1.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  EXPECT_NE(r.out.find("1826 added, 0 already present, 0 rejected"), std::string::npos) << r.out;
}

TEST(Cli, ExportWithholdsRedByDefault) {
  TempDir tmp;
  std::string dir = tmp.path() + "/node";
  ASSERT_EQ(RunKizuna({"init", dir}).exit_code, 0);
  std::string red =
      R"({"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-0000000000aa","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.9']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]}]})";
  WriteFile(tmp.path() + "/red.json", red);
  ASSERT_EQ(RunKizuna({"import", dir, tmp.path() + "/red.json"}).exit_code, 0);
  auto r = RunKizuna({"export", dir});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(json::parse(r.out).at("objects").as_array().size(), 0u);
  EXPECT_NE(r.err.find("withheld"), std::string::npos);
  r = RunKizuna({"export", dir, "--max-tlp", "red"});
  EXPECT_EQ(json::parse(r.out).at("objects").as_array().size(), 1u);
}

TEST(Cli, BadInputIsOneClearLine) {
  TempDir tmp;
  std::string dir = tmp.path() + "/node";
  ASSERT_EQ(RunKizuna({"init", dir}).exit_code, 0);
  // A misspelt key in the config: serve names it and exits.
  std::string config = ReadFile(dir + "/kizuna.toml");
  WriteFile(dir + "/kizuna.toml", config + "\n[limits]\nmax_page_sise = 5\n");
  auto r = RunKizuna({"serve", dir});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("limits"), std::string::npos) << r.err;
  WriteFile(dir + "/kizuna.toml", config);
  std::string replaced = config;
  replaced.replace(replaced.find("threads = 4"), 11, "threads = \"many\"");
  WriteFile(dir + "/kizuna.toml", replaced);
  r = RunKizuna({"serve", dir});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("server.threads"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  WriteFile(dir + "/kizuna.toml", config);

  // Plain HTTP on a public address is refused without allow_plain_http.
  replaced = config;
  replaced.replace(replaced.find("127.0.0.1:8443"), 14, "0.0.0.0:0");
  WriteFile(dir + "/kizuna.toml", replaced);
  r = RunKizuna({"serve", dir});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("allow_plain_http"), std::string::npos) << r.err;
  WriteFile(dir + "/kizuna.toml", config);

  r = RunKizuna({"serve", tmp.path() + "/nonexistent"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not a kizuna node"), std::string::npos);
  WriteFile(tmp.path() + "/broken.json", "{\"type\": \"bundle\", \"objects\": [");
  r = RunKizuna({"import", dir, tmp.path() + "/broken.json"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("invalid JSON"), std::string::npos) << r.err;
  r = RunKizuna({"import", dir, tmp.path() + "/missing.json"});
  EXPECT_NE(r.exit_code, 0);
  r = RunKizuna({"export", dir, "--collection", "nope"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no collection"), std::string::npos);
  r = RunKizuna({"frobnicate"});
  EXPECT_NE(r.exit_code, 0);
  r = RunKizuna({});
  EXPECT_NE(r.exit_code, 0);
  r = RunKizuna({"init", dir + "2", "--listen", "nonsense"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--listen"), std::string::npos);
}

TEST(Cli, EveryCommandHasHelp) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"},
                                        {"init", "--help"},
                                        {"serve", "--help"},
                                        {"import", "--help"},
                                        {"export", "--help"},
                                        {"user", "add", "--help"},
                                        {"collection", "grant", "--help"},
                                        {"identity", "--help"}}) {
    auto r = RunKizuna(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << args[0];
  }
}

}  // namespace
}  // namespace kizuna::e2e
