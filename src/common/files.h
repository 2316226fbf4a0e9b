// Files that must survive a crash or a power cut once a caller has said
// they are written: a report promised to a recipient, a spooled batch.
// Write to a temporary name, SyncFile it, rename it into place, then
// SyncDirectory: the name and the bytes are both on disk before the caller
// records (and acknowledges) what the file holds. Thread-safe; owns nothing.
#pragma once

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

}  // namespace kizuna
