#pragma once
// Files that readers must never see half-written (avatars, recordings, thumbnails).

#include <filesystem>
#include <string_view>

namespace reelhub {

/// A fresh hidden name beside `path` (".<name>.<random>"), for writing a file before it is
/// renamed over `path`. Unique, so two writers of the same file never share one.
std::filesystem::path temp_path_beside(const std::filesystem::path& path);

/// Replaces `path` with `bytes` so readers see the old file or the new one, never a torn one:
/// write and fsync a temporary file beside it, then rename over. Creates the parent directory.
/// Throws std::system_error.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace reelhub
