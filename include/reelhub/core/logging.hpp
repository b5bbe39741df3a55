#pragma once

#include <string>
#include <string_view>

namespace reelhub {

/// Sets spdlog's default logger: `text` for people, `json` for log shippers (one object per
/// line; a message that is itself a JSON object is merged into the line as fields).
/// Lines go through a buffer flushed every second and at each warning: call stop_logging() before
/// the process exits, which flushes it.
void init_logging(const std::string& format, const std::string& level);
/// Writes out the buffered lines and stops the periodic flush; nothing may log afterwards.
void stop_logging();

/// `text` safe to put in a text log line: control characters (C0, DEL), backslash and double
/// quote come out as \xNN, \\ and \", so a client-supplied value (a decoded path, a stream id)
/// cannot forge a log line or break out of a quoted field.
std::string escape_for_log(std::string_view text);
/// Appends escape_for_log(text) to `out` without a string of its own (the access log's buffer).
void append_escaped_for_log(std::string& out, std::string_view text);
/// Appends `text` to `out` as a quoted JSON string: `"` and `\` and control characters escaped,
/// bytes that are not UTF-8 replaced by U+FFFD (as nlohmann::json's error_handler_t::replace does).
void append_json_string(std::string& out, std::string_view text);

}  // namespace reelhub
