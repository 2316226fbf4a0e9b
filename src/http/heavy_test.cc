// Heavy requests on the server's worker pool (ServerOptions::heavy): they do
// not hold the I/O threads, a full queue answers 503 with Retry-After, and
// Stop() ends cleanly with requests still queued or running.
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

struct Fixture {
  Gate gate;
  std::atomic<int> heavy_started{0};
  std::atomic<int> heavy_done{0};
  std::unique_ptr<Server> server;

  explicit Fixture(int io_threads, int workers, size_t queue) {
    ServerOptions options;
    options.threads = io_threads;
    options.worker_threads = workers;
    options.worker_queue = queue;
    options.busy_retry_after_seconds = 3;
    options.heavy = [](const Request& request) { return request.path == "/heavy"; };
    auto started = Server::Start(options, [this](const Request& request) {
      Response response;
      response.headers.Set("Content-Type", "text/plain");
      if (request.path == "/heavy") {
        ++heavy_started;
        gate.Wait();
        ++heavy_done;
        response.body = "heavy";
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
    if (server) server->Stop();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + path;
  }
  // A heavy GET on its own thread and connection.
  std::future<Result<Response>> SendHeavy() {
    return std::async(std::launch::async, [this] {
      Client client;
      return client.Send("GET", Url("/heavy"));
    });
  }
};

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
  auto ready = [](std::future<Result<Response>>& answer) {
    return answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  };
  ASSERT_TRUE(Eventually([&] {
    int n = 0;
    for (auto& answer : more) n += ready(answer) ? 1 : 0;
    return n == 2;
  }));
  for (auto& answer : more) {
    if (!ready(answer)) continue;
    Result<Response> refused = answer.get();
    ASSERT_TRUE(refused.ok()) << refused.status().ToString();
    EXPECT_EQ(refused->status, 503);
    EXPECT_EQ(refused->headers.Get("Retry-After"), "3");
    EXPECT_NE(refused->body.find("busy"), std::string::npos) << refused->body;
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
  ASSERT_TRUE(Eventually([&] { return f.heavy_started == 1 && f.server->heavy_queued() == 3; }));
  std::thread stopper([&] { f.server->Stop(); });
  ASSERT_TRUE(Eventually([&] { return f.server->stopping(); }));
  f.gate.Open();  // the running one finishes; the queued ones never run the handler
  stopper.join();
  EXPECT_EQ(f.heavy_done, 1);
  for (auto& answer : pending) answer.wait();  // each ends: closed, or answered
  f.server->Stop();                            // idempotent
}

TEST(HeavyRequests, WithoutAPredicateEverythingRunsOnTheIoThreads) {
  ServerOptions options;
  options.threads = 1;
  auto server = Server::Start(options, [](const Request&) {
    Response response;
    response.body = "ok";
    return response;
  });
  ASSERT_TRUE(server.ok());
  Client client;
  auto answer = client.Send("GET", "http://127.0.0.1:" + std::to_string((*server)->port()) + "/");
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->body, "ok");
}

}  // namespace
}  // namespace kizuna::http
