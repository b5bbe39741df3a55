#pragma once
// Keyset cursors of newest-first lists: "<microseconds>_<uuid>", the row's sort time and id, so
// a page boundary is stable however many rows arrive meanwhile.

#include <cstdint>
#include <optional>
#include <string>

namespace reelhub::modules {

struct KeysetPosition {
  std::int64_t micros = 0;
  std::string id;  // canonical UUID
};

/// nullopt when `cursor` is not of that form.
std::optional<KeysetPosition> parse_keyset_cursor(const std::string& cursor);
/// The cursor of a position, as repos also write it in SQL (`<micros>::text || '_' || id`).
std::string keyset_cursor(const KeysetPosition& position);

}  // namespace reelhub::modules
