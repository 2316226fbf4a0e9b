// Server::Start: an HTTP/1.1 server on Boost.Beast with C++20 coroutines.
//
// One coroutine accepts; one coroutine per connection (a Session, on its own
// strand) reads a request, calls the handler, writes the response and loops
// while the connection is kept alive. The handler is a blocking function
// called on the I/O thread that runs the session.
//
// A Session is split into ReadRequest (framing, limits, target parsing),
// CallHandler (the pure function) and WriteResponse or, when the handler's
// Response carries a BodyStream (Server-Sent Events), WriteStream: the head
// with chunked encoding, then a loop that calls BodyStream::Next() on the
// session's strand, writes what it returns as a chunk, or waits the poll
// interval on a steady_timer when nothing is ready. While a stream is open no
// read is pending, so the read timeout does not apply; a wait for readability
// on the raw socket (PeerWatch) notices a client that disconnects, so that an
// idle stream does not call Next() forever. Stop() closes the socket and
// cancels the poll timer, which ends the loop.
//
// Requests on a worker lane (ServerOptions::lanes, lane_of) do not run on
// the I/O thread: the session hands the handler call to that lane's
// WorkerPool (CallOnLane) and suspends; the worker posts the response back
// to the session's strand, which resumes and writes it. Meanwhile the I/O
// thread serves other connections. Each lane has its own pool, so a full
// one does not hold up the others; its full queue is answered 503 with
// Retry-After at once.
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/worker_pool.h"
#include "http/http.h"
#include "http/target.h"

namespace kizuna::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

// How long a closing connection may take to say goodbye (TLS close_notify,
// draining what the client still sends) before it is cut.
constexpr auto kCloseGrace = std::chrono::seconds(1);
// Closing a socket with unread input makes the kernel send a reset, which can
// destroy our error answer before the client reads it; so we read and drop
// up to this much of a rejected body first.
constexpr size_t kMaxDrainBytes = 1024 * 1024;

auto Await(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

bool IsTokenChar(char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Header fields a handler returns must not be able to split the response.
bool IsSafeField(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// The server's fields that do not change after Start, and the registry of
// live sessions that Stop() closes.
class ServerCore;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection from any thread; pending I/O completes with an error.
  virtual void Close() = 0;
};

class ServerCore {
 public:
  ServerCore(ServerOptions options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {
    if (options_.lane_of) {
      for (const WorkerLane& lane : options_.lanes) {
        pools_.push_back(std::make_unique<WorkerPool>(
            WorkerPoolOptions{.threads = std::max(1, lane.threads), .queue_capacity = lane.queue}));
      }
    }
  }

  const ServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }
  // The lane `request` runs on, or -1: the I/O thread (also when there are
  // no pools, or lane_of answers an index out of range).
  int LaneOf(const Request& request) const {
    if (pools_.empty()) return -1;
    const int lane = options_.lane_of(request);
    return lane >= 0 && static_cast<size_t>(lane) < pools_.size() ? lane : -1;
  }
  // The pool of a lane LaneOf returned.
  WorkerPool& pool(int lane) const { return *pools_[static_cast<size_t>(lane)]; }
  const std::string& lane_name(int lane) const {
    return options_.lanes[static_cast<size_t>(lane)].name;
  }
  std::vector<LaneStats> Lanes() const {
    std::vector<LaneStats> out;
    for (size_t i = 0; i < options_.lanes.size(); ++i) {
      const WorkerLane& lane = options_.lanes[i];
      LaneStats stats{.name = lane.name, .threads = std::max(1, lane.threads), .queue = lane.queue};
      if (i < pools_.size()) {
        stats.queued = pools_[i]->queued();
        stats.running = pools_[i]->running();
      }
      out.push_back(std::move(stats));
    }
    return out;
  }
  size_t queued(size_t lane) const { return lane < pools_.size() ? pools_[lane]->queued() : 0; }
  // Refuses new requests on every lane and waits for the ones queued or running.
  void StopPools() {
    for (auto& pool : pools_) pool->Stop();
  }
  std::chrono::seconds read_timeout() const {
    return std::chrono::seconds(std::max(1, options_.read_timeout_seconds));
  }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  // False once stopping: the new connection must then be dropped.
  bool Register(const std::shared_ptr<SessionBase>& session) {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    sessions_[session.get()] = session;
    return true;
  }
  void Unregister(SessionBase* session) {
    std::lock_guard lock(mutex_);
    sessions_.erase(session);
  }
  // Marks the server as stopping and closes every live connection.
  void CloseAll() {
    std::vector<std::weak_ptr<SessionBase>> sessions;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      for (auto& [key, session] : sessions_) sessions.push_back(session);
    }
    for (auto& weak : sessions) {
      if (auto session = weak.lock()) session->Close();
    }
  }

 private:
  const ServerOptions options_;
  const Handler handler_;
  // One per lane, set in the constructor; empty when lane_of is null.
  std::vector<std::unique_ptr<WorkerPool>> pools_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;  // guarded by mutex_
};

// One connection. Stream is beast::tcp_stream or ssl_stream<tcp_stream>.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... StreamArgs>
  Session(ServerCore* core, tcp::endpoint remote, StreamArgs&&... stream_args)
      : core_(core),
        remote_address_(remote.address().to_string()),
        remote_port_(remote.port()),
        stream_(std::forward<StreamArgs>(stream_args)...) {}

  auto executor() { return Lowest().get_executor(); }

  void Close() override {
    asio::post(Lowest().get_executor(), [self = this->shared_from_this()] {
      self->Lowest().close();
      self->stream_timer_.cancel();  // wakes a stream waiting for its next poll
    });
  }

  // The coroutine that owns the session until the connection ends.
  static asio::awaitable<void> Serve(std::shared_ptr<Session> self) {
    try {
      co_await self->Run();
    } catch (const std::exception& e) {
      spdlog::warn("http: connection from {} ended by an error: {}", self->remote_address_,
                   e.what());
    }
    self->Lowest().close();
    self->core_->Unregister(self.get());
  }

 private:
  // What ReadRequest found on the wire.
  struct Incoming {
    enum class Kind {
      kRequest,  // a complete request for the handler
      kAnswer,   // the server answers itself (limits, bad target) with `answer`
      kClosed,   // the peer left, timed out, or the server is stopping
    };
    Kind kind = Kind::kClosed;
    Request request;
    Response answer;
    unsigned version = 11;
    bool keep_alive = false;
  };

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  asio::awaitable<void> Run() {
    error_code ec;
    if constexpr (kIsTls) {
      Lowest().expires_after(core_->read_timeout());
      co_await stream_.async_handshake(ssl::stream_base::server, Await(ec));
      if (ec) co_return;  // a plain-HTTP client or a failed handshake: nothing to answer
    }
    for (;;) {
      Incoming incoming = co_await ReadRequest();
      if (incoming.kind == Incoming::Kind::kClosed) co_return;
      Response response;
      if (incoming.kind != Incoming::Kind::kRequest) {
        response = std::move(incoming.answer);
      } else if (const int lane = core_->LaneOf(incoming.request); lane >= 0) {
        response = co_await CallOnLane(lane, incoming.request, asio::use_awaitable);
      } else {
        response = CallHandler(incoming.request);
      }
      bool keep_alive = incoming.keep_alive && !core_->stopping();
      CheckStatus(response);
      if (response.stream &&
          (response.status == 204 || response.status == 304 || incoming.request.method == "HEAD")) {
        response.stream.reset();  // no body to stream
      }
      bool written =
          response.stream
              ? co_await WriteStream(std::move(response), incoming.version, keep_alive)
              : co_await WriteResponse(std::move(response), incoming.version, keep_alive);
      if (!written) co_return;
      if (!keep_alive) {
        co_await CloseGracefully();
        co_return;
      }
    }
  }

  static Incoming Answer(Response response) {
    Incoming incoming;
    incoming.kind = Incoming::Kind::kAnswer;
    incoming.answer = std::move(response);
    return incoming;
  }

  Incoming TooLarge() const {
    return Answer(ErrorResponse(413, "Request body too large",
                                "The request body is larger than the " +
                                    std::to_string(core_->options().max_body_bytes) +
                                    " bytes this server accepts."));
  }

  // Errors that just mean the connection is over: nobody to answer.
  static bool IsGone(const error_code& ec) {
    return ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
           ec == asio::error::eof || ec == asio::error::operation_aborted ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::bad_descriptor || ec == ssl::error::stream_truncated;
  }

  Incoming FromReadError(const error_code& ec) const {
    if (ec == bhttp::error::header_limit) {
      return Answer(ErrorResponse(431, "Request header fields too large",
                                  "The request header is larger than the " +
                                      std::to_string(core_->options().max_header_bytes) +
                                      " bytes this server accepts."));
    }
    if (ec == bhttp::error::body_limit) return TooLarge();
    if (IsGone(ec)) return {};
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
      return Answer(ErrorResponse(400, "Malformed HTTP request", ec.message()));
    }
    return {};  // a socket or TLS error: the connection is unusable
  }

  asio::awaitable<Incoming> ReadRequest() {
    const ServerOptions& options = core_->options();
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(options.max_body_bytes);

    error_code ec;
    // Also the idle timeout of a kept-alive connection, and what stops a
    // client that never finishes its header (slowloris).
    Lowest().expires_after(core_->read_timeout());
    co_await bhttp::async_read_header(stream_, buffer_, parser, Await(ec));
    if (ec) co_return FromReadError(ec);

    // Redundant with the parser's own body_limit check, but the point of
    // reading the header first is to refuse before a byte of body is read.
    if (auto length = parser.content_length(); length && *length > options.max_body_bytes) {
      co_return TooLarge();
    }
    const auto& header = parser.get();
    if (!parser.is_done() && header.version() >= 11 &&
        beast::iequals(header[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, header.version()};
      Lowest().expires_after(core_->read_timeout());
      co_await bhttp::async_write(stream_, go_on, Await(ec));
      if (ec) co_return Incoming{};
    }
    if (!parser.is_done()) {
      // Beast reads at most the buffer's free capacity at a time, and the
      // parser drains the buffer after every read: without room, a large body
      // arrives 512 bytes per system call.
      buffer_.reserve(kBodyReadChunk);
      Lowest().expires_after(core_->read_timeout());
      co_await bhttp::async_read(stream_, buffer_, parser, Await(ec));
      if (ec) co_return FromReadError(ec);
    }

    bhttp::request<bhttp::string_body> message = parser.release();
    Incoming incoming;
    incoming.version = message.version();
    incoming.keep_alive = message.keep_alive();
    Request& request = incoming.request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    if (Status parsed = internal::ParseTarget(request.target, &request.path, &request.query);
        !parsed.ok()) {
      incoming.kind = Incoming::Kind::kAnswer;
      incoming.answer = ErrorResponse(400, "Bad request target", parsed.message());
      co_return incoming;
    }
    for (const auto& field : message) {
      request.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_address_;
    request.remote_port = remote_port_;
    request.tls = kIsTls;
    incoming.kind = Incoming::Kind::kRequest;
    co_return incoming;
  }

  Response CallHandler(const Request& request) const { return CallHandlerOf(*core_, request); }

  static Response CallHandlerOf(const ServerCore& core, const Request& request) {
    try {
      return core.handler()(request);
    } catch (const std::exception& e) {
      // The message may quote request data (keys, bodies): keep it out of
      // the error log and the answer.
      spdlog::error("http: handler failed on {} {}", request.method, request.path);
      spdlog::debug("http: handler exception: {}", e.what());
    } catch (...) {
      spdlog::error("http: handler failed on {} {}", request.method, request.path);
    }
    return ErrorResponse(500, "Internal server error",
                         "The server failed while handling this request.");
  }

  // The answer to a request on `lane` when that lane's queue is full or the
  // server is stopping.
  Response Busy(int lane) const {
    const int seconds = std::max(1, core_->options().busy_retry_after_seconds);
    Response response = ErrorResponse(
        503, "Server busy",
        "The server is busy with other requests of this kind (its '" + core_->lane_name(lane) +
            "' workers and their queue are full); retry in " + std::to_string(seconds) + " s.");
    response.headers.Set("Retry-After", std::to_string(seconds));
    return response;
  }

  // Calls the handler on the worker pool of `lane` and completes, on the
  // session's strand, with its response (or Busy() when the pool refuses the
  // task). `request` lives in the suspended coroutine's frame, which the
  // pending completion keeps alive until the worker is done with it.
  template <class CompletionToken>
  auto CallOnLane(int lane, const Request& request, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(Response)>(
        [this, lane, &request](auto completion) {
          using Completion = decltype(completion);
          // Tracked: the I/O threads keep running until the answer is delivered.
          auto target = asio::prefer(asio::get_associated_executor(completion, executor()),
                                     asio::execution::outstanding_work.tracked);
          auto pending = std::make_shared<Completion>(std::move(completion));
          auto deliver = [target, pending](Response response) {
            asio::post(target, [pending, response = std::move(response)]() mutable {
              (*pending)(std::move(response));
            });
          };
          ServerCore* core = core_;
          const Request* call = &request;
          Response busy = Busy(lane);
          if (!core->pool(lane).TrySubmit([core, call, deliver, busy] {
                deliver(core->stopping() ? busy : CallHandlerOf(*core, *call));
              })) {
            deliver(std::move(busy));
          }
        },
        token);
  }

  // Replaces a response whose status is not a final HTTP status by a 500.
  static void CheckStatus(Response& response) {
    if (response.status >= 200 && response.status <= 599) return;
    spdlog::error("http: handler returned invalid status {}", response.status);
    response = ErrorResponse(500, "Internal server error", "The handler returned no valid status.");
  }

  // The head of `response` (status and the handler's safe fields) into
  // `message`; framing fields are left to the caller.
  template <class Body>
  static void FillHead(const Response& response, unsigned version, bool& keep_alive,
                       bhttp::response<Body>& message) {
    message.version(version);
    message.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers.fields()) {
      if (!IsSafeField(name, value)) continue;
      // Framing is the server's business.
      if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding")) {
        continue;
      }
      if (beast::iequals(name, "Connection")) {
        if (beast::iequals(value, "close")) keep_alive = false;
        continue;
      }
      message.insert(name, value);
    }
    if (message.find(bhttp::field::server) == message.end()) {
      message.set(bhttp::field::server, "kizuna");
    }
  }

  // False when the connection broke.
  asio::awaitable<bool> WriteResponse(Response response, unsigned version, bool& keep_alive) {
    const int status = response.status;
    bhttp::response<bhttp::string_body> message;
    FillHead(response, version, keep_alive, message);
    if (status == 204 || status == 304) response.body.clear();
    message.body() = std::move(response.body);
    message.keep_alive(keep_alive);
    message.prepare_payload();

    error_code ec;
    Lowest().expires_after(core_->read_timeout());
    co_await bhttp::async_write(stream_, message, Await(ec));
    co_return !ec;
  }

  // Whether the client of a stream is still there. Shared between the stream
  // loop and the pending wait (both on the strand).
  struct PeerWatch {
    bool active = true;  // false once the stream is over: the wait's outcome no longer matters
    bool gone = false;   // the client closed or reset the connection
  };

  // Waits until the socket is readable without reading (the bytes, if any,
  // stay for ReadRequest or TLS). End of stream or an error mark the peer
  // gone and wake the stream loop; bytes that arrive (a pipelined request, a
  // TLS record) end the watching, and a failed write is then what notices a
  // client that left.
  void WatchPeer(std::shared_ptr<PeerWatch> watch) {
    Lowest().socket().async_wait(
        tcp::socket::wait_read,
        [self = this->shared_from_this(), watch = std::move(watch)](error_code ec) mutable {
          if (!watch->active) return;
          if (ec) {
            if (ec != asio::error::operation_aborted) watch->gone = true;
          } else {
            char byte;
            ssize_t n =
                ::recv(self->Lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
              self->WatchPeer(std::move(watch));  // spurious wake-up
              return;
            }
            if (n > 0) return;  // bytes are waiting: stop watching
            watch->gone = true;
          }
          if (watch->gone) self->stream_timer_.cancel();
        });
  }

  enum class StreamEnd { kComplete, kCut };

  // Calls Next() until the body is complete, writing each piece (as a chunk
  // when `chunked`). kCut: the client left, a write failed, Next() threw or the
  // server is stopping.
  asio::awaitable<StreamEnd> PumpStream(BodyStream& body, std::chrono::milliseconds poll_interval,
                                        bool chunked, PeerWatch& watch) {
    error_code ec;
    for (;;) {
      if (core_->stopping() || watch.gone || !Lowest().socket().is_open())
        co_return StreamEnd::kCut;
      std::optional<std::string> next;
      try {
        next = body.Next();
      } catch (const std::exception& e) {
        spdlog::error("http: response stream to {} failed", remote_address_);
        spdlog::debug("http: response stream exception: {}", e.what());
        co_return StreamEnd::kCut;
      } catch (...) {
        spdlog::error("http: response stream to {} failed", remote_address_);
        co_return StreamEnd::kCut;
      }
      if (!next) co_return StreamEnd::kComplete;
      if (next->empty()) {
        // Woken early (with operation_aborted) by Close() or by the peer watch.
        stream_timer_.expires_after(poll_interval);
        co_await stream_timer_.async_wait(Await(ec));
        continue;
      }
      Lowest().expires_after(core_->read_timeout());
      if (chunked) {
        co_await asio::async_write(stream_, bhttp::make_chunk(asio::buffer(*next)), Await(ec));
      } else {
        co_await asio::async_write(stream_, asio::buffer(*next), Await(ec));
      }
      if (ec) co_return StreamEnd::kCut;
    }
  }

  // Writes a streamed response: the head, then the body from response.stream.
  // False when the connection must be closed at once (client gone, server
  // stopping, write failed).
  asio::awaitable<bool> WriteStream(Response response, unsigned version, bool& keep_alive) {
    std::shared_ptr<BodyStream> body = std::move(response.stream);
    const auto poll_interval =
        std::max(response.stream_poll_interval, std::chrono::milliseconds(1));
    bhttp::response<bhttp::empty_body> message;
    FillHead(response, version, keep_alive, message);
    // HTTP/1.0 has no chunked encoding: the body ends when the connection does.
    const bool chunked = version >= 11;
    if (!chunked) keep_alive = false;
    message.keep_alive(keep_alive);
    message.chunked(chunked);

    error_code ec;
    bhttp::response_serializer<bhttp::empty_body> serializer(message);
    Lowest().expires_after(core_->read_timeout());
    co_await bhttp::async_write_header(stream_, serializer, Await(ec));
    if (ec) co_return false;

    auto watch = std::make_shared<PeerWatch>();
    WatchPeer(watch);
    // New data wakes the pump at once; the poll interval is only the fallback.
    body->SetWaker([weak = this->weak_from_this()] {
      if (auto self = weak.lock()) {
        asio::post(self->Lowest().get_executor(), [self] { self->stream_timer_.cancel(); });
      }
    });
    StreamEnd end = co_await PumpStream(*body, poll_interval, chunked, *watch);
    body->SetWaker(nullptr);
    watch->active = false;
    // Nothing else is pending on the socket now: this cancels only the watch.
    Lowest().socket().cancel(ec);
    body.reset();  // the stream's resources go with its end
    if (end == StreamEnd::kCut) co_return false;
    if (chunked) {
      Lowest().expires_after(core_->read_timeout());
      co_await asio::async_write(stream_, bhttp::make_chunk_last(), Await(ec));
      if (ec) co_return false;
    }
    co_return true;
  }

  // Says goodbye without resetting the connection: TLS close_notify, then
  // half-close and drain what the client still sends, all bounded in time.
  asio::awaitable<void> CloseGracefully() {
    error_code ec;
    if constexpr (kIsTls) {
      Lowest().expires_after(kCloseGrace);
      co_await stream_.async_shutdown(Await(ec));
    }
    tcp::socket& socket = Lowest().socket();
    if (!socket.is_open()) co_return;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    Lowest().expires_after(kCloseGrace);
    std::array<char, 4096> scratch;
    for (size_t drained = 0; drained < kMaxDrainBytes;) {
      size_t n = co_await Lowest().async_read_some(asio::buffer(scratch), Await(ec));
      if (ec) break;
      drained += n;
    }
    Lowest().close();
  }

  ServerCore* const core_;
  const std::string remote_address_;
  const uint16_t remote_port_;
  Stream stream_;
  // The wait between polls of a response stream; Close() cancels it.
  asio::steady_timer stream_timer_{beast::get_lowest_layer(stream_).get_executor()};
  beast::flat_buffer buffer_;  // bytes read past the current request (pipelining)
  static constexpr size_t kBodyReadChunk = 64 * 1024;
};

class BeastServer final : public Server {
 public:
  BeastServer(ServerOptions options, Handler handler)
      : core_(std::move(options), std::move(handler)),
        io_context_(std::max(1, core_.options().threads)),
        acceptor_(asio::make_strand(io_context_)) {}

  ~BeastServer() override { Stop(); }

  // Loads the TLS certificate and key, if configured.
  Status SetUpTls() {
    const ServerOptions& options = core_.options();
    if (options.tls_cert_file.empty() && options.tls_key_file.empty()) return Status::Ok();
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return InvalidArgument("TLS needs both a certificate file and a key file");
    }
    for (const std::string* file : {&options.tls_cert_file, &options.tls_key_file}) {
      std::error_code fs_error;
      if (!std::filesystem::is_regular_file(*file, fs_error)) {
        return NotFound("TLS file not found: " + *file);
      }
    }
    tls_context_ = std::make_unique<ssl::context>(ssl::context::tls_server);
    error_code ec;
    tls_context_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                  ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                              ec);
    SSL_CTX_set_min_proto_version(tls_context_->native_handle(), TLS1_2_VERSION);
    tls_context_->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return InvalidArgument("cannot load TLS certificate chain from " + options.tls_cert_file +
                             ": " + ec.message());
    }
    tls_context_->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return InvalidArgument("cannot load TLS private key from " + options.tls_key_file + ": " +
                             ec.message());
    }
    if (SSL_CTX_check_private_key(tls_context_->native_handle()) != 1) {
      return InvalidArgument("TLS private key " + options.tls_key_file +
                             " does not match the certificate " + options.tls_cert_file);
    }
    return Status::Ok();
  }

  Status Listen() {
    const ServerOptions& options = core_.options();
    const std::string where = options.host + ":" + std::to_string(options.port);
    error_code ec;
    tcp::endpoint endpoint;
    asio::ip::address address = asio::ip::make_address(options.host, ec);
    if (!ec) {
      endpoint = tcp::endpoint(address, options.port);
    } else {
      tcp::resolver resolver(io_context_);
      auto results =
          resolver.resolve(options.host, std::to_string(options.port), tcp::resolver::passive, ec);
      if (ec || results.empty()) {
        return InvalidArgument("cannot resolve listen address " + where + ": " +
                               (ec ? ec.message() : "no address"));
      }
      endpoint = *results.begin();
    }
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return IoError("cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
    return Status::Ok();
  }

  void Begin() {
    asio::co_spawn(acceptor_.get_executor(), AcceptLoop(), [](std::exception_ptr) {});
    int threads = std::max(1, core_.options().threads);
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { RunIoContext(); });
    }
  }

  uint16_t port() const override { return port_; }
  std::vector<LaneStats> Lanes() const override { return core_.Lanes(); }
  size_t queued(size_t lane) const override { return core_.queued(lane); }
  bool stopping() const override { return core_.stopping(); }

  void Stop() override {
    std::lock_guard lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
    asio::post(acceptor_.get_executor(), [this] {
      error_code ignored;
      acceptor_.close(ignored);
    });
    core_.CloseAll();
    // Before the I/O threads: the workers' answers are delivered through them.
    core_.StopPools();
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  void RunIoContext() {
    for (;;) {
      try {
        io_context_.run();
        return;
      } catch (const std::exception& e) {
        // Sessions catch their own errors; this is a last line of defence
        // so that one bad connection cannot take the server down.
        spdlog::error("http: I/O thread caught: {}", e.what());
      }
    }
  }

  asio::awaitable<void> AcceptLoop() {
    for (;;) {
      error_code ec;
      tcp::socket socket(asio::make_strand(io_context_));
      co_await acceptor_.async_accept(socket, Await(ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        // Out of file descriptors and the like: back off instead of spinning.
        spdlog::warn("http: accept failed: {}", ec.message());
        asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
        co_await pause.async_wait(Await(ec));
        continue;
      }
      StartSession(std::move(socket));
    }
  }

  void StartSession(tcp::socket socket) {
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) return;  // the peer is already gone
    if (tls_context_) {
      Spawn(std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          &core_, remote, std::move(socket), *tls_context_));
    } else {
      Spawn(std::make_shared<Session<beast::tcp_stream>>(&core_, remote, std::move(socket)));
    }
  }

  template <class SessionType>
  void Spawn(std::shared_ptr<SessionType> session) {
    if (!core_.Register(session)) return;
    auto executor = session->executor();
    asio::co_spawn(executor, SessionType::Serve(std::move(session)), [](std::exception_ptr) {});
  }

  // Declaration order is destruction order in reverse: the I/O context, and
  // with it any session still suspended, goes before what sessions use.
  ServerCore core_;
  std::unique_ptr<ssl::context> tls_context_;  // null: plain HTTP
  asio::io_context io_context_;
  tcp::acceptor acceptor_;  // on its own strand
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
  std::mutex stop_mutex_;
  bool stopped_ = false;  // guarded by stop_mutex_
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, Handler handler) {
  if (!handler) return InvalidArgument("http server needs a handler");
  try {
    auto server = std::make_unique<BeastServer>(options, std::move(handler));
    KIZUNA_RETURN_IF_ERROR(server->SetUpTls());
    KIZUNA_RETURN_IF_ERROR(server->Listen());
    server->Begin();
    return std::unique_ptr<Server>(std::move(server));
  } catch (const std::exception& e) {
    return Internal(std::string("cannot start http server: ") + e.what());
  }
}

}  // namespace kizuna::http
