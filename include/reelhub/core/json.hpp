#pragma once
// JSON helpers every module's dto.cpp uses.

#include <nlohmann/json.hpp>
#include <optional>

namespace reelhub {

/// The value, or JSON null when absent (API fields that exist but are empty are null, not missing).
template <class T>
nlohmann::json nullable(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace reelhub
