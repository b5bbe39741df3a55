#pragma once
// The WebSocket connection behind GET /ws (private to src/ws and src/http/server.cpp, the only
// other file that sees Beast). The HTTP session hands over the TCP stream and the parsed upgrade
// request once routing and the ws_connect rate limit have passed.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "reelhub/http/message.hpp"

namespace reelhub::auth {
class TokenSigner;
}

namespace reelhub::ws {

class LiveHub;

/// Completes the handshake for `upgrade` and serves the connection until it closes. Runs on the
/// stream's strand; access checks run on `workers` (they may query the database).
boost::asio::awaitable<void> serve_websocket(LiveHub& hub, const auth::TokenSigner& tokens,
                                             boost::asio::any_io_executor workers, boost::beast::tcp_stream stream,
                                             boost::beast::http::request<boost::beast::http::string_body> upgrade,
                                             http::Request req);

}  // namespace reelhub::ws
