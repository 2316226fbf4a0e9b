#include "auth/auth.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <set>

#include "common/encoding.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/support/manual_clock.h"

namespace kizuna::auth {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kizuna-auth-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = Open();
    auto org = store_->EnsureOrganization("CERT-X");
    ASSERT_TRUE(org.ok());
    auto user = store_->CreateUser("alice", org->id, store::Role::kMember);
    ASSERT_TRUE(user.ok());
    user_ = *user;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<store::Store> Open() {
    auto opened = store::OpenSqliteStore(dir_ + "/kizuna.db");
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  IssuedKey Issue() {
    auto issued = IssueApiKey(*store_, user_.id, "test");
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? *issued : IssuedKey{};
  }
  // A key stored the way kizuna stored keys before: an Argon2id hash.
  std::string AddLegacyKey(const std::string& key_id) {
    const std::string secret = Base64UrlEncode(RandomBytes(32));
    store::ApiKey key;
    key.key_id = key_id;
    key.user_id = user_.id;
    key.secret_hash = *HashSecret(secret);
    key.label = "legacy";
    EXPECT_TRUE(store_->AddApiKey(key).ok());
    return "kz_" + key_id + "_" + secret;
  }
  static std::string Wrong(std::string token) {
    token.back() = token.back() == 'A' ? 'B' : 'A';
    return token;
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  store::User user_;
  test_support::ManualClock clock_;
};

TEST_F(AuthTest, BearerAndBasicAuthenticateTheKeysUser) {
  IssuedKey issued = Issue();
  Authenticator authenticator(*store_);
  auto bearer = authenticator.Authenticate("Bearer " + issued.token);
  ASSERT_TRUE(bearer.ok()) << bearer.status().ToString();
  EXPECT_EQ(bearer->id, user_.id);
  auto basic = authenticator.Authenticate("Basic " + Base64Encode("anyone:" + issued.token));
  ASSERT_TRUE(basic.ok()) << basic.status().ToString();
  EXPECT_EQ(basic->name, "alice");
  auto request = authenticator.AuthenticateRequest("Bearer " + issued.token, "192.0.2.1");
  ASSERT_TRUE(request.user.ok());
  EXPECT_FALSE(request.limited);
}

TEST_F(AuthTest, FastHashRoundTrip) {
  IssuedKey issued = Issue();
  auto stored = store_->GetApiKey(issued.record.key_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->secret_hash.rfind("hmac-sha256$", 0), 0u);
  const std::string secret = issued.token.substr(20);
  EXPECT_EQ(stored->secret_hash.find(secret), std::string::npos);
  EXPECT_EQ(stored->secret_hash.size(), std::string("hmac-sha256$").size() + 43);

  auto key = LoadHmacKey(*store_);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), 32u);
  const std::string& id = issued.record.key_id;
  EXPECT_EQ(HashApiKeySecret(*key, id, secret), stored->secret_hash);
  EXPECT_TRUE(VerifyApiKeySecret(*key, stored->secret_hash, id, secret));
  EXPECT_FALSE(VerifyApiKeySecret(*key, stored->secret_hash, id, secret + "x"));
  // Bound to the key id and to the node's key.
  EXPECT_FALSE(VerifyApiKeySecret(*key, stored->secret_hash, "0000000000000000", secret));
  EXPECT_FALSE(VerifyApiKeySecret(std::string(32, 'k'), stored->secret_hash, id, secret));
  EXPECT_FALSE(VerifyApiKeySecret(*key, stored->secret_hash.substr(1), id, secret));
}

TEST_F(AuthTest, HmacKeyIsCreatedOnceAndSharedByEveryHandle) {
  auto first = LoadHmacKey(*store_);
  ASSERT_TRUE(first.ok());
  std::unique_ptr<store::Store> other = Open();  // another process's view (the CLI)
  auto second = LoadHmacKey(*other);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  // A key issued through one handle authenticates through the other.
  auto issued = IssueApiKey(*other, user_.id, "from the CLI");
  ASSERT_TRUE(issued.ok());
  Authenticator authenticator(*store_);
  EXPECT_TRUE(authenticator.Authenticate("Bearer " + issued->token).ok());
}

TEST_F(AuthTest, LegacyArgon2HashVerifiesAndIsUpgradedOnFirstUse) {
  const std::string token = AddLegacyKey("00112233445566aa");
  Authenticator authenticator(*store_);
  // A wrong secret neither authenticates nor upgrades.
  EXPECT_FALSE(authenticator.Authenticate("Bearer " + Wrong(token)).ok());
  EXPECT_EQ(store_->GetApiKey("00112233445566aa")->secret_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(authenticator.stats().upgrades, 0);

  auto user = authenticator.Authenticate("Bearer " + token);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->id, user_.id);
  Authenticator::Stats stats = authenticator.stats();
  EXPECT_EQ(stats.argon2_verifications, 2);
  EXPECT_EQ(stats.upgrades, 1);
  const std::string upgraded = store_->GetApiKey("00112233445566aa")->secret_hash;
  EXPECT_EQ(upgraded.rfind("hmac-sha256$", 0), 0u);

  // From now on the fast, constant-time path: no more Argon2id.
  ASSERT_TRUE(authenticator.Authenticate("Bearer " + token).ok());
  EXPECT_FALSE(authenticator.Authenticate("Bearer " + Wrong(token)).ok());
  EXPECT_EQ(authenticator.stats().argon2_verifications, 2);
  EXPECT_EQ(authenticator.stats().hmac_verifications, stats.hmac_verifications + 2);
  // Another authenticator (another process) finds the upgraded row.
  Authenticator fresh(*store_);
  EXPECT_TRUE(fresh.Authenticate("Bearer " + token).ok());
  EXPECT_EQ(fresh.stats().argon2_verifications, 0);
}

TEST_F(AuthTest, PasswordHashesStayArgon2id) {
  auto hash = HashSecret("correct horse battery staple");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifySecret(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifySecret(*hash, "correct horse battery stapler"));
}

TEST_F(AuthTest, RejectsWrongMalformedAndMissingKeys) {
  IssuedKey issued = Issue();
  Authenticator authenticator(*store_);
  for (const std::string& header :
       {std::string(), "Bearer " + Wrong(issued.token), std::string("Bearer kz_nothex"),
        std::string("Digest x"), "Basic " + Base64Encode("no-colon"), std::string("Basic !!!"),
        "Bearer kz_0123456789abcdef_" + std::string(43, 'A')}) {
    auto result = authenticator.Authenticate(header);
    EXPECT_FALSE(result.ok()) << header;
    EXPECT_EQ(result.status().code(), Code::kUnauthenticated) << header;
  }
  EXPECT_TRUE(authenticator.Authenticate("Bearer " + issued.token).ok());
  EXPECT_FALSE(authenticator.Authenticate("Bearer " + Wrong(issued.token)).ok());
}

// Unknown key id, wrong secret, revoked key, disabled user: one answer, and
// the unknown id costs the same HMAC verification as a known one.
TEST_F(AuthTest, FailuresAreUniform) {
  IssuedKey wrong = Issue();
  IssuedKey revoked = Issue();
  ASSERT_TRUE(store_->RevokeApiKey(revoked.record.key_id).ok());
  auto org = store_->EnsureOrganization("CERT-Y");
  auto bob = store_->CreateUser("bob", org->id, store::Role::kMember);
  ASSERT_TRUE(bob.ok());
  auto disabled = IssueApiKey(*store_, bob->id, "test");
  ASSERT_TRUE(disabled.ok());
  ASSERT_TRUE(store_->SetUserDisabled(bob->id, true).ok());

  Authenticator authenticator(*store_, FailureLimits{}, clock_);
  const std::vector<std::string> tokens = {"kz_0123456789abcdef_" + wrong.token.substr(20),
                                           Wrong(wrong.token), revoked.token, disabled->token};
  std::set<std::string> reasons;
  for (const std::string& token : tokens) {
    const int64_t before = authenticator.stats().hmac_verifications;
    AuthOutcome outcome = authenticator.AuthenticateRequest("Bearer " + token, "192.0.2.7");
    ASSERT_FALSE(outcome.user.ok()) << token;
    EXPECT_EQ(outcome.user.status().code(), Code::kUnauthenticated);
    EXPECT_EQ(outcome.user.status().message(), kInvalidKeyMessage);
    EXPECT_FALSE(outcome.limited);
    EXPECT_EQ(authenticator.stats().hmac_verifications, before + 1) << outcome.log_reason;
    // The log may say more, but never the secret.
    EXPECT_EQ(outcome.log_reason.find(token.substr(20)), std::string::npos);
    reasons.insert(outcome.log_reason.substr(0, outcome.log_reason.find(' ')));
  }
  EXPECT_EQ(reasons.size(), 4u);  // unknown, wrong, revoked, disabled
}

TEST_F(AuthTest, RevocationAndDisablingApplyImmediately) {
  IssuedKey issued = Issue();
  Authenticator authenticator(*store_);
  ASSERT_TRUE(authenticator.Authenticate("Bearer " + issued.token).ok());
  ASSERT_TRUE(store_->SetUserDisabled(user_.id, true).ok());
  EXPECT_FALSE(authenticator.Authenticate("Bearer " + issued.token).ok());
  ASSERT_TRUE(store_->SetUserDisabled(user_.id, false).ok());
  EXPECT_TRUE(authenticator.Authenticate("Bearer " + issued.token).ok());
  ASSERT_TRUE(store_->RevokeApiKey(issued.record.key_id).ok());
  auto revoked = authenticator.Authenticate("Bearer " + issued.token);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.status().message(), kInvalidKeyMessage);
}

// A key id over its limit: its failures answer 429, its right secret still
// works (from any address), and the limit ends with the window.
TEST_F(AuthTest, KeyIdLimitNeverLocksOutTheRightKey) {
  IssuedKey issued = Issue();
  FailureLimits limits;
  limits.per_key_id = 3;
  limits.per_address = 1000;
  Authenticator authenticator(*store_, limits, clock_);
  const std::string wrong = "Bearer " + Wrong(issued.token);
  for (int i = 0; i < 3; ++i) {
    AuthOutcome outcome =
        authenticator.AuthenticateRequest(wrong, "198.51.100." + std::to_string(i));
    EXPECT_FALSE(outcome.limited) << i;
  }
  AuthOutcome limited = authenticator.AuthenticateRequest(wrong, "198.51.100.9");
  EXPECT_TRUE(limited.limited);
  EXPECT_EQ(limited.user.status().message(), kTooManyFailuresMessage);
  EXPECT_EQ(limited.retry_after_seconds, 60);
  EXPECT_TRUE(
      authenticator.AuthenticateRequest("Bearer " + issued.token, "198.51.100.9").user.ok());
  EXPECT_TRUE(authenticator.AuthenticateRequest("Bearer " + issued.token, "203.0.113.5").user.ok());

  clock_.Advance(30'000'000);
  EXPECT_EQ(authenticator.AuthenticateRequest(wrong, "203.0.113.5").retry_after_seconds, 30);
  clock_.Advance(31'000'000);  // the failures of the first second left the window
  AuthOutcome after = authenticator.AuthenticateRequest(wrong, "203.0.113.5");
  EXPECT_FALSE(after.limited);
  EXPECT_EQ(after.user.status().message(), kInvalidKeyMessage);
}

TEST_F(AuthTest, UnknownKeyIdsAreCountedLikeKnownOnes) {
  FailureLimits limits;
  limits.per_key_id = 2;
  Authenticator authenticator(*store_, limits, clock_);
  const std::string unknown = "Bearer kz_0123456789abcdef_" + std::string(43, 'A');
  EXPECT_FALSE(authenticator.AuthenticateRequest(unknown, "192.0.2.1").limited);
  EXPECT_FALSE(authenticator.AuthenticateRequest(unknown, "192.0.2.2").limited);
  AuthOutcome third = authenticator.AuthenticateRequest(unknown, "192.0.2.3");
  EXPECT_TRUE(third.limited);
  EXPECT_GT(third.retry_after_seconds, 0);
}

// An address over its limit gets 429 for everything, the right key included,
// without any verification; other addresses are not affected.
TEST_F(AuthTest, AddressLimitRefusesFailuresButNotTheRightKey) {
  IssuedKey issued = Issue();
  FailureLimits limits;
  limits.per_address = 4;
  limits.per_key_id = 1000;
  Authenticator authenticator(*store_, limits, clock_);
  for (int i = 0; i < 4; ++i) {
    // Different kinds of failure all count: malformed, unknown, wrong.
    const std::string header =
        i == 0   ? std::string("Bearer kz_nothex")
        : i == 1 ? "Bearer kz_00000000000000" + std::to_string(10 + i) + "_" + std::string(43, 'A')
                 : "Bearer " + Wrong(issued.token);
    EXPECT_FALSE(authenticator.AuthenticateRequest(header, "192.0.2.66").limited) << i;
  }
  // Past the limit a failure is 429 ...
  AuthOutcome limited =
      authenticator.AuthenticateRequest("Bearer " + Wrong(issued.token), "192.0.2.66");
  EXPECT_TRUE(limited.limited);
  EXPECT_FALSE(limited.user.ok());
  EXPECT_EQ(limited.retry_after_seconds, 60);
  // ... but the right key from the same address is accepted: a guesser
  // there does not lock everyone behind the address out.
  EXPECT_TRUE(authenticator.AuthenticateRequest("Bearer " + issued.token, "192.0.2.66").user.ok());
  EXPECT_TRUE(authenticator.AuthenticateRequest("Bearer " + issued.token, "192.0.2.67").user.ok());
  // A legacy key from the limited address costs no Argon2id.
  const std::string legacy = AddLegacyKey("0f1e2d3c4b5a6978");
  const int64_t argon2 = authenticator.stats().argon2_verifications;
  EXPECT_TRUE(authenticator.AuthenticateRequest("Bearer " + legacy, "192.0.2.66").limited);
  EXPECT_EQ(authenticator.stats().argon2_verifications, argon2);
  // No credentials at all: asked for them, not limited, not counted.
  EXPECT_FALSE(authenticator.AuthenticateRequest("", "192.0.2.66").limited);
  clock_.Advance(60'000'000);
  EXPECT_TRUE(authenticator.AuthenticateRequest("Bearer " + issued.token, "192.0.2.66").user.ok());
  EXPECT_GE(authenticator.stats().limited, 1);
}

// A legacy (Argon2id) key over its key-id limit is not verified at all.
TEST_F(AuthTest, LimitedLegacyKeyCostsNoArgon2) {
  const std::string token = AddLegacyKey("a1b2c3d4e5f60718");
  FailureLimits limits;
  limits.per_key_id = 2;
  Authenticator authenticator(*store_, limits, clock_);
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(authenticator.AuthenticateRequest("Bearer " + Wrong(token), "192.0.2.1").limited);
  }
  EXPECT_EQ(authenticator.stats().argon2_verifications, 2);
  AuthOutcome limited = authenticator.AuthenticateRequest("Bearer " + token, "192.0.2.2");
  EXPECT_TRUE(limited.limited);
  EXPECT_EQ(authenticator.stats().argon2_verifications, 2);
  clock_.Advance(60'000'000);
  EXPECT_TRUE(authenticator.AuthenticateRequest("Bearer " + token, "192.0.2.2").user.ok());
  EXPECT_EQ(authenticator.stats().upgrades, 1);
}

}  // namespace
}  // namespace kizuna::auth
