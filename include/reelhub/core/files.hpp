#pragma once
// Files that readers must never see half-written (avatars, live segments, recordings, thumbnails),
// and the owner of a file descriptor.

#include <unistd.h>

#include <filesystem>
#include <string_view>
#include <utility>

namespace reelhub {

/// Owns a file descriptor (negative: none): closed on destruction, moved but never copied.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) noexcept : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { close(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  void close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_;
};

/// A fresh hidden name beside `path` (".<name>.<random>"), for writing a file before it is
/// renamed over `path`. Unique, so two writers of the same file never share one.
std::filesystem::path temp_path_beside(const std::filesystem::path& path);

/// `fsync` survives a machine crash; `page_cache` only a process crash (enough for live
/// segments, which are written every few seconds per stream).
enum class Durability { fsync, page_cache };

/// Replaces `path` with `bytes` so readers see the old file or the new one, never a torn one:
/// write a temporary file beside it (fsync'ed unless `page_cache`), then rename over. Creates the
/// parent directory. Throws std::system_error.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                           Durability durability = Durability::fsync);

}  // namespace reelhub
