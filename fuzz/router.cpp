// A request head as the server hands it to the pipeline: "METHOD TARGET" on the first line, then
// "Name: value" header lines. Exercises the request target's parsing and percent-decoding
// (Boost.URL), route matching over every module's routes, CORS preflight, request ids, and the
// Authorization header's parsing and token check; handlers are the route_bodies target's part.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app_fixture.hpp"
#include "check.hpp"
#include "reelhub/http/router.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reelhub;
  using reelhub::fuzz::require;
  const auto& fixture = fuzz::AppFixture::instance();
  http::Request req;
  auto rest = fuzz::request_line(std::string_view(reinterpret_cast<const char*>(data), size), req);
  if (!rest) return 0;
  while (!rest->empty()) {
    const std::size_t eol = rest->find('\n');
    const std::string_view line = rest->substr(0, eol);
    *rest = eol == std::string_view::npos ? std::string_view{} : rest->substr(eol + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    req.headers[std::string(line.substr(0, colon))] = std::string(value);
  }

  const auto started = std::chrono::steady_clock::now();
  const http::Pipeline& pipeline = fixture.pipeline();
  http::Prepared prepared = pipeline.route(req);
  require(!req.request_id.empty() && req.request_id.size() <= 64, "every request has a short id");
  if (prepared.route && !prepared.response) {
    require(req.path.starts_with('/'), "a routed path is absolute");
    for (const auto& segment : prepared.route->segments) {
      if (segment.size() > 2 && segment.front() == '{') {
        const auto it = req.params.find(segment.substr(1, segment.size() - 2));
        require(it != req.params.end() && !it->second.empty(), "every path parameter is set and not empty");
      }
    }
    pipeline.admit(req, prepared);
  }
  if (prepared.response) {
    fuzz::require_valid_response(*prepared.response);
    pipeline.finish(req, prepared, *prepared.response, started);
  }
  return 0;
}
