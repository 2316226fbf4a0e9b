// Requests on the server's worker lanes (ServerOptions::lanes, lane_of):
// they do not hold the I/O threads, a busy lane does not hold up another, a
// lane's full queue answers 503 with Retry-After (that lane only), Lanes()
// tells what each lane is doing, and Stop() ends cleanly with requests
// still queued or running.
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/eventually.h"

#include "http/http.h"

namespace kizuna::http {
namespace {

// Heavy requests wait here until the test opens it.
class Gate {
 public:
  void Wait() { opened_.wait(false); }
  void Open() {
    opened_ = true;
    opened_.notify_all();
  }

 private:
  std::atomic<bool> opened_{false};
};

using test_support::Eventually;

// Two lanes: "/heavy" on lane 0 ("work", held at `gate`), "/import" on
// lane 1 ("import", held at `import_gate`); anything else on the I/O thread.
struct Fixture {
  Gate gate;
  Gate import_gate;
  std::atomic<int> heavy_started{0};
  std::atomic<int> heavy_done{0};
  std::atomic<int> imports_started{0};
  std::unique_ptr<Server> server;

  explicit Fixture(int io_threads, int workers, size_t queue, int import_workers = 1,
                   size_t import_queue = 4) {
    ServerOptions options;
    options.threads = io_threads;
    options.lanes = {{.name = "work", .threads = workers, .queue = queue},
                     {.name = "import", .threads = import_workers, .queue = import_queue}};
    options.busy_retry_after_seconds = 3;
    options.lane_of = [](const Request& request) {
      if (request.path == "/heavy") return 0;
      if (request.path == "/import") return 1;
      return -1;
    };
    auto started = Server::Start(options, [this](const Request& request) {
      Response response;
      response.headers.Set("Content-Type", "text/plain");
      if (request.path == "/heavy") {
        ++heavy_started;
        gate.Wait();
        ++heavy_done;
        response.body = "heavy";
      } else if (request.path == "/import") {
        ++imports_started;
        import_gate.Wait();
        response.body = "imported";
      } else {
        response.body = "light";
      }
      return response;
    });
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (started.ok()) server = std::move(started).value();
  }
  ~Fixture() {
    gate.Open();  // also when an assertion failed midway
    import_gate.Open();
    if (server) server->Stop();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + path;
  }
  // A GET on its own thread and connection.
  std::future<Result<Response>> SendAsync(const std::string& path) {
    return std::async(std::launch::async, [this, path] {
      Client client;
      return client.Send("GET", Url(path));
    });
  }
  std::future<Result<Response>> SendHeavy() { return SendAsync("/heavy"); }
};

bool Ready(std::future<Result<Response>>& answer) {
  return answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

TEST(HeavyRequests, DoNotHoldTheIoThread) {
  // One I/O thread: were the heavy handler run on it, the light GET would wait.
  Fixture f(/*io_threads=*/1, /*workers=*/2, /*queue=*/4);
  ASSERT_TRUE(f.server);
  auto first = f.SendHeavy();
  auto second = f.SendHeavy();
  ASSERT_TRUE(Eventually([&] { return f.heavy_started == 2; }));
  Client client;
  auto light = client.Send("GET", f.Url("/light"));
  ASSERT_TRUE(light.ok()) << light.status().ToString();
  EXPECT_EQ(light->status, 200);
  EXPECT_EQ(light->body, "light");
  f.gate.Open();
  for (auto* pending : {&first, &second}) {
    auto answer = pending->get();
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, "heavy");
  }
}

TEST(HeavyRequests, AFullQueueAnswers503WithRetryAfter) {
  Fixture f(/*io_threads=*/2, /*workers=*/1, /*queue=*/1);
  ASSERT_TRUE(f.server);
  auto running = f.SendHeavy();
  ASSERT_TRUE(Eventually([&] { return f.heavy_started == 1; }));
  // Three more: one waits in the queue, the other two are refused at once.
  std::vector<std::future<Result<Response>>> more;
  for (int i = 0; i < 3; ++i) more.push_back(f.SendHeavy());
  ASSERT_TRUE(Eventually([&] {
    int n = 0;
    for (auto& answer : more) n += Ready(answer) ? 1 : 0;
    return n == 2;
  }));
  for (auto& answer : more) {
    if (!Ready(answer)) continue;
    Result<Response> refused = answer.get();
    ASSERT_TRUE(refused.ok()) << refused.status().ToString();
    EXPECT_EQ(refused->status, 503);
    EXPECT_EQ(refused->headers.Get("Retry-After"), "3");
    EXPECT_NE(refused->body.find("busy"), std::string::npos) << refused->body;
    EXPECT_NE(refused->body.find("'work'"), std::string::npos)
        << "names the lane: " << refused->body;
  }
  // Light requests are still served meanwhile.
  Client client;
  auto light = client.Send("GET", f.Url("/light"));
  ASSERT_TRUE(light.ok());
  EXPECT_EQ(light->status, 200);
  f.gate.Open();
  EXPECT_EQ(running.get()->status, 200);
  for (auto& answer : more) {
    if (answer.valid()) {
      EXPECT_EQ(answer.get()->status, 200);
    }
  }
  EXPECT_EQ(f.heavy_done, 2);
}

TEST(HeavyRequests, StopWithRequestsRunningAndQueuedEndsCleanly) {
  Fixture f(/*io_threads=*/1, /*workers=*/1, /*queue=*/8);
  ASSERT_TRUE(f.server);
  std::vector<std::future<Result<Response>>> pending;
  for (int i = 0; i < 4; ++i) pending.push_back(f.SendHeavy());
  ASSERT_TRUE(Eventually([&] { return f.heavy_started == 1 && f.server->queued(0) == 3; }));
  std::thread stopper([&] { f.server->Stop(); });
  ASSERT_TRUE(Eventually([&] { return f.server->stopping(); }));
  f.gate.Open();  // the running one finishes; the queued ones never run the handler
  stopper.join();
  EXPECT_EQ(f.heavy_done, 1);
  for (auto& answer : pending) answer.wait();  // each ends: closed, or answered
  f.server->Stop();                            // idempotent
}

// The point of lanes: matching that fills the "work" lane, running and
// queued, does not keep an import waiting or refused; and the full work
// lane's 503 is its own.
TEST(HeavyRequests, ABusyLaneDoesNotHoldUpAnother) {
  Fixture f(/*io_threads=*/1, /*workers=*/1, /*queue=*/2, /*import_workers=*/1,
            /*import_queue=*/1);
  ASSERT_TRUE(f.server);
  std::vector<std::future<Result<Response>>> work;
  for (int i = 0; i < 3; ++i) work.push_back(f.SendHeavy());
  ASSERT_TRUE(Eventually([&] { return f.heavy_started == 1 && f.server->queued(0) == 2; }));
  // The work lane is full: one more is refused at once.
  Client client;
  auto refused = client.Send("GET", f.Url("/heavy"));
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 503) << refused->body;
  // An import runs at once on its own lane, while the work lane stays full.
  auto importing = f.SendAsync("/import");
  ASSERT_TRUE(Eventually([&] { return f.imports_started == 1; }));
  std::vector<LaneStats> lanes = f.server->Lanes();
  ASSERT_EQ(lanes.size(), 2u);
  EXPECT_EQ(lanes[0].name, "work");
  EXPECT_EQ(lanes[0].threads, 1);
  EXPECT_EQ(lanes[0].queue, 2u);
  EXPECT_EQ(lanes[0].queued, 2u);
  EXPECT_EQ(lanes[0].running, 1u);
  EXPECT_EQ(lanes[1].name, "import");
  EXPECT_EQ(lanes[1].queued, 0u);
  EXPECT_EQ(lanes[1].running, 1u);
  f.import_gate.Open();
  auto imported = importing.get();
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->status, 200);
  EXPECT_EQ(imported->body, "imported");
  EXPECT_EQ(f.heavy_done, 0) << "the import did not wait for the work lane";
  f.gate.Open();
  for (auto& answer : work) {
    auto done = answer.get();
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->status, 200);
  }
  EXPECT_EQ(f.server->queued(0), 0u);
  EXPECT_EQ(f.server->queued(7), 0u) << "no such lane";
}

// A full import lane refuses imports with 503 naming it, and matching goes on.
TEST(HeavyRequests, AFullLaneRefusesOnlyItsOwnRequests) {
  Fixture f(/*io_threads=*/1, /*workers=*/1, /*queue=*/1, /*import_workers=*/1,
            /*import_queue=*/0);
  ASSERT_TRUE(f.server);
  auto importing = f.SendAsync("/import");
  ASSERT_TRUE(Eventually([&] { return f.imports_started == 1; }));
  Client client;
  auto refused = client.Send("GET", f.Url("/import"));
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->headers.Get("Retry-After"), "3");
  EXPECT_NE(refused->body.find("'import'"), std::string::npos) << refused->body;
  f.gate.Open();
  auto matched = client.Send("GET", f.Url("/heavy"));
  ASSERT_TRUE(matched.ok()) << matched.status().ToString();
  EXPECT_EQ(matched->status, 200);
  EXPECT_EQ(matched->body, "heavy");
  f.import_gate.Open();
  EXPECT_EQ(importing.get()->status, 200);
}

// A server with `options` whose every answer is "ok"; GET / must get it.
std::unique_ptr<Server> StartAnsweringOk(const ServerOptions& options) {
  auto server = Server::Start(options, [](const Request&) {
    Response response;
    response.body = "ok";
    return response;
  });
  EXPECT_TRUE(server.ok());
  if (!server.ok()) return nullptr;
  Client client;
  auto answer = client.Send("GET", "http://127.0.0.1:" + std::to_string((*server)->port()) + "/");
  EXPECT_TRUE(answer.ok());
  if (answer.ok()) {
    EXPECT_EQ(answer->body, "ok");
  }
  return std::move(server).value();
}

TEST(HeavyRequests, ALaneOutOfRangeRunsOnTheIoThread) {
  ServerOptions options;
  options.threads = 1;
  options.lanes = {{.name = "work", .threads = 1, .queue = 0}};
  options.lane_of = [](const Request&) { return 5; };
  std::unique_ptr<Server> server = StartAnsweringOk(options);
  ASSERT_NE(server, nullptr);
  std::vector<LaneStats> lanes = server->Lanes();
  ASSERT_EQ(lanes.size(), 1u);
  EXPECT_EQ(lanes[0].running + lanes[0].queued, 0u);
}

TEST(HeavyRequests, WithoutLanesEverythingRunsOnTheIoThreads) {
  ServerOptions options;
  options.threads = 1;
  std::unique_ptr<Server> server = StartAnsweringOk(options);
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(server->Lanes().empty());
}

}  // namespace
}  // namespace kizuna::http
