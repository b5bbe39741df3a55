// escape_for_log and append_json_string: what a client sends never breaks a text or JSON log line.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "reelhub/core/logging.hpp"

namespace reelhub {
namespace {

TEST(EscapeForLog, ControlCharactersQuotesAndBackslashesAreEscaped) {
  const struct {
    std::string in;
    std::string out;
  } cases[] = {
      {"/plain/path", "/plain/path"},
      {"/a\nforged line", "/a\\x0aforged line"},
      {"/a\r\n", "/a\\x0d\\x0a"},
      {std::string("nul\0byte", 8), "nul\\x00byte"},
      {"tab\there", "tab\\x09here"},
      {"del\x7f", "del\\x7f"},
      {"quote\"", "quote\\\""},
      {"back\\slash", "back\\\\slash"},
      {"caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93"},  // UTF-8 text is kept as it is
  };
  for (const auto& c : cases) {
    EXPECT_EQ(escape_for_log(c.in), c.out) << c.in;
    std::string appended = "prefix ";
    append_escaped_for_log(appended, c.in);
    EXPECT_EQ(appended, "prefix " + c.out);
  }
}

TEST(AppendJsonString, IsValidJsonThatReadsBackAsTheTextWithBrokenUtf8Replaced) {
  const std::string replacement = "\xef\xbf\xbd";
  const struct {
    std::string in;
    std::string decoded;
  } cases[] = {
      {"/plain/path", "/plain/path"},
      {"quote\" back\\slash", "quote\" back\\slash"},
      {"/a\nforged\r\tline", "/a\nforged\r\tline"},
      {std::string("nul\0byte\x1f\x7f", 10), std::string("nul\0byte\x1f\x7f", 10)},
      {"caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x8e\xac", "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x8e\xac"},
      {"lone \xff byte", "lone " + replacement + " byte"},
      {"cut \xe2\x9c", "cut " + replacement + replacement},
      {"overlong \xc0\xaf", "overlong " + replacement + replacement},
      {"surrogate \xed\xa0\x80", "surrogate " + replacement + replacement + replacement},
      {"too high \xf4\x90\x80\x80", "too high " + replacement + replacement + replacement + replacement},
  };
  for (const auto& c : cases) {
    std::string out;
    append_json_string(out, c.in);
    const auto parsed = nlohmann::json::parse(out, nullptr, false);
    ASSERT_TRUE(parsed.is_string()) << out;
    EXPECT_EQ(parsed.get<std::string>(), c.decoded) << out;
    EXPECT_EQ(out.find_first_of("\n\r"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace reelhub
