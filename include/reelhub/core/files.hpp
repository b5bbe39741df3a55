#pragma once
// Files that readers must never see half-written (avatars, live segments, recordings, thumbnails).

#include <filesystem>
#include <string_view>

namespace reelhub {

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
