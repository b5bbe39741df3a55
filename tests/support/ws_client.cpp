#include "ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <sstream>
#include <system_error>

#include "stack.hpp"

namespace reelhub::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

/// One io_context driven per call, as RawConnection does: start one operation under the TCP
/// stream's deadline and run the context until it completes.
struct WsClient::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout;

  template <class Start>
  beast::error_code run(Start&& start, std::chrono::milliseconds deadline) {
    beast::error_code result = asio::error::would_block;
    beast::get_lowest_layer(ws).expires_after(deadline);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  [[noreturn]] void closed(beast::error_code ec) {
    // A close frame was received: that is the answer, even if the TCP teardown after it failed
    // (a server that closes while unread data, e.g. an oversized message, is still arriving).
    if (ec == websocket::error::closed || ws.reason().code != websocket::close_code::none)
      throw WsClosed(ws.reason().code, std::string(ws.reason().reason.data(), ws.reason().reason.size()));
    if (ec == beast::error::timeout) throw std::runtime_error("no WebSocket message within the deadline");
    throw WsClosed(1006, ec.message());
  }
};

WsClient::WsClient(std::uint16_t port, WsOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->timeout = options.timeout;
  auto& socket = beast::get_lowest_layer(impl_->ws).socket();
  socket.open(tcp::v4());
  if (options.receive_buffer > 0) socket.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer));
  const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), port);
  auto ec = impl_->run([&](auto h) { beast::get_lowest_layer(impl_->ws).async_connect(ep, h); }, options.timeout);
  if (ec) throw std::system_error(ec, "connect to 127.0.0.1:" + std::to_string(port));
  websocket::response_type res;
  ec = impl_->run([&](auto h) { impl_->ws.async_handshake(res, "127.0.0.1:" + std::to_string(port), options.target, h); },
                  options.timeout);
  if (ec == websocket::error::upgrade_declined) throw WsRefused(static_cast<int>(res.result_int()), res.body());
  if (ec) throw std::system_error(ec, "WebSocket handshake");
  impl_->ws.text(true);
}

WsClient::~WsClient() = default;

void WsClient::send(const nlohmann::json& message) { send_text(message.dump()); }

void WsClient::send_text(std::string_view text) {
  impl_->ws.text(true);
  auto ec = impl_->run([&](auto h) { impl_->ws.async_write(asio::buffer(text.data(), text.size()), h); },
                       impl_->timeout);
  if (ec) impl_->closed(ec);
}

void WsClient::send_binary(std::string_view bytes) {
  impl_->ws.binary(true);
  auto ec = impl_->run([&](auto h) { impl_->ws.async_write(asio::buffer(bytes.data(), bytes.size()), h); },
                       impl_->timeout);
  impl_->ws.text(true);
  if (ec) impl_->closed(ec);
}

nlohmann::json WsClient::receive() { return receive(impl_->timeout); }

nlohmann::json WsClient::receive(std::chrono::milliseconds timeout) {
  auto ec = impl_->run([&](auto h) { impl_->ws.async_read(impl_->buffer, h); }, timeout);
  if (ec) impl_->closed(ec);
  std::string text = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
  auto message = nlohmann::json::parse(text, nullptr, false);
  if (message.is_discarded()) throw std::runtime_error("the server sent a message that is not JSON: " + text);
  return message;
}

nlohmann::json WsClient::receive_until(const std::string& type, const nlohmann::json& id,
                                       std::vector<nlohmann::json>* skipped) {
  const auto deadline = std::chrono::steady_clock::now() + impl_->timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("no '" + type + "' message within the deadline");
    auto message = receive(left);
    if (message.value("type", "") == type && (id.is_null() || message.value("id", nlohmann::json()) == id))
      return message;
    if (skipped) skipped->push_back(std::move(message));
  }
}

int WsClient::await_close(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("the server did not close the WebSocket within the deadline");
    try {
      receive(left);
    } catch (const WsClosed& e) {
      return e.code;
    }
  }
}

void WsClient::close() {
  auto ec = impl_->run([&](auto h) { impl_->ws.async_close(websocket::close_code::normal, h); }, impl_->timeout);
  if (ec && ec != websocket::error::closed) throw std::system_error(ec, "WebSocket close");
}

std::string ws_target_with_token(const std::string& token) { return "/ws?access_token=" + token; }

WsOptions ws_with_token(const std::string& access_token) {
  WsOptions o;
  o.target = ws_target_with_token(access_token);
  return o;
}

std::map<std::string, std::string> ws_env(const std::map<std::string, std::string>& extra) {
  auto env = relaxed_rate_limits();
  auto rules = nlohmann::json::parse(env["REELHUB_RATE_LIMITS"]);
  rules["ws_connect"] = {{"limit", 100000}, {"window_seconds", 60}};
  env["REELHUB_RATE_LIMITS"] = rules.dump();
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

double metric_value(const HttpClient& http, const std::string& name) {
  std::istringstream lines(http.get("/metrics").body);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return 0;
}

nlohmann::json authenticate(WsClient& ws, const std::string& token) {
  ws.send({{"type", "authenticate"}, {"token", token}});
  auto reply = ws.receive();
  if (reply.value("type", "") != "authenticated") throw std::runtime_error("authenticate answered " + reply.dump());
  return reply;
}

}  // namespace reelhub::testing
