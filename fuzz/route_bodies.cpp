// A request to any route, with a body: "METHOD TARGET[ CONTENT-TYPE]" on the first line, the body after it,
// sent by an admin (so every handler is reached) through the server's whole request path without
// sockets. Handlers parse and validate the body, the query and the path parameters; one that gets
// as far as the database is answered 503 (there is none). Every answer must be a valid status,
// never 500, with the JSON error body for errors.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reelhub;
  const auto& fixture = fuzz::AppFixture::instance();
  http::Request req;
  const auto body = fuzz::request_line(std::string_view(reinterpret_cast<const char*>(data), size), req);
  if (!body) return 0;
  req.body = std::string(*body);
  req.headers["Authorization"] = fixture.admin_authorization();
  fuzz::require_valid_response(fixture.serve(req));
  return 0;
}
