#include "cursor.hpp"

#include <algorithm>
#include <cctype>

#include "reelhub/core/validation.hpp"

namespace reelhub::modules {

std::optional<KeysetPosition> parse_keyset_cursor(const std::string& cursor) {
  const auto sep = cursor.find('_');
  // At most 18 digits: any such number fits an int64 (microseconds since 1970 need 16).
  if (sep == std::string::npos || sep == 0 || sep > 18) return std::nullopt;
  const std::string digits = cursor.substr(0, sep);
  auto id = canonical_uuid(std::string_view(cursor).substr(sep + 1));
  if (!std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c) != 0; }) || !id) {
    return std::nullopt;
  }
  return KeysetPosition{std::stoll(digits), std::move(*id)};
}

std::string keyset_cursor(const KeysetPosition& position) {
  std::string out = std::to_string(position.micros);
  out += '_';
  out += position.id;
  return out;
}

}  // namespace reelhub::modules
