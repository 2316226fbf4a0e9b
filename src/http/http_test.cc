// Tests of the HTTP server and client over real loopback sockets.
#include "http/http.h"
#include "tests/support/test_certificate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "http/sse.h"
#include "http/target.h"

namespace kizuna::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::StartsWith;
using Params = std::vector<std::pair<std::string, std::string>>;

std::unique_ptr<Server> MustStart(ServerOptions options, Handler handler) {
  auto server = Server::Start(options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return nullptr;
  return std::move(server).value();
}

std::string BaseUrl(const Server& server, std::string_view scheme = "http") {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(server.port());
}

Response Text(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.Set("Content-Type", "text/plain");
  response.body = std::move(body);
  return response;
}

// A raw POSIX socket, for requests the client would never send. Reads give
// up after the receive timeout (a hang detector: generous).
class RawSocket {
 public:
  explicit RawSocket(uint16_t port, int receive_timeout_seconds = 30) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{receive_timeout_seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawSocket() { close(fd_); }
  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Everything until the server closes (or the receive timeout passes).
  std::string ReadUntilClosed(bool* closed = nullptr) {
    std::string out;
    char chunk[4096];
    for (;;) {
      ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        if (closed) *closed = n == 0 || errno == ECONNRESET;
        return out;
      }
      out.append(chunk, static_cast<size_t>(n));
    }
  }
  // Reads until `marker` has arrived.
  std::string ReadUntil(std::string_view marker) {
    std::string out;
    char chunk[4096];
    while (out.find(marker) == std::string::npos) {
      ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      out.append(chunk, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// Polls `condition` until it holds; false after `limit` (a hang detector).
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// The state of the loopback TCP connection from local_port to remote_port as
// /proc/net/tcp shows it (two hex digits, e.g. kTcpCloseWait), "" if none.
constexpr const char* kTcpCloseWait = "08";  // the other end has closed
std::string TcpState(uint16_t local_port, uint16_t remote_port) {
  char local[32], remote[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", local_port);
  std::snprintf(remote, sizeof remote, "0100007F:%04X", remote_port);
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, from, to, state;
    fields >> slot >> from >> to >> state;
    if (from == local && to == remote) return state;
  }
  return "";
}

// --- Headers, ErrorResponse, targets ---------------------------------------

TEST(Headers, CaseInsensitiveGetSetHas) {
  Headers headers;
  headers.Add("Content-Type", "application/json");
  headers.Add("X-Thing", "one");
  headers.Add("x-thing", "two");
  EXPECT_EQ(headers.Get("content-type"), "application/json");
  EXPECT_EQ(headers.Get("X-THING"), "one");
  EXPECT_TRUE(headers.Has("x-Thing"));
  EXPECT_FALSE(headers.Has("Accept"));
  EXPECT_EQ(headers.Get("Accept"), "");
  headers.Set("X-THING", "three");
  EXPECT_EQ(headers.Get("x-thing"), "three");
  EXPECT_EQ(headers.fields().size(), 2u);
}

TEST(ErrorResponse, TaxiiErrorShape) {
  Response response = ErrorResponse(413, "Too large", "Body over the limit");
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.headers.Get("content-type"), "application/taxii+json;version=2.1");
  EXPECT_EQ(response.body,
            R"({"title":"Too large","description":"Body over the limit","http_status":"413"})");
  EXPECT_EQ(ErrorResponse(404, "").body, R"({"title":"Not Found","http_status":"404"})");
  EXPECT_THAT(ErrorResponse(400, "quote \" here").body, HasSubstr(R"(quote \" here)"));
}

TEST(ErrorResponse, NeverCarriesInvalidUtf8) {
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(ValidUtf8("plain é 日本 \xF0\x9F\x98\x80"), "plain é 日本 \xF0\x9F\x98\x80");
  EXPECT_EQ(ValidUtf8("a\xFF"
                      "b"),
            "a" + replacement + "b");
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), replacement + replacement);                    // overlong '/'
  EXPECT_EQ(ValidUtf8("\xED\xA0\x80"), replacement + replacement + replacement);  // surrogate
  EXPECT_EQ(ValidUtf8("cut \xE6\x97"), "cut " + replacement + replacement);
  Response response = ErrorResponse(404, "Not found",
                                    "no such thing: \xFE\x80"
                                    "x");
  EXPECT_EQ(response.body.find('\xFE'), std::string::npos);
  EXPECT_THAT(response.body, HasSubstr("no such thing: " + replacement + replacement + "x"));
}

TEST(ParseTarget, DecodesPathAndQuery) {
  struct Case {
    std::string target;
    std::string path;
    Params query;
  };
  const std::vector<Case> cases = {
      {"/", "/", {}},
      {"/taxii2/", "/taxii2/", {}},
      {"/a%20b/c%2Fd", "/a b/c/d", {}},
      {"/x?a=1&a=2&b=", "/x", {{"a", "1"}, {"a", "2"}, {"b", ""}}},
      {"/x?match%5Btype%5D=indicator,malware", "/x", {{"match[type]", "indicator,malware"}}},
      {"/x?match[id]=a&match[version]=all", "/x", {{"match[id]", "a"}, {"match[version]", "all"}}},
      {"/x?q=a+b%2Bc&flag", "/x", {{"q", "a b+c"}, {"flag", ""}}},
      {"/x?t=2024-01-01T00:00:00.000Z", "/x", {{"t", "2024-01-01T00:00:00.000Z"}}},
  };
  for (const Case& c : cases) {
    std::string path;
    Params query;
    ASSERT_TRUE(internal::ParseTarget(c.target, &path, &query).ok()) << c.target;
    EXPECT_EQ(path, c.path) << c.target;
    EXPECT_EQ(query, c.query) << c.target;
  }
  for (std::string_view bad : {"", "x", "http://a/b", "/%zz", "/a?%G1=2"}) {
    std::string path;
    Params query;
    EXPECT_FALSE(internal::ParseTarget(bad, &path, &query).ok()) << bad;
  }
}

// --- Server and client over loopback ----------------------------------------

TEST(Server, GetAndPostRoundTrip) {
  auto server = MustStart({}, [](const Request& request) {
    Response response = Text(request.method == "POST" ? 201 : 200,
                             request.method + " " + request.path + " " + request.body);
    response.headers.Set("X-Echo", std::string(request.headers.Get("x-client")));
    response.headers.Set("X-Remote", request.remote_address);
    response.headers.Set("X-Tls", request.tls ? "yes" : "no");
    return response;
  });
  ASSERT_TRUE(server);
  Client client;
  Headers headers;
  headers.Add("X-Client", "hello");
  auto got = client.Send("GET", BaseUrl(*server) + "/taxii2/", headers);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "GET /taxii2/ ");
  EXPECT_EQ(got->headers.Get("x-echo"), "hello");
  EXPECT_EQ(got->headers.Get("x-remote"), "127.0.0.1");
  EXPECT_EQ(got->headers.Get("x-tls"), "no");
  EXPECT_EQ(got->headers.Get("server"), "kizuna");
  EXPECT_EQ(got->headers.Get("content-length"), std::to_string(got->body.size()));

  std::string big(200000, 'x');
  auto posted = client.Send("POST", BaseUrl(*server) + "/api/v1/things", headers, big);
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  EXPECT_EQ(posted->status, 201);
  EXPECT_EQ(posted->body, "POST /api/v1/things " + big);
}

TEST(Server, RequestSeesHeadersAndUserAgent) {
  std::mutex mutex;
  Request seen;
  auto server = MustStart({}, [&](const Request& request) {
    std::lock_guard lock(mutex);
    seen = request;
    return Text(200, "ok");
  });
  ASSERT_TRUE(server);
  Client client;
  Headers headers;
  headers.Add("Accept", "application/taxii+json;version=2.1");
  headers.Add("Authorization", "Bearer abc");
  ASSERT_TRUE(client.Send("PUT", BaseUrl(*server) + "/p", headers, "body").ok());
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.body, "body");
  EXPECT_EQ(seen.headers.Get("authorization"), "Bearer abc");
  EXPECT_EQ(seen.headers.Get("ACCEPT"), "application/taxii+json;version=2.1");
  EXPECT_EQ(seen.headers.Get("user-agent"), "kizuna");
  EXPECT_EQ(seen.headers.Get("host"), "127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(seen.headers.Get("content-length"), "4");
}

TEST(Server, DecodesQueryParameters) {
  std::mutex mutex;
  Request seen;
  auto server = MustStart({}, [&](const Request& request) {
    std::lock_guard lock(mutex);
    seen = request;
    return Text(200, "ok");
  });
  ASSERT_TRUE(server);
  Client client;
  auto got = client.Send("GET", BaseUrl(*server) +
                                    "/taxii2/api/collections/c%201/objects/"
                                    "?match%5Btype%5D=indicator,sighting&match[version]=all"
                                    "&added_after=2024-01-01T00:00:00Z&k=1&k=2&q=a+b");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.path, "/taxii2/api/collections/c 1/objects/");
  EXPECT_THAT(seen.query,
              ElementsAre(Pair("match[type]", "indicator,sighting"), Pair("match[version]", "all"),
                          Pair("added_after", "2024-01-01T00:00:00Z"), Pair("k", "1"),
                          Pair("k", "2"), Pair("q", "a b")));
  EXPECT_EQ(seen.Query("k"), "1");
  EXPECT_TRUE(seen.HasQuery("match[type]"));
  EXPECT_FALSE(seen.HasQuery("missing"));
  EXPECT_THAT(seen.target, StartsWith("/taxii2/api/collections/c%201/objects/?match%5Btype%5D="));
}

TEST(Server, KeepAliveReusesOneConnection) {
  std::mutex mutex;
  std::set<uint16_t> client_ports;
  auto server = MustStart({}, [&](const Request& request) {
    std::lock_guard lock(mutex);
    client_ports.insert(request.remote_port);
    return Text(200, "ok");
  });
  ASSERT_TRUE(server);
  Client client;
  for (int i = 0; i < 5; ++i) {
    auto got = client.Send(i % 2 ? "POST" : "GET", BaseUrl(*server) + "/", {}, "x");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(client_ports.size(), 1u);
}

TEST(Server, ClosesIdleConnectionsAndClientReconnects) {
  std::mutex mutex;
  std::set<uint16_t> client_ports;
  ServerOptions options;
  options.read_timeout_seconds = 1;
  auto server = MustStart(options, [&](const Request& request) {
    std::lock_guard lock(mutex);
    client_ports.insert(request.remote_port);
    return Text(200, "ok");
  });
  ASSERT_TRUE(server);
  Client client;
  ASSERT_TRUE(client.Send("GET", BaseUrl(*server) + "/").ok());
  uint16_t first_port;
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(client_ports.size(), 1u);
    first_port = *client_ports.begin();
  }
  // Wait until the server has closed the client's idle connection: the
  // client's end of it is in CLOSE_WAIT.
  ASSERT_TRUE(WaitFor([&] { return TcpState(first_port, server->port()) == kTcpCloseWait; }))
      << "state " << TcpState(first_port, server->port());
  auto again = client.Send("POST", BaseUrl(*server) + "/", {}, "second");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, 200);
  std::lock_guard lock(mutex);
  EXPECT_EQ(client_ports.size(), 2u);
}

TEST(Server, HugeContentLengthGets413WithoutReadingTheBody) {
  std::atomic<int> calls{0};
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = MustStart(options, [&](const Request&) {
    ++calls;
    return Text(200, "ok");
  });
  ASSERT_TRUE(server);
  RawSocket raw(server->port());
  ASSERT_TRUE(raw.connected());
  // Only the header: a server that waited for the body would time out instead.
  ASSERT_TRUE(raw.Send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n"));
  bool closed = false;
  std::string answer = raw.ReadUntilClosed(&closed);
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(answer, HasSubstr("\"http_status\":\"413\""));
  EXPECT_THAT(answer, HasSubstr("Connection: close"));
  EXPECT_TRUE(closed);
  EXPECT_EQ(calls.load(), 0);
}

TEST(Server, ExpectContinue) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = MustStart(options, [](const Request& request) { return Text(200, request.body); });
  ASSERT_TRUE(server);
  {
    RawSocket raw(server->port());
    ASSERT_TRUE(raw.Send(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    EXPECT_THAT(raw.ReadUntil("\r\n\r\n"), StartsWith("HTTP/1.1 100 Continue\r\n"));
    ASSERT_TRUE(raw.Send("hello"));
    std::string answer = raw.ReadUntil("hello");
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 200"));
  }
  {
    RawSocket raw(server->port());
    ASSERT_TRUE(raw.Send(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"));
    EXPECT_THAT(raw.ReadUntilClosed(), StartsWith("HTTP/1.1 413"));
  }
}

TEST(Server, ChunkedBodyOverLimitGets413) {
  std::atomic<int> calls{0};
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = MustStart(options, [&](const Request&) {
    ++calls;
    return Text(200, "ok");
  });
  ASSERT_TRUE(server);
  RawSocket raw(server->port());
  ASSERT_TRUE(raw.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(raw.Send("200\r\n" + std::string(0x200, 'a') + "\r\n"));
  ASSERT_TRUE(raw.Send("800\r\n" + std::string(0x800, 'b') + "\r\n0\r\n\r\n"));
  EXPECT_THAT(raw.ReadUntilClosed(), StartsWith("HTTP/1.1 413"));
  EXPECT_EQ(calls.load(), 0);

  // Under the limit, chunked bodies arrive whole.
  Client client;
  RawSocket small(server->port());
  ASSERT_TRUE(small.Send(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n"));
  EXPECT_THAT(small.ReadUntilClosed(), StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(calls.load(), 1);
}

TEST(Server, MalformedRequestsGet400) {
  auto server = MustStart({}, [](const Request&) { return Text(200, "ok"); });
  ASSERT_TRUE(server);
  for (std::string_view bad :
       {"THIS IS NOT HTTP\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n", "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"}) {
    RawSocket raw(server->port());
    ASSERT_TRUE(raw.Send(bad));
    std::string answer = raw.ReadUntil("}");
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 400")) << bad;
    EXPECT_THAT(answer, HasSubstr("\"http_status\":\"400\"")) << bad;
  }
}

TEST(Server, OversizedHeaderGets431) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  auto server = MustStart(options, [](const Request&) { return Text(200, "ok"); });
  ASSERT_TRUE(server);
  RawSocket raw(server->port());
  ASSERT_TRUE(
      raw.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n"));
  std::string answer = raw.ReadUntilClosed();
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 431"));
  EXPECT_THAT(answer, HasSubstr("application/taxii+json"));
}

TEST(Server, DisconnectsSlowClient) {
  ServerOptions options;
  options.read_timeout_seconds = 1;
  auto server = MustStart(options, [](const Request&) { return Text(200, "ok"); });
  ASSERT_TRUE(server);
  RawSocket raw(server->port());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(raw.Send("GET / HTTP/1.1\r\nHost: x\r\n"));  // the header never ends
  bool closed = false;
  raw.ReadUntilClosed(&closed);
  auto elapsed = std::chrono::steady_clock::now() - start;
  // Closed by the server (before the socket's 30 s receive timeout), and not
  // before the read timeout.
  EXPECT_TRUE(closed);
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
}

TEST(Server, HandlerExceptionGives500AndServerKeepsServing) {
  auto server = MustStart({}, [](const Request& request) -> Response {
    if (request.path == "/throw") throw std::runtime_error("secret-token-123 broke");
    if (request.path == "/throw-int") throw 42;
    return Text(200, "fine");
  });
  ASSERT_TRUE(server);
  Client client;
  for (std::string path : {"/throw", "/throw-int"}) {
    auto failed = client.Send("GET", BaseUrl(*server) + path);
    ASSERT_TRUE(failed.ok()) << failed.status().ToString();
    EXPECT_EQ(failed->status, 500);
    EXPECT_EQ(failed->headers.Get("content-type"), "application/taxii+json;version=2.1");
    EXPECT_THAT(failed->body, HasSubstr("\"http_status\":\"500\""));
    EXPECT_THAT(failed->body, ::testing::Not(HasSubstr("secret")));
  }
  auto fine = client.Send("GET", BaseUrl(*server) + "/ok");
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->body, "fine");
}

TEST(Server, HandlerCannotBreakFraming) {
  auto server = MustStart({}, [](const Request&) {
    Response response = Text(204, "ignored");
    response.headers.Set("Content-Length", "999");
    response.headers.Set("X-Evil", "a\r\nSet-Cookie: x=y");
    return response;
  });
  ASSERT_TRUE(server);
  Client client;
  for (int i = 0; i < 2; ++i) {
    auto got = client.Send("GET", BaseUrl(*server) + "/");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->status, 204);
    EXPECT_EQ(got->body, "");
    EXPECT_FALSE(got->headers.Has("Set-Cookie"));
  }
}

TEST(Server, ServesFiftyConcurrentClients) {
  ServerOptions options;
  options.threads = 4;
  std::atomic<int> calls{0};
  auto server = MustStart(options, [&](const Request& request) {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return Text(200, std::string(request.Query("n")));
  });
  ASSERT_TRUE(server);
  constexpr int kClients = 50;
  constexpr int kRequestsEach = 4;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      Client client;
      for (int j = 0; j < kRequestsEach; ++j) {
        std::string n = std::to_string(i * 100 + j);
        auto got = client.Send("GET", BaseUrl(*server) + "/?n=" + n);
        if (got.ok() && got->status == 200 && got->body == n) ++good;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(good.load(), kClients * kRequestsEach);
  EXPECT_EQ(calls.load(), kClients * kRequestsEach);
}

TEST(Server, BindingAPortInUseFails) {
  auto first = MustStart({}, [](const Request&) { return Text(200, "ok"); });
  ASSERT_TRUE(first);
  ServerOptions options;
  options.port = first->port();
  auto second = Server::Start(options, [](const Request&) { return Text(200, "ok"); });
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("127.0.0.1:" + std::to_string(first->port())));
}

TEST(Server, StopClosesIdleConnectionsPromptly) {
  ServerOptions options;
  options.read_timeout_seconds = 300;
  auto server = MustStart(options, [](const Request&) { return Text(200, "ok"); });
  ASSERT_TRUE(server);
  Client client;
  ASSERT_TRUE(client.Send("GET", BaseUrl(*server) + "/").ok());  // now idle, kept alive
  RawSocket raw(server->port());
  ASSERT_TRUE(raw.Send("GET / HTTP/1.1\r\n"));  // half a request
  // Stop does not sit out the connections' 300 s read timeout (the bound is
  // a hang detector, not a speed claim).
  auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  server->Stop();  // idempotent
}

TEST(Client, ReportsConnectionRefused) {
  uint16_t port;
  {
    auto server = MustStart({}, [](const Request&) { return Text(200, "ok"); });
    ASSERT_TRUE(server);
    port = server->port();
  }
  Client client;
  auto got = client.Send("GET", "http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(),
              HasSubstr("cannot connect to 127.0.0.1:" + std::to_string(port)));
}

TEST(Client, RejectsBadUrls) {
  Client client;
  for (std::string_view url : {"", "not a url", "ftp://127.0.0.1/", "/relative", "http:///x"}) {
    auto got = client.Send("GET", url);
    EXPECT_FALSE(got.ok()) << url;
    EXPECT_EQ(got.status().code(), Code::kInvalidArgument) << url;
  }
}

TEST(Client, LimitsResponseSize) {
  auto server = MustStart({}, [](const Request&) { return Text(200, std::string(5000, 'z')); });
  ASSERT_TRUE(server);
  ClientOptions options;
  options.max_response_bytes = 1000;
  Client client(options);
  auto got = client.Send("GET", BaseUrl(*server) + "/");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kTooLarge);
}

// A handler that answers only once the test releases it (or after 60 s).
class HeldHandler {
 public:
  Response operator()(const Request&) {
    std::unique_lock lock(mutex_);
    entered_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, std::chrono::seconds(60), [&] { return released_; });
    return Text(200, "late");
  }
  bool WaitEntered() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return entered_; });
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool entered_ = false;
  bool released_ = false;
};

TEST(Client, TimesOut) {
  HeldHandler held;  // no answer before the client has given up
  auto server = MustStart({}, [&](const Request& request) { return held(request); });
  ASSERT_TRUE(server);
  ClientOptions options;
  options.timeout_ms = 200;
  Client client(options);
  auto got = client.Send("GET", BaseUrl(*server) + "/");
  held.Release();
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("timed out"));
}

// --- TLS ---------------------------------------------------------------------

// A self-signed certificate for 127.0.0.1 and localhost, in temporary files.
class TlsFiles {
 public:
  TlsFiles() {
    dir_ = std::filesystem::temp_directory_path() /
           ("kizuna_http_test_" + std::to_string(getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);

    test_support::TestCertificate made = test_support::MakeTestCertificate(dir_.string());
    cert_file_ = made.cert_file;
    key_file_ = made.key_file;
    sha256_ = made.sha256;
  }
  ~TlsFiles() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }
  const std::string& sha256() const { return sha256_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string cert_file_;
  std::string key_file_;
  std::string sha256_;
};

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.tls_cert_file = files_.cert_file();
    options.tls_key_file = files_.key_file();
    server_ = MustStart(options, [](const Request& request) {
      return Text(200, request.tls ? "secure " + request.path : "plain");
    });
    ASSERT_TRUE(server_);
  }
  std::string Url(std::string_view host = "127.0.0.1") const {
    return "https://" + std::string(host) + ":" + std::to_string(server_->port()) + "/hello";
  }

  TlsFiles files_;
  std::unique_ptr<Server> server_;
};

TEST_F(Tls, ClientWithCaFileSucceeds) {
  ClientOptions options;
  options.ca_file = files_.cert_file();
  Client client(options);
  for (std::string_view host : {"127.0.0.1", "localhost"}) {
    auto got = client.Send("GET", Url(host));
    ASSERT_TRUE(got.ok()) << host << ": " << got.status().ToString();
    EXPECT_EQ(got->status, 200);
    EXPECT_EQ(got->body, "secure /hello");
  }
  auto again = client.Send("POST", Url(), {}, "body");  // over the kept-alive connection
  ASSERT_TRUE(again.ok()) << again.status().ToString();
}

TEST_F(Tls, ClientWithoutTrustFailsVerification) {
  Client client;
  auto got = client.Send("GET", Url());
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("verify failed"));
  EXPECT_THAT(got.status().message(), HasSubstr("TLS handshake with 127.0.0.1:"));
}

TEST_F(Tls, CorrectPinSucceedsWrongPinFails) {
  ClientOptions pinned;
  pinned.pinned_cert_sha256 = files_.sha256();
  Client good(pinned);
  auto got = good.Send("GET", Url());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "secure /hello");

  ClientOptions wrong;
  wrong.pinned_cert_sha256 = std::string(64, '0');
  Client bad(wrong);
  auto refused = bad.Send("GET", Url());
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("pinned"));
}

TEST_F(Tls, VerificationCanBeDisabled) {
  ClientOptions options;
  options.verify_peer = false;
  Client client(options);
  auto got = client.Send("GET", Url());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
}

TEST_F(Tls, PlainHttpClientFailsCleanly) {
  ClientOptions options;
  options.timeout_ms = 5000;
  Client client(options);
  auto got = client.Send("GET", "http://127.0.0.1:" + std::to_string(server_->port()) + "/");
  EXPECT_FALSE(got.ok());
  // The server is still fine.
  ClientOptions trusting;
  trusting.ca_file = files_.cert_file();
  Client good(trusting);
  EXPECT_TRUE(good.Send("GET", Url()).ok());
}

TEST(TlsStart, MissingOrInvalidFilesFail) {
  TlsFiles files;
  ServerOptions options;
  options.tls_cert_file = files.cert_file() + ".missing";
  options.tls_key_file = files.key_file();
  auto missing = Server::Start(options, [](const Request&) { return Text(200, "ok"); });
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr(".missing"));

  options.tls_cert_file = files.key_file();  // a key is no certificate
  auto invalid = Server::Start(options, [](const Request&) { return Text(200, "ok"); });
  ASSERT_FALSE(invalid.ok());
  EXPECT_THAT(invalid.status().message(), HasSubstr("certificate"));

  options.tls_cert_file = files.cert_file();
  options.tls_key_file.clear();
  EXPECT_FALSE(Server::Start(options, [](const Request&) { return Text(200, "ok"); }).ok());
}

// --- Streaming responses (Server-Sent Events) ----------------------------------

// A BodyStream driven by a function; counts its calls and reports its destruction.
class FunctionStream final : public BodyStream {
 public:
  struct Probe {
    std::atomic<int> calls{0};
    std::atomic<bool> destroyed{false};
  };
  FunctionStream(std::function<std::optional<std::string>(int call)> next,
                 std::shared_ptr<Probe> probe)
      : next_(std::move(next)), probe_(std::move(probe)) {}
  ~FunctionStream() override { probe_->destroyed = true; }
  std::optional<std::string> Next() override { return next_(probe_->calls++); }

 private:
  std::function<std::optional<std::string>(int)> next_;
  std::shared_ptr<Probe> probe_;
};

Response StreamResponse(std::function<std::optional<std::string>(int)> next,
                        std::shared_ptr<FunctionStream::Probe> probe,
                        std::chrono::milliseconds poll_interval = std::chrono::milliseconds(5)) {
  Response response;
  response.headers.Set("Content-Type", "text/event-stream");
  response.headers.Set("Cache-Control", "no-cache");
  response.stream = std::make_shared<FunctionStream>(std::move(next), std::move(probe));
  response.stream_poll_interval = poll_interval;
  return response;
}

std::string SseData(const std::string& data, const std::string& id = {}) {
  SseEvent event;
  event.id = id;
  event.data = data;
  return FormatSseEvent(event).value();
}

using Clock = std::chrono::steady_clock;

TEST(Stream, DeliversEventsIncrementallyThenKeepsTheConnectionAlive) {
  // The stream sends event 1, then nothing until the client has seen it, then
  // events 2..4 and ends: the client cannot see event 1 only at the end.
  std::atomic<bool> client_saw_first{false};
  std::mutex mutex;
  std::set<uint16_t> client_ports;
  auto server = MustStart({}, [&](const Request& request) {
    {
      std::lock_guard lock(mutex);
      client_ports.insert(request.remote_port);
    }
    if (request.path != "/events") return Text(200, "plain " + request.path);
    auto sent = std::make_shared<int>(0);
    return StreamResponse(
        [&, sent](int) -> std::optional<std::string> {
          if (*sent == 0) return SseData("event 1", std::to_string(++*sent));
          if (!client_saw_first) return "";
          if (*sent == 4) return std::nullopt;
          ++*sent;
          return SseData("event " + std::to_string(*sent), std::to_string(*sent));
        },
        std::make_shared<FunctionStream::Probe>());
  });
  ASSERT_TRUE(server);

  Client client;
  SseParser parser;
  std::vector<SseEvent> events;
  int callbacks = 0;
  Headers headers;
  headers.Set("Accept", "text/event-stream");
  auto head =
      client.Stream("GET", BaseUrl(*server) + "/events", headers, [&](std::string_view bytes) {
        ++callbacks;
        EXPECT_TRUE(parser.Feed(bytes, &events).ok());
        if (!events.empty()) client_saw_first = true;
        return true;
      });
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->headers.Get("content-type"), "text/event-stream");
  EXPECT_EQ(head->headers.Get("transfer-encoding"), "chunked");
  EXPECT_FALSE(head->headers.Has("content-length"));
  EXPECT_EQ(head->headers.Get("server"), "kizuna");
  ASSERT_EQ(events.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(events[i].data, "event " + std::to_string(i + 1));
    EXPECT_EQ(events[i].id, std::to_string(i + 1));
  }
  EXPECT_GE(callbacks, 2);
  EXPECT_EQ(parser.last_event_id(), "4");

  // The same connection serves normal requests after the stream, and another stream.
  auto plain = client.Send("GET", BaseUrl(*server) + "/after");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->body, "plain /after");
  std::string second;
  auto again = client.Stream("GET", BaseUrl(*server) + "/events", {}, [&](std::string_view bytes) {
    second += bytes;
    return true;
  });
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_THAT(second, HasSubstr("data: event 4"));
  std::lock_guard lock(mutex);
  EXPECT_EQ(client_ports.size(), 1u);
}

TEST(Stream, ChunkedOnTheWireAndPipelinedRequestAfterwards) {
  auto server = MustStart({}, [](const Request& request) {
    if (request.path != "/events") return Text(200, "next");
    return StreamResponse(
        [](int call) -> std::optional<std::string> {
          if (call < 3) return call == 1 ? "" : "data: x\n\n";
          return std::nullopt;
        },
        std::make_shared<FunctionStream::Probe>());
  });
  ASSERT_TRUE(server);
  RawSocket raw(server->port());
  ASSERT_TRUE(raw.connected());
  // Both requests at once: the second waits in the socket until the stream is over.
  ASSERT_TRUE(
      raw.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\nGET /n HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got = raw.ReadUntil("\r\n\r\nnext");
  EXPECT_THAT(got, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(got,
              HasSubstr("\r\n\r\n9\r\ndata: x\n\n\r\n9\r\ndata: x\n\n\r\n0\r\n\r\nHTTP/1.1 200"));
}

TEST(Stream, Http10GetsRawBytesThenClose) {
  auto server = MustStart({}, [](const Request&) {
    return StreamResponse(
        [](int call) -> std::optional<std::string> {
          if (call < 2) return "data: " + std::to_string(call) + "\n\n";
          return std::nullopt;
        },
        std::make_shared<FunctionStream::Probe>());
  });
  ASSERT_TRUE(server);
  RawSocket raw(server->port());
  ASSERT_TRUE(raw.Send("GET /events HTTP/1.0\r\n\r\n"));
  bool closed = false;
  std::string got = raw.ReadUntilClosed(&closed);
  EXPECT_TRUE(closed);
  EXPECT_THAT(got, StartsWith("HTTP/1.0 200"));
  EXPECT_THAT(got, Not(HasSubstr("chunked")));
  EXPECT_THAT(got, Not(HasSubstr("Content-Length")));
  EXPECT_THAT(got, HasSubstr("\r\n\r\ndata: 0\n\ndata: 1\n\n"));
  EXPECT_EQ(got.substr(got.size() - 9), "data: 1\n\n");
}

TEST(Stream, AbortFromAnotherThreadEndsStreamPromptly) {
  auto probe = std::make_shared<FunctionStream::Probe>();
  auto server = MustStart({}, [&](const Request&) {
    // One event, then nothing for ever.
    return StreamResponse(
        [](int call) -> std::optional<std::string> { return call == 0 ? "data: hi\n\n" : ""; },
        probe);
  });
  ASSERT_TRUE(server);
  Client client;
  std::atomic<bool> got_data{false};
  Result<Response> result = Internal("not run");
  Clock::time_point returned;
  std::thread reader([&] {
    result = client.Stream(
        "GET", BaseUrl(*server) + "/events", {},
        [&](std::string_view) {
          got_data = true;
          return true;
        },
        /*idle_timeout_ms=*/60000);
    returned = Clock::now();
  });
  ASSERT_TRUE(WaitFor([&] { return got_data.load(); }));
  // Aborted while it reads on or waits for the next event (whichever moment
  // this is; AbortRacingWithTheStartOfStream covers the start).
  auto aborted_at = Clock::now();
  client.Abort();
  reader.join();
  // Far below the 60 s idle timeout: a hang detector, not a speed claim.
  EXPECT_LT(returned - aborted_at, std::chrono::seconds(30));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("aborted"));
  EXPECT_TRUE(client.aborted());
  // An aborted client stays aborted.
  auto later = client.Send("GET", BaseUrl(*server) + "/");
  ASSERT_FALSE(later.ok());
  EXPECT_THAT(later.status().message(), HasSubstr("aborted"));
  EXPECT_FALSE(
      client.Stream("GET", BaseUrl(*server) + "/", {}, [](std::string_view) { return true; }).ok());
  // The server noticed the closed connection and dropped its stream.
  EXPECT_TRUE(WaitFor([&] { return probe->destroyed.load(); }));
}

TEST(Stream, AbortBeforeTheHeadArrives) {
  HeldHandler held;  // a slow handler: no head until released
  auto server = MustStart({}, [&](const Request& request) { return held(request); });
  ASSERT_TRUE(server);
  Client client;
  Result<Response> result = Internal("not run");
  std::thread reader([&] {
    result =
        client.Stream("GET", BaseUrl(*server) + "/", {}, [](std::string_view) { return true; });
  });
  // The request is in the handler: the client waits for the head.
  ASSERT_TRUE(held.WaitEntered());
  client.Abort();
  reader.join();
  held.Release();
  // Aborted, not answered (the handler was still holding) nor timed out.
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("aborted"));
}

TEST(Stream, AbortRacingWithTheStartOfStreamIsNotLost) {
  auto server = MustStart({}, [](const Request&) {
    return StreamResponse([](int) -> std::optional<std::string> { return ""; },
                          std::make_shared<FunctionStream::Probe>());
  });
  ASSERT_TRUE(server);
  for (int i = 0; i < 20; ++i) {
    Client client;
    Result<Response> result = Internal("not run");
    std::thread reader([&] {
      result = client.Stream(
          "GET", BaseUrl(*server) + "/", {}, [](std::string_view) { return true; }, 60000);
    });
    std::this_thread::sleep_for(std::chrono::microseconds(i * 300));
    client.Abort();
    reader.join();
    ASSERT_FALSE(result.ok()) << i;
    EXPECT_THAT(result.status().message(), HasSubstr("aborted")) << i;
  }
}

TEST(Stream, ServerStopWithOpenStreamsReturns) {
  auto probe = std::make_shared<FunctionStream::Probe>();
  auto server = MustStart({}, [&](const Request&) {
    // A long poll interval: Stop must cut the wait, not sit it out.
    return StreamResponse(
        [](int call) -> std::optional<std::string> { return call == 0 ? "data: hi\n\n" : ""; },
        probe, std::chrono::hours(1));
  });
  ASSERT_TRUE(server);
  Client client;
  std::atomic<bool> got_data{false};
  Result<Response> result = Internal("not run");
  std::thread reader([&] {
    result = client.Stream("GET", BaseUrl(*server) + "/events", {}, [&](std::string_view) {
      got_data = true;
      return true;
    });
  });
  ASSERT_TRUE(WaitFor([&] { return got_data.load(); }));
  // Far below the hour-long poll interval: hang detectors, not speed claims.
  auto start = Clock::now();
  server->Stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
  reader.join();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
  // Cut without the final chunk: the client knows the stream is incomplete.
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kUnavailable);
  EXPECT_TRUE(probe->destroyed);
}

TEST(Stream, IdleTimeoutFires) {
  auto server = MustStart({}, [](const Request& request) {
    if (request.path == "/plain") return Text(200, "plain");
    return StreamResponse(
        [](int call) -> std::optional<std::string> { return call == 0 ? "data: hi\n\n" : ""; },
        std::make_shared<FunctionStream::Probe>());
  });
  ASSERT_TRUE(server);
  Client client;
  std::string received;
  auto start = Clock::now();
  auto result = client.Stream(
      "GET", BaseUrl(*server) + "/events", {},
      [&](std::string_view bytes) {
        received += bytes;
        return true;
      },
      /*idle_timeout_ms=*/1000);
  auto elapsed = Clock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("no data"));
  EXPECT_EQ(received, "data: hi\n\n");
  EXPECT_GE(elapsed, std::chrono::milliseconds(990));  // not before the idle timeout
  // Far below the stream's endless wait: a hang detector.
  EXPECT_LT(elapsed, std::chrono::seconds(30));
  // Not aborted: the client goes on (on a new connection).
  auto again = client.Send("GET", BaseUrl(*server) + "/plain");
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

TEST(Stream, ReadTimeoutDoesNotCutALongStream) {
  ServerOptions options;
  options.read_timeout_seconds = 1;
  auto server = MustStart(options, [](const Request&) {
    // Five ticks at least 500 ms apart: the stream lasts over 2 s, twice the
    // read timeout, however slowly it is polled.
    struct Ticks {
      Clock::time_point last;
      int sent = 0;
    };
    auto ticks = std::make_shared<Ticks>();
    return StreamResponse(
        [ticks](int) -> std::optional<std::string> {
          if (ticks->sent > 0 && Clock::now() - ticks->last < std::chrono::milliseconds(500)) {
            return "";
          }
          if (ticks->sent == 5) return std::nullopt;
          ++ticks->sent;
          ticks->last = Clock::now();
          return "data: tick\n\n";
        },
        std::make_shared<FunctionStream::Probe>(), std::chrono::milliseconds(10));
  });
  ASSERT_TRUE(server);
  Client client;
  int ticks = 0;
  auto start = Clock::now();
  auto result = client.Stream("GET", BaseUrl(*server) + "/", {}, [&](std::string_view bytes) {
    for (size_t at = 0; (at = bytes.find("tick", at)) != std::string_view::npos; ++at) ++ticks;
    return true;
  });
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(ticks, 5);
  EXPECT_GE(Clock::now() - start, std::chrono::seconds(2));
}

TEST(Stream, ClientDisconnectEndsTheServersIdleStream) {
  auto probe = std::make_shared<FunctionStream::Probe>();
  auto server = MustStart({}, [&](const Request&) {
    // Never anything to send: only the peer watch can notice the client leaving.
    return StreamResponse([](int) -> std::optional<std::string> { return ""; }, probe,
                          std::chrono::milliseconds(5));
  });
  ASSERT_TRUE(server);
  {
    RawSocket raw(server->port());
    ASSERT_TRUE(raw.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_THAT(raw.ReadUntil("\r\n\r\n"), StartsWith("HTTP/1.1 200"));
    ASSERT_TRUE(WaitFor([&] { return probe->calls > 3; }));
  }  // closed
  ASSERT_TRUE(WaitFor([&] { return probe->destroyed.load(); }));
  int calls = probe->calls;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(probe->calls, calls);
}

TEST(Stream, ClientThatStopsReadingEndsTheServersBusyStream) {
  auto probe = std::make_shared<FunctionStream::Probe>();
  auto server = MustStart({}, [&](const Request& request) {
    if (request.path == "/plain") return Text(200, "plain");
    return StreamResponse(
        [](int call) -> std::optional<std::string> {
          return "data: " + std::to_string(call) + "\n\n";
        },
        probe, std::chrono::milliseconds(1));
  });
  ASSERT_TRUE(server);
  Client client;
  int pieces = 0;
  auto head = client.Stream("GET", BaseUrl(*server) + "/events", {}, [&](std::string_view) {
    return ++pieces < 3;  // enough
  });
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(pieces, 3);
  ASSERT_TRUE(WaitFor([&] { return probe->destroyed.load(); }));
  int calls = probe->calls;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(probe->calls, calls);
  // The client made a new connection for what follows.
  EXPECT_TRUE(client.Send("GET", BaseUrl(*server) + "/plain").ok());
}

TEST(Stream, ErrorAnswerBodyIsReadWhole) {
  auto server = MustStart({}, [](const Request& request) {
    if (request.path == "/big") return Text(500, std::string(5000, 'e'));
    return ErrorResponse(404, "No such stream");
  });
  ASSERT_TRUE(server);
  ClientOptions options;
  options.max_response_bytes = 1000;
  Client client(options);
  bool called = false;
  auto on_data = [&](std::string_view) {
    called = true;
    return true;
  };
  auto got = client.Stream("GET", BaseUrl(*server) + "/missing", {}, on_data);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 404);
  EXPECT_THAT(got->body, HasSubstr("No such stream"));
  EXPECT_FALSE(called);
  auto big = client.Stream("GET", BaseUrl(*server) + "/big", {}, on_data);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Code::kTooLarge);
  EXPECT_FALSE(called);
}

TEST(Stream, NextThatThrowsCutsTheConnection) {
  auto server = MustStart({}, [](const Request& request) {
    if (request.path == "/plain") return Text(200, "plain");
    return StreamResponse(
        [](int call) -> std::optional<std::string> {
          if (call == 0) return "data: one\n\n";
          throw std::runtime_error("store went away");
        },
        std::make_shared<FunctionStream::Probe>());
  });
  ASSERT_TRUE(server);
  Client client;
  std::string received;
  auto result = client.Stream("GET", BaseUrl(*server) + "/", {}, [&](std::string_view bytes) {
    received += bytes;
    return true;
  });
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(received, "data: one\n\n");
  auto again = client.Send("GET", BaseUrl(*server) + "/plain");  // the server goes on
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

TEST(Stream, NoBodyStatusesAndHeadIgnoreTheStream) {
  auto probe = std::make_shared<FunctionStream::Probe>();
  auto server = MustStart({}, [&](const Request& request) {
    Response response =
        StreamResponse([](int) -> std::optional<std::string> { return "data: x\n\n"; }, probe);
    if (request.path == "/204") response.status = 204;
    return response;
  });
  ASSERT_TRUE(server);
  Client client;
  auto no_content = client.Send("GET", BaseUrl(*server) + "/204");
  ASSERT_TRUE(no_content.ok()) << no_content.status().ToString();
  EXPECT_EQ(no_content->status, 204);
  auto head = client.Send("HEAD", BaseUrl(*server) + "/");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(probe->calls, 0);
}

TEST(Stream, OverTlsWithPin) {
  TlsFiles files;
  ServerOptions server_options;
  server_options.tls_cert_file = files.cert_file();
  server_options.tls_key_file = files.key_file();
  auto server = MustStart(server_options, [](const Request& request) {
    if (request.path != "/events") return Text(200, request.tls ? "secure" : "plain");
    return StreamResponse(
        [](int call) -> std::optional<std::string> {
          if (call >= 6) return std::nullopt;
          return call % 2 ? "" : SseData("tls " + std::to_string(call / 2));
        },
        std::make_shared<FunctionStream::Probe>());
  });
  ASSERT_TRUE(server);
  ClientOptions options;
  options.pinned_cert_sha256 = files.sha256();
  Client client(options);
  SseParser parser;
  std::vector<SseEvent> events;
  auto head =
      client.Stream("GET", BaseUrl(*server, "https") + "/events", {}, [&](std::string_view bytes) {
        EXPECT_TRUE(parser.Feed(bytes, &events).ok());
        return true;
      });
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].data, "tls 2");
  auto after = client.Send("GET", BaseUrl(*server, "https") + "/x");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->body, "secure");

  // Abort works over TLS too.
  std::atomic<bool> got_data{false};
  auto endless = MustStart(server_options, [](const Request&) {
    return StreamResponse(
        [](int call) -> std::optional<std::string> { return call == 0 ? "data: a\n\n" : ""; },
        std::make_shared<FunctionStream::Probe>());
  });
  ASSERT_TRUE(endless);
  Client second(options);
  Result<Response> result = Internal("not run");
  std::thread reader([&] {
    result = second.Stream("GET", BaseUrl(*endless, "https") + "/", {}, [&](std::string_view) {
      got_data = true;
      return true;
    });
  });
  ASSERT_TRUE(WaitFor([&] { return got_data.load(); }));
  auto start = Clock::now();
  second.Abort();
  reader.join();
  // Far below the 60 s idle timeout: a hang detector, not a speed claim.
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
  EXPECT_THAT(result.status().message(), HasSubstr("aborted"));
  // A wrong pin fails like Send does.
  ClientOptions wrong;
  wrong.pinned_cert_sha256 = std::string(64, '0');
  Client bad(wrong);
  auto refused = bad.Stream("GET", BaseUrl(*server, "https") + "/events", {},
                            [](std::string_view) { return true; });
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("pinned"));
}

}  // namespace
}  // namespace kizuna::http
