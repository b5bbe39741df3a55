#include "reelhub/core/time.hpp"

#include <ctime>

namespace reelhub {

std::string iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string iso8601_now() { return iso8601(std::chrono::system_clock::now()); }

std::string iso8601_from_pg(const std::string& pg) {
  // PostgreSQL prints timestamptz as "2025-09-26 01:00:00.123456+00" in a UTC session.
  if (pg.size() < 19) return pg;
  std::string out = pg.substr(0, 19);
  out[10] = 'T';
  return out + "Z";
}

}  // namespace reelhub
