#include "federation/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>

#include "common/time.h"
#include "spdlog/spdlog.h"

namespace kizuna::federation {
namespace json = boost::json;

AuditLog::AuditLog(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) spdlog::error("audit: cannot open {}: {}", path_, std::strerror(errno));
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::Record(std::string_view direction, std::string_view peer, std::string_view channel,
                      std::string_view collection_id, const std::vector<AuditEntry>& entries) {
  if (entries.empty()) return;
  const std::string time = FormatTimestamp(SystemClock().NowMicros());
  std::string text;
  for (const AuditEntry& entry : entries) {
    json::object line;
    line["time"] = time;
    line["direction"] = direction;
    line["peer"] = peer;
    line["channel"] = channel;
    line["collection"] = collection_id;
    line["id"] = entry.object_id;
    line["version"] = entry.version;
    line["outcome"] = entry.outcome;
    text += json::serialize(line);
    text += '\n';
  }
  std::lock_guard lock(mutex_);
  if (fd_ < 0) return;
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::error("audit: cannot write {}: {}", path_, std::strerror(errno));
      return;
    }
    done += static_cast<size_t>(n);
  }
}

Result<std::vector<std::string>> ReadAuditLog(const std::string& path, std::string_view peer,
                                              size_t max_lines) {
  std::ifstream in(path);
  if (!in) return std::vector<std::string>{};  // nothing exchanged yet
  std::deque<std::string> lines;
  const std::string needle = peer.empty() ? "" : "\"peer\":" + json::serialize(json::string(peer));
  for (std::string line; std::getline(in, line);) {
    if (!needle.empty() && line.find(needle) == std::string::npos) continue;
    lines.push_back(std::move(line));
    if (max_lines != 0 && lines.size() > max_lines) lines.pop_front();
  }
  return std::vector<std::string>(lines.begin(), lines.end());
}

}  // namespace kizuna::federation
