#include "common/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/uuid.h"

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

Status ReplaceFileDurably(const std::string& path, std::string_view bytes, unsigned mode) {
  // A name of its own: two writers at once each rename a whole file.
  const std::string temp = path + ".tmp-" + NewUuid4();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return IoError("cannot write " + temp + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const int error = errno;
  Status status = Status::Ok();
  if (::close(fd) != 0 || written != bytes.size()) {
    status = IoError("cannot write " + temp + ": " + std::strerror(error));
  } else {
    status = MoveDurably(temp, path);
  }
  if (!status.ok()) ::unlink(temp.c_str());
  return status;
}

Result<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("no file " + path);
    return IoError("cannot read " + path + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return IoError("cannot read " + path + ": " + std::strerror(error));
  }
  auto file = std::unique_ptr<MappedFile>(new MappedFile());
  file->size_ = static_cast<size_t>(info.st_size);
  if (file->size_ > 0) {
    void* p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      return IoError("cannot map " + path + ": " + std::strerror(error));
    }
    file->data_ = static_cast<const char*>(p);
  }
  ::close(fd);
  return file;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

}  // namespace kizuna
