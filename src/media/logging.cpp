#include "reelhub/media/logging.hpp"

#include <spdlog/spdlog.h>

#include <cstdarg>
#include <string_view>

extern "C" {
#include <libavutil/log.h>
}

namespace reelhub::media {
namespace {

// Its errors describe a bad input file, which the caller already reports, so they log as warn.
void forward_av_log(void* avcl, int level, const char* fmt, va_list args) {
  if (level > av_log_get_level()) return;
  thread_local int print_prefix = 1;
  char line[1024];
  av_log_format_line2(avcl, level, fmt, args, line, sizeof line, &print_prefix);
  std::string_view text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.empty()) return;
  const auto spd_level = level <= AV_LOG_ERROR ? spdlog::level::warn : spdlog::level::debug;
  spdlog::log(spd_level, "ffmpeg: {}", text);
}

}  // namespace

void route_libav_logs() {
  av_log_set_level(spdlog::get_level() <= spdlog::level::debug ? AV_LOG_WARNING : AV_LOG_ERROR);
  av_log_set_callback(forward_av_log);
}

}  // namespace reelhub::media
