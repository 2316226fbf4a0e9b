#include "auth/sessions.h"

#include <algorithm>

#include "common/encoding.h"

namespace kizuna::auth {
namespace {

// A cookie value is 43 base64url characters (32 bytes); anything much longer
// is not ours and is not hashed.
constexpr size_t kMaxSessionIdLength = 128;

std::string KeyOf(std::string_view session_id) { return Sha256(session_id); }

}  // namespace

bool IsSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

std::string OwnOrigin(std::string_view host_header, bool tls) {
  return std::string(tls ? "https://" : "http://") + std::string(host_header);
}

bool IsOwnOrigin(std::string_view origin, std::string_view host_header, bool tls,
                 std::string_view public_url) {
  if (origin == OwnOrigin(host_header, tls)) return true;
  const size_t scheme = public_url.find("://");
  if (public_url.empty() || scheme == std::string_view::npos) return false;
  const size_t path = public_url.find('/', scheme + 3);
  return origin == public_url.substr(0, path);
}

SessionTable::SessionTable(SessionLimits limits, const Clock& clock)
    : clock_(clock), limits_(limits) {}

void SessionTable::SetLimits(SessionLimits limits) {
  std::lock_guard lock(mutex_);
  limits_ = limits;
}

bool SessionTable::LiveLocked(const Session& session, int64_t now_us) const {
  return now_us - session.last_used_us < limits_.idle_us &&
         now_us - session.opened_us < limits_.lifetime_us;
}

void SessionTable::ForgetExpiredLocked(int64_t now_us) {
  std::erase_if(sessions_, [&](const auto& entry) { return !LiveLocked(entry.second, now_us); });
}

void SessionTable::EvictLeastRecentlyUsedLocked(const std::optional<int64_t>& of_user) {
  auto oldest = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (of_user && it->second.user_id != *of_user) continue;
    if (oldest == sessions_.end() || it->second.last_used_us < oldest->second.last_used_us) {
      oldest = it;
    }
  }
  if (oldest != sessions_.end()) sessions_.erase(oldest);
}

OpenedSession SessionTable::Open(std::string api_key, int64_t user_id) {
  OpenedSession opened{Base64UrlEncode(RandomBytes(32)), Base64UrlEncode(RandomBytes(32))};
  const int64_t now_us = clock_.NowMicros();
  std::lock_guard lock(mutex_);
  ForgetExpiredLocked(now_us);
  const auto of_user = std::count_if(sessions_.begin(), sessions_.end(), [&](const auto& entry) {
    return entry.second.user_id == user_id;
  });
  if (static_cast<size_t>(of_user) >= limits_.max_per_user) EvictLeastRecentlyUsedLocked(user_id);
  if (sessions_.size() >= limits_.max_sessions) EvictLeastRecentlyUsedLocked(std::nullopt);
  sessions_[KeyOf(opened.session_id)] =
      Session{std::move(api_key), opened.csrf_token, user_id, now_us, now_us};
  return opened;
}

std::optional<Session> SessionTable::Use(std::string_view session_id) {
  if (session_id.empty() || session_id.size() > kMaxSessionIdLength) return std::nullopt;
  const std::string key = KeyOf(session_id);
  const int64_t now_us = clock_.NowMicros();
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (!LiveLocked(it->second, now_us)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used_us = now_us;
  return it->second;
}

bool SessionTable::Close(std::string_view session_id) {
  if (session_id.empty() || session_id.size() > kMaxSessionIdLength) return false;
  std::lock_guard lock(mutex_);
  return sessions_.erase(KeyOf(session_id)) > 0;
}

bool SessionTable::IsLive(std::string_view session_id) const {
  if (session_id.empty() || session_id.size() > kMaxSessionIdLength) return false;
  const std::string key = KeyOf(session_id);
  const int64_t now_us = clock_.NowMicros();
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  return it != sessions_.end() && LiveLocked(it->second, now_us);
}

size_t SessionTable::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

bool CheckCsrf(std::string_view method, const Session& session, std::string_view csrf_header,
               std::string_view origin_header, std::string_view host_header, bool tls,
               std::string_view public_url) {
  if (IsSafeMethod(method)) return true;
  if (csrf_header.empty() || !ConstantTimeEquals(csrf_header, session.csrf_token)) return false;
  return origin_header.empty() || IsOwnOrigin(origin_header, host_header, tls, public_url);
}

std::string SessionIdFromCookies(std::string_view cookie_header, bool tls) {
  const std::string_view name = tls ? kSecureSessionCookie : kSessionCookie;
  // "a=1; kizuna_session=XYZ; b=2"
  while (!cookie_header.empty()) {
    const size_t end = cookie_header.find(';');
    std::string_view pair = cookie_header.substr(0, end);
    cookie_header = end == std::string_view::npos ? "" : cookie_header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos) continue;
    if (pair.substr(0, equals) == name) return std::string(pair.substr(equals + 1));
  }
  return "";
}

std::string SessionCookie(std::string_view session_id, bool tls) {
  std::string cookie = std::string(tls ? kSecureSessionCookie : kSessionCookie) + "=" +
                       std::string(session_id) + "; Path=/; HttpOnly; SameSite=Strict";
  if (tls) cookie += "; Secure";
  return cookie;
}

std::string ExpiredSessionCookie(bool tls) {
  std::string cookie = std::string(tls ? kSecureSessionCookie : kSessionCookie) +
                       "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; "
                       "Expires=Thu, 01 Jan 1970 00:00:00 GMT";
  if (tls) cookie += "; Secure";
  return cookie;
}

}  // namespace kizuna::auth
