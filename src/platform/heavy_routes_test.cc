// Routes on worker lanes and rate-limited routes: RouteTable::LaneOf /
// IsRateLimited, and
// the per-user token bucket Platform::Dispatch applies (429 + Retry-After).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "platform/module.h"
#include "platform/route_table.h"
#include "store/sqlite/sqlite_store.h"

namespace kizuna::platform {
namespace {

http::Request MakeRequest(std::string method, std::string path) {
  http::Request request;
  request.method = std::move(method);
  request.path = request.target = std::move(path);
  return request;
}

RouteHandler Ok(std::string tag) {
  return [tag](const http::Request&, const store::User&, const PathParams&) {
    http::Response response;
    response.body = tag;
    return response;
  };
}

class FakeClock : public Clock {
 public:
  int64_t NowMicros() const override { return now_.load(); }
  void AdvanceSeconds(int64_t s) { now_ += s * 1000 * 1000; }

 private:
  std::atomic<int64_t> now_{1'700'000'000'000'000};
};

TEST(RouteTable, LaneAndRateLimitedFollowTheChosenRoute) {
  RouteTable routes;
  routes.Add("POST", "/api/v1/match", Ok("match"), {.lane = Lane::kWork, .rate_limited = true});
  routes.Add("GET", "/api/v1/match", Ok("help"));
  routes.Add("POST", "/taxii2/{path...}", Ok("taxii"), {.lane = Lane::kImport});
  routes.Add("GET", "/taxii2/{path...}", Ok("taxii"));
  routes.Add("POST", "/taxii2/cheap", Ok("cheap"));  // more specific, on the I/O thread
  ASSERT_TRUE(routes.status().ok()) << routes.status().ToString();
  EXPECT_EQ(routes.LaneOf(MakeRequest("POST", "/api/v1/match")), Lane::kWork);
  EXPECT_TRUE(routes.IsRateLimited(MakeRequest("POST", "/api/v1/match/")));
  EXPECT_EQ(routes.LaneOf(MakeRequest("GET", "/api/v1/match")), Lane::kIo);
  EXPECT_EQ(routes.LaneOf(MakeRequest("POST", "/taxii2/root/collections/x/objects/")),
            Lane::kImport);
  EXPECT_FALSE(routes.IsRateLimited(MakeRequest("POST", "/taxii2/root/collections/x/objects/")));
  EXPECT_EQ(routes.LaneOf(MakeRequest("GET", "/taxii2/")), Lane::kIo);
  EXPECT_EQ(routes.LaneOf(MakeRequest("POST", "/taxii2/cheap")), Lane::kIo);
  EXPECT_EQ(routes.LaneOf(MakeRequest("POST", "/nowhere")), Lane::kIo);
  EXPECT_EQ(routes.LaneOf(MakeRequest("DELETE", "/api/v1/match")), Lane::kIo);  // a 405
}

class MatchModule final : public Module {
 public:
  std::string_view name() const override { return "matching"; }
  void AddRoutes(RouteTable& routes) override {
    routes.Add("POST", "/api/v1/match", Ok("match"), {.lane = Lane::kWork, .rate_limited = true});
    routes.Add("GET", "/api/v1/whoami", Ok("me"));
  }
};

TEST(Platform, RateLimitsEachUserOnRateLimitedRoutes) {
  std::string path = testing::TempDir() + "/heavy-routes-test.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  auto store = store::OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  FakeClock clock;
  Platform platform(**store, {.clock = &clock,
                              .run_jobs = false,
                              .heavy_rate_limit = {.rate_per_second = 0.5, .burst = 2}});
  platform.Add(std::make_unique<MatchModule>());
  ASSERT_TRUE(platform.Start().ok());
  store::User alice, bob;
  alice.id = 1;
  bob.id = 2;
  const http::Request match = MakeRequest("POST", "/api/v1/match");
  EXPECT_EQ(platform.Dispatch(match, alice).body, "match");
  EXPECT_EQ(platform.Dispatch(match, alice).body, "match");
  http::Response refused = platform.Dispatch(match, alice);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.headers.Get("Retry-After"), "2");
  EXPECT_NE(refused.body.find("heavy_requests_per_second"), std::string::npos) << refused.body;
  // Other users, and other routes, are not held back.
  EXPECT_EQ(platform.Dispatch(match, bob).status, 200);
  EXPECT_EQ(platform.Dispatch(MakeRequest("GET", "/api/v1/whoami"), alice).status, 200);
  EXPECT_EQ(platform.LaneOf(match), Lane::kWork);
  clock.AdvanceSeconds(2);
  EXPECT_EQ(platform.Dispatch(match, alice).status, 200);
  platform.Stop();
}

// A member cannot hold every worker with requests its rate allows: past
// heavy_in_flight_per_user running at once, 429; other users go on.
TEST(Platform, CapsEachUsersHeavyRequestsInFlight) {
  std::string path = testing::TempDir() + "/heavy-in-flight-test.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  auto store = store::OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0;
  bool release = false;
  class SlowMatch final : public Module {
   public:
    explicit SlowMatch(RouteHandler handler) : handler_(std::move(handler)) {}
    std::string_view name() const override { return "matching"; }
    void AddRoutes(RouteTable& routes) override {
      routes.Add("POST", "/api/v1/match", handler_, {.lane = Lane::kWork, .rate_limited = true});
    }

   private:
    RouteHandler handler_;
  };
  Platform platform(**store, {.run_jobs = false, .heavy_in_flight_per_user = 1});
  platform.Add(
      std::make_unique<SlowMatch>([&](const http::Request&, const store::User&, const PathParams&) {
        std::unique_lock lock(mutex);
        ++running;
        changed.notify_all();
        changed.wait(lock, [&] { return release; });
        --running;
        return http::Response{};
      }));
  ASSERT_TRUE(platform.Start().ok());
  store::User alice, bob;
  alice.id = 1;
  bob.id = 2;
  const http::Request match = MakeRequest("POST", "/api/v1/match");
  std::thread first([&] { EXPECT_EQ(platform.Dispatch(match, alice).status, 200); });
  {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return running == 1; });
  }
  http::Response refused = platform.Dispatch(match, alice);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.headers.Get("Retry-After"), "1");
  EXPECT_NE(refused.body.find("heavy_in_flight_per_user"), std::string::npos) << refused.body;
  std::thread second([&] { EXPECT_EQ(platform.Dispatch(match, bob).status, 200); });
  {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return running == 2; });
    release = true;
    changed.notify_all();
  }
  first.join();
  second.join();
  // Answered: alice may send the next one.
  EXPECT_EQ(platform.Dispatch(match, alice).status, 200);
  platform.Stop();
}

TEST(Platform, NoRateLimitByDefault) {
  std::string path = testing::TempDir() + "/heavy-routes-default.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  auto store = store::OpenSqliteStore(path);
  ASSERT_TRUE(store.ok());
  Platform platform(**store, {.run_jobs = false});
  platform.Add(std::make_unique<MatchModule>());
  ASSERT_TRUE(platform.Start().ok());
  store::User user;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(platform.Dispatch(MakeRequest("POST", "/api/v1/match"), user).status, 200);
  }
}

}  // namespace
}  // namespace kizuna::platform
