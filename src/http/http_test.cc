// Tests of the HTTP server and client over real loopback sockets.
#include "http/http.h"

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
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "http/target.h"

namespace kizuna::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
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

// A raw POSIX socket, for requests the client would never send.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port, int receive_timeout_seconds = 10) {
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
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));  // the server closes it
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
  EXPECT_TRUE(closed);
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
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
  options.read_timeout_seconds = 30;
  auto server = MustStart(options, [](const Request&) { return Text(200, "ok"); });
  ASSERT_TRUE(server);
  Client client;
  ASSERT_TRUE(client.Send("GET", BaseUrl(*server) + "/").ok());  // now idle, kept alive
  RawSocket raw(server->port());
  ASSERT_TRUE(raw.Send("GET / HTTP/1.1\r\n"));  // half a request
  auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
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

TEST(Client, TimesOut) {
  auto server = MustStart({}, [](const Request&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    return Text(200, "late");
  });
  ASSERT_TRUE(server);
  ClientOptions options;
  options.timeout_ms = 200;
  Client client(options);
  auto got = client.Send("GET", BaseUrl(*server) + "/");
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
    cert_file_ = (dir_ / "cert.pem").string();
    key_file_ = (dir_ / "key.pem").string();

    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600 * 24);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
      X509_add_ext(cert.get(), extension, -1);
      X509_EXTENSION_free(extension);
    }
    X509_sign(cert.get(), key.get(), EVP_sha256());

    FILE* file = fopen(cert_file_.c_str(), "w");
    PEM_write_X509(file, cert.get());
    fclose(file);
    file = fopen(key_file_.c_str(), "w");
    PEM_write_PrivateKey(file, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    fclose(file);

    int length = i2d_X509(cert.get(), nullptr);
    std::string der(static_cast<size_t>(length), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_X509(cert.get(), &out);
    sha256_ = HexEncode(Sha256(der));
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

}  // namespace
}  // namespace kizuna::http
