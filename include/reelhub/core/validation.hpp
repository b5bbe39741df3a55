#pragma once
// Collects field errors so a request reports every invalid field at once (422 details).

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "reelhub/core/error.hpp"

namespace reelhub {

class Validator {
 public:
  explicit Validator(const nlohmann::json& body) : body_(body) {}

  /// Required string; trimmed of nothing. Records "is required" / "must be a string".
  std::string required_string(const std::string& field, std::size_t min_len, std::size_t max_len);
  /// Optional string: nullopt when absent or null.
  std::optional<std::string> optional_string(const std::string& field, std::size_t min_len,
                                             std::size_t max_len);
  /// Required positive integer id.
  long long required_id(const std::string& field);

  void fail(const std::string& field, std::string message) { errors_[field].push_back(std::move(message)); }
  bool ok() const { return errors_.empty(); }
  /// Throws ApiError(validation_failed) listing every recorded field error.
  void throw_if_failed(const std::string& message = "Invalid input data") const;

 private:
  const nlohmann::json& body_;
  FieldErrors errors_;
};

bool is_valid_email(const std::string& s);
/// Canonical 8-4-4-4-12 hex UUID text, as public ids of streams, videos, chats... are written.
bool is_valid_uuid(std::string_view s);
/// `s` in the lower-case form PostgreSQL prints UUIDs in (and events are published under);
/// nullopt when it is no UUID.
std::optional<std::string> canonical_uuid(std::string_view s);
/// Number of Unicode code points; used for length limits a user perceives.
std::size_t utf8_length(const std::string& s);
bool is_valid_utf8(const std::string& s);

}  // namespace reelhub
