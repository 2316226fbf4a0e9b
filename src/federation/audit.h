// The federation audit log: one JSON line per object version sent to or
// received from a partner (or refused at the boundary), appended to
// DIR/audit.log. Operators read it with `kizuna peer audit DIR` or any tool
// that reads JSON lines. Thread-safe; each batch is one write().
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kizuna::federation {

struct AuditEntry {
  std::string object_id;
  std::string version;  // timestamp text, as TAXII shows it
  std::string outcome;  // "sent", "received", "already-present", "rejected: …", "withheld: …"
};

class AuditLog {
 public:
  explicit AuditLog(std::string path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // direction: "sent" or "received"; channel: "pull", "stream", "push", "read".
  void Record(std::string_view direction, std::string_view peer, std::string_view channel,
              std::string_view collection_id, const std::vector<AuditEntry>& entries);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mutex_;
  int fd_ = -1;
};

// The last `max_lines` lines of an audit log (all when 0), oldest first,
// optionally only those of one peer.
Result<std::vector<std::string>> ReadAuditLog(const std::string& path, std::string_view peer,
                                              size_t max_lines);

}  // namespace kizuna::federation
