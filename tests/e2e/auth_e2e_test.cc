// Authentication against a real `kizuna serve`: uniform failures, the
// failed-authentication limits (per key id and per source address), and
// DELETE /api/v1/keys/ID that cannot be used to probe key ids. Every request
// here comes from 127.0.0.1, so the tests follow the design in auth/auth.h:
// neither a key id's limit nor the address's limit refuses a right key.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "common/encoding.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

std::string WithWrongSecret(std::string key) {
  key.back() = key.back() == 'A' ? 'B' : 'A';
  return key;
}

std::string KeyIdOf(const std::string& key) { return key.substr(3, 16); }

// "kz_" + a key id no node issued + a well-formed secret.
std::string UnknownKey(int n) {
  std::string id = std::to_string(n);
  return "kz_" + std::string(16 - id.size(), '0') + id + "_" + std::string(43, 'Q');
}

class AuthE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(node_.Start(&error)) << error;
  }
  CommandResult Kizuna(std::vector<std::string> args) {
    args.insert(args.begin() + 2, node_.dir());
    CommandResult r = RunKizuna(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }
  NodeProcess node_{"CERT-Auth"};
};

// Unknown key id, wrong secret, revoked key, disabled user: byte-identical
// 401 bodies, on the REST API and on TAXII, Bearer and Basic alike.
TEST_F(AuthE2E, EveryKindOfBadKeyGetsTheSameAnswer) {
  const std::string alice = node_.AddUser("CERT-FR", "alice");
  const std::string bob = node_.AddUser("CERT-FR", "bob");
  const std::string carol = node_.AddUser("ISP-X", "carol");
  ASSERT_EQ(node_.Request("GET", "/api/v1/whoami", bob).status, 200);
  ASSERT_EQ(node_.Request("GET", "/api/v1/whoami", carol).status, 200);
  Kizuna({"user", "revoke-key", bob});
  Kizuna({"user", "disable", "--org", "ISP-X", "--name", "carol"});

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"unknown key id", UnknownKey(1)},
      {"wrong secret", WithWrongSecret(alice)},
      {"revoked key", bob},
      {"disabled user", carol}};
  for (const std::string path : {"/api/v1/whoami", "/taxii2/"}) {
    std::string first_body;
    for (const auto& [what, key] : bad) {
      http::Response r = node_.Request("GET", path, key);
      EXPECT_EQ(r.status, 401) << what << " " << path;
      EXPECT_FALSE(r.headers.Get("WWW-Authenticate").empty()) << what;
      if (first_body.empty()) first_body = r.body;
      EXPECT_EQ(r.body, first_body) << what << " " << path;
      // The same through HTTP Basic (the key as password).
      http::Client client;
      http::Headers headers;
      headers.Set("Authorization", "Basic " + Base64Encode("someone:" + key));
      auto basic = client.Send("GET", node_.Url(path), headers);
      ASSERT_TRUE(basic.ok());
      EXPECT_EQ(basic->status, 401) << what;
      EXPECT_EQ(basic->body, first_body) << what << " (Basic)";
    }
    EXPECT_NE(first_body.find("invalid or revoked API key"), std::string::npos) << first_body;
  }
  EXPECT_EQ(node_.Request("GET", "/api/v1/whoami", alice).status, 200);
  // The server log tells them apart, and never holds a secret.
  const std::string log = node_.ServerLog();
  EXPECT_NE(log.find("unknown key id"), std::string::npos) << log;
  EXPECT_NE(log.find("wrong secret for key id " + KeyIdOf(alice)), std::string::npos);
  EXPECT_NE(log.find("revoked key id " + KeyIdOf(bob)), std::string::npos);
  EXPECT_NE(log.find("disabled user of key id " + KeyIdOf(carol)), std::string::npos);
  for (const std::string& key : {alice, bob, carol}) {
    EXPECT_EQ(log.find(key.substr(20)), std::string::npos) << "a secret in the log";
  }
}

// Wrong secrets for one key id from one address: 401 up to the key id's
// limit (limits.auth_failures_per_key_id, 10), then 429 with Retry-After,
// while the right key keeps working from the same address; past the
// address's limit (limits.auth_failures_per_address, 30) every failure from
// it gets 429, while a right key from it is still accepted.
TEST_F(AuthE2E, RepeatedFailuresGet429WhileTheRightKeyKeepsWorking) {
  const std::string alice = node_.AddUser("CERT-FR", "alice");
  const std::string bob = node_.AddUser("CERT-FR", "bob");
  const std::string wrong = WithWrongSecret(alice);
  int unauthorized = 0;
  http::Response limited;
  for (int i = 0; i < 50; ++i) {
    http::Response r = node_.Request("GET", "/api/v1/whoami", wrong);
    if (r.status != 401) {
      limited = r;
      break;
    }
    ++unauthorized;
  }
  EXPECT_EQ(unauthorized, 10);
  ASSERT_EQ(limited.status, 429) << limited.body;
  const std::string retry_after(limited.headers.Get("Retry-After"));
  ASSERT_FALSE(retry_after.empty());
  EXPECT_GE(std::stoi(retry_after), 1);
  EXPECT_LE(std::stoi(retry_after), 60);
  EXPECT_EQ(json::parse(limited.body).at("http_status"), "429");
  // The right key is never refused for its key id's failures.
  EXPECT_EQ(node_.Request("GET", "/api/v1/whoami", alice).status, 200);
  EXPECT_EQ(node_.Request("GET", "/taxii2/", alice).status, 200);
  EXPECT_EQ(node_.Request("GET", "/api/v1/whoami", bob).status, 200);
  // An unknown key id is counted exactly like a known one: 10 × 401, then 429
  // with the same body.
  int unknown_unauthorized = 0;
  http::Response unknown_limited;
  for (int i = 0; i < 50; ++i) {
    http::Response r = node_.Request("GET", "/api/v1/whoami", UnknownKey(7));
    if (r.status != 401) {
      unknown_limited = r;
      break;
    }
    ++unknown_unauthorized;
  }
  EXPECT_EQ(unknown_unauthorized, 10);
  EXPECT_EQ(unknown_limited.status, 429);
  EXPECT_EQ(unknown_limited.body, limited.body);

  // 22 failures so far from 127.0.0.1; fresh key ids reach the address limit.
  int more = 0;
  http::Response address_limited;
  for (int i = 100; i < 150; ++i) {
    http::Response r = node_.Request("GET", "/api/v1/whoami", UnknownKey(i));
    if (r.status != 401) {
      address_limited = r;
      break;
    }
    ++more;
  }
  EXPECT_EQ(more, 8);
  ASSERT_EQ(address_limited.status, 429);
  EXPECT_FALSE(address_limited.headers.Get("Retry-After").empty());
  EXPECT_EQ(address_limited.body, limited.body);
  // Now the address itself is limited: another wrong secret gets 429, but the
  // right keys behind the same address keep working.
  http::Response wrong_again = node_.Request("GET", "/api/v1/whoami", WithWrongSecret(bob));
  EXPECT_EQ(wrong_again.status, 429);
  EXPECT_FALSE(wrong_again.headers.Get("Retry-After").empty());
  EXPECT_EQ(node_.Request("GET", "/api/v1/whoami", bob).status, 200);
  EXPECT_EQ(node_.Request("GET", "/taxii2/", alice).status, 200);
  // Asking for credentials is never limited.
  EXPECT_EQ(node_.Request("GET", "/api/v1/whoami", "").status, 401);
}

// DELETE /api/v1/keys/ID of another user's key and of a missing key answer
// identically (404, same body); the key survives. Its owner and admins may.
TEST_F(AuthE2E, DeletingAKeyOneMayNotManageLooksLikeAMissingKey) {
  const std::string alice = node_.AddUser("CERT-FR", "alice");
  const std::string bob = node_.AddUser("ISP-X", "bob");
  http::Response other = node_.Request("DELETE", "/api/v1/keys/" + KeyIdOf(bob), alice);
  http::Response missing = node_.Request("DELETE", "/api/v1/keys/0123456789abcdef", alice);
  http::Response garbage = node_.Request("DELETE", "/api/v1/keys/%FF%FEnot-a-key", alice);
  EXPECT_EQ(other.status, 404) << other.body;
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(garbage.status, 404);
  EXPECT_EQ(other.body, missing.body);
  EXPECT_EQ(garbage.body, missing.body);  // nothing of the request echoed
  EXPECT_EQ(other.headers.Get("Content-Type"), missing.headers.Get("Content-Type"));
  EXPECT_EQ(node_.Request("GET", "/api/v1/whoami", bob).status, 200);

  // The owner may revoke it, and an admin may revoke anyone's.
  const std::string alice_second = node_.AddUser("CERT-FR", "alice2");
  http::Response own = node_.Request("DELETE", "/api/v1/keys/" + KeyIdOf(alice), alice);
  EXPECT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(node_.Request("GET", "/api/v1/whoami", alice).status, 401);
  EXPECT_EQ(node_.Request("DELETE", "/api/v1/keys/" + KeyIdOf(bob), node_.admin_key()).status, 200);
  EXPECT_EQ(node_.Request("GET", "/api/v1/whoami", bob).status, 401);
  EXPECT_EQ(node_.Request("GET", "/api/v1/whoami", alice_second).status, 200);
}

// Error bodies never carry a client's raw bytes: invalid UTF-8 in a path
// comes back, if at all, as U+FFFD.
TEST_F(AuthE2E, ErrorBodiesAreValidUtf8) {
  for (const std::string path :
       {"/nothing/%FF%C0%AF", "/api/v1/no/such/%FF%FE", "/taxii2/root/collections/%FF/objects/"}) {
    for (const std::string& key : {node_.admin_key(), std::string()}) {
      http::Response r = node_.Request("GET", path, key);
      EXPECT_GE(r.status, 400) << path;
      EXPECT_EQ(http::ValidUtf8(r.body), r.body) << path << ": " << r.body;
      EXPECT_NO_THROW((void)json::parse(r.body)) << r.body;
    }
  }
}

}  // namespace
}  // namespace kizuna::e2e
