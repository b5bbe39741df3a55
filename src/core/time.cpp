#include "reelhub/core/time.hpp"

#include <cstdio>
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

std::string iso8601_millis(std::chrono::system_clock::time_point t) {
  std::string out = iso8601(t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms < 0 ? ms + 1000 : ms));
  out.insert(out.size() - 1, frac);
  return out;
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
