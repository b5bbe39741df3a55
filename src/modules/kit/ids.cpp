#include "ids.hpp"

#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"

namespace reelhub::modules {

std::string require_uuid(std::string_view id, const char* not_found_message) {
  auto canonical = canonical_uuid(id);
  if (!canonical) throw ApiError(ErrorCode::not_found, not_found_message);
  return std::move(*canonical);
}

}  // namespace reelhub::modules
