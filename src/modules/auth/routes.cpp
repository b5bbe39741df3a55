#include "modules/auth/routes.hpp"

#include <memory>
#include <nlohmann/json.hpp>

#include "modules/auth/service.hpp"
#include "reelhub/core/validation.hpp"

namespace reelhub::auth {
namespace {

using http::Access;
using http::Request;
using http::Response;

/// The auth endpoints, sharing the process's one service.
class Handlers {
 public:
  explicit Handlers(AuthService& service) : service_(service) {}

  Response register_account(Request& req);
  Response login(Request& req);
  Response refresh(Request& req);
  Response logout(Request& req);
  Response validate(Request& req);

 private:
  AuthService& service_;
};

}  // namespace

void register_routes(const modules::Context& ctx, AuthService& service) {
  auto bind = http::bind_members(std::make_shared<Handlers>(service));
  const http::RouteOptions user{.access = Access::user, .rate_policy = "general"};

  http::Router& r = ctx.router;
  r.add("POST", "/auth/register", bind(&Handlers::register_account), {.rate_policy = "register"});
  r.add("POST", "/auth/login", bind(&Handlers::login), {.rate_policy = "login"});
  r.add("POST", "/auth/refresh", bind(&Handlers::refresh), {.rate_policy = "general"});
  r.add("POST", "/auth/logout", bind(&Handlers::logout), user);
  r.add("GET", "/auth/validate", bind(&Handlers::validate), user);
}

namespace {

constexpr std::size_t kMaxPassword = 1024;  // argon2 accepts more; this bounds the work per request
constexpr std::size_t kMaxRefreshToken = 512;

nlohmann::json user_json(const users::Account& account) {
  return {{"id", account.id}, {"username", account.username}, {"role", auth::role_name(account.role)}};
}

nlohmann::json tokens_json(const IssuedTokens& tokens) {
  auto user = user_json(tokens.account);
  user["email"] = tokens.account.email;
  return {{"access_token", tokens.access_token}, {"token_type", "Bearer"},    {"expires_in", tokens.expires_in},
          {"refresh_token", tokens.refresh_token}, {"user", std::move(user)}};
}

Response Handlers::register_account(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  Registration registration;
  registration.username = v.required_string("username", 3, 32);
  if (!registration.username.empty() && !users::is_valid_username(registration.username)) {
    v.fail("username", "may contain only letters, digits, '_', '.' and '-'");
  }
  registration.email = v.required_string("email", 3, 254);
  if (!registration.email.empty() && !is_valid_email(registration.email)) {
    v.fail("email", "must be a valid e-mail address");
  }
  registration.password = v.required_string("password", 8, kMaxPassword);
  if (const auto role = v.optional_string("role", 1, 32)) {
    if (const auto parsed = auth::parse_role(*role)) {
      registration.role = *parsed;
    } else {
      v.fail("role", "must be one of: viewer, streamer");
    }
  }
  v.throw_if_failed();

  const auto account = service_.register_user(registration);
  auto user = user_json(account);
  user["email"] = account.email;
  user["is_active"] = account.is_active;
  user["created_at"] = account.created_at;
  return Response::json(201, {{"message", "User registered successfully"}, {"user", std::move(user)}});
}

Response Handlers::login(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  // Seed 002 logs in by e-mail; a username is accepted in its place.
  const bool by_username = !body.contains("email") && body.contains("username");
  const auto name = v.required_string(by_username ? "username" : "email", 1, 254);
  const auto password = v.required_string("password", 1, kMaxPassword);
  v.throw_if_failed();
  return Response::json(200, tokens_json(service_.login(name, password)));
}

Response Handlers::refresh(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  const auto token = v.required_string("refresh_token", 1, kMaxRefreshToken);
  v.throw_if_failed();
  return Response::json(200, tokens_json(service_.refresh(token)));
}

Response Handlers::logout(Request& req) {
  // The body is optional: a client may also hand in its refresh token to end that session.
  std::optional<std::string> token;
  if (!req.body.empty()) {
    const auto body = req.json_body();
    Validator v(body);
    token = v.optional_string("refresh_token", 1, kMaxRefreshToken);
    v.throw_if_failed();
  }
  service_.logout(req.auth(), token);
  return Response::json(200, {{"message", "Logged out"}});
}

Response Handlers::validate(Request& req) {
  return Response::json(200, {{"valid", true}, {"user", user_json(service_.validate(req.auth()))}});
}

}  // namespace
}  // namespace reelhub::auth
