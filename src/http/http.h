// kizuna's small HTTP interface. Handlers are pure functions from Request to
// Response; the server (Boost.Beast, in server.cc only) does the I/O, TLS,
// timeouts and size limits. The client (client.cc) is what federation,
// tests and benchmarks use to talk to nodes. Beast/Asio headers never appear
// outside server.cc and client.cc, so that the build stays fast.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kizuna::http {

// Header fields in arrival order; lookups are case-insensitive.
class Headers {
 public:
  void Add(std::string name, std::string value);
  // Replaces every field of that name.
  void Set(std::string name, std::string value);
  // The first value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;  // "GET", "POST", …
  std::string target;  // as received: "/taxii2/?a=b"
  std::string path;    // percent-decoded path, no query: "/taxii2/"
  // Percent-decoded query parameters in order; a key may repeat.
  std::vector<std::pair<std::string, std::string>> query;
  Headers headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1"
  uint16_t remote_port = 0;    // the client's port (tells connections apart)
  bool tls = false;

  // The first value of a query parameter, or "" when absent.
  std::string_view Query(std::string_view key) const;
  bool HasQuery(std::string_view key) const;
};

// A response body produced over time (Server-Sent Events). The server sends the head
// (chunked transfer encoding), then calls Next() on the session's I/O thread — it must not
// block for long (short store reads are fine).
//
// Next() is called from one thread at a time (the session's strand), never concurrently
// for the same stream; the server holds the last reference it owns until the stream ends,
// the client disconnects or the server stops, then drops it (the destructor runs on an
// I/O thread or in Server::Stop). After nullopt, Next() is not called again.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // The next bytes to send: "" when nothing is ready now (the server asks again after
  // Response::stream_poll_interval), nullopt when the body is complete.
  virtual std::optional<std::string> Next() = 0;
  // Called by the server before the first Next() with a function that makes
  // it call Next() soon instead of after the poll interval. The stream may
  // call it from any thread, until it is destroyed.
  virtual void SetWaker(std::function<void()> wake) { (void)wake; }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, `body` is ignored and the body is whatever `stream` produces, sent
  // with chunked transfer encoding (HTTP/1.0 clients: raw bytes, then close).
  // The stream ends when Next() returns nullopt (the connection then stays
  // alive as usual), when the client disconnects or a write fails or times out
  // (read_timeout_seconds per chunk), or when the server stops (the connection
  // is then closed without the final chunk). The read timeout does not apply
  // while a stream is open. Ignored for 204/304 answers and HEAD requests.
  std::shared_ptr<BodyStream> stream;
  // How long the server waits before calling Next() again after it returned "".
  std::chrono::milliseconds stream_poll_interval{20};
};

// Called concurrently from the server's I/O threads (and, for requests
// ServerOptions::lane_of puts on a lane, its lanes' worker threads), so it must be
// thread-safe. It may block (database work); an exception it throws becomes
// a 500 answer with a generic message.
using Handler = std::function<Response(const Request&)>;

// A JSON error body in the TAXII 2.1 error-message shape, with content type
// application/taxii+json;version=2.1. Used by the server for errors it
// raises itself (413, 400 on malformed HTTP, 408) and by handlers. Title and
// description are made valid UTF-8 (ValidUtf8) before they are serialized, so
// an error that quotes a client's input never carries its raw bytes.
Response ErrorResponse(int status, std::string_view title, std::string_view description = {});
// `body` (serialized JSON) as application/json.
Response JsonResponse(int status, std::string body);

// `text` with every byte that is not part of a well-formed UTF-8 sequence
// (overlong forms, surrogates and code points past U+10FFFF included)
// replaced by U+FFFD.
std::string ValidUtf8(std::string_view text);

// One worker lane of the server (ServerOptions::lanes): its own pool of
// `threads` (at least 1) with room for `queue` requests waiting beyond the
// running ones; one more is answered 503 "Server busy" with Retry-After at
// once, never queued without bound. `name` is for operators ("work",
// "import": Server::Lanes, logs, the 503's description).
struct WorkerLane {
  std::string name;
  int threads = 2;
  size_t queue = 32;
};

// What a lane is doing now (Server::Lanes).
struct LaneStats {
  std::string name;
  int threads = 0;
  size_t queue = 0;    // capacity: requests that may wait
  size_t queued = 0;   // requests waiting for a worker
  size_t running = 0;  // requests a worker is handling
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port (see Server::port())
  int threads = 2;
  // Bodies longer than this get 413 as soon as the headers announce them
  // (or as soon as a chunked body passes the limit), before they are read whole.
  size_t max_body_bytes = 64 * 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  int read_timeout_seconds = 30;  // per request, headers and body
  // TLS: both set -> HTTPS only.
  std::string tls_cert_file;
  std::string tls_key_file;

  // Worker lanes: requests that `lane_of` assigns to a lane run on that
  // lane's bounded worker pool instead of an I/O thread, so that the I/O
  // threads keep serving the others while it is busy, and a busy lane does
  // not hold up another (the daemon: matching on "work", imports on
  // "import"). `lane_of` decides from the request alone, on an I/O thread,
  // so it must be cheap (a route lookup) and thread-safe; it returns an
  // index into `lanes`, or -1 (as for any index out of range) to run the
  // request on the I/O thread. Null `lane_of` or no lanes: every request
  // runs on the I/O threads and there are no pools.
  std::vector<WorkerLane> lanes;
  std::function<int(const Request&)> lane_of;
  // Sent as `Retry-After` with a lane's 503 "Server busy" (at least 1).
  int busy_retry_after_seconds = 1;
};

// A running HTTP/1.1 server (keep-alive, TLS optional). Thread-safe; Stop()
// or the destructor closes the listener and every connection, lets the
// lanes' worker pools finish (a request still queued is then answered 503
// without calling the handler; one running finishes), and waits for the
// I/O threads.
class Server {
 public:
  virtual ~Server() = default;
  // Binds and starts serving on background threads.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, Handler handler);
  virtual uint16_t port() const = 0;
  virtual void Stop() = 0;
  // Each lane of ServerOptions::lanes, in order: its size and how many
  // requests wait and run on it now (a snapshot; each count is exact when
  // read, the two may be a task apart). What operators see (GET
  // /api/v1/node) and tests wait on instead of sleeping.
  virtual std::vector<LaneStats> Lanes() const = 0;
  // Requests waiting on lane `lane` (an index into ServerOptions::lanes);
  // 0 for an index out of range.
  virtual size_t queued(size_t lane) const = 0;
  // Whether Stop() has begun.
  virtual bool stopping() const = 0;
};

struct ClientOptions {
  // TLS: verify the server against this CA bundle (PEM); empty uses the
  // system's default trust store.
  std::string ca_file;
  // TLS: accept exactly the certificate whose SHA-256 (hex of DER) is this,
  // whatever its issuer (certificate pinning between partner nodes).
  std::string pinned_cert_sha256;
  bool verify_peer = true;
  int timeout_ms = 30000;
  size_t max_response_bytes = 256 * 1024 * 1024;
};

// A blocking HTTP/1.1 client that keeps one connection per scheme://host:port
// alive between calls. Not thread-safe: use one per thread (except Abort()).
class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // `url` is absolute: "http://127.0.0.1:8443/taxii2/". Network failures and
  // TLS errors are a non-ok Status; any HTTP status is a Response.
  Result<Response> Send(std::string_view method, std::string_view url, const Headers& headers = {},
                        std::string_view body = {});

  // Sends a request and hands the response body to on_data as it arrives, until the body
  // ends, on_data returns false, Abort() is called, or idle_timeout_ms pass without any
  // bytes. Returns the response head (status and headers; body empty). A non-2xx answer's
  // body is read whole into Response::body instead of going to on_data.
  //
  // For chunked answers on_data gets the decoded chunk data (not chunk boundaries:
  // bytes may arrive split or merged arbitrarily). timeout_ms covers connect, TLS
  // handshake, sending the request and receiving the head; idle_timeout_ms each wait
  // for body bytes after that. The body of a 2xx answer has no size limit (on_data
  // sees it piecewise); a non-2xx body is bounded by max_response_bytes.
  // Errors: an idle timeout, a broken or cut connection (also a stream the server
  // ended without its final chunk) are kUnavailable; Abort() gives kUnavailable with
  // "aborted" in the message. An exception from on_data is returned as kInternal.
  // on_data runs on the calling thread. When the body ended completely the
  // connection may be kept alive for the next call; otherwise it is closed.
  Result<Response> Stream(std::string_view method, std::string_view url, const Headers& headers,
                          const std::function<bool(std::string_view)>& on_data,
                          int idle_timeout_ms = 60000);

  // Thread-safe (the one method that may be called from another thread): ends a
  // Stream() or Send() in progress on another thread — it returns promptly with a
  // kUnavailable status saying "aborted" (at worst after timeout_ms while a name
  // is being resolved) — and makes every later Send() and Stream() fail the same
  // way at once. An aborted Client stays aborted: make a new one to go on.
  // Must not race with the Client's destruction.
  void Abort();
  bool aborted() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kizuna::http
