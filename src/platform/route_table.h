// RouteTable: which handler serves which REST endpoint. Modules register
// (method, pattern, handler) triples once at setup; the daemon's router hands
// every authenticated request to Dispatch, which picks the handler or answers
// 404 (no pattern matches the path) or 405 with an `Allow` header (patterns
// match the path, none with this method). Handlers stay pure functions of the
// request (and the authenticated user), as everywhere in kizuna.
//
// Patterns are absolute paths made of segments separated by '/':
//   - a literal segment matches itself exactly (case-sensitive);
//   - `{name}` matches any one non-empty segment and hands it to the handler
//     as PathParams::Get("name");
//   - `{name...}`, only as the last segment, matches the rest of the path:
//     zero or more segments, handed over joined by '/' ("" for none).
// Paths are compared segment by segment and empty segments are ignored, so
// "/api/v1/users/", "/api/v1//users" and "/api/v1/users" are the same
// endpoint (as they were for the hand-written API dispatcher before).
// Request::path is already percent-decoded; a decoded '/' separates segments.
//
// When several patterns match a path, the most specific one that allows the
// method wins: compared segment by segment from the left, a literal beats a
// `{param}`, which beats a `{rest...}`. So "/api/v1/users/me" may sit beside
// "/api/v1/users/{id}".
//
// Registration errors (a malformed pattern; the same method and pattern shape
// twice, where "/a/{x}" and "/a/{y}" are the same shape) are programming
// errors. Add does not throw or abort: it drops that route and records the
// error, and status() returns the first one, so the wiring (Platform::Start,
// a service's constructor) fails loudly and testably instead of serving a
// half-built table.
//
// Thread-safety: Add is not thread-safe and must finish before the table is
// shared; after that, Dispatch, Handles and the other const methods may be
// called from any number of threads concurrently (they only read).
// Ownership: the table owns copies of the handlers; whatever a handler
// captures by reference must outlive every Dispatch.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/http.h"
#include "store/store.h"

namespace kizuna::platform {

// The `{name}` values of the matched pattern, in pattern order.
class PathParams {
 public:
  // The value of `{name}`; "" when the pattern has no such parameter (a
  // `{rest...}` that matched nothing is "" too).
  const std::string& Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& values() const { return values_; }

  void Add(std::string name, std::string value);

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// Where the daemon's HTTP server runs a route's handler (RouteTable::LaneOf).
// Each worker lane is a bounded pool of its own (http::ServerOptions::lanes),
// so that a flood on one cannot keep the other's requests waiting or
// refused.
enum class Lane {
  kIo,      // cheap: on the I/O thread that read the request (the default)
  kWork,    // expensive reads (matching): [limits] worker_threads, worker_queue
  kImport,  // writes of many objects (TAXII POST): [limits] import_threads, import_queue
};

// How a route is served.
struct RouteOptions {
  // Expensive work runs on a worker lane instead of an I/O thread.
  Lane lane = Lane::kIo;
  // The Platform applies the per-identity rate limit ([limits]
  // heavy_requests_per_second, heavy_burst) to it (IsRateLimited).
  bool rate_limited = false;
  // Explicitly public: served to a request without credentials (as an
  // anonymous user: id 0, no organization), because the handler checks
  // a secret of its own, such as the token of an e-mailed link. A request
  // with credentials is authenticated as usual. Public routes are few and
  // each says why in its module.
  bool is_public = false;
};

// Serves one endpoint. Called concurrently from the server's I/O threads, so
// it must be thread-safe; it may block (store work).
using RouteHandler =
    std::function<http::Response(const http::Request&, const store::User&, const PathParams&)>;

class RouteTable {
 public:
  RouteTable() = default;
  RouteTable(RouteTable&&) = default;
  RouteTable& operator=(RouteTable&&) = default;
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Registers `handler` for `method` ("GET", "POST", …; matched exactly, so
  // HEAD is not implied by GET) on `pattern` (see above). A bad pattern, an
  // empty method, a null handler or a duplicate is recorded in status() and
  // the route is not added.
  void Add(std::string method, std::string_view pattern, RouteHandler handler,
           RouteOptions options = {});

  // Ok, or the first registration error (kInvalidArgument for a bad
  // registration, kAlreadyExists for a duplicate), naming method and pattern.
  const Status& status() const { return status_; }

  // Runs the handler of the best route for request.method and request.path.
  // No pattern matches the path: 404 "no such endpoint: <path>". Patterns
  // match but none allows the method: 405 "<METHOD> is not allowed on
  // <path>" with `Allow: <methods>` (sorted, comma-separated). Both are
  // http::ErrorResponse bodies.
  http::Response Dispatch(const http::Request& request, const store::User& user) const;

  // The lane of the route Dispatch would pick for this request
  // (RouteOptions::lane); kIo when none would (a 404 or 405 is cheap).
  // Cheap: no handler runs.
  Lane LaneOf(const http::Request& request) const;
  // The same for RouteOptions::rate_limited.
  bool IsRateLimited(const http::Request& request) const;
  // The same for RouteOptions::is_public.
  bool IsPublic(const http::Request& request) const;

  // Whether any registered pattern matches `path`, whatever the method.
  bool Handles(std::string_view path) const;

  // The methods registered on patterns that match `path`, sorted, no repeats.
  std::vector<std::string> AllowedMethods(std::string_view path) const;

  // The registered routes as "METHOD /pattern", in registration order (for
  // documentation, logs and tests).
  std::vector<std::string> Describe() const;
  size_t size() const { return routes_.size(); }

 private:
  enum class SegmentKind { kLiteral, kParam, kRest };
  struct Segment {
    SegmentKind kind;
    std::string text;  // the literal, or the parameter's name
  };
  struct Route {
    std::string method;
    std::string pattern;  // as registered
    std::vector<Segment> segments;
    RouteHandler handler;
    RouteOptions options;
  };

  // The best route for method and path (see the header comment), or null.
  const Route* Find(const http::Request& request, const std::vector<std::string_view>& path,
                    bool* path_known) const;

  // Whether `route` matches `path`; fills `params` (when given) on a match.
  static bool Matches(const Route& route, const std::vector<std::string_view>& path,
                      PathParams* params);
  // True when `a` is more specific than `b` (see the header comment).
  static bool MoreSpecific(const Route& a, const Route& b);

  std::vector<Route> routes_;
  Status status_;
};

// The standard "no such endpoint" answer (404) the table gives, for callers
// that route by prefix before reaching a table.
http::Response NoSuchEndpoint();

}  // namespace kizuna::platform
