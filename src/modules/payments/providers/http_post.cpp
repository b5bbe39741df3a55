#include "http_post.hpp"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <stdexcept>

namespace reelhub::payments {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

template <class Stream>
HttpReply exchange(Stream& stream, http::request<http::string_body>& request) {
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return {.status = static_cast<int>(response.result_int()), .body = std::move(response.body())};
}

}  // namespace

HttpReply http_post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& body, std::chrono::milliseconds timeout) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw std::runtime_error("not a URL: " + url);
  const std::string scheme(parsed->scheme());
  const bool tls = scheme == "https";
  if (!tls && scheme != "http") throw std::runtime_error("unsupported scheme: " + scheme);
  const std::string host(parsed->host());
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : (tls ? "443" : "80");
  std::string target(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());

  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, host);
  request.set(http::field::user_agent, "reelhub");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();

  asio::io_context io;
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(host, port);
  if (!tls) {
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    stream.connect(endpoints);
    return exchange(stream, request);
  }
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_default_verify_paths();
  context.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(io, context);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()))
    throw std::runtime_error("cannot set TLS server name");
  stream.set_verify_callback(asio::ssl::host_name_verification(host));
  beast::get_lowest_layer(stream).expires_after(timeout);
  beast::get_lowest_layer(stream).connect(endpoints);
  stream.handshake(asio::ssl::stream_base::client);
  return exchange(stream, request);
}

std::string form_encode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

}  // namespace reelhub::payments
