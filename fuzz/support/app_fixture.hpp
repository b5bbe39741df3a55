#pragma once
// The server's request path without sockets, for the fuzz targets: every module's routes (built
// by app::Modules, as the server builds them) behind the real http::Pipeline. The database is
// unreachable on purpose: a handler that gets as far as the pool is answered 503, so what is
// fuzzed is routing, authentication and each handler's parsing and validation. Rate limits are
// lifted so inputs are never refused for their number. One instance per process.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "reelhub/http/message.hpp"
#include "reelhub/http/pipeline.hpp"
#include "reelhub/http/router.hpp"

namespace reelhub::fuzz {

class AppFixture {
 public:
  static AppFixture& instance();

  /// "Bearer <token>" of an admin, so inputs reach the handlers of every role.
  const std::string& admin_authorization() const;
  const http::Pipeline& pipeline() const;
  /// What the server does with a request after reading its header, without sockets: route,
  /// body policy (a body over the route's limit is answered 413 unread; a body_to_file route gets
  /// the body in a file), admission, the handler, finish.
  http::Response serve(http::Request& req) const;

 private:
  AppFixture();
  ~AppFixture();
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

/// Reads the first line of a fuzz input, "METHOD TARGET[ CONTENT-TYPE]\n", into a request
/// (Content-Type application/json unless given, remote address 192.0.2.1); returns the rest of
/// the input, or nullopt when there is no such line.
std::optional<std::string_view> request_line(std::string_view input, http::Request& req);

/// The properties of every answer: a status from 100 to 599, never 500 (bad input must not reach
/// an internal error), and an error status carries the API's JSON error body (a health probe's
/// 503, its own JSON report).
void require_valid_response(const http::Response& res);

}  // namespace reelhub::fuzz
