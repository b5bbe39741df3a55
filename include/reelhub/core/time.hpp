#pragma once

#include <chrono>
#include <string>

namespace reelhub {

/// ISO 8601 UTC with a Z suffix and whole seconds, e.g. 2025-09-26T01:00:00Z.
std::string iso8601(std::chrono::system_clock::time_point t);
std::string iso8601_now();
/// The same with milliseconds, e.g. 2025-09-26T01:00:00.250Z (HLS EXT-X-PROGRAM-DATE-TIME).
std::string iso8601_millis(std::chrono::system_clock::time_point t);
/// Parses PostgreSQL's `timestamptz` text output (UTC session) into ISO 8601 Z form.
std::string iso8601_from_pg(const std::string& pg_timestamp);

}  // namespace reelhub
