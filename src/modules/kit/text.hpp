#pragma once
// The text rules every module applies to what users write (titles, messages, comments, bios):
// one definition of blank and of forbidden control characters, on Unicode code points.

#include <cstddef>
#include <string>
#include <vector>

namespace reelhub::modules {

/// The code points of valid UTF-8 `text` (check is_valid_utf8 first).
std::vector<char32_t> code_points(const std::string& text);
/// Empty, or only white space (Unicode Zs, line and paragraph separators) and the zero-width
/// characters people use to send "empty" text. Valid UTF-8 assumed.
bool is_blank(const std::string& text);
/// C0 and C1 controls (U+0000-U+001F, U+007F-U+009F) — they garble clients' rendering, and
/// PostgreSQL text cannot hold NUL — other than tab and line breaks where `multiline`. Text that
/// is not valid UTF-8 counts as containing them.
bool has_control_characters(const std::string& text, bool multiline);
/// The rule of every chat message (direct and group chats, rooms, live streams): valid UTF-8,
/// not blank, at most `max_code_points`, no control characters but tabs and line breaks.
/// Throws ApiError(validation_failed) on field "text" otherwise.
void require_message_text(const std::string& text, std::size_t max_code_points);
/// The first `n` code points of valid UTF-8 `text`, with an ellipsis when cut.
std::string text_preview(const std::string& text, std::size_t n);

/// `text` with LIKE's wildcards and its escape character (backslash, PostgreSQL's default) made
/// literal: what searches put between their `%`s.
std::string escape_like(const std::string& text);

}  // namespace reelhub::modules
