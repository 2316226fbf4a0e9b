#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace kizuna {
namespace {

Status Sync(const std::string& path, int flags, const char* what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0)
    return IoError(std::string("cannot open ") + what + " " + path + ": " + std::strerror(errno));
  const bool synced = ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  if (!synced)
    return IoError(std::string("cannot sync ") + what + " " + path + ": " + std::strerror(error));
  return Status::Ok();
}

}  // namespace

Status SyncFile(const std::string& path) { return Sync(path, O_RDONLY, "file"); }

Status SyncDirectory(const std::string& dir) {
  return Sync(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY, "directory");
}

Status MoveDurably(const std::string& temp, const std::string& path) {
  KIZUNA_RETURN_IF_ERROR(SyncFile(temp));
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return IoError("cannot move " + temp + " to " + path + ": " + std::strerror(errno));
  }
  return SyncDirectory(std::filesystem::path(path).parent_path().string());
}

}  // namespace kizuna
