#include "auth/auth.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "common/encoding.h"
#include "store/sqlite/sqlite_store.h"

namespace kizuna::auth {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kizuna-auth-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto opened = store::OpenSqliteStore(dir_ + "/kizuna.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
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

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  store::User user_;
};

TEST_F(AuthTest, BearerAndBasicAuthenticateTheKeysUser) {
  auto issued = IssueApiKey(*store_, user_.id, "test");
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  Authenticator authenticator(*store_);
  auto bearer = authenticator.Authenticate("Bearer " + issued->token);
  ASSERT_TRUE(bearer.ok()) << bearer.status().ToString();
  EXPECT_EQ(bearer->id, user_.id);
  auto basic = authenticator.Authenticate("Basic " + Base64Encode("anyone:" + issued->token));
  ASSERT_TRUE(basic.ok()) << basic.status().ToString();
  EXPECT_EQ(basic->name, "alice");
}

TEST_F(AuthTest, StoresOnlyAnArgon2idHash) {
  auto issued = IssueApiKey(*store_, user_.id, "test");
  ASSERT_TRUE(issued.ok());
  auto stored = store_->GetApiKey(issued->record.key_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->secret_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(stored->secret_hash.find(issued->token.substr(20)), std::string::npos);
}

TEST_F(AuthTest, RejectsWrongMalformedAndMissingKeys) {
  auto issued = IssueApiKey(*store_, user_.id, "test");
  ASSERT_TRUE(issued.ok());
  Authenticator authenticator(*store_);
  std::string wrong = issued->token;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  for (const std::string& header :
       {std::string(), "Bearer " + wrong, std::string("Bearer kz_nothex"), std::string("Digest x"),
        "Basic " + Base64Encode("no-colon"), std::string("Basic !!!"),
        "Bearer kz_0123456789abcdef_" + std::string(43, 'A')}) {
    auto result = authenticator.Authenticate(header);
    EXPECT_FALSE(result.ok()) << header;
    EXPECT_EQ(result.status().code(), Code::kUnauthenticated) << header;
  }
  // A correct key still works after wrong attempts (and a wrong one is not cached as right).
  EXPECT_TRUE(authenticator.Authenticate("Bearer " + issued->token).ok());
  EXPECT_FALSE(authenticator.Authenticate("Bearer " + wrong).ok());
}

TEST_F(AuthTest, RevocationAndDisablingApplyImmediatelyDespiteTheCache) {
  auto issued = IssueApiKey(*store_, user_.id, "test");
  ASSERT_TRUE(issued.ok());
  Authenticator authenticator(*store_);
  ASSERT_TRUE(authenticator.Authenticate("Bearer " + issued->token).ok());
  ASSERT_TRUE(store_->SetUserDisabled(user_.id, true).ok());
  EXPECT_FALSE(authenticator.Authenticate("Bearer " + issued->token).ok());
  ASSERT_TRUE(store_->SetUserDisabled(user_.id, false).ok());
  EXPECT_TRUE(authenticator.Authenticate("Bearer " + issued->token).ok());
  ASSERT_TRUE(store_->RevokeApiKey(issued->record.key_id).ok());
  auto revoked = authenticator.Authenticate("Bearer " + issued->token);
  ASSERT_FALSE(revoked.ok());
  EXPECT_NE(revoked.status().message().find("revoked"), std::string::npos);
}

}  // namespace
}  // namespace kizuna::auth
