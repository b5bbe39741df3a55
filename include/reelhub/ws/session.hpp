#pragma once
// The WebSocket connection behind GET /ws. The composition root registers serve_websocket as the
// HTTP server's upgrade hook for that route, so the HTTP session hands over the TCP stream and
// the parsed upgrade request once routing and the ws_connect rate limit have passed.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>

namespace reelhub::auth {
class TokenSigner;
}

namespace reelhub::ws {

class LiveHub;

/// Completes the handshake for `upgrade` and serves the connection until it closes. Runs on the
/// stream's event loop; access checks run on `workers` (they may query the database). `access_token`
/// is the `?access_token=` of the request, if any (otherwise the client authenticates by message).
boost::asio::awaitable<void> serve_websocket(LiveHub& hub, const auth::TokenSigner& tokens,
                                             boost::asio::any_io_executor workers, boost::beast::tcp_stream stream,
                                             boost::beast::http::request<boost::beast::http::string_body> upgrade,
                                             std::optional<std::string> access_token);

}  // namespace reelhub::ws
