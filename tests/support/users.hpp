#pragma once
// Registering and logging in test users over the public API.

#include <cstdint>
#include <string>

#include "http_client.hpp"

namespace reelhub::testing {

struct TestUser {
  std::int64_t id = 0;
  std::string username;
  std::string email;
  std::string password;
  std::string access_token;
  std::string refresh_token;

  Headers auth() const { return bearer(access_token); }
};

/// `prefix` + "_" + random hex: unique across runs, valid as a username (prefix <= 21 chars).
std::string unique_username(const std::string& prefix);

/// POST /auth/register then POST /auth/login. Throws, showing the response, on any other status
/// than 201 / 200 (exceptions fail the calling test).
TestUser register_and_login(const HttpClient& http, const std::string& prefix = "user",
                            const std::string& role = "viewer");

/// POST /auth/login for `user` and stores the new tokens (e.g. after a role change).
void log_in(const HttpClient& http, TestUser& user);

}  // namespace reelhub::testing
