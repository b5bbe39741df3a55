#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <stdexcept>
#include <system_error>

#include "system.hpp"

namespace reelhub::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

bool HeaderLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) < std::tolower(static_cast<unsigned char>(y));
  });
}

Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

nlohmann::json HttpResponse::json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error("response body is not JSON (" + std::string(e.what()) + "): HTTP " +
                             std::to_string(status) + "\n" + body.substr(0, 2000));
  }
}

std::ostream& operator<<(std::ostream& os, const HttpResponse& res) {
  os << "HTTP " << res.status << "\n";
  for (const auto& [k, v] : res.headers) os << k << ": " << v << "\n";
  return os << "\n" << res.body.substr(0, 4000);
}

/// An io_context driven per operation: each blocking call starts one async operation under
/// the stream's deadline and runs the context until it completes.
struct RawConnection::Impl {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout;

  template <class Start>
  beast::error_code run(Start&& start) {
    beast::error_code result = asio::error::would_block;
    stream.expires_after(timeout);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }
};

RawConnection::RawConnection(std::uint16_t port, std::chrono::milliseconds timeout) : impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
  tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), port);
  auto ec = impl_->run([&](auto handler) { impl_->stream.async_connect(ep, handler); });
  if (ec) throw std::system_error(ec, "connect to 127.0.0.1:" + std::to_string(port));
}

RawConnection::~RawConnection() = default;

void RawConnection::send(std::string_view bytes) {
  auto ec = impl_->run([&](auto handler) {
    asio::async_write(impl_->stream, asio::buffer(bytes.data(), bytes.size()), handler);
  });
  if (ec) throw std::system_error(ec, "send");
}

HttpResponse RawConnection::read_response(bool head) {
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(512u << 20);
  parser.skip(head);
  auto ec = impl_->run([&](auto handler) { beast::http::async_read(impl_->stream, impl_->buffer, parser, handler); });
  if (ec) throw std::system_error(ec, "read response");
  auto& msg = parser.get();
  HttpResponse res;
  res.status = static_cast<int>(msg.result_int());
  for (const auto& field : msg) {
    std::string name(field.name_string());
    auto [it, inserted] = res.headers.emplace(name, std::string(field.value()));
    if (!inserted) it->second += ", " + std::string(field.value());
  }
  res.body = std::move(msg.body());
  return res;
}

bool can_connect(std::uint16_t port, std::chrono::milliseconds timeout) {
  try {
    RawConnection conn(port, timeout);
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

std::string serialize_request(const std::string& method, const std::string& target, const std::string& body,
                              const Headers& headers, std::uint16_t port) {
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  if (!headers.count("Host")) out += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  bool sends_body = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (sends_body && !headers.count("Content-Length") && !headers.count("Transfer-Encoding")) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  return out + "\r\n" + body;
}

HttpResponse HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                                 const Headers& headers) const {
  RawConnection conn(port_, timeout_);
  try {
    conn.send(serialize_request(method, target, body, headers, port_));
  } catch (const std::system_error& send_error) {
    // A server may answer early (413) and close while the body is still going out; like curl,
    // read the response it sent before giving up.
    try {
      return conn.read_response(method == "HEAD");
    } catch (const std::system_error&) {
      throw send_error;
    }
  }
  return conn.read_response(method == "HEAD");
}

HttpResponse HttpClient::send_json(const std::string& method, const std::string& target, const nlohmann::json& body,
                                   Headers headers) const {
  headers.emplace("Content-Type", "application/json");
  return request(method, target, body.dump(), headers);
}

Multipart::Multipart() : boundary_("reelhub-test-" + random_hex(12)) {}

Multipart& Multipart::field(const std::string& name, const std::string& value) {
  parts_ += "--" + boundary_ + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  return *this;
}

Multipart& Multipart::file(const std::string& name, const std::string& filename, const std::string& content_type,
                           const std::string& data) {
  parts_ += "--" + boundary_ + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
            "\"\r\nContent-Type: " + content_type + "\r\n\r\n" + data + "\r\n";
  return *this;
}

HttpResponse get_url(const std::string& url, const Headers& headers) {
  constexpr std::string_view origin = "http://127.0.0.1:";
  if (!url.starts_with(origin)) throw std::invalid_argument("not a URL of this machine: " + url);
  const std::size_t path_at = url.find('/', origin.size());
  const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(origin.size(), path_at - origin.size())));
  return HttpClient(port).get(path_at == std::string::npos ? "/" : url.substr(path_at), headers);
}

}  // namespace reelhub::testing
