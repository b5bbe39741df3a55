#include "reelhub/core/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "reelhub/core/random.hpp"

namespace reelhub {

std::filesystem::path temp_path_beside(const std::filesystem::path& path) {
  // Appended piecewise: GCC 12 at -O3 misreads `"." + std::string&&` as an overflowing memcpy.
  std::string tmp_name = ".";
  tmp_name += path.filename().string();
  tmp_name += '.';
  tmp_name += random_hex(8);
  return path.parent_path() / tmp_name;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes, Durability durability) {
  std::filesystem::create_directories(path.parent_path());
  const std::filesystem::path tmp = temp_path_beside(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + tmp.string());
  std::size_t written = 0;
  int error = 0;
  while (written < bytes.size() && error == 0) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n > 0) written += static_cast<std::size_t>(n);
    else if (n == 0 || errno != EINTR) error = n == 0 ? EIO : errno;
  }
  if (error == 0 && durability == Durability::fsync && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(tmp.c_str());
    throw std::system_error(error, std::generic_category(), "cannot write " + path.string());
  }
}

}  // namespace reelhub
