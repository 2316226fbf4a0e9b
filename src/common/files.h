// Files that must survive a crash or a power cut once a caller has said
// they are written: a report promised to a recipient, a spooled batch.
// Write to a temporary name, SyncFile it, rename it into place, then
// SyncDirectory: the name and the bytes are both on disk before the caller
// records (and acknowledges) what the file holds. And files read in place
// (MappedFile). Thread-safe; a MappedFile owns its mapping.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kizuna {

// Flushes the file's bytes to disk (fsync), whichever descriptor wrote them.
Status SyncFile(const std::string& path);

// Flushes a directory's entries (a rename into it) to disk.
Status SyncDirectory(const std::string& dir);

// Renames `temp` to `path` (atomically replacing it) after syncing its
// bytes, then syncs the directory.
Status MoveDurably(const std::string& temp, const std::string& path);

// Replaces `path` with `bytes` (a reader sees the old file or the new one,
// never part of one): a temporary file of its own beside it, with
// permissions `mode`, written, synced and moved durably. On an error the
// temporary file is removed and `path` is as it was.
Status ReplaceFileDurably(const std::string& path, std::string_view bytes, unsigned mode);

// A file mapped read-only and populated at once: its pages come from the
// page cache as they are, with no copy and no fresh memory to fault in (a
// correlation snapshot, the joined geo table). NotFound when it is absent.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  std::string_view bytes() const { return {data_, size_}; }

 private:
  MappedFile() = default;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace kizuna
