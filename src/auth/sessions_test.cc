#include "auth/sessions.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "tests/support/manual_clock.h"

namespace kizuna::auth {
namespace {

constexpr int64_t kMinute = 60'000'000;

TEST(SessionTable, ASessionStandsForItsKeyUntilClosed) {
  test_support::ManualClock clock;
  SessionTable table({}, clock);
  const OpenedSession opened = table.Open("kz_key", 7);
  EXPECT_EQ(opened.session_id.size(), 43u);
  EXPECT_NE(opened.session_id, opened.csrf_token);
  auto session = table.Use(opened.session_id);
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->api_key, "kz_key");
  EXPECT_EQ(session->user_id, 7);
  EXPECT_EQ(session->csrf_token, opened.csrf_token);
  EXPECT_FALSE(table.Use(opened.csrf_token).has_value());
  EXPECT_FALSE(table.Use("").has_value());
  EXPECT_TRUE(table.Close(opened.session_id));
  EXPECT_FALSE(table.Use(opened.session_id).has_value());
  EXPECT_FALSE(table.Close(opened.session_id));
}

TEST(SessionTable, SessionsEndWhenIdleAndAfterTheirLifetime) {
  test_support::ManualClock clock;
  SessionTable table({.idle_us = 10 * kMinute, .lifetime_us = 30 * kMinute}, clock);
  const OpenedSession idle = table.Open("a", 1);
  const OpenedSession busy = table.Open("b", 2);
  clock.Advance(9 * kMinute);
  ASSERT_TRUE(table.Use(busy.session_id).has_value());
  clock.Advance(2 * kMinute);
  ASSERT_TRUE(table.Use(busy.session_id).has_value());
  EXPECT_FALSE(table.Use(idle.session_id).has_value());
  for (int i = 0; i < 2; ++i) {
    clock.Advance(9 * kMinute);
    ASSERT_TRUE(table.Use(busy.session_id).has_value());
  }
  clock.Advance(2 * kMinute);  // 31 minutes after sign-in, used 2 minutes ago
  EXPECT_FALSE(table.Use(busy.session_id).has_value());
  EXPECT_EQ(table.size(), 0u);
}

TEST(SessionTable, NewLimitsApplyToOpenSessions) {
  test_support::ManualClock clock;
  SessionTable table({.idle_us = 60 * kMinute}, clock);
  const OpenedSession opened = table.Open("k", 1);
  clock.Advance(10 * kMinute);
  ASSERT_TRUE(table.Use(opened.session_id).has_value());
  table.SetLimits({.idle_us = 5 * kMinute});
  clock.Advance(6 * kMinute);
  EXPECT_FALSE(table.Use(opened.session_id).has_value());
}

TEST(SessionTable, OneUserCannotFillTheTable) {
  test_support::ManualClock clock;
  SessionTable table({.max_sessions = 5, .max_per_user = 2}, clock);
  const OpenedSession first = table.Open("k", 1);
  clock.Advance(1);
  const OpenedSession second = table.Open("k", 1);
  clock.Advance(1);
  ASSERT_TRUE(table.Use(first.session_id).has_value());  // second is now the least recent
  const OpenedSession third = table.Open("k", 1);
  EXPECT_TRUE(table.Use(first.session_id).has_value());
  EXPECT_FALSE(table.Use(second.session_id).has_value());
  EXPECT_TRUE(table.Use(third.session_id).has_value());
  std::set<std::string> others;
  for (int user = 2; user < 10; ++user) others.insert(table.Open("k", user).session_id);
  EXPECT_LE(table.size(), 5u);
}

TEST(CheckCsrf, UnsafeMethodsNeedTheTokenAndTheNodesOwnOrigin) {
  Session session;
  session.csrf_token = "token-123";
  EXPECT_TRUE(CheckCsrf("GET", session, "", "http://evil.example", "127.0.0.1:8080", false));
  EXPECT_FALSE(CheckCsrf("POST", session, "", "", "127.0.0.1:8080", false));
  EXPECT_FALSE(CheckCsrf("POST", session, "token-124", "", "127.0.0.1:8080", false));
  EXPECT_TRUE(CheckCsrf("POST", session, "token-123", "", "127.0.0.1:8080", false));
  EXPECT_TRUE(
      CheckCsrf("DELETE", session, "token-123", "http://127.0.0.1:8080", "127.0.0.1:8080", false));
  EXPECT_FALSE(
      CheckCsrf("PUT", session, "token-123", "http://127.0.0.1:9090", "127.0.0.1:8080", false));
  EXPECT_FALSE(
      CheckCsrf("POST", session, "token-123", "http://127.0.0.1:8080", "127.0.0.1:8080", true));
  EXPECT_TRUE(
      CheckCsrf("POST", session, "token-123", "https://node.example", "node.example", true));
}

TEST(IsOwnOrigin, TheRequestsHostOrTheConfiguredPublicUrl) {
  EXPECT_TRUE(IsOwnOrigin("http://127.0.0.1:8080", "127.0.0.1:8080", false, ""));
  EXPECT_FALSE(IsOwnOrigin("https://cti.example", "127.0.0.1:8080", false, ""));
  // Behind a proxy that ends TLS: the node sees plain HTTP to its own address.
  EXPECT_TRUE(IsOwnOrigin("https://cti.example", "127.0.0.1:8080", false, "https://cti.example/"));
  EXPECT_TRUE(IsOwnOrigin("https://cti.example:8443", "10.0.0.5", false,
                          "https://cti.example:8443/kizuna"));
  EXPECT_FALSE(IsOwnOrigin("https://cti.example.evil", "10.0.0.5", false, "https://cti.example"));
  EXPECT_FALSE(IsOwnOrigin("null", "10.0.0.5", false, "https://cti.example"));
  EXPECT_TRUE(BrowserUsesTls(false, "https://cti.example"));
  EXPECT_FALSE(BrowserUsesTls(false, "http://127.0.0.1:8443"));
  Session session;
  session.csrf_token = "t";
  EXPECT_TRUE(CheckCsrf("POST", session, "t", "https://cti.example", "10.0.0.5", false,
                        "https://cti.example"));
}

TEST(SessionCookies, AreHttpOnlyStrictAndFoundAmongOthers) {
  EXPECT_EQ(SessionCookie("abc", false), "kizuna_session=abc; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SessionCookie("abc", true),
            "__Host-kizuna_session=abc; Path=/; HttpOnly; SameSite=Strict; Secure");
  EXPECT_NE(ExpiredSessionCookie(false).find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(SessionIdFromCookies("a=1; kizuna_session=XYZ; b=2", false), "XYZ");
  EXPECT_EQ(SessionIdFromCookies("kizuna_session=XYZ", false), "XYZ");
  EXPECT_EQ(SessionIdFromCookies("xkizuna_session=XYZ; other", false), "");
  EXPECT_EQ(SessionIdFromCookies("", false), "");
  // Over TLS only the __Host- cookie counts: a plain one may have been
  // planted by another host.
  EXPECT_EQ(SessionIdFromCookies("kizuna_session=XYZ", true), "");
  EXPECT_EQ(SessionIdFromCookies("kizuna_session=X; __Host-kizuna_session=Y", true), "Y");
  EXPECT_EQ(SessionCookie("abc", true).rfind("__Host-kizuna_session=abc;", 0), 0u);
}

}  // namespace
}  // namespace kizuna::auth
