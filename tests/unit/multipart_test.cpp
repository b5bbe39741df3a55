// The multipart/form-data parser: boundaries from Content-Type, well-formed bodies as browsers and
// curl send them, and a table of malformed bodies that must all be 400s.

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "reelhub/core/error.hpp"
#include "reelhub/http/multipart.hpp"

namespace reelhub::http {
namespace {

ErrorCode error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    return e.code();
  }
  return ErrorCode::internal;  // "no error" for these tests
}

TEST(MultipartBoundary, ReadsTokenAndQuotedForms) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk"),
            "----WebKitFormBoundary7MA4YWxk");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b'c\""), "a b'c");
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=x;"), "x");
}

TEST(MultipartBoundary, RejectsOtherTypesAndBadBoundaries) {
  struct Case {
    const char* content_type;
    ErrorCode expected;
  };
  const std::vector<Case> cases = {
      {"", ErrorCode::unsupported_media_type},
      {"image/png", ErrorCode::unsupported_media_type},
      {"application/json; boundary=x", ErrorCode::unsupported_media_type},
      {"multipart/mixed; boundary=x", ErrorCode::unsupported_media_type},
      {"multipart/form-data", ErrorCode::bad_request},
      {"multipart/form-data; boundary=", ErrorCode::bad_request},
      {"multipart/form-data; boundary=\"\"", ErrorCode::bad_request},
      {"multipart/form-data; boundary=\"ends with space \"", ErrorCode::bad_request},
      {"multipart/form-data; boundary=\"semi;colon\"", ErrorCode::bad_request},
      {"multipart/form-data; boundary=\"unterminated", ErrorCode::bad_request},
      {"multipart/form-data; boundary", ErrorCode::bad_request},
      {"multipart/form-data; boundary=x junk", ErrorCode::bad_request},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of([&] { multipart_boundary(c.content_type); }), c.expected) << c.content_type;
  }
  EXPECT_EQ(error_of([&] { multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')); }),
            ErrorCode::bad_request);
}

TEST(ParseMultipart, SplitsPartsAsCurlSendsThem) {
  const std::string binary("\x89PNG\r\n\x1a\n\0\xff--not-the-boundary\r\n", 30);
  const std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"title\"\r\n"
      "\r\n"
      "hello\r\n"
      "--XyZ\r\n"
      "content-disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".png\"\r\n"
      "Content-Type: image/png\r\n"
      "\r\n" +
      binary +
      "\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=empty\r\n"
      "\r\n"
      "\r\n"
      "--XyZ--\r\n"
      "epilogue is ignored";
  const auto parts = parse_multipart(body, "XyZ");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].name, "title");
  EXPECT_FALSE(parts[0].filename);
  EXPECT_EQ(parts[0].content_type, "text/plain");
  EXPECT_EQ(parts[0].data, "hello");
  EXPECT_EQ(parts[1].name, "file");
  EXPECT_EQ(parts[1].filename, "a \"b\".png");
  EXPECT_EQ(parts[1].content_type, "image/png");
  EXPECT_EQ(parts[1].data, binary);
  EXPECT_EQ(parts[2].name, "empty");
  EXPECT_TRUE(parts[2].data.empty());

  EXPECT_EQ(find_part(parts, {"avatar", "file"}), &parts[1]);
  EXPECT_EQ(find_part(parts, {"missing"}), nullptr);
}

TEST(ParseMultipart, IgnoresPreambleAndTransportPadding) {
  const std::string body = "preamble\r\n--b \t\r\nContent-Disposition: form-data; name=f\r\n\r\nv\r\n--b--";
  const auto parts = parse_multipart(body, "b");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].data, "v");
}

TEST(ParseMultipart, RejectsMalformedBodies) {
  const std::string disposition = "Content-Disposition: form-data; name=f\r\n";
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"empty body", ""},
      {"no boundary at all", "just some bytes"},
      {"unclosed part", "--b\r\n" + disposition + "\r\nvalue"},
      {"no closing delimiter", "--b\r\n" + disposition + "\r\nvalue\r\n--b"},
      {"junk after boundary", "--b junk\r\n" + disposition + "\r\nv\r\n--b--"},
      {"headers never end", "--b\r\n" + disposition},
      {"no disposition", "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--"},
      {"disposition without name", "--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--"},
      {"not form-data", "--b\r\nContent-Disposition: attachment; name=f\r\n\r\nv\r\n--b--"},
      {"header without colon", "--b\r\n" + disposition + "Bogus\r\n\r\nv\r\n--b--"},
      {"folded header", "--b\r\nContent-Disposition: form-data;\r\n name=f\r\n\r\nv\r\n--b--"},
      {"unterminated quote", "--b\r\nContent-Disposition: form-data; name=\"f\r\n\r\nv\r\n--b--"},
      {"huge headers", "--b\r\n" + disposition + "X-Pad: " + std::string(9000, 'x') + "\r\n\r\nv\r\n--b--"},
  };
  for (const auto& [what, body] : cases) {
    EXPECT_EQ(error_of([&] { parse_multipart(body, "b"); }), ErrorCode::bad_request) << what;
  }
}

TEST(ParseMultipart, LimitsThePartCount) {
  std::string body;
  for (int i = 0; i < 3; ++i) body += "--b\r\nContent-Disposition: form-data; name=f\r\n\r\nv\r\n";
  body += "--b--";
  EXPECT_EQ(parse_multipart(body, "b", 3).size(), 3u);
  EXPECT_EQ(error_of([&] { parse_multipart(body, "b", 2); }), ErrorCode::bad_request);
}

}  // namespace
}  // namespace reelhub::http
