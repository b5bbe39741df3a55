#pragma once
// The hand-over of a connection that asked to switch protocols (WebSocket). The server routes,
// authenticates and rate-limits the upgrade request like any other, then gives the stream to
// the hook registered for its route; http never knows what runs behind the hook. Beast types:
// included only by the server and by the composition root that registers a hook.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <map>
#include <string>

namespace reelhub::http {

struct Upgrade {
  boost::beast::tcp_stream stream;
  boost::beast::http::request<boost::beast::http::string_body> request;
  std::map<std::string, std::string> query;  // decoded query parameters of the request target
  boost::asio::any_io_executor workers;      // the pool for blocking work (PostgreSQL)
};

using UpgradeHook = std::function<boost::asio::awaitable<void>(Upgrade)>;

}  // namespace reelhub::http
