#pragma once
// A small synchronous HTTP/1.1 client for tests. Beast stays in http_client.cpp so test files
// compile fast; every call has a deadline so a hung server fails a test instead of hanging it.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>

namespace reelhub::testing {

/// Case-insensitive ordering: HTTP field names are case-insensitive.
struct HeaderLess {
  bool operator()(std::string_view a, std::string_view b) const;
};
using Headers = std::map<std::string, std::string, HeaderLess>;

/// `Authorization: Bearer <token>`.
Headers bearer(const std::string& token);

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
  /// The header's value, "" when absent.
  std::string header(const std::string& name) const;
  /// The body parsed as JSON; throws with the status and body when it is not JSON.
  nlohmann::json json() const;
};
/// "HTTP 422 + headers + body": what a failing assertion should show.
std::ostream& operator<<(std::ostream& os, const HttpResponse& res);

/// One TCP connection to 127.0.0.1, for tests below the request level (partial requests).
class RawConnection {
 public:
  /// Connects; throws std::system_error when the connection is refused or times out.
  RawConnection(std::uint16_t port, std::chrono::milliseconds timeout);
  ~RawConnection();

  void send(std::string_view bytes);
  /// Reads one response; `head` = it answers a HEAD request (no body follows).
  HttpResponse read_response(bool head = false);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True when a TCP connect to 127.0.0.1:`port` succeeds within `timeout` (the socket is closed again).
bool can_connect(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(1));

/// The bytes of an HTTP/1.1 request with Host and (when there is a body or the method sends one)
/// Content-Length set unless `headers` sets them.
std::string serialize_request(const std::string& method, const std::string& target, const std::string& body,
                              const Headers& headers, std::uint16_t port);

/// A new connection per request; requests do not share state.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : port_(port), timeout_(timeout) {}

  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = {},
                       const Headers& headers = {}) const;
  HttpResponse get(const std::string& target, const Headers& headers = {}) const {
    return request("GET", target, {}, headers);
  }
  HttpResponse del(const std::string& target, const Headers& headers = {}) const {
    return request("DELETE", target, {}, headers);
  }
  /// Sends `body` serialized with Content-Type: application/json.
  HttpResponse send_json(const std::string& method, const std::string& target, const nlohmann::json& body,
                         Headers headers = {}) const;
  HttpResponse post_json(const std::string& target, const nlohmann::json& body, Headers headers = {}) const {
    return send_json("POST", target, body, std::move(headers));
  }

 private:
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
};

/// GET of an absolute URL on this machine ("http://127.0.0.1:<port>/path?query"): where a
/// presigned URL or a redirect points.
HttpResponse get_url(const std::string& url, const Headers& headers = {});

/// Builds a multipart/form-data body.
class Multipart {
 public:
  Multipart();
  Multipart& field(const std::string& name, const std::string& value);
  Multipart& file(const std::string& name, const std::string& filename, const std::string& content_type,
                  const std::string& data);
  std::string body() const { return parts_ + "--" + boundary_ + "--\r\n"; }
  std::string content_type() const { return "multipart/form-data; boundary=" + boundary_; }

 private:
  std::string boundary_;
  std::string parts_;
};

}  // namespace reelhub::testing
