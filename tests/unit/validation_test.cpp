// Validator (422 details for every invalid field at once), UTF-8 checks and the e-mail rule.

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"

namespace reelhub {
namespace {

using nlohmann::json;
using namespace std::string_literals;

/// Bytes as "\\xNN" escapes, for readable traces of invalid text.
std::string hex(const std::string& s) {
  std::string out;
  char buf[5];
  for (unsigned char c : s) {
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  }
  return out;
}

/// Runs `check` against a validator over `body` and returns what it recorded.
template <class Check>
FieldErrors errors_of(const json& body, Check check) {
  Validator v(body);
  check(v);
  try {
    v.throw_if_failed();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation_failed);
    return e.details();
  }
  EXPECT_TRUE(v.ok());
  return {};
}

TEST(Validation, RequiredStringPresent) {
  const json body = {{"name", "alice"}};
  Validator v(body);
  EXPECT_EQ(v.required_string("name", 1, 10), "alice");
  EXPECT_TRUE(v.ok());
  EXPECT_NO_THROW(v.throw_if_failed());
}

struct StringCase {
  const char* label;
  json body;
  std::size_t min_len, max_len;
  FieldErrors expected;  // empty: valid
};

TEST(Validation, RequiredStringTable) {
  const StringCase cases[] = {
      {"absent", json::object(), 1, 10, {{"f", {"is required"}}}},
      {"null", {{"f", nullptr}}, 1, 10, {{"f", {"is required"}}}},
      {"number", {{"f", 5}}, 1, 10, {{"f", {"must be a string"}}}},
      {"array", {{"f", json::array({"a"})}}, 1, 10, {{"f", {"must be a string"}}}},
      {"empty with min 1", {{"f", ""}}, 1, 10, {{"f", {"must not be empty"}}}},
      {"short with min 3", {{"f", "ab"}}, 3, 10, {{"f", {"must be at least 3 characters"}}}},
      {"exactly min", {{"f", "abc"}}, 3, 10, {}},
      {"exactly max", {{"f", "abcdefghij"}}, 1, 10, {}},
      {"one over max", {{"f", "abcdefghijk"}}, 1, 10, {{"f", {"must be at most 10 characters"}}}},
      // "ёж" is 4 bytes but 2 code points: limits count what a user sees.
      {"cyrillic at max 2", {{"f", "ёж"}}, 1, 2, {}},
      {"cyrillic over max 1", {{"f", "ёж"}}, 1, 1, {{"f", {"must be at most 1 characters"}}}},
      {"cyrillic meets min 2", {{"f", "ёж"}}, 2, 5, {}},
      {"emoji is one", {{"f", "\xF0\x9F\x8E\xAC"}}, 1, 1, {}},
      {"empty allowed with min 0", {{"f", ""}}, 0, 10, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    std::string got;
    const auto errors = errors_of(c.body, [&](Validator& v) { got = v.required_string("f", c.min_len, c.max_len); });
    EXPECT_EQ(errors, c.expected);
    EXPECT_EQ(got, c.expected.empty() ? c.body.at("f").get<std::string>() : "");
  }
}

TEST(Validation, RejectsInvalidUtf8AndNul) {
  const std::string bad[] = {
      "\xff",                 // never valid
      "abc\xc3",              // truncated two-byte sequence
      "\xe2\x82",             // truncated three-byte sequence
      "\xc0\xaf",             // overlong '/'
      "\x80" "abc",           // stray continuation byte
      "\xf5\x80\x80\x80",     // beyond U+10FFFF
      "a\0b"s,                // NUL breaks C APIs downstream
  };
  for (const auto& s : bad) {
    SCOPED_TRACE(hex(s));
    EXPECT_FALSE(is_valid_utf8(s));
    const json body = {{"f", s}};
    EXPECT_EQ(errors_of(body, [](Validator& v) { v.required_string("f", 0, 100); }),
              (FieldErrors{{"f", {"must be valid UTF-8"}}}));
  }
}

TEST(Validation, ValidUtf8AndLengthTable) {
  struct Case {
    std::string text;
    std::size_t length;
  };
  const Case cases[] = {
      {"", 0},
      {"hello", 5},
      {"ёж", 2},
      {"日本語", 3},
      {"\xF0\x9F\x8E\xAC!", 2},
      {"\xed\x9f\xbf", 1},      // U+D7FF, just below the surrogates
      {"\xee\x80\x80", 1},      // U+E000, just above them
      {"\xf4\x8f\xbf\xbf", 1},  // U+10FFFF, the last code point
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(hex(c.text));
    EXPECT_TRUE(is_valid_utf8(c.text));
    EXPECT_EQ(utf8_length(c.text), c.length);
  }
}

TEST(Validation, RejectsSurrogatesOverlongFormsAndBeyondUnicode) {
  // PostgreSQL refuses these byte sequences in a UTF8 database; passing them on turns a bad
  // input into a failed statement (500) instead of a 422.
  const std::string bad[] = {
      "\xed\xa0\x80",       // U+D800, a UTF-16 surrogate half, not a scalar value
      "\xed\xbf\xbf",       // U+DFFF
      "\xe0\x80\xaf",       // overlong three-byte '/'
      "\xe0\x9f\xbf",       // overlong U+07FF
      "\xf0\x8f\xbf\xbf",   // overlong four-byte U+FFFF
      "\xf4\x90\x80\x80",   // U+110000, beyond the Unicode range
  };
  for (const auto& s : bad) {
    SCOPED_TRACE(hex(s));
    EXPECT_FALSE(is_valid_utf8(s));
  }
}

TEST(Validation, OptionalString) {
  const json body = {{"bio", "hi"}, {"nothing", nullptr}, {"number", 3}, {"long", "abcdef"}};
  Validator v(body);
  EXPECT_EQ(v.optional_string("bio", 0, 10), std::optional<std::string>("hi"));
  EXPECT_EQ(v.optional_string("missing", 1, 10), std::nullopt);
  EXPECT_EQ(v.optional_string("nothing", 1, 10), std::nullopt);
  EXPECT_TRUE(v.ok()) << "absent and null optional fields are fine";
  EXPECT_EQ(v.optional_string("number", 0, 10), std::nullopt);
  EXPECT_EQ(v.optional_string("long", 0, 5), std::nullopt);
  try {
    v.throw_if_failed();
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.details(),
              (FieldErrors{{"number", {"must be a string"}}, {"long", {"must be at most 5 characters"}}}));
  }
}

TEST(Validation, RequiredIdTable) {
  struct Case {
    const char* label;
    json body;
    long long value;
    FieldErrors expected;
  };
  const Case cases[] = {
      {"positive", {{"id", 42}}, 42, {}},
      {"large", {{"id", 9007199254740993LL}}, 9007199254740993LL, {}},
      {"absent", json::object(), 0, {{"id", {"is required"}}}},
      {"null", {{"id", nullptr}}, 0, {{"id", {"is required"}}}},
      {"zero", {{"id", 0}}, 0, {{"id", {"must be a positive integer"}}}},
      {"negative", {{"id", -3}}, 0, {{"id", {"must be a positive integer"}}}},
      {"string digits", {{"id", "42"}}, 0, {{"id", {"must be a positive integer"}}}},
      {"float", {{"id", 4.5}}, 0, {{"id", {"must be a positive integer"}}}},
      {"bool", {{"id", true}}, 0, {{"id", {"must be a positive integer"}}}},
      {"not an object", json::array({1}), 0, {{"id", {"is required"}}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    long long got = -1;
    EXPECT_EQ(errors_of(c.body, [&](Validator& v) { got = v.required_id("id"); }), c.expected);
    EXPECT_EQ(got, c.value);
  }
}

TEST(Validation, EmailTable) {
  struct Case {
    std::string email;
    bool valid;
  };
  const Case cases[] = {
      {"alice@example.com", true},
      {"a.b+tag@sub.example.co", true},
      {"x@y.io", true},
      {"", false},
      {"alice", false},
      {"alice@", false},
      {"@example.com", false},
      {"alice@example", false},
      {"alice@.com", false},
      {"alice@example.", false},
      {"alice@@example.com", false},
      {"a@b@example.com", false},
      {"alice @example.com", false},
      {"alice@exa mple.com", false},
      {"alice@example..com", false},
      {"<alice>@example.com", false},
      {"alice,bob@example.com", false},
      {"al\"ice@example.com", false},
      {"alice@example.com\n", false},
      {"alice@example.com\x7f", false},
      {"alice@exam;ple.com", false},
      {std::string(64, 'a') + "@" + std::string(185, 'b') + ".com", true},   // 254 characters
      {std::string(64, 'a') + "@" + std::string(186, 'b') + ".com", false},  // 255 characters
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.email);
    EXPECT_EQ(is_valid_email(c.email), c.valid);
  }
}

TEST(Validation, ThrowIfFailedCollectsEveryField) {
  const json body = {{"username", ""}, {"email", 7}, {"bio", std::string(300, 'x')}};
  Validator v(body);
  v.required_string("username", 3, 32);
  v.required_string("email", 3, 254);
  v.required_string("password", 8, 128);
  v.optional_string("bio", 0, 200);
  v.fail("email", "is not a valid e-mail address");
  EXPECT_FALSE(v.ok());
  try {
    v.throw_if_failed("Registration data is invalid");
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation_failed);
    EXPECT_STREQ(e.what(), "Registration data is invalid");
    EXPECT_EQ(e.details(), (FieldErrors{
                               {"username", {"must be at least 3 characters"}},
                               {"email", {"must be a string", "is not a valid e-mail address"}},
                               {"password", {"is required"}},
                               {"bio", {"must be at most 200 characters"}},
                           }));
  }
}

TEST(Validation, DefaultMessage) {
  const json body = json::object();
  Validator v(body);
  v.required_string("x", 1, 2);
  try {
    v.throw_if_failed();
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_STREQ(e.what(), "Invalid input data");
  }
}

}  // namespace
}  // namespace reelhub
