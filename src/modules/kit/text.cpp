#include "text.hpp"

#include <algorithm>

#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"

namespace reelhub::modules {
namespace {

/// Bytes of the UTF-8 sequence that starts with `lead` (valid UTF-8 assumed).
std::size_t sequence_length(char lead) {
  const auto byte = static_cast<unsigned char>(lead);
  return byte < 0x80 ? 1 : byte < 0xe0 ? 2 : byte < 0xf0 ? 3 : 4;
}

bool is_blank_code_point(char32_t cp) {
  return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200b) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

bool is_control(char32_t cp, bool multiline) {
  if (multiline && (cp == '\t' || cp == '\n' || cp == '\r')) return false;
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

}  // namespace

std::vector<char32_t> code_points(const std::string& text) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t extra = std::min(sequence_length(text[i]) - 1, text.size() - i - 1);
    char32_t cp = extra == 0 ? lead : lead & (0x3f >> extra);
    for (std::size_t k = 1; k <= extra; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

bool is_blank(const std::string& text) {
  const auto cps = code_points(text);
  return std::all_of(cps.begin(), cps.end(), is_blank_code_point);
}

bool has_control_characters(const std::string& text, bool multiline) {
  if (!is_valid_utf8(text)) return true;
  const auto cps = code_points(text);
  return std::any_of(cps.begin(), cps.end(), [&](char32_t cp) { return is_control(cp, multiline); });
}

void require_message_text(const std::string& text, std::size_t max_code_points) {
  const auto invalid = [](std::string message, std::string detail) {
    throw ApiError(ErrorCode::validation_failed, std::move(message), {{"text", {std::move(detail)}}});
  };
  if (!is_valid_utf8(text)) invalid("Invalid message", "must be valid UTF-8");
  if (is_blank(text)) invalid("Empty message", "must not be empty");
  if (utf8_length(text) > max_code_points)
    invalid("Message too long", "must be at most " + std::to_string(max_code_points) + " characters");
  if (has_control_characters(text, true))
    invalid("Invalid message", "must not contain control characters other than tabs and line breaks");
}

std::string text_preview(const std::string& text, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t count = 0; i < text.size() && count < n; ++count) i += sequence_length(text[i]);
  return i < text.size() ? text.substr(0, i) + "\u2026" : text;
}

std::string escape_like(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace reelhub::modules
