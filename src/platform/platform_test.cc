#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "platform/jobs.h"
#include "platform/module.h"
#include "platform/route_table.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/support/manual_clock.h"

namespace kizuna::platform {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;

constexpr int64_t kHour = 3600LL * 1000 * 1000;
constexpr int64_t kMinute = 60LL * 1000 * 1000;

http::Request MakeRequest(std::string method, std::string path) {
  http::Request request;
  request.method = std::move(method);
  request.path = request.target = std::move(path);
  return request;
}

// A handler answering "<tag> <param>=<value>…", so tests see which route ran.
RouteHandler Echo(std::string tag) {
  return [tag](const http::Request&, const store::User&, const PathParams& params) {
    http::Response response;
    response.body = tag;
    for (const auto& [name, value] : params.values()) response.body += " " + name + "=" + value;
    return response;
  };
}

// ---------------------------------------------------------------- RouteTable

TEST(RouteTable, LiteralsAndParams) {
  RouteTable routes;
  routes.Add("GET", "/api/v1/users", Echo("list"));
  routes.Add("GET", "/api/v1/users/{id}", Echo("user"));
  routes.Add("GET", "/api/v1/users/{id}/keys", Echo("keys"));
  routes.Add("DELETE", "/api/v1/users/{id}/keys/{key}", Echo("revoke"));
  ASSERT_TRUE(routes.status().ok()) << routes.status().ToString();
  store::User user;
  struct Case {
    std::string method, path, body;
  } cases[] = {
      {"GET", "/api/v1/users", "list"},
      {"GET", "/api/v1/users/", "list"},  // empty segments are ignored
      {"GET", "/api/v1//users", "list"},
      {"GET", "/api/v1/users/42", "user id=42"},
      {"GET", "/api/v1/users/42/keys", "keys id=42"},
      {"GET", "/api/v1/users/42/keys/", "keys id=42"},
      {"DELETE", "/api/v1/users/7/keys/abc", "revoke id=7 key=abc"},
  };
  for (const Case& c : cases) {
    http::Response response = routes.Dispatch(MakeRequest(c.method, c.path), user);
    EXPECT_EQ(response.status, 200) << c.method << " " << c.path;
    EXPECT_EQ(response.body, c.body) << c.method << " " << c.path;
  }
}

TEST(RouteTable, UnknownPathIs404) {
  RouteTable routes;
  routes.Add("GET", "/api/v1/users/{id}", Echo("user"));
  store::User user;
  for (std::string path : {"/api/v1/nothing", "/api/v1/users", "/api/v1/users/1/keys", "/", ""}) {
    http::Response response = routes.Dispatch(MakeRequest("GET", path), user);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_NE(response.body.find("\"no such endpoint\""), std::string::npos) << response.body;
    EXPECT_FALSE(routes.Handles(path)) << path;
  }
  EXPECT_TRUE(routes.Handles("/api/v1/users/1"));
}

TEST(RouteTable, WrongMethodIs405WithAllow) {
  RouteTable routes;
  routes.Add("POST", "/api/v1/users", Echo("create"));
  routes.Add("GET", "/api/v1/users", Echo("list"));
  routes.Add("DELETE", "/api/v1/users/{id}", Echo("delete"));
  store::User user;
  http::Response response = routes.Dispatch(MakeRequest("PUT", "/api/v1/users"), user);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers.Get("Allow"), "GET, POST");
  EXPECT_NE(response.body.find("not allowed on this endpoint"), std::string::npos) << response.body;
  EXPECT_EQ(response.headers.Get("Content-Type"), "application/taxii+json;version=2.1");
  // HEAD is not implied by GET.
  EXPECT_EQ(routes.Dispatch(MakeRequest("HEAD", "/api/v1/users"), user).status, 405);
  response = routes.Dispatch(MakeRequest("GET", "/api/v1/users/3"), user);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers.Get("Allow"), "DELETE");
  EXPECT_EQ(routes.AllowedMethods("/api/v1/users/"), (std::vector<std::string>{"GET", "POST"}));
}

TEST(RouteTable, MostSpecificRouteWins) {
  RouteTable routes;
  routes.Add("GET", "/api/v1/users/{id}", Echo("param"));
  routes.Add("GET", "/api/v1/users/me", Echo("literal"));
  routes.Add("DELETE", "/api/v1/users/{id}", Echo("delete"));
  routes.Add("GET", "/api/v1/{rest...}", Echo("rest"));
  ASSERT_TRUE(routes.status().ok()) << routes.status().ToString();
  store::User user;
  EXPECT_EQ(routes.Dispatch(MakeRequest("GET", "/api/v1/users/me"), user).body, "literal");
  EXPECT_EQ(routes.Dispatch(MakeRequest("GET", "/api/v1/users/5"), user).body, "param id=5");
  // The literal has no DELETE: the parameter route with one serves it.
  EXPECT_EQ(routes.Dispatch(MakeRequest("DELETE", "/api/v1/users/me"), user).body, "delete id=me");
  EXPECT_EQ(routes.Dispatch(MakeRequest("GET", "/api/v1/users"), user).body, "rest rest=users");
  EXPECT_EQ(routes.Dispatch(MakeRequest("GET", "/api/v1/users/5/x"), user).body,
            "rest rest=users/5/x");
}

TEST(RouteTable, CatchAllTakesTheRestOfThePath) {
  RouteTable routes;
  routes.Add("GET", "/taxii2/{rest...}", Echo("taxii"));
  routes.Add("GET", "/taxii2/{root}/collections/{id}/objects/{rest...}", Echo("objects"));
  ASSERT_TRUE(routes.status().ok()) << routes.status().ToString();
  store::User user;
  EXPECT_EQ(routes.Dispatch(MakeRequest("GET", "/taxii2/"), user).body, "taxii rest=");
  EXPECT_EQ(routes.Dispatch(MakeRequest("GET", "/taxii2"), user).body, "taxii rest=");
  EXPECT_EQ(routes.Dispatch(MakeRequest("GET", "/taxii2/a/b/"), user).body, "taxii rest=a/b");
  EXPECT_EQ(
      routes.Dispatch(MakeRequest("GET", "/taxii2/r/collections/c/objects/o/versions/"), user).body,
      "objects root=r id=c rest=o/versions");
  EXPECT_EQ(routes.Dispatch(MakeRequest("GET", "/taxii2/r/collections/c/objects/"), user).body,
            "objects root=r id=c rest=");
  EXPECT_FALSE(routes.Handles("/taxii"));
}

TEST(RouteTable, BadRegistrationsAreRecordedAndDropped) {
  struct Case {
    std::string method, pattern;
    Code code;
  } cases[] = {
      {"GET", "api/v1/x", Code::kInvalidArgument},       // not absolute
      {"GET", "", Code::kInvalidArgument},               // empty
      {"", "/api/v1/x", Code::kInvalidArgument},         // no method
      {"GET", "/api/v1/{}", Code::kInvalidArgument},     // no name
      {"GET", "/api/v1/{a-b}", Code::kInvalidArgument},  // bad name
      {"GET", "/api/v1/{id", Code::kInvalidArgument},    // unclosed
      {"GET", "/api/v1/x{id}", Code::kInvalidArgument},  // brace inside a segment
      {"GET", "/api/v1/{id}/{id}", Code::kInvalidArgument},
      {"GET", "/api/v1/{rest...}/x", Code::kInvalidArgument},
      {"GET", "/api/v1/users/{other}", Code::kAlreadyExists},  // same shape as {id}
      {"GET", "/api/v1//users/{id}/", Code::kAlreadyExists},
  };
  for (const Case& c : cases) {
    RouteTable routes;
    routes.Add("GET", "/api/v1/users/{id}", Echo("first"));
    ASSERT_TRUE(routes.status().ok());
    routes.Add(c.method, c.pattern, Echo("second"));
    EXPECT_EQ(routes.status().code(), c.code) << c.method << " " << c.pattern;
    EXPECT_NE(routes.status().message().find(c.pattern), std::string::npos)
        << routes.status().message();
    EXPECT_EQ(routes.size(), 1u) << c.pattern;
    // A later good registration does not hide the first error.
    routes.Add("GET", "/api/v1/fine", Echo("fine"));
    EXPECT_EQ(routes.status().code(), c.code);
    store::User user;
    EXPECT_EQ(routes.Dispatch(MakeRequest("GET", "/api/v1/users/1"), user).body, "first id=1");
  }
  RouteTable routes;
  routes.Add("GET", "/x", nullptr);
  EXPECT_EQ(routes.status().code(), Code::kInvalidArgument);
  // The same pattern with another method is no duplicate.
  RouteTable methods;
  methods.Add("GET", "/x/{id}", Echo("get"));
  methods.Add("PUT", "/x/{id}", Echo("put"));
  EXPECT_TRUE(methods.status().ok());
  EXPECT_EQ(methods.Describe(), (std::vector<std::string>{"GET /x/{id}", "PUT /x/{id}"}));
}

TEST(RouteTable, HandlerSeesRequestAndUser) {
  RouteTable routes;
  routes.Add("POST", "/api/v1/echo",
             [](const http::Request& request, const store::User& user, const PathParams&) {
               http::Response response;
               response.status = 201;
               response.body = user.name + ":" + request.body;
               return response;
             });
  store::User user;
  user.name = "alice";
  http::Request request = MakeRequest("POST", "/api/v1/echo");
  request.body = "hello";
  http::Response response = routes.Dispatch(request, user);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, "alice:hello");
}

TEST(RouteTable, ConcurrentDispatch) {
  RouteTable routes;
  for (int i = 0; i < 20; ++i) {
    routes.Add("GET", "/api/v1/m" + std::to_string(i) + "/{id}", Echo(std::to_string(i)));
  }
  ASSERT_TRUE(routes.status().ok());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      store::User user;
      for (int n = 0; n < 2000; ++n) {
        int i = (n + t) % 20;
        auto response = routes.Dispatch(
            MakeRequest("GET", "/api/v1/m" + std::to_string(i) + "/" + std::to_string(n)), user);
        if (response.body != std::to_string(i) + " id=" + std::to_string(n)) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

// ---------------------------------------------------------------- store, clock

using FakeClock = test_support::ManualClock;

// A fresh SQLite store in the test's temporary directory.
std::unique_ptr<store::Store> OpenStore(const std::string& name) {
  std::string path = testing::TempDir() + "/platform-test-" + name + ".db";
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  auto opened = store::OpenSqliteStore(path);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(*opened) : nullptr;
}

std::unique_ptr<store::Store> ReopenStore(const std::string& name) {
  auto opened = store::OpenSqliteStore(testing::TempDir() + "/platform-test-" + name + ".db");
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(*opened) : nullptr;
}

// ---------------------------------------------------------------- modules

// Records what the platform asks of it in a shared log.
class RecordingModule : public Module {
 public:
  RecordingModule(std::string name, std::vector<std::string>* log, bool fail_start = false)
      : name_(std::move(name)), log_(log), fail_start_(fail_start) {}

  std::string_view name() const override { return name_; }
  void AddRoutes(RouteTable& routes) override {
    log_->push_back("routes " + name_);
    routes.Add("GET", "/api/v1/" + name_ + "/{id}", Echo(name_));
  }
  void AddCommands(CLI::App& app, int* exit_code) override {
    CLI::App* command = app.add_subcommand(name_, "the " + name_ + " module");
    command->callback([this, exit_code] {
      log_->push_back("command " + name_);
      *exit_code = 3;
    });
  }
  std::vector<Job> Jobs() override {
    log_->push_back("jobs " + name_);
    return {Job{.module = "", .name = "tick", .period = hours(1), .run = [this] {
                  log_->push_back("tick " + name_);
                  return Status::Ok();
                }}};
  }
  Status Start() override {
    log_->push_back("start " + name_);
    if (fail_start_) return Unavailable("no " + name_ + " today");
    return Status::Ok();
  }
  void Stop() override { log_->push_back("stop " + name_); }

 private:
  const std::string name_;
  std::vector<std::string>* log_;
  const bool fail_start_;
};

TEST(Platform, StartsInOrderAndStopsInReverse) {
  auto store = OpenStore("platform-order");
  ASSERT_TRUE(store);
  FakeClock clock(100 * kHour);
  std::vector<std::string> log;
  {
    Platform platform(*store, {.clock = &clock, .run_jobs = false});
    platform.Add(std::make_unique<RecordingModule>("alpha", &log));
    platform.Add(std::make_unique<RecordingModule>("beta", &log));
    platform.Add(std::make_unique<RecordingModule>("gamma", &log));
    ASSERT_TRUE(platform.Start().ok());
    EXPECT_EQ(log, (std::vector<std::string>{"routes alpha", "routes beta", "routes gamma",
                                             "jobs alpha", "jobs beta", "jobs gamma", "start alpha",
                                             "start beta", "start gamma"}));
    store::User user;
    EXPECT_EQ(platform.Dispatch(MakeRequest("GET", "/api/v1/beta/9"), user).body, "beta id=9");
    EXPECT_EQ(platform.routes().size(), 3u);
    // The modules' jobs are the scheduler's, under the module's name.
    log.clear();
    EXPECT_EQ(platform.scheduler().RunDue(), 3);
    EXPECT_EQ(log, (std::vector<std::string>{"tick alpha", "tick beta", "tick gamma"}));
    EXPECT_TRUE(platform.scheduler().LastRun("gamma", "tick").has_value());
    EXPECT_EQ(platform.Start().code(), Code::kFailedPrecondition);
    log.clear();
    platform.Stop();
    EXPECT_EQ(log, (std::vector<std::string>{"stop gamma", "stop beta", "stop alpha"}));
    log.clear();
    platform.Stop();  // idempotent; the destructor stops nothing twice either
  }
  EXPECT_TRUE(log.empty());
}

TEST(Platform, StartFailureStopsTheStartedOnes) {
  auto store = OpenStore("platform-failure");
  ASSERT_TRUE(store);
  std::vector<std::string> log;
  Platform platform(*store, {.run_jobs = false});
  platform.Add(std::make_unique<RecordingModule>("alpha", &log));
  platform.Add(std::make_unique<RecordingModule>("beta", &log));
  platform.Add(std::make_unique<RecordingModule>("gamma", &log, /*fail_start=*/true));
  platform.Add(std::make_unique<RecordingModule>("delta", &log));
  Status started = platform.Start();
  EXPECT_EQ(started.code(), Code::kUnavailable);
  EXPECT_NE(started.message().find("gamma"), std::string::npos) << started.message();
  EXPECT_NE(started.message().find("no gamma today"), std::string::npos) << started.message();
  std::vector<std::string> lifecycle;
  for (const std::string& entry : log) {
    if (entry.rfind("start", 0) == 0 || entry.rfind("stop", 0) == 0) lifecycle.push_back(entry);
  }
  EXPECT_EQ(lifecycle, (std::vector<std::string>{"start alpha", "start beta", "start gamma",
                                                 "stop beta", "stop alpha"}));
  log.clear();
  platform.Stop();
  EXPECT_TRUE(log.empty()) << "nothing is stopped twice";
}

TEST(Platform, RegistrationErrorsStartNothing) {
  auto store = OpenStore("platform-registration");
  ASSERT_TRUE(store);
  {
    std::vector<std::string> log;
    Platform platform(*store, {.run_jobs = false});
    platform.Add(std::make_unique<RecordingModule>("alpha", &log));
    platform.Add(std::make_unique<RecordingModule>("alpha", &log));
    EXPECT_EQ(platform.Start().code(), Code::kAlreadyExists);
    EXPECT_TRUE(log.empty());
  }
  {
    std::vector<std::string> log;
    Platform platform(*store, {.run_jobs = false});
    platform.Add(std::make_unique<RecordingModule>("Bad Name", &log));
    EXPECT_EQ(platform.Start().code(), Code::kInvalidArgument);
  }
  {
    // Two modules claiming one route: the second is named in the error.
    class Intruder : public Module {
     public:
      std::string_view name() const override { return "intruder"; }
      void AddRoutes(RouteTable& routes) override {
        routes.Add("GET", "/api/v1/alpha/{x}", Echo("intruder"));
      }
      Status Start() override {
        ADD_FAILURE() << "must not start";
        return Status::Ok();
      }
    };
    std::vector<std::string> log;
    Platform platform(*store, {.run_jobs = false});
    platform.Add(std::make_unique<RecordingModule>("alpha", &log));
    platform.Add(std::make_unique<Intruder>());
    Status started = platform.Start();
    EXPECT_EQ(started.code(), Code::kAlreadyExists);
    EXPECT_EQ(started.message().rfind("module intruder: ", 0), 0u) << started.message();
    for (const std::string& entry : log) EXPECT_NE(entry.rfind("start", 0), 0u) << entry;
  }
}

TEST(Platform, CommandsWithoutStart) {
  auto store = OpenStore("platform-commands");
  ASSERT_TRUE(store);
  std::vector<std::string> log;
  Platform platform(*store);
  platform.Add(std::make_unique<RecordingModule>("alpha", &log));
  platform.Add(std::make_unique<RecordingModule>("beta", &log));
  CLI::App app("kizuna");
  int exit_code = 0;
  platform.AddCommands(app, &exit_code);
  const char* argv[] = {"kizuna", "beta"};
  app.parse(2, argv);
  EXPECT_EQ(exit_code, 3);
  EXPECT_EQ(log, (std::vector<std::string>{"command beta"}));
}

// ---------------------------------------------------------------- config sections

// A capability with a section of its own, as a telescope would have:
//   [sensorish]
//   interval_seconds = 60
//   prefixes = ["192.0.2.0/24"]
//   [[sensorish.sensor]]
//   name = "tokyo"
class SectionModule : public Module {
 public:
  std::string_view name() const override { return "sensorish"; }
  Status Configure(node::ConfigSection& section) override {
    present = section.present();
    section.Integer("interval_seconds", &interval_seconds, 1, 3600);
    section.StringList("prefixes", &prefixes);
    for (node::ConfigSection& sensor : section.Tables("sensor")) {
      std::string sensor_name;
      sensor.String("name", &sensor_name);
      if (sensor_name.empty()) sensor.Fail("name", "a sensor needs a name");
      sensor.RejectUnknown();
      sensors.push_back(sensor_name);
    }
    return section.status();
  }
  Status Start() override {
    started = true;
    return Status::Ok();
  }

  bool present = false;
  bool started = false;
  int interval_seconds = 60;
  std::vector<std::string> prefixes;
  std::vector<std::string> sensors;
};

Result<node::NodeConfig> ConfigWith(const std::string& sections) {
  return node::ParseConfig("name = \"cert-x\"\n" + sections, "kizuna.toml");
}

TEST(Platform, ModuleReadsItsOwnSection) {
  auto config = ConfigWith(
      "[sensorish]\ninterval_seconds = 300\nprefixes = [\"192.0.2.0/24\", \"2001:db8::/32\"]\n"
      "[[sensorish.sensor]]\nname = \"tokyo\"\n[[sensorish.sensor]]\nname = \"madrid\"\n"
      "[server]\nthreads = 2\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server.threads, 2);  // the node's own sections are still typed
  ASSERT_EQ(config->sections.count("sensorish"), 1u);

  auto store = OpenStore("platform-section");
  ASSERT_TRUE(store);
  Platform platform(*store, {.run_jobs = false});
  SectionModule& module = platform.Add(std::make_unique<SectionModule>());
  ASSERT_TRUE(platform.Configure(*config, "kizuna.toml").ok());
  EXPECT_TRUE(module.present);
  EXPECT_EQ(module.interval_seconds, 300);
  EXPECT_EQ(module.prefixes, (std::vector<std::string>{"192.0.2.0/24", "2001:db8::/32"}));
  EXPECT_EQ(module.sensors, (std::vector<std::string>{"tokyo", "madrid"}));
  ASSERT_TRUE(platform.Start().ok());
  EXPECT_TRUE(module.started);
}

TEST(Platform, AbsentSectionLeavesTheDefaults) {
  auto config = ConfigWith("");
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->sections.empty());
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(std::make_unique<SectionModule>());
  ASSERT_TRUE(ConfigureModules(modules, *config, "kizuna.toml").ok());
  auto& module = static_cast<SectionModule&>(*modules[0]);
  EXPECT_FALSE(module.present);
  EXPECT_EQ(module.interval_seconds, 60);
  EXPECT_TRUE(module.sensors.empty());
}

TEST(Platform, BadSectionsAreOneClearError) {
  struct Case {
    std::string toml;
    std::string expected;
  } cases[] = {
      {"[sensorish]\ninterval_seconds = 0\n",
       "kizuna.toml: sensorish.interval_seconds: must be between 1 and 3600, got 0"},
      {"[sensorish]\ninterval_seconds = \"1m\"\n",
       "kizuna.toml: sensorish.interval_seconds: expected an integer"},
      {"[sensorish]\nintervall_seconds = 30\n",
       "kizuna.toml: sensorish.intervall_seconds: unknown key"},
      {"[sensorish]\nprefixes = [1, 2]\n",
       "kizuna.toml: sensorish.prefixes: expected a list of strings"},
      {"[sensorish]\nsensor = 5\n",
       "kizuna.toml: sensorish.sensor: expected [[sensorish.sensor]] tables"},
      {"[[sensorish.sensor]]\nname = \"\"\n",
       "kizuna.toml: sensorish.sensor[0].name: a sensor needs a name"},
      {"[[sensorish.sensor]]\nname = \"a\"\nport = 1\n",
       "kizuna.toml: sensorish.sensor[1].port: unknown key"},
      // A section no module is named after: a typo is an error, not ignored.
      {"[sensorsh]\ninterval_seconds = 30\n",
       "kizuna.toml: [sensorsh]: unknown section (the node's modules are: quiet, sensorish)"},
      // A module that reads no section refuses keys in one.
      {"[quiet]\nlevel = 3\n", "kizuna.toml: quiet.level: unknown key"},
  };
  // The [[…sensor]] case with index 1 has one good sensor before it.
  cases[6].toml = "[[sensorish.sensor]]\nname = \"ok\"\n" + cases[6].toml;
  class QuietModule : public Module {
    std::string_view name() const override { return "quiet"; }
  };
  for (const Case& c : cases) {
    auto config = ConfigWith(c.toml);
    ASSERT_TRUE(config.ok()) << c.toml << " -> " << config.status().ToString();
    auto store = OpenStore("platform-bad-section");
    ASSERT_TRUE(store);
    Platform platform(*store, {.run_jobs = false});
    platform.Add(std::make_unique<QuietModule>());
    SectionModule& module = platform.Add(std::make_unique<SectionModule>());
    Status configured = platform.Configure(*config, "kizuna.toml");
    EXPECT_EQ(configured.code(), Code::kInvalidArgument) << c.toml;
    EXPECT_EQ(configured.message(), c.expected) << c.toml;
    EXPECT_FALSE(module.started);
  }
}

// ---------------------------------------------------------------- JobScheduler

// A job that counts its runs and fails while `*fail` is set.
Job CountingJob(std::string name, int64_t period, std::atomic<int>* runs,
                std::atomic<bool>* fail = nullptr) {
  Job job;
  job.module = "test";
  job.name = std::move(name);
  job.period = microseconds(period);
  job.retry_after = minutes(1);
  job.run = [runs, fail] {
    ++*runs;
    if (fail && *fail) return Unavailable("the feed is down");
    return Status::Ok();
  };
  return job;
}

TEST(JobScheduler, DueJobRunsOnceThenWaitsForItsPeriod) {
  auto store = OpenStore("jobs-period");
  ASSERT_TRUE(store);
  FakeClock clock(1000 * kHour);
  JobScheduler scheduler(*store, clock);
  std::atomic<int> runs{0};
  ASSERT_TRUE(scheduler.Add(CountingJob("hourly", kHour, &runs)).ok());
  EXPECT_FALSE(scheduler.LastRun("test", "hourly"));
  EXPECT_EQ(scheduler.RunDue(), 1) << "a job that never ran is due at once";
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(scheduler.RunDue(), 0);
  clock.Advance(kHour - 1);
  EXPECT_EQ(scheduler.RunDue(), 0);
  EXPECT_EQ(runs, 1);
  clock.Advance(1);
  EXPECT_EQ(scheduler.RunDue(), 1);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(scheduler.LastRun("test", "hourly"), 1001 * kHour);
  EXPECT_EQ(scheduler.NextDue("test", "hourly"), 1002 * kHour);
  auto stored = store->GetMeta("job:test:hourly:last_run");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, std::to_string(1001 * kHour));
  EXPECT_FALSE(scheduler.NextDue("test", "nothing"));
}

TEST(JobScheduler, PersistedLastRunIsRespectedAfterRestart) {
  const std::string name = "jobs-restart";
  FakeClock clock(1000 * kHour);
  std::atomic<int> runs{0};
  {
    auto store = OpenStore(name);
    ASSERT_TRUE(store);
    JobScheduler scheduler(*store, clock);
    ASSERT_TRUE(scheduler.Add(CountingJob("daily", 24 * kHour, &runs)).ok());
    EXPECT_EQ(scheduler.RunDue(), 1);
  }
  // The node restarts ten hours later: the daily job is not repeated...
  clock.Advance(10 * kHour);
  {
    auto store = ReopenStore(name);
    ASSERT_TRUE(store);
    JobScheduler scheduler(*store, clock);
    ASSERT_TRUE(scheduler.Add(CountingJob("daily", 24 * kHour, &runs)).ok());
    EXPECT_EQ(scheduler.LastRun("test", "daily"), 1000 * kHour);
    EXPECT_EQ(scheduler.NextDue("test", "daily"), 1024 * kHour);
    EXPECT_EQ(scheduler.RunDue(), 0);
    EXPECT_EQ(runs, 1);
    // ...nor skipped: it runs when its day is over.
    clock.Advance(14 * kHour);
    EXPECT_EQ(scheduler.RunDue(), 1);
    EXPECT_EQ(runs, 2);
  }
}

TEST(JobScheduler, JobMissedOverSeveralPeriodsRunsOnce) {
  const std::string name = "jobs-missed";
  FakeClock clock(1000 * kHour);
  std::atomic<int> runs{0};
  {
    auto store = OpenStore(name);
    ASSERT_TRUE(store);
    JobScheduler scheduler(*store, clock);
    ASSERT_TRUE(scheduler.Add(CountingJob("hourly", kHour, &runs)).ok());
    EXPECT_EQ(scheduler.RunDue(), 1);
  }
  // Down for five and a half periods.
  clock.Advance(5 * kHour + 30 * kMinute);
  auto store = ReopenStore(name);
  ASSERT_TRUE(store);
  JobScheduler scheduler(*store, clock);
  ASSERT_TRUE(scheduler.Add(CountingJob("hourly", kHour, &runs)).ok());
  EXPECT_EQ(scheduler.RunDue(), 1);
  EXPECT_EQ(scheduler.RunDue(), 0);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(scheduler.NextDue("test", "hourly"), clock.NowMicros() + kHour)
      << "the next run is one period after the catch-up, not on the old grid";
}

TEST(JobScheduler, FailingJobIsRetriedWithBackoffAndNotPersisted) {
  auto store = OpenStore("jobs-failure");
  ASSERT_TRUE(store);
  FakeClock clock(1000 * kHour);
  JobScheduler scheduler(*store, clock);
  std::atomic<int> runs{0};
  std::atomic<bool> fail{true};
  ASSERT_TRUE(scheduler.Add(CountingJob("feed", 10 * kMinute, &runs, &fail)).ok());
  EXPECT_EQ(scheduler.RunDue(), 1);
  EXPECT_FALSE(scheduler.LastRun("test", "feed"));
  auto stored = store->GetMeta("job:test:feed:last_run");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value()) << "a failed run is not a last run";
  // Retried after 1, then 2, 4, 8 minutes, then capped at the period (10).
  for (int64_t wait : {1, 2, 4, 8, 10, 10}) {
    EXPECT_EQ(scheduler.NextDue("test", "feed"), clock.NowMicros() + wait * kMinute) << wait;
    clock.Advance(wait * kMinute - 1);
    EXPECT_EQ(scheduler.RunDue(), 0) << wait;
    clock.Advance(1);
    EXPECT_EQ(scheduler.RunDue(), 1) << wait;
  }
  EXPECT_EQ(runs, 7);
  fail = false;
  clock.Advance(10 * kMinute);
  EXPECT_EQ(scheduler.RunDue(), 1);
  EXPECT_EQ(scheduler.LastRun("test", "feed"), clock.NowMicros());
  EXPECT_EQ(scheduler.NextDue("test", "feed"), clock.NowMicros() + 10 * kMinute);
  // After a success the backoff starts over.
  fail = true;
  clock.Advance(10 * kMinute);
  EXPECT_EQ(scheduler.RunDue(), 1);
  EXPECT_EQ(scheduler.NextDue("test", "feed"), clock.NowMicros() + kMinute);
}

TEST(JobScheduler, ThrowingJobCountsAsFailed) {
  auto store = OpenStore("jobs-throw");
  ASSERT_TRUE(store);
  FakeClock clock(1000 * kHour);
  JobScheduler scheduler(*store, clock);
  int runs = 0;
  ASSERT_TRUE(scheduler
                  .Add(Job{.module = "test",
                           .name = "throws",
                           .period = hours(1),
                           .run = [&]() -> Status {
                             ++runs;
                             throw std::runtime_error("boom");
                           }})
                  .ok());
  EXPECT_EQ(scheduler.RunDue(), 1);
  EXPECT_FALSE(scheduler.LastRun("test", "throws"));
  EXPECT_EQ(scheduler.NextDue("test", "throws"), clock.NowMicros() + kMinute);
}

TEST(JobScheduler, RejectsBadJobs) {
  auto store = OpenStore("jobs-bad");
  ASSERT_TRUE(store);
  FakeClock clock(1000 * kHour);
  JobScheduler scheduler(*store, clock);
  std::atomic<int> runs{0};
  ASSERT_TRUE(scheduler.Add(CountingJob("ok", kHour, &runs)).ok());
  EXPECT_EQ(scheduler.Add(CountingJob("ok", kHour, &runs)).code(), Code::kAlreadyExists);
  EXPECT_EQ(scheduler.Add(CountingJob("", kHour, &runs)).code(), Code::kInvalidArgument);
  EXPECT_EQ(scheduler.Add(CountingJob("a:b", kHour, &runs)).code(), Code::kInvalidArgument);
  EXPECT_EQ(scheduler.Add(CountingJob("zero", 0, &runs)).code(), Code::kInvalidArgument);
  Job no_module = CountingJob("x", kHour, &runs);
  no_module.module.clear();
  EXPECT_EQ(scheduler.Add(no_module).code(), Code::kInvalidArgument);
  Job no_run = CountingJob("y", kHour, &runs);
  no_run.run = nullptr;
  EXPECT_EQ(scheduler.Add(no_run).code(), Code::kInvalidArgument);
}

TEST(JobScheduler, OddPersistedValues) {
  auto store = OpenStore("jobs-odd");
  ASSERT_TRUE(store);
  FakeClock clock(1000 * kHour);
  // Unreadable: as if it never ran. In the future (clock set back): as if
  // it ran now.
  ASSERT_TRUE(store->SetMeta(JobLastRunKey("test", "garbled"), "yesterday").ok());
  ASSERT_TRUE(store->SetMeta(JobLastRunKey("test", "future"), std::to_string(5000 * kHour)).ok());
  JobScheduler scheduler(*store, clock);
  std::atomic<int> runs{0};
  ASSERT_TRUE(scheduler.Add(CountingJob("garbled", kHour, &runs)).ok());
  ASSERT_TRUE(scheduler.Add(CountingJob("future", kHour, &runs)).ok());
  EXPECT_EQ(scheduler.NextDue("test", "garbled"), 1000 * kHour);
  EXPECT_EQ(scheduler.NextDue("test", "future"), 1001 * kHour);
  EXPECT_EQ(scheduler.RunDue(), 1);
}

TEST(JobScheduler, BackgroundThreadRunsDueJobsAndStopsPromptly) {
  auto store = OpenStore("jobs-thread");
  ASSERT_TRUE(store);
  JobScheduler scheduler(*store);  // the system clock
  std::mutex mutex;
  std::condition_variable ran;
  int runs = 0;
  auto job = [&](std::string name) {
    return Job{.module = "test", .name = std::move(name), .period = hours(1), .run = [&] {
                 std::lock_guard lock(mutex);
                 ++runs;
                 ran.notify_all();
                 return Status::Ok();
               }};
  };
  ASSERT_TRUE(scheduler.Add(job("first")).ok());
  scheduler.Start();
  scheduler.Start();  // no-op
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(ran.wait_for(lock, std::chrono::seconds(10), [&] { return runs == 1; }));
  }
  // A job added while the thread sleeps (for an hour) wakes it.
  ASSERT_TRUE(scheduler.Add(job("second")).ok());
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(ran.wait_for(lock, std::chrono::seconds(10), [&] { return runs == 2; }));
  }
  // Stop wakes the thread, which sleeps for an hour: a bound far below that
  // (a hang detector, not a speed claim).
  auto before = std::chrono::steady_clock::now();
  scheduler.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(30));
  scheduler.Stop();  // idempotent
  std::lock_guard lock(mutex);
  EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace kizuna::platform
