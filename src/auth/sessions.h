// Browser sessions of the web console: a sign-in exchanges an API key for a
// session id, which the browser keeps in an HttpOnly cookie, so the key never
// has to live in the page's script or in a URL.
//
// A session stands for the API key it was opened with: the node keeps the
// key (in memory only, never logged or written) and authenticates every
// request of the session with it, so revoking the key or disabling its user
// ends the session at once, and a session never has more rights than its key.
// Only SHA-256 of the session id is kept as the table's key: the table's
// contents do not let anyone forge a cookie.
//
// Each session has a CSRF token (random, returned at sign-in and by GET
// /api/v1/console/session) that every state-changing request made with the
// cookie must carry in the X-CSRF-Token header (CheckCsrf): a page of
// another origin can make the browser send the cookie, not read the token.
//
// Sessions end after `idle` without a request, `lifetime` after sign-in, at
// sign-out, and when the node restarts (the table is in memory). The table
// holds at most `max_sessions`, and `max_per_user` of one user; opening one
// more ends the least recently used.
//
// Thread-safe: one mutex guards the table.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"

namespace kizuna::auth {

// The cookie and header names the console and the daemon agree on.
inline constexpr std::string_view kSessionCookie = "kizuna_session";
// Over TLS the cookie carries the __Host- prefix: the browser then keeps it
// only if Secure, for Path=/ and this host alone, so a sibling host cannot
// plant one of its own.
inline constexpr std::string_view kSecureSessionCookie = "__Host-kizuna_session";
// Set by the daemon (never trusted from a client: it is overwritten) on a
// request it authenticated with a session's cookie, to the session id, so
// that what the request opens (a live stream) ends with the session.
inline constexpr std::string_view kSessionAuthHeader = "X-Kizuna-Session-Id";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";
// Sent by the console's script with every call: a 401 then carries no
// WWW-Authenticate challenge, which would make the browser ask for a
// password in a dialog of its own.
inline constexpr std::string_view kConsoleHeader = "X-Kizuna-Console";

struct SessionLimits {
  int64_t idle_us = int64_t{60} * 60 * 1'000'000;           // an hour
  int64_t lifetime_us = int64_t{12} * 60 * 60 * 1'000'000;  // twelve hours
  size_t max_sessions = 10'000;
  size_t max_per_user = 20;
};

// What a request's cookie stands for.
struct Session {
  std::string api_key;  // the key it authenticates with; never logged
  std::string csrf_token;
  int64_t user_id = 0;
  int64_t opened_us = 0;
  int64_t last_used_us = 0;
};

// What a sign-in hands the browser: the cookie's value and the CSRF token.
struct OpenedSession {
  std::string session_id;
  std::string csrf_token;
};

class SessionTable {
 public:
  // `clock` must outlive the table.
  explicit SessionTable(SessionLimits limits = {}, const Clock& clock = SystemClock::Instance());

  // Opens a session for a key already verified as `user_id`'s.
  OpenedSession Open(std::string api_key, int64_t user_id);

  // The live session of a cookie value, and marks it used; nullopt when
  // unknown, expired (then forgotten) or malformed.
  std::optional<Session> Use(std::string_view session_id);

  // Ends the session (sign-out); false when there was none.
  bool Close(std::string_view session_id);

  // Whether the session is live, without marking it used.
  bool IsLive(std::string_view session_id) const;

  size_t size() const;

  // Applies new limits (the node's [console] section) to every session,
  // open ones included.
  void SetLimits(SessionLimits limits);

 private:
  void ForgetExpiredLocked(int64_t now_us);
  bool LiveLocked(const Session& session, int64_t now_us) const;
  void EvictLeastRecentlyUsedLocked(const std::optional<int64_t>& of_user);

  const Clock& clock_;
  mutable std::mutex mutex_;
  SessionLimits limits_;                     // GUARDED_BY(mutex_)
  std::map<std::string, Session> sessions_;  // GUARDED_BY(mutex_); by SHA-256 of the id
};

// GET, HEAD and OPTIONS change nothing on the node.
bool IsSafeMethod(std::string_view method);
// "http://HOST" or "https://HOST": the origin a browser addressing the node
// as `host_header` sends.
std::string OwnOrigin(std::string_view host_header, bool tls);
// Whether the browser reaches the node over TLS: the connection is TLS, or
// the configured public URL is https (a proxy ends TLS). The cookie is
// then Secure and __Host-.
inline bool BrowserUsesTls(bool tls, std::string_view public_url) {
  return tls || public_url.starts_with("https://");
}
// Whether `origin` is the node's own: as the request addressed it, or the
// origin of its configured public URL (`server.public_url`, e.g. behind a
// proxy that ends TLS: "https://cti.example" of "https://cti.example/").
bool IsOwnOrigin(std::string_view origin, std::string_view host_header, bool tls,
                 std::string_view public_url);

// Whether a request made with a session's cookie may change state: safe
// methods (GET, HEAD, OPTIONS) always; others only with the session's CSRF
// token in `csrf_header` and, when the browser sent an Origin, with that
// origin being the node's own (`host_header`, as the browser addressed it).
bool CheckCsrf(std::string_view method, const Session& session, std::string_view csrf_header,
               std::string_view origin_header, std::string_view host_header, bool tls,
               std::string_view public_url = "");

// The session id in a Cookie header ("" when absent): the __Host- cookie
// over TLS, the plain one otherwise.
std::string SessionIdFromCookies(std::string_view cookie_header, bool tls);

// The Set-Cookie value that keeps `session_id` (HttpOnly, SameSite=Strict,
// Path=/, Secure over TLS; a session cookie: gone when the browser closes),
// and the one that removes it.
std::string SessionCookie(std::string_view session_id, bool tls);
std::string ExpiredSessionCookie(bool tls);

}  // namespace kizuna::auth
