#include "reelhub/storage/local_store.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include "digest.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/files.hpp"
#include "reelhub/core/random.hpp"

namespace reelhub::storage {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kChunk = 64 * 1024;

/// Writes all of `bytes` to `fd`; false (errno set) on failure.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// Writes what `fill(write)` produces to a temporary file beside `path`, fsyncs it and renames it
/// over `path`, so readers see the old object or the new one. Returns the content's MD5.
template <class Fill>
std::string write_atomically(const fs::path& path, Fill&& fill) {
  fs::create_directories(path.parent_path());
  const fs::path tmp = temp_path_beside(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + tmp.string());
  Digest md5(EVP_md5());
  bool ok = fill([&](std::string_view bytes) {
    md5.update(bytes);
    return write_all(fd, bytes);
  });
  int error = ok ? 0 : (errno != 0 ? errno : EIO);
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(tmp.c_str());
    throw std::system_error(error, std::generic_category(), "cannot write " + path.string());
  }
  return md5.hex();
}

/// True when the kernel resolves `key` beneath the directory `dir`, symlinks included, in one
/// openat2(2) call. False when it cannot say so: the file does not exist (yet), a symlink is
/// absolute or leaves the directory, or the kernel predates openat2 (Linux 5.6).
bool resolves_beneath(const FileDescriptor& dir, const std::string& key) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const FileDescriptor file(static_cast<int>(::syscall(SYS_openat2, dir.get(), key.c_str(), &how, sizeof how)));
  return bool(file);
}

}  // namespace

LocalStore::LocalStore(fs::path root, UrlSigner signer, std::string url_base)
    : root_(fs::absolute(std::move(root)).lexically_normal()), signer_(std::move(signer)), url_base_(std::move(url_base)) {
  std::error_code ec;
  fs::create_directories(root_, ec);  // an unwritable root shows in health(), not as a crash here
  real_root_ = fs::weakly_canonical(root_, ec);
  if (ec) real_root_ = root_;
  root_dir_ = FileDescriptor(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
}

fs::path LocalStore::path_of(const std::string& key) const {
  const fs::path path = root_ / checked_key(key);
  // The key cannot climb out by itself; a symlink below the root still could. Served files take
  // the kernel's one-call answer; the rest (files about to be written, symlinks that need a
  // closer look) resolve the path component by component, a readlink(2) and a stat each.
  if (root_dir_ && resolves_beneath(root_dir_, key)) return path;
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(path, ec);
  if (ec) throw ApiError(ErrorCode::not_found, "Object not found");
  const auto mismatch = std::mismatch(real_root_.begin(), real_root_.end(), real.begin(), real.end());
  if (mismatch.first != real_root_.end()) throw ApiError(ErrorCode::not_found, "Object not found");
  return path;
}

ObjectInfo LocalStore::info_of(const std::string& key, const fs::path& path) const {
  const auto size = fs::file_size(path);
  const auto mtime = fs::last_write_time(path);
  const auto modified = std::chrono::file_clock::to_sys(mtime);
  // Hashing a large object on every head would cost a read of it: the local ETag is size and
  // modification time, opaque like S3's multipart ETags. put_* return the content's MD5.
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(modified.time_since_epoch()).count();
  char etag[40];
  std::snprintf(etag, sizeof etag, "%llx-%llx", static_cast<unsigned long long>(size),
                static_cast<unsigned long long>(nanos));
  return {.key = key, .size = size, .last_modified = std::chrono::time_point_cast<std::chrono::system_clock::duration>(modified), .etag = etag};
}

ObjectInfo LocalStore::put_file(const std::string& key, const fs::path& source) {
  const fs::path path = path_of(key);
  std::ifstream in(source, std::ios::binary);
  if (!in) throw std::system_error(errno, std::generic_category(), "cannot read " + source.string());
  const std::string md5 = write_atomically(path, [&](auto&& write) {
    std::array<char, kChunk> buffer{};
    while (in) {
      in.read(buffer.data(), buffer.size());
      if (in.gcount() > 0 && !write(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount()))))
        return false;
    }
    return in.eof();
  });
  ObjectInfo info = info_of(key, path);
  info.etag = md5;
  return info;
}

ObjectInfo LocalStore::put_bytes(const std::string& key, std::string_view bytes) {
  const fs::path path = path_of(key);
  const std::string md5 = write_atomically(path, [&](auto&& write) { return write(bytes); });
  ObjectInfo info = info_of(key, path);
  info.etag = md5;
  return info;
}

void LocalStore::get(const std::string& key, std::ostream& out, std::optional<ByteRange> range) {
  const fs::path path = path_of(key);
  std::ifstream in(path, std::ios::binary);
  if (!in || fs::is_directory(path)) throw ApiError(ErrorCode::not_found, "Object not found");
  const std::uint64_t size = fs::file_size(path);
  const ByteRange r = range.value_or(ByteRange{});
  if (r.offset > size || (range && r.offset == size && size > 0))
    throw ApiError(ErrorCode::range_not_satisfiable, "Range starts past the end of the object");
  std::uint64_t left = std::min<std::uint64_t>(r.length.value_or(size - r.offset), size - r.offset);
  in.seekg(static_cast<std::streamoff>(r.offset));
  std::array<char, kChunk> buffer{};
  while (left > 0 && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(left, buffer.size())));
    out.write(buffer.data(), in.gcount());
    left -= static_cast<std::uint64_t>(in.gcount());
  }
  if (left > 0) throw std::runtime_error("short read of " + path.string());
}

std::optional<ObjectInfo> LocalStore::head(const std::string& key) {
  const fs::path path = path_of(key);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  return info_of(key, path);
}

bool LocalStore::remove(const std::string& key) {
  const fs::path path = path_of(key);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  return fs::remove(path);
}

std::vector<ObjectInfo> LocalStore::list(const std::string& prefix, std::size_t limit) {
  // Walk only the deepest directory the prefix names in full.
  const auto slash = prefix.rfind('/');
  const std::string dir_key = slash == std::string::npos ? "" : prefix.substr(0, slash);
  if (!dir_key.empty() && !valid_key(dir_key)) return {};
  const fs::path dir = dir_key.empty() ? root_ : path_of(dir_key);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  std::vector<ObjectInfo> out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with('.')) {  // temporary files and probes
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    const std::string key = it->path().lexically_relative(root_).generic_string();
    if (key.starts_with(prefix) && valid_key(key)) out.push_back(info_of(key, it->path()));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

PresignedUrl LocalStore::presign_get(const std::string& key, std::chrono::seconds ttl) {
  const auto expires_at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now() + ttl);
  return {.url = url_base_ + signer_.sign(checked_key(key), expires_at), .expires_at = expires_at};
}

StoreHealth LocalStore::health() {
  StoreHealth state;
  std::error_code ec;
  fs::create_directories(root_, ec);
  const auto probe = root_ / (".health-" + random_hex(6));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    state.message = "Media storage is not writable: " + std::string(std::strerror(errno));
    return state;
  }
  const bool written = write_all(fd, "ok") && ::fsync(fd) == 0;
  ::close(fd);
  fs::remove(probe, ec);
  const auto space = fs::space(root_, ec);
  if (!ec) state.free_bytes = space.available;
  state.reachable = written;
  state.message = written ? "Media storage is available" : "Media storage write failed";
  return state;
}

}  // namespace reelhub::storage
