#include "reelhub/core/validation.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace reelhub {

std::string Validator::required_string(const std::string& field, std::size_t min_len, std::size_t max_len) {
  auto value = optional_string(field, min_len, max_len);
  if (!value && !body_.contains(field)) fail(field, "is required");
  if (!value && body_.contains(field) && body_[field].is_null()) fail(field, "is required");
  return value.value_or("");
}

std::optional<std::string> Validator::optional_string(const std::string& field, std::size_t min_len,
                                                      std::size_t max_len) {
  if (!body_.is_object() || !body_.contains(field) || body_[field].is_null()) return std::nullopt;
  const auto& v = body_[field];
  if (!v.is_string()) {
    fail(field, "must be a string");
    return std::nullopt;
  }
  auto s = v.get<std::string>();
  if (!is_valid_utf8(s)) {
    fail(field, "must be valid UTF-8");
    return std::nullopt;
  }
  const auto len = utf8_length(s);
  if (len < min_len) {
    fail(field, min_len == 1 ? "must not be empty" : "must be at least " + std::to_string(min_len) + " characters");
    return std::nullopt;
  }
  if (len > max_len) {
    fail(field, "must be at most " + std::to_string(max_len) + " characters");
    return std::nullopt;
  }
  return s;
}

long long Validator::required_id(const std::string& field) {
  if (!body_.is_object() || !body_.contains(field) || body_[field].is_null()) {
    fail(field, "is required");
    return 0;
  }
  const auto& v = body_[field];
  if (!v.is_number_integer() || v.get<long long>() <= 0) {
    fail(field, "must be a positive integer");
    return 0;
  }
  return v.get<long long>();
}

void Validator::throw_if_failed(const std::string& message) const {
  if (!errors_.empty()) throw ApiError(ErrorCode::validation_failed, message, errors_);
}

bool is_valid_email(const std::string& s) {
  // Deliberately simple (local@domain.tld, no spaces); real verification is a mail round-trip.
  if (s.size() < 3 || s.size() > 254) return false;
  const auto at = s.find('@');
  if (at == std::string::npos || at == 0 || s.find('@', at + 1) != std::string::npos) return false;
  const auto domain = s.substr(at + 1);
  const auto dot = domain.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 >= domain.size()) return false;
  for (unsigned char c : s)
    if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') return false;
  return domain.find("..") == std::string::npos;
}

bool is_valid_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::optional<std::string> canonical_uuid(std::string_view s) {
  if (!is_valid_uuid(s)) return std::nullopt;
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    if (c == 0) return false;  // NUL bytes break C APIs downstream
    if (c < 0x80) extra = 0;
    else if (c >= 0xc2 && c <= 0xdf) extra = 1;
    else if ((c & 0xf0) == 0xe0) extra = 2;
    else if (c >= 0xf0 && c <= 0xf4) extra = 3;
    else return false;
    if (s.size() - i - 1 < extra) return false;
    for (std::size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF (PostgreSQL refuses them).
    const auto second = extra ? static_cast<unsigned char>(s[i + 1]) : 0;
    if ((c == 0xe0 && second < 0xa0) || (c == 0xed && second > 0x9f) || (c == 0xf0 && second < 0x90) ||
        (c == 0xf4 && second > 0x8f))
      return false;
    i += extra + 1;
  }
  return true;
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xc0) != 0x80) ++n;
  return n;
}

}  // namespace reelhub
