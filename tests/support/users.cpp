#include "users.hpp"

#include <sstream>
#include <stdexcept>

#include "system.hpp"

namespace reelhub::testing {
namespace {

[[noreturn]] void unexpected(const std::string& what, const HttpResponse& res) {
  std::ostringstream msg;
  msg << what << " failed: " << res;
  throw std::runtime_error(msg.str());
}

}  // namespace

std::string unique_username(const std::string& prefix) { return prefix + "_" + random_hex(5); }

TestUser register_and_login(const HttpClient& http, const std::string& prefix, const std::string& role) {
  TestUser user;
  user.username = unique_username(prefix);
  user.email = user.username + "@example.com";
  user.password = "pw-" + random_hex(8);
  auto res = http.post_json("/auth/register", {{"username", user.username},
                                               {"email", user.email},
                                               {"password", user.password},
                                               {"role", role}});
  if (res.status != 201) unexpected("register " + user.username, res);
  user.id = res.json().at("user").at("id").get<std::int64_t>();
  log_in(http, user);
  return user;
}

void log_in(const HttpClient& http, TestUser& user) {
  auto res = http.post_json("/auth/login", {{"email", user.email}, {"password", user.password}});
  if (res.status != 200) unexpected("login " + user.email, res);
  auto body = res.json();
  user.access_token = body.at("access_token").get<std::string>();
  user.refresh_token = body.at("refresh_token").get<std::string>();
}

}  // namespace reelhub::testing
