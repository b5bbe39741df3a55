// Acceptance 3: the bad input matrix. Every case checks the exact status and the seed 002 JSON
// error body; none may be a 500 or an HTML page.

#include <gtest/gtest.h>
#include <jwt.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>

#include "expectations.hpp"
#include "ws_client.hpp"
#include "stack.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

std::string base64url_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    throw std::invalid_argument("not base64url");
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    buffer = (buffer << 6) | static_cast<unsigned>(value(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

/// The claims of a JWT the server issued (its payload segment, unverified).
nlohmann::json claims_of(const std::string& token) {
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  return nlohmann::json::parse(base64url_decode(token.substr(first + 1, second - first - 1)));
}

/// Signs `claims` with libjwt: HS256 with `secret`, or alg "none" when `secret` is empty.
std::string sign(const nlohmann::json& claims, const std::string& secret) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, &jwt_free);
  if (jwt_add_grants_json(jwt.get(), claims.dump().c_str()) != 0) throw std::runtime_error("jwt_add_grants_json");
  const int rc = secret.empty() ? jwt_set_alg(jwt.get(), JWT_ALG_NONE, nullptr, 0)
                                : jwt_set_alg(jwt.get(), JWT_ALG_HS256,
                                              reinterpret_cast<const unsigned char*>(secret.data()),
                                              static_cast<int>(secret.size()));
  if (rc != 0) throw std::runtime_error("jwt_set_alg failed");
  char* encoded = jwt_encode_str(jwt.get());
  if (!encoded) throw std::runtime_error("jwt_encode_str failed");
  std::string out(encoded);
  std::free(encoded);
  return out;
}

std::set<std::string> detail_fields(const HttpResponse& res) {
  std::set<std::string> out;
  const auto body = res.json();
  if (!body.contains("details") || !body["details"].is_object()) return out;
  for (const auto& [field, messages] : body["details"].items()) {
    // Each field maps to a non-empty list of messages (API.md: {"field": ["message", ...]}).
    if (messages.is_array() && !messages.empty() && messages[0].is_string()) out.insert(field);
  }
  return out;
}

class BadInputTest : public StackTest {
 protected:
  static HttpResponse post_raw(const std::string& target, const std::string& body) {
    return http().request("POST", target, body, {{"Content-Type", "application/json"}});
  }
  static HttpResponse register_with(const nlohmann::json& body) { return http().post_json("/auth/register", body); }
  static nlohmann::json valid_registration() {
    const auto name = unique_username("bad");
    return {{"username", name}, {"email", name + "@example.com"}, {"password", "password123"}};
  }
};

// ---- malformed JSON: 400

TEST_F(BadInputTest, MalformedJsonIs400) {
  EXPECT_TRUE(is_api_error(post_raw("/auth/register", R"({"username": "abc", "email": )"), 400));
  EXPECT_TRUE(is_api_error(post_raw("/auth/login", "not json at all"), 400));
  EXPECT_TRUE(is_api_error(post_raw("/auth/refresh", "{\"refresh_token\": \"x\"} trailing"), 400));
  EXPECT_TRUE(is_api_error(post_raw("/auth/login", ""), 400)) << "an empty body is not a JSON object";
}

TEST_F(BadInputTest, InvalidUtf8Is400) {
  EXPECT_TRUE(is_api_error(post_raw("/auth/register", "{\"username\": \"\xff\xfe\", \"email\": \"a@b.cd\", "
                                                      "\"password\": \"password123\"}"),
                           400));
}

// ---- missing/invalid fields: 422 with details naming exactly the failing fields

TEST_F(BadInputTest, MissingFieldsAre422WithDetails) {
  auto res = register_with(nlohmann::json::object());
  ASSERT_TRUE(is_api_error(res, 422));
  EXPECT_EQ(detail_fields(res), (std::set<std::string>{"username", "email", "password"})) << res;

  auto login = http().post_json("/auth/login", {{"email", "someone@example.com"}});
  ASSERT_TRUE(is_api_error(login, 422));
  EXPECT_EQ(detail_fields(login), (std::set<std::string>{"password"})) << login;

  auto refresh = http().post_json("/auth/refresh", nlohmann::json::object());
  ASSERT_TRUE(is_api_error(refresh, 422));
  EXPECT_EQ(detail_fields(refresh), (std::set<std::string>{"refresh_token"})) << refresh;
}

TEST_F(BadInputTest, InvalidFieldsAre422WithDetails) {
  auto all_bad = register_with({{"username", "a!"}, {"email", "not-an-email"}, {"password", "short"}});
  ASSERT_TRUE(is_api_error(all_bad, 422));
  EXPECT_EQ(detail_fields(all_bad), (std::set<std::string>{"username", "email", "password"})) << all_bad;

  struct Case {
    const char* field;
    nlohmann::json value;
  };
  const Case cases[] = {
      {"username", "ab"},                                 // too short
      {"username", std::string(33, 'a')},                 // too long
      {"username", "has space"},                          // outside [A-Za-z0-9_.-]
      {"username", 12345},                                // not a string
      {"email", "no-at-sign.example.com"},                //
      {"email", nullptr},                                 //
      {"password", "1234567"},                            // 7 < 8 characters
      {"password", nlohmann::json::array({"password1"})}, //
      {"role", "superuser"},                              // not a role
  };
  for (const auto& c : cases) {
    auto body = valid_registration();
    body[c.field] = c.value;
    auto res = register_with(body);
    EXPECT_TRUE(is_api_error(res, 422)) << c.field << " = " << c.value.dump();
    EXPECT_EQ(detail_fields(res), (std::set<std::string>{c.field})) << c.field << " = " << c.value.dump() << ": "
                                                                     << res;
  }

  auto wrong_types = http().post_json("/auth/login", {{"email", 5}, {"password", true}});
  ASSERT_TRUE(is_api_error(wrong_types, 422));
  EXPECT_EQ(detail_fields(wrong_types), (std::set<std::string>{"email", "password"})) << wrong_types;
}

TEST_F(BadInputTest, BoundaryValuesAreAccepted) {
  // The other side of the 422 cases: the limits themselves are valid.
  auto body = valid_registration();
  body["username"] = "u" + random_hex(1);  // 3 characters
  body["email"] = body["username"].get<std::string>() + "@example.com";
  body["password"] = "12345678";  // exactly 8
  auto res = register_with(body);
  EXPECT_EQ(res.status, 201) << res;

  auto longest = valid_registration();
  longest["username"] = std::string(22, 'x') + random_hex(5);  // 32 characters
  longest["email"] = longest["username"].get<std::string>() + "@example.com";
  res = register_with(longest);
  EXPECT_EQ(res.status, 201) << res;
}

// ---- duplicates: 409

TEST_F(BadInputTest, DuplicateEmailIs409) {
  const auto first = valid_registration();
  ASSERT_EQ(register_with(first).status, 201);
  auto second = valid_registration();
  second["email"] = first["email"];
  EXPECT_TRUE(is_api_error(register_with(second), 409));
}

TEST_F(BadInputTest, DuplicateUsernameIs409) {
  const auto first = valid_registration();
  ASSERT_EQ(register_with(first).status, 201);
  auto second = valid_registration();
  second["username"] = first["username"];
  EXPECT_TRUE(is_api_error(register_with(second), 409));
}

// ---- credentials: 401, the same answer for an unknown e-mail and a wrong password

TEST_F(BadInputTest, WrongPasswordIs401) {
  const TestUser u = register_and_login(http(), "pw");
  auto wrong = http().post_json("/auth/login", {{"email", u.email}, {"password", u.password + "x"}});
  ASSERT_TRUE(is_api_error(wrong, 401));
  auto unknown = http().post_json("/auth/login", {{"email", "nobody-" + random_hex(4) + "@example.com"},
                                                  {"password", u.password}});
  ASSERT_TRUE(is_api_error(unknown, 401));
  EXPECT_EQ(wrong.json()["message"], unknown.json()["message"]) << "the message must not reveal which accounts exist";
}

// ---- tokens: 401 for expired, forged and alg=none; the control re-signs the same claims correctly

class TokenTest : public BadInputTest {
 protected:
  void SetUp() override {
    BadInputTest::SetUp();
    if (HasFatalFailure()) return;
    user_ = register_and_login(http(), "jwt");
    claims_ = claims_of(user_.access_token);
  }
  static HttpResponse validate_with(const std::string& token) { return http().get("/auth/validate", bearer(token)); }
  static std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  TestUser user_;
  nlohmann::json claims_;
};

TEST_F(TokenTest, ResignedTokenWithTheServerSecretIsAccepted) {
  // Proves the cases below fail for the reason they name, not because our signing differs.
  auto res = validate_with(sign(claims_, stack().server.jwt_secret()));
  EXPECT_EQ(res.status, 200) << "claims " << claims_ << ": " << res;
}

TEST_F(TokenTest, ExpiredTokenIs401) {
  auto claims = claims_;
  claims["iat"] = now() - 7200;
  claims["exp"] = now() - 3600;  // far beyond any clock-skew leeway
  if (claims.contains("nbf")) claims["nbf"] = now() - 7200;
  EXPECT_TRUE(is_api_error(validate_with(sign(claims, stack().server.jwt_secret())), 401));
}

TEST_F(TokenTest, ForgedTokenIs401) {
  EXPECT_TRUE(is_api_error(validate_with(sign(claims_, "not-the-server-secret-" + random_hex(16))), 401));
  auto elevated = claims_;
  elevated["role"] = "admin";  // tampered payload under the original signature
  const auto original = user_.access_token;
  const auto header = original.substr(0, original.find('.'));
  const auto signature = original.substr(original.rfind('.') + 1);
  const auto tampered_payload = sign(elevated, stack().server.jwt_secret());
  const auto payload = tampered_payload.substr(tampered_payload.find('.') + 1,
                                               tampered_payload.rfind('.') - tampered_payload.find('.') - 1);
  EXPECT_TRUE(is_api_error(validate_with(header + "." + payload + "." + signature), 401));
}

TEST_F(TokenTest, AlgNoneTokenIs401) {
  const auto token = sign(claims_, "");
  ASSERT_EQ(nlohmann::json::parse(base64url_decode(token.substr(0, token.find('.'))))["alg"], "none");
  EXPECT_TRUE(is_api_error(validate_with(token), 401));
}

TEST_F(TokenTest, MalformedAuthorizationIs401) {
  EXPECT_TRUE(is_api_error(validate_with("garbage"), 401));
  EXPECT_TRUE(is_api_error(validate_with("a.b.c"), 401));
  EXPECT_TRUE(is_api_error(validate_with(""), 401));
  EXPECT_TRUE(is_api_error(http().get("/auth/validate", {{"Authorization", "Basic dXNlcjpwYXNz"}}), 401));
}

// ---- authorization: 403

TEST_F(BadInputTest, ViewerOnAdminRouteIs403) {
  const TestUser viewer = register_and_login(http(), "viewer");
  EXPECT_TRUE(is_api_error(http().get("/users", viewer.auth()), 403));
  EXPECT_TRUE(is_api_error(http().get("/users"), 401)) << "no token at all is 401, not 403";
}

// ---- size: 413

TEST_F(BadInputTest, OversizedBodyIs413) {
  // Valid JSON just over the 1 MiB default limit.
  auto body = valid_registration();
  body["padding"] = std::string((1 << 20) + 1, 'a');
  EXPECT_TRUE(is_api_error(register_with(body), 413));
  // The server is still fine afterwards.
  EXPECT_EQ(http().get("/health").status, 200);
}

TEST_F(BadInputTest, DeclaredOversizedBodyIs413WithoutSendingIt) {
  // Content-Length alone tells the server the body is too large: it answers before reading it.
  RawConnection conn(stack().server.port(), std::chrono::seconds(10));
  conn.send("POST /auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 104857600\r\n\r\n");
  EXPECT_TRUE(is_api_error(conn.read_response(), 413));
}

// ---- routing: 404 and 405

TEST_F(BadInputTest, UnknownRouteIs404Json) {
  EXPECT_TRUE(is_api_error(http().get("/no/such/route"), 404));
  EXPECT_TRUE(is_api_error(http().post_json("/auth/nope", nlohmann::json::object()), 404));
  EXPECT_TRUE(is_api_error(http().get("/users/1/no-such-thing"), 404));
}

TEST_F(BadInputTest, WrongMethodIs405WithAllow) {
  auto res = http().del("/auth/login");
  ASSERT_TRUE(is_api_error(res, 405));
  EXPECT_NE(res.header("Allow").find("POST"), std::string::npos) << res;

  auto put = http().request("PUT", "/health", "{}");
  ASSERT_TRUE(is_api_error(put, 405));
  EXPECT_NE(put.header("Allow").find("GET"), std::string::npos) << put;
}

// ---- HEAD, request ids

TEST_F(BadInputTest, HeadHealthHasHeadersButNoBody) {
  auto get = http().get("/health");
  ASSERT_EQ(get.status, 200) << get;

  // Two requests on one connection: if HEAD's response carried a body, the second response
  // would be read from the middle of it and fail to parse.
  RawConnection conn(stack().server.port(), std::chrono::seconds(10));
  conn.send(serialize_request("HEAD", "/health", "", {}, stack().server.port()));
  auto head = conn.read_response(/*head=*/true);
  EXPECT_EQ(head.status, 200) << head;
  EXPECT_TRUE(is_json(head));
  if (head.has_header("Content-Length")) {
    EXPECT_EQ(head.header("Content-Length"), std::to_string(get.body.size())) << head;
  }
  conn.send(serialize_request("GET", "/health/live", "", {}, stack().server.port()));
  auto next = conn.read_response();
  EXPECT_EQ(next.status, 200) << next;
}

TEST_F(BadInputTest, RequestIdIsEchoedOrGenerated) {
  auto given = http().get("/health", {{"X-Request-Id", "test-req-0123"}});
  EXPECT_EQ(given.header("X-Request-Id"), "test-req-0123") << given;

  auto a = http().get("/health"), b = http().get("/health");
  EXPECT_FALSE(a.header("X-Request-Id").empty()) << a;
  EXPECT_NE(a.header("X-Request-Id"), b.header("X-Request-Id"));

  auto error = http().get("/no/such/route", {{"X-Request-Id", "test-req-404"}});
  EXPECT_EQ(error.header("X-Request-Id"), "test-req-404") << "errors carry the request id too: " << error;

  // Requests refused before routing (framing, size) still get an id to quote in a bug report.
  RawConnection conn(stack().server.port(), std::chrono::seconds(10));
  conn.send("POST /auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 104857600\r\n\r\n");
  auto refused = conn.read_response();
  EXPECT_EQ(refused.status, 413) << refused;
  EXPECT_FALSE(refused.header("X-Request-Id").empty()) << refused;
}

// ---- log forging: a client-supplied value never starts a line of its own in the text log

TEST(AccessLogTest, EncodedLineBreaksInThePathCannotForgeALogLine) {
  auto env = relaxed_rate_limits();
  env["REELHUB_LOG_FORMAT"] = "text";
  Stack stack(env);
  ASSERT_EQ(stack.http().get("/x%0a2026-01-01%2000:00:00.000%20info%20%201.2.3.4%20%22GET%20/admin%22%20200").status,
            404);
  // The log is flushed once a second: wait until the forging attempt's line is in it.
  std::string log;
  ASSERT_TRUE(eventually([&] {
    log = stack.server.log();
    return log.find(" 404 ") != std::string::npos;
  })) << log;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_NE(line.rfind("2026-01-01", 0), 0u) << "forged line: " << line;
  }
  EXPECT_NE(log.find("/x\\x0a2026-01-01"), std::string::npos) << "the line break is logged escaped:\n" << log;
}

}  // namespace
}  // namespace reelhub::testing
