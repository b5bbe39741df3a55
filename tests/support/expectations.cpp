#include "expectations.hpp"

#include <regex>
#include <sstream>

namespace reelhub::testing {

::testing::AssertionResult is_json(const HttpResponse& res) {
  const auto type = res.header("Content-Type");
  if (type.rfind("application/json", 0) != 0) {
    return ::testing::AssertionFailure() << "Content-Type is '" << type << "', not application/json; response: "
                                         << res;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_api_error(const HttpResponse& res, int status) {
  if (res.status != status) return ::testing::AssertionFailure() << "expected status " << status << ", got " << res;
  if (auto json = is_json(res); !json) return json;
  nlohmann::json body;
  try {
    body = res.json();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << e.what();
  }
  const bool ok = body.is_object() && body.contains("error") && body["error"].is_string() &&
                  !body["error"].get<std::string>().empty() && body.contains("message") &&
                  body["message"].is_string() && !body["message"].get<std::string>().empty() &&
                  body.contains("code") && body["code"].is_number_integer() && body["code"].get<int>() == status;
  if (!ok) {
    return ::testing::AssertionFailure() << "body is not {error, message, code: " << status << "}: " << res;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult exits_cleanly(ServerProcess& server, std::chrono::milliseconds timeout) {
  int code = 0;
  try {
    code = server.wait_exit(timeout);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << e.what() << "; the end of its log:\n" << last_lines(server.log(), 60);
  }
  if (code == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "reelhub exited with " << code << " (negative: killed by that signal); "
                                       << "the end of its log:\n" << last_lines(server.log(), 60);
}

bool is_iso8601_utc(const std::string& s) {
  static const std::regex pattern(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$)");
  return std::regex_match(s, pattern);
}

double metric_sample(const std::string& metrics, const std::string& name, const std::vector<std::string>& labels) {
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + "{", 0) != 0) continue;
    const auto close = line.rfind('}');  // the last one: a label value may hold braces (route="/{id}")
    const std::string label_text = line.substr(name.size() + 1, close - name.size() - 1);
    bool all = true;
    for (const auto& l : labels) all = all && label_text.find(l) != std::string::npos;
    if (all) return std::stod(line.substr(close + 1));
  }
  return -1;
}

}  // namespace reelhub::testing
