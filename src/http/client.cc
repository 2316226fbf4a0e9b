// Client: a blocking HTTP/1.1 client on Boost.Beast.
//
// Each Send or Stream runs coroutines on the client's private io_context until
// they finish, so that the per-operation timeouts of beast::tcp_stream apply to
// a blocking call. Connections are kept per scheme://host:port and reused.
//
// Stream reads the body with a buffer_body parser, one read_some at a time,
// and hands each piece to the callback. Abort() (from another thread) sets a
// flag and posts a closure to the io_context that closes the socket of the
// call in progress; the coroutines check the flag after every step, so an
// abort that lands between two operations is not lost.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <optional>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "common/encoding.h"
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

constexpr std::uint32_t kMaxResponseHeaderBytes = 64 * 1024;

auto Await(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// "AB:cd:…" or "abcd…" -> "abcd…", so that pins copied from `openssl x509
// -fingerprint` work too.
std::string NormalizePin(std::string_view pin) {
  std::string out;
  for (char c : pin) {
    if (c == ':') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Where a request goes, from its absolute URL.
struct Endpoint {
  bool tls = false;
  std::string host;        // for connecting, SNI and certificate checks; no brackets
  std::string port;        // decimal
  std::string host_field;  // the Host header
  std::string target;      // "/path?query"
  std::string Key() const { return (tls ? "https://" : "http://") + host + ":" + port; }
  std::string Display() const {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  }
};

Result<Endpoint> ParseUrl(std::string_view url) {
  std::string escaped = internal::EscapeLenient(url);
  auto parsed = boost::urls::parse_uri(escaped);
  if (!parsed) {
    return InvalidArgument("invalid URL '" + std::string(url) + "': " + parsed.error().message());
  }
  const boost::urls::url_view& view = *parsed;
  Endpoint endpoint;
  if (view.scheme_id() == boost::urls::scheme::https) {
    endpoint.tls = true;
  } else if (view.scheme_id() != boost::urls::scheme::http) {
    return InvalidArgument("unsupported URL scheme in '" + std::string(url) +
                           "' (http and https only)");
  }
  endpoint.host = view.host_address();
  if (endpoint.host.empty()) return InvalidArgument("URL has no host: '" + std::string(url) + "'");
  if (view.has_port() && !view.port().empty()) {
    if (view.port_number() == 0) {
      return InvalidArgument("invalid port in URL '" + std::string(url) + "'");
    }
    endpoint.port = std::to_string(view.port_number());
  } else {
    endpoint.port = endpoint.tls ? "443" : "80";
  }
  endpoint.host_field = view.encoded_host_and_port();
  endpoint.target = view.encoded_target();
  if (endpoint.target.empty() || endpoint.target.front() != '/') {
    endpoint.target.insert(0, "/");
  }
  return endpoint;
}

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<TlsStream> tls;
  beast::flat_buffer buffer;
  bool pin_mismatch = false;  // set by the verify callback

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

// The outcome of writing one request and reading its response.
struct Exchange {
  Status status;
  Response response;
  bool keep_alive = false;
  // The connection failed before the peer sent a byte of response: on a
  // reused connection that means the server had closed it meanwhile.
  bool stale = false;
};

bool IsResponseStale(const error_code& ec) {
  return ec != beast::error::timeout && ec != bhttp::error::body_limit &&
         ec != bhttp::error::header_limit;
}

}  // namespace

struct Client::Impl {
  explicit Impl(ClientOptions client_options) : options(std::move(client_options)) {
    options.pinned_cert_sha256 = NormalizePin(options.pinned_cert_sha256);
  }

  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(std::max(1, options.timeout_ms));
  }

  // Runs `work` on the private io_context until it completes.
  template <class T>
  T RunToCompletion(asio::awaitable<T> work) {
    std::optional<T> result;
    std::exception_ptr failure;
    asio::co_spawn(io_context, std::move(work), [&](std::exception_ptr error, T value) {
      failure = error;
      if (!error) result.emplace(std::move(value));
    });
    io_context.restart();
    io_context.run();
    if (failure || !result) {
      T fallback{};
      try {
        if (failure) std::rethrow_exception(failure);
        fallback.status = Internal("http client: operation did not complete");
      } catch (const std::exception& e) {
        fallback.status = Internal(std::string("http client: ") + e.what());
      }
      return fallback;
    }
    return std::move(*result);
  }

  Status SetUpTls() {
    if (tls_context) return Status::Ok();
    auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
    error_code ec;
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1,
                         ec);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    if (options.verify_peer && options.pinned_cert_sha256.empty()) {
      if (!options.ca_file.empty()) {
        context->load_verify_file(options.ca_file, ec);
        if (ec) {
          return InvalidArgument("cannot load CA file " + options.ca_file + ": " + ec.message());
        }
      } else {
        context->set_default_verify_paths(ec);
        if (ec) return Internal("cannot load the system's trusted CAs: " + ec.message());
      }
    }
    tls_context = std::move(context);
    return Status::Ok();
  }

  void ConfigureVerification(Connection& connection, const Endpoint& endpoint) {
    TlsStream& stream = *connection.tls;
    if (!options.verify_peer) {
      stream.set_verify_mode(ssl::verify_none);
      return;
    }
    stream.set_verify_mode(ssl::verify_peer);
    if (options.pinned_cert_sha256.empty()) {
      stream.set_verify_callback(ssl::host_name_verification(endpoint.host));
      return;
    }
    // A pin replaces both chain and name checks: partners pin each other's
    // self-signed certificates.
    stream.set_verify_callback(
        [pin = options.pinned_cert_sha256, mismatch = &connection.pin_mismatch](
            bool, ssl::verify_context& context) {
          X509_STORE_CTX* store = context.native_handle();
          if (X509_STORE_CTX_get_error_depth(store) > 0) return true;  // only the leaf counts
          X509* leaf = X509_STORE_CTX_get_current_cert(store);
          int length = leaf ? i2d_X509(leaf, nullptr) : -1;
          if (length <= 0) {
            *mismatch = true;
            return false;
          }
          std::string der(static_cast<size_t>(length), '\0');
          auto* out = reinterpret_cast<unsigned char*>(der.data());
          i2d_X509(leaf, &out);
          bool matches = HexEncode(Sha256(der)) == pin;
          if (!matches) *mismatch = true;
          return matches;
        });
  }

  struct Connected {
    Status status;
  };

  asio::awaitable<Connected> Connect(Connection& connection, const Endpoint& endpoint) {
    error_code ec;
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    // Name resolution is not covered by tcp_stream's timer.
    asio::steady_timer deadline(executor, timeout());
    deadline.async_wait([&resolver](error_code wait_error) {
      if (!wait_error) resolver.cancel();
    });
    auto addresses = co_await resolver.async_resolve(endpoint.host, endpoint.port, Await(ec));
    deadline.cancel();
    if (aborted.load()) co_return Connected{AbortedStatus()};
    if (ec) {
      co_return Connected{
          Unavailable("cannot resolve " + endpoint.host + ": " +
                      (ec == asio::error::operation_aborted ? "timed out" : ec.message()))};
    }
    beast::tcp_stream& lowest = connection.Lowest();
    lowest.expires_after(timeout());
    co_await lowest.async_connect(addresses, Await(ec));
    if (aborted.load()) co_return Connected{AbortedStatus()};
    if (ec) {
      co_return Connected{Unavailable("cannot connect to " + endpoint.Display() + ": " +
                                      (ec == beast::error::timeout ? "timed out" : ec.message()))};
    }
    lowest.socket().set_option(tcp::no_delay(true), ec);
    if (!connection.tls) co_return Connected{};

    TlsStream& stream = *connection.tls;
    error_code not_an_address;
    asio::ip::make_address(endpoint.host, not_an_address);
    // SNI carries names only (RFC 6066).
    if (not_an_address) SSL_set_tlsext_host_name(stream.native_handle(), endpoint.host.c_str());
    ConfigureVerification(connection, endpoint);
    lowest.expires_after(timeout());
    co_await stream.async_handshake(ssl::stream_base::client, Await(ec));
    if (!ec) co_return Connected{};

    std::string reason;
    if (connection.pin_mismatch) {
      reason = "the server certificate does not match the pinned SHA-256";
    } else if (ec == beast::error::timeout) {
      reason = "timed out";
    } else {
      reason = ec.message();
      long verify_result = SSL_get_verify_result(stream.native_handle());
      if (verify_result != X509_V_OK) {
        reason += std::string(" (") + X509_verify_cert_error_string(verify_result) + ")";
      } else if (ERR_GET_REASON(ec.value()) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        reason += " (certificate does not match host " + endpoint.host + ")";
      }
    }
    co_return Connected{
        Unavailable("TLS handshake with " + endpoint.Display() + " failed: " + reason)};
  }

  // Sends the request within timeout(); false (with exchange's status set)
  // when that failed.
  template <class Stream, class Request>
  asio::awaitable<bool> WriteRequest(Stream& stream, Connection& connection,
                                     const Endpoint& endpoint, Request& request,
                                     Exchange& exchange) {
    error_code ec;
    connection.Lowest().expires_after(timeout());
    co_await bhttp::async_write(stream, request, Await(ec));
    if (!ec) co_return true;
    exchange.stale = IsResponseStale(ec);
    exchange.status = Unavailable("cannot send request to " + endpoint.Display() + ": " +
                                  (ec == beast::error::timeout ? "timed out" : ec.message()));
    co_return false;
  }

  template <class Stream>
  asio::awaitable<Exchange> Transfer(Stream& stream, Connection& connection,
                                     const Endpoint& endpoint,
                                     bhttp::request<bhttp::string_body>& request) {
    Exchange exchange;
    error_code ec;
    beast::tcp_stream& lowest = connection.Lowest();
    if (!co_await WriteRequest(stream, connection, endpoint, request, exchange)) co_return exchange;
    for (;;) {
      bhttp::response_parser<bhttp::string_body> parser;
      parser.header_limit(kMaxResponseHeaderBytes);
      parser.body_limit(options.max_response_bytes);
      lowest.expires_after(timeout());
      // Room for large reads: the parser drains the buffer after each one, and
      // Beast reads no more than the free capacity (512 bytes when empty).
      connection.buffer.reserve(64 * 1024);
      co_await bhttp::async_read(stream, connection.buffer, parser, Await(ec));
      if (ec) {
        exchange.stale = !parser.got_some() && connection.buffer.size() == 0 && IsResponseStale(ec);
        if (ec == bhttp::error::body_limit) {
          exchange.status = TooLarge("response from " + endpoint.Display() + " is larger than " +
                                     std::to_string(options.max_response_bytes) + " bytes");
        } else {
          exchange.status = Unavailable("cannot read response from " + endpoint.Display() + ": " +
                                        (ec == beast::error::timeout ? "timed out" : ec.message()));
        }
        co_return exchange;
      }
      auto message = parser.release();
      // Interim answers (100 Continue) precede the real one.
      if (message.result_int() >= 100 && message.result_int() < 200) continue;
      exchange.response.status = static_cast<int>(message.result_int());
      for (const auto& field : message) {
        exchange.response.headers.Add(std::string(field.name_string()), std::string(field.value()));
      }
      exchange.response.body = std::move(message.body());
      exchange.keep_alive = message.keep_alive() && !parser.need_eof();
      co_return exchange;
    }
  }

  asio::awaitable<Exchange> ConnectAndTransfer(Connection& connection, bool fresh,
                                               const Endpoint& endpoint,
                                               bhttp::request<bhttp::string_body>& request) {
    if (fresh) {
      Connected connected = co_await Connect(connection, endpoint);
      if (!connected.status.ok()) {
        Exchange failed;
        failed.status = connected.status;
        co_return failed;
      }
    }
    if (connection.tls) co_return co_await Transfer(*connection.tls, connection, endpoint, request);
    co_return co_await Transfer(*connection.plain, connection, endpoint, request);
  }

  std::unique_ptr<Connection> NewConnection(const Endpoint& endpoint) {
    auto connection = std::make_unique<Connection>();
    if (endpoint.tls) {
      connection->tls = std::make_unique<TlsStream>(io_context, *tls_context);
    } else {
      connection->plain = std::make_unique<beast::tcp_stream>(io_context);
    }
    return connection;
  }

  static Status AbortedStatus() { return Unavailable("http client: aborted"); }

  // The request line and the caller's header fields; framing is left to the caller.
  template <class Body>
  static Status FillRequest(std::string_view method, const Endpoint& endpoint,
                            const Headers& headers, bhttp::request<Body>& request) {
    if (!IsToken(method))
      return InvalidArgument("invalid HTTP method '" + std::string(method) + "'");
    request.version(11);
    request.method_string(method);
    request.target(endpoint.target);
    request.set(bhttp::field::host, endpoint.host_field);
    request.set(bhttp::field::user_agent, "kizuna");
    for (const auto& [name, value] : headers.fields()) {
      if (!IsToken(name) ||
          value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        return InvalidArgument("invalid HTTP header field '" + name + "'");
      }
      if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding")) {
        continue;  // framing is ours
      }
      if (beast::iequals(name, "Host") || beast::iequals(name, "User-Agent")) {
        request.set(name, value);
      } else {
        request.insert(name, value);
      }
    }
    return Status::Ok();
  }

  Result<Response> Send(std::string_view method, std::string_view url, const Headers& headers,
                        std::string_view body) {
    if (aborted.load()) return AbortedStatus();
    KIZUNA_ASSIGN_OR_RETURN(Endpoint endpoint, ParseUrl(url));
    bhttp::request<bhttp::string_body> request;
    KIZUNA_RETURN_IF_ERROR(FillRequest(method, endpoint, headers, request));
    if (endpoint.tls) KIZUNA_RETURN_IF_ERROR(SetUpTls());
    request.body() = std::string(body);
    request.prepare_payload();
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      request.content_length(body.size());
    }

    return OnPooledConnection(endpoint, [&](Connection& connection, bool fresh) {
      return ConnectAndTransfer(connection, fresh, endpoint, request);
    });
  }

  // Runs one exchange on the pooled connection to `endpoint` (a new one when
  // there is none), retrying once on a fresh connection when a kept-alive
  // one turns out to have been closed by the server meanwhile.
  template <typename StartExchange>
  Result<Response> OnPooledConnection(const Endpoint& endpoint, StartExchange start) {
    const std::string key = endpoint.Key();
    for (int attempt = 0;; ++attempt) {
      auto pooled = connections.find(key);
      bool fresh = pooled == connections.end();
      if (fresh) pooled = connections.emplace(key, NewConnection(endpoint)).first;
      Connection& connection = *pooled->second;
      active = &connection;
      Exchange exchange = RunToCompletion(start(connection, fresh));
      active = nullptr;
      if (aborted.load()) {
        connections.erase(key);
        return AbortedStatus();
      }
      if (exchange.status.ok()) {
        if (!exchange.keep_alive) connections.erase(key);
        return std::move(exchange.response);
      }
      connections.erase(key);
      if (!fresh && exchange.stale && attempt == 0) continue;
      return exchange.status;
    }
  }

  // Reads a streamed response: the head within timeout(), then the body piece by
  // piece to on_data (2xx) or whole into the response (any other status).
  template <class Stream>
  asio::awaitable<Exchange> TransferStreaming(Stream& stream, Connection& connection,
                                              const Endpoint& endpoint,
                                              bhttp::request<bhttp::empty_body>& request,
                                              const std::function<bool(std::string_view)>& on_data,
                                              std::chrono::milliseconds idle_timeout) {
    Exchange exchange;
    error_code ec;
    beast::tcp_stream& lowest = connection.Lowest();
    const bool written = co_await WriteRequest(stream, connection, endpoint, request, exchange);
    if (aborted.load()) co_return Aborted();
    if (!written) co_return exchange;
    for (;;) {
      bhttp::response_parser<bhttp::buffer_body> parser;
      parser.header_limit(kMaxResponseHeaderBytes);
      parser.body_limit(boost::none);  // a 2xx stream is unbounded; other bodies are checked below
      lowest.expires_after(timeout());
      co_await bhttp::async_read_header(stream, connection.buffer, parser, Await(ec));
      if (aborted.load()) co_return Aborted();
      if (ec) {
        exchange.stale = !parser.got_some() && connection.buffer.size() == 0 && IsResponseStale(ec);
        exchange.status = Unavailable("cannot read response from " + endpoint.Display() + ": " +
                                      (ec == beast::error::timeout ? "timed out" : ec.message()));
        co_return exchange;
      }
      const auto& header = parser.get();
      const int status = static_cast<int>(header.result_int());
      // Interim answers (100 Continue, 103 Early Hints) precede the real one.
      if (status >= 100 && status < 200) continue;
      exchange.response.status = status;
      for (const auto& field : header) {
        exchange.response.headers.Add(std::string(field.name_string()), std::string(field.value()));
      }
      const bool deliver = status >= 200 && status < 300;
      std::array<char, 16 * 1024> piece;
      while (!parser.is_done()) {
        parser.get().body().data = piece.data();
        parser.get().body().size = piece.size();
        lowest.expires_after(deliver ? idle_timeout : timeout());
        co_await bhttp::async_read_some(stream, connection.buffer, parser, Await(ec));
        if (ec == bhttp::error::need_buffer) ec = {};
        if (aborted.load()) co_return Aborted();
        if (ec) {
          exchange.response = {};
          if (ec == beast::error::timeout && deliver) {
            exchange.status = Unavailable("no data from " + endpoint.Display() + " for " +
                                          std::to_string(idle_timeout.count()) + " ms");
          } else {
            exchange.status =
                Unavailable("cannot read response from " + endpoint.Display() + ": " +
                            (ec == beast::error::timeout ? "timed out" : ec.message()));
          }
          co_return exchange;
        }
        const size_t n = piece.size() - parser.get().body().size;
        if (n == 0) continue;
        if (!deliver) {
          if (exchange.response.body.size() + n > options.max_response_bytes) {
            exchange.response = {};
            exchange.status = TooLarge("response from " + endpoint.Display() + " is larger than " +
                                       std::to_string(options.max_response_bytes) + " bytes");
            co_return exchange;
          }
          exchange.response.body.append(piece.data(), n);
        } else if (!on_data(std::string_view(piece.data(), n))) {
          exchange.keep_alive = false;  // the rest of the body is still on the wire
          co_return exchange;
        }
      }
      exchange.keep_alive = header.keep_alive() && !parser.need_eof();
      co_return exchange;
    }
  }

  static Exchange Aborted() {
    Exchange exchange;
    exchange.status = AbortedStatus();
    return exchange;
  }

  asio::awaitable<Exchange> ConnectAndStream(Connection& connection, bool fresh,
                                             const Endpoint& endpoint,
                                             bhttp::request<bhttp::empty_body>& request,
                                             const std::function<bool(std::string_view)>& on_data,
                                             std::chrono::milliseconds idle_timeout) {
    if (fresh) {
      Connected connected = co_await Connect(connection, endpoint);
      if (!connected.status.ok()) {
        Exchange failed;
        failed.status = connected.status;
        co_return failed;
      }
    }
    if (connection.tls) {
      co_return co_await TransferStreaming(*connection.tls, connection, endpoint, request, on_data,
                                           idle_timeout);
    }
    co_return co_await TransferStreaming(*connection.plain, connection, endpoint, request, on_data,
                                         idle_timeout);
  }

  Result<Response> Stream(std::string_view method, std::string_view url, const Headers& headers,
                          const std::function<bool(std::string_view)>& on_data,
                          int idle_timeout_ms) {
    if (aborted.load()) return AbortedStatus();
    if (!on_data) return InvalidArgument("http client: Stream needs a data callback");
    KIZUNA_ASSIGN_OR_RETURN(Endpoint endpoint, ParseUrl(url));
    bhttp::request<bhttp::empty_body> request;
    KIZUNA_RETURN_IF_ERROR(FillRequest(method, endpoint, headers, request));
    if (endpoint.tls) KIZUNA_RETURN_IF_ERROR(SetUpTls());
    if (method == "POST" || method == "PUT" || method == "PATCH") request.content_length(0);
    const auto idle_timeout = std::chrono::milliseconds(std::max(1, idle_timeout_ms));

    return OnPooledConnection(endpoint, [&](Connection& connection, bool fresh) {
      return ConnectAndStream(connection, fresh, endpoint, request, on_data, idle_timeout);
    });
  }

  // Called from any thread.
  void Abort() {
    aborted.store(true);
    // Runs on the thread inside Send/Stream (or is dropped with the io_context).
    asio::post(io_context, [this] {
      if (active) active->Lowest().close();
    });
  }

  ClientOptions options;
  std::atomic<bool> aborted{false};
  // The connection of the Send/Stream in progress; only touched by the thread
  // that calls them (and by Abort's closure, which that thread runs).
  Connection* active = nullptr;
  // Declared before the connections, so that it outlives their sockets.
  asio::io_context io_context{1};
  std::unique_ptr<ssl::context> tls_context;  // created on the first https request
  std::unordered_map<std::string, std::unique_ptr<Connection>> connections;
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() = default;

Result<Response> Client::Send(std::string_view method, std::string_view url, const Headers& headers,
                              std::string_view body) {
  try {
    return impl_->Send(method, url, headers, body);
  } catch (const std::exception& e) {
    return Internal(std::string("http client: ") + e.what());
  }
}

Result<Response> Client::Stream(std::string_view method, std::string_view url,
                                const Headers& headers,
                                const std::function<bool(std::string_view)>& on_data,
                                int idle_timeout_ms) {
  try {
    return impl_->Stream(method, url, headers, on_data, idle_timeout_ms);
  } catch (const std::exception& e) {
    return Internal(std::string("http client: ") + e.what());
  }
}

void Client::Abort() { impl_->Abort(); }

bool Client::aborted() const { return impl_->aborted.load(); }

}  // namespace kizuna::http
