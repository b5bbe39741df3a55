#pragma once
// Files that readers must never see half-written (avatars, live segments, recordings).

#include <filesystem>
#include <string_view>

namespace reelhub {

/// `fsync` survives a machine crash; `page_cache` only a process crash (enough for live
/// segments, which are written every few seconds per stream).
enum class Durability { fsync, page_cache };

/// Writes `bytes` to a temporary file next to `path` and renames it into place, creating the
/// directory. Throws std::system_error.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                           Durability durability = Durability::fsync);

}  // namespace reelhub
