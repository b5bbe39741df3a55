// escape_for_log: what a client sends never breaks a text log line.

#include <gtest/gtest.h>

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
  for (const auto& c : cases) EXPECT_EQ(escape_for_log(c.in), c.out) << c.in;
}

}  // namespace
}  // namespace reelhub
