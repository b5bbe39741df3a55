#include "ids.hpp"

#include <charconv>

#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"

namespace reelhub::modules {

std::string require_uuid(std::string_view id, const char* not_found_message) {
  auto canonical = canonical_uuid(id);
  if (!canonical) throw ApiError(ErrorCode::not_found, not_found_message);
  return std::move(*canonical);
}

std::int64_t require_user_id(std::string_view id, const char* not_found_message) {
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), out);
  if (ec != std::errc() || end != id.data() + id.size() || out <= 0) {
    throw ApiError(ErrorCode::not_found, not_found_message);
  }
  return out;
}

}  // namespace reelhub::modules
