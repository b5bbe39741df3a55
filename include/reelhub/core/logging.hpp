#pragma once

#include <string>

namespace reelhub {

/// Sets spdlog's default logger: `text` for people, `json` for log shippers (one object per
/// line; a message that is itself a JSON object is merged into the line as fields).
void init_logging(const std::string& format, const std::string& level);

}  // namespace reelhub
