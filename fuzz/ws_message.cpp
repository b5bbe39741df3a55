// A WebSocket client's text frame, handled as ws::Session::handle does before it reaches the hub:
// parse, request id, request validation, token check for `authenticate`, then the reply or error
// frame. Parsers may throw ApiError only (the session turns anything else into a 500), and every
// frame the server would send must be valid JSON.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "check.hpp"
#include "reelhub/auth/tokens.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/ws/protocol.hpp"

namespace {

void require_json_frame(const std::string& frame) {
  reelhub::fuzz::require(nlohmann::json::accept(frame), "a server frame is valid JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reelhub;
  static const auth::TokenSigner tokens("fuzz-secret-0123456789abcdef0123456789", 900, 5);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json id;
  try {
    const nlohmann::json frame = ws::parse_frame(text);
    id = ws::request_id(frame);
    // "seek" stands for the types modules register: the protocol checks only their type.
    const ws::ClientRequest request =
        ws::parse_request(frame, [](const std::string& type) { return type == "seek"; });
    switch (request.kind) {
      case ws::ClientRequest::Kind::authenticate:
        tokens.verify(request.token);
        require_json_frame(ws::reply_frame("authenticated", {{"user_id", 1}}, id));
        break;
      case ws::ClientRequest::Kind::subscribe:
      case ws::ClientRequest::Kind::unsubscribe:
        require_json_frame(ws::reply_frame("subscribed", {{"topic", request.topic}}, id));
        break;
      case ws::ClientRequest::Kind::ping:
        require_json_frame(ws::reply_frame("pong", nlohmann::json::object(), id));
        break;
      case ws::ClientRequest::Kind::time_sync:
        require_json_frame(ws::time_sync_frame(request.t0, 1.5, 2.5, id));
        break;
      case ws::ClientRequest::Kind::module:
        require_json_frame(ws::reply_frame(request.type, nlohmann::json::object(), id));
        break;
    }
  } catch (const ApiError& e) {
    require_json_frame(ws::error_frame(e, id));
  }
  return 0;
}
