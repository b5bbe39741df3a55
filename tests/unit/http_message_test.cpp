// Request helpers (JSON body, query ints, headers) and file responses with ETag and Range.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "reelhub/core/error.hpp"
#include "reelhub/http/message.hpp"

namespace reelhub::http {

using auth::AuthUser;
using auth::Role;
using auth::parse_role;
using auth::role_name;
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// Runs `fn`, which must throw ApiError, and returns it.
template <class Fn>
ApiError api_error_of(Fn fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "expected ApiError";
  return ApiError(ErrorCode::internal, "none thrown");
}

TEST(HttpRequest, JsonBodyObject) {
  Request req;
  req.body = R"({"name": "ёж", "n": 3})";
  EXPECT_EQ(req.json_body(), (json{{"name", "ёж"}, {"n", 3}}));
}

TEST(HttpRequest, JsonBodyRejectsAnythingButAnObject) {
  struct Case {
    const char* body;
    const char* message;
  };
  const Case cases[] = {
      {"", "Request body must be a JSON object"},
      {"{", "Malformed JSON in request body"},
      {"{\"a\": 1,}", "Malformed JSON in request body"},
      {"{\"a\": 1} trailing", "Malformed JSON in request body"},
      {"{\"a\": \"\xff\"}", "Malformed JSON in request body"},
      {"[1, 2]", "Request body must be a JSON object"},
      {"\"text\"", "Request body must be a JSON object"},
      {"42", "Request body must be a JSON object"},
      {"null", "Request body must be a JSON object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    Request req;
    req.body = c.body;
    const auto e = api_error_of([&] { req.json_body(); });
    EXPECT_EQ(e.code(), ErrorCode::bad_request);
    EXPECT_STREQ(e.what(), c.message);
  }
}

TEST(HttpRequest, AuthRequiresUser) {
  Request req;
  EXPECT_EQ(api_error_of([&] { req.auth(); }).code(), ErrorCode::unauthorized);
  req.user = AuthUser{5, "bob", Role::streamer, "sid"};
  EXPECT_EQ(req.auth().id, 5);
  EXPECT_EQ(req.auth().username, "bob");
}

TEST(HttpRequest, ParamAndQueryParam) {
  Request req;
  req.params["id"] = "12";
  req.query["q"] = "cats";
  EXPECT_EQ(req.param("id"), "12");
  EXPECT_EQ(req.query_param("q"), std::optional<std::string>("cats"));
  EXPECT_EQ(req.query_param("missing"), std::nullopt);
}

TEST(HttpRequest, QueryIntTable) {
  struct Case {
    const char* label;
    std::optional<std::string> raw;  // nullopt: parameter absent
    long long expected;              // -999: 422
  };
  const Case cases[] = {
      {"absent", std::nullopt, 20},
      {"in range", "50", 50},
      {"min", "1", 1},
      {"max", "100", 100},
      {"below", "0", -999},
      {"above", "101", -999},
      {"negative", "-5", -999},
      {"empty", "", -999},
      {"text", "ten", -999},
      {"trailing junk", "10x", -999},
      {"leading space", " 10", -999},
      {"plus sign", "+10", -999},
      {"decimal", "10.0", -999},
      {"overflow", "99999999999999999999999", -999},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    Request req;
    if (c.raw) req.query["limit"] = *c.raw;
    if (c.expected != -999) {
      EXPECT_EQ(query_int(req, "limit", 20, 1, 100), c.expected);
      continue;
    }
    const auto e = api_error_of([&] { query_int(req, "limit", 20, 1, 100); });
    EXPECT_EQ(e.code(), ErrorCode::validation_failed);
    EXPECT_EQ(e.details(), (FieldErrors{{"limit", {"must be an integer between 1 and 100"}}}));
  }
}

TEST(HttpHeaders, CaseInsensitive) {
  Headers h;
  h["Content-Type"] = "text/plain";
  h["content-type"] = "application/json";  // same field, replaces
  h["X-Request-Id"] = "abc";
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.at("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(h.at("x-request-id"), "abc");
  EXPECT_EQ(h.count("X-Request"), 0u) << "a prefix is not the same field";
  EXPECT_EQ(h.count("X-Request-Id-2"), 0u);

  const HeaderLess less;
  EXPECT_FALSE(less("ETag", "etag"));
  EXPECT_FALSE(less("etag", "ETag"));
  EXPECT_TRUE(less("Accept", "accept-ranges"));
  EXPECT_FALSE(less("accept-ranges", "Accept"));
  EXPECT_TRUE(less("a", "B"));
  EXPECT_TRUE(less("A", "b"));

  Request req;
  req.headers["authorization"] = "Bearer x";
  EXPECT_EQ(req.header("Authorization"), "Bearer x");
  EXPECT_EQ(req.header("Origin"), "");
}

TEST(HttpRoles, NamesRoundTrip) {
  for (Role r : {Role::viewer, Role::streamer, Role::admin}) EXPECT_EQ(parse_role(role_name(r)), r);
  EXPECT_STREQ(role_name(Role::admin), "admin");
  EXPECT_EQ(parse_role("Admin"), std::nullopt);
  EXPECT_EQ(parse_role(""), std::nullopt);
}

TEST(HttpResponse, JsonAndNoContent) {
  const auto r = Response::json(201, {{"id", 1}, {"name", "ёж"}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.headers.at("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.body, R"({"id":1,"name":"ёж"})") << "compact, UTF-8 kept as is";
  const auto bad = Response::json(200, {{"x", "\xff"}});
  EXPECT_EQ(bad.body, "{\"x\":\"\xEF\xBF\xBD\"}") << "invalid UTF-8 is replaced, never thrown";
  const auto nc = Response::no_content();
  EXPECT_EQ(nc.status, 204);
  EXPECT_TRUE(nc.body.empty());
  EXPECT_TRUE(nc.headers.empty());
}

/// A 100-byte file ("0123456789" ten times) in a private directory.
class FileResponse : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "reelhub-file-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ / "segment.ts";
    std::ofstream out(path_, std::ios::binary);
    for (int i = 0; i < 10; ++i) out << "0123456789";
  }
  void TearDown() override { fs::remove_all(dir_); }

  Response get(Headers headers = {}) const {
    Request req;
    req.method = "GET";
    req.headers = std::move(headers);
    return Response::file_of(req, path_, "video/mp2t", "public, max-age=60");
  }
  std::string etag() const { return get().headers.at("ETag"); }

  fs::path dir_, path_;
};

TEST_F(FileResponse, FullFile) {
  const auto r = get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("Content-Type"), "video/mp2t");
  EXPECT_EQ(r.headers.at("Cache-Control"), "public, max-age=60");
  EXPECT_EQ(r.headers.at("Accept-Ranges"), "bytes");
  EXPECT_EQ(r.headers.count("Content-Range"), 0u);
  const auto tag = r.headers.at("ETag");
  ASSERT_GE(tag.size(), 3u);
  EXPECT_EQ(tag.front(), '"');
  EXPECT_EQ(tag.back(), '"');
  EXPECT_EQ(tag.rfind("\"64-", 0), 0u) << "size in hex leads the tag: " << tag;
  ASSERT_TRUE(r.file.has_value());
  EXPECT_EQ(r.file->path, path_);
  EXPECT_EQ(r.file->offset, 0u);
  EXPECT_EQ(r.file->length, 100u);
  EXPECT_TRUE(r.body.empty());
}

TEST_F(FileResponse, EtagIsStableAndChangesWithContent) {
  const auto first = etag();
  EXPECT_EQ(etag(), first);
  std::ofstream(path_, std::ios::binary | std::ios::app) << "more";
  EXPECT_NE(etag(), first);
}

TEST_F(FileResponse, IfNoneMatch) {
  const auto tag = etag();
  for (const std::string& inm : {tag, std::string("*"), "\"other\", " + tag, "W/" + tag}) {
    SCOPED_TRACE(inm);
    const auto r = get({{"If-None-Match", inm}});
    EXPECT_EQ(r.status, 304);
    EXPECT_FALSE(r.file.has_value());
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.headers.at("ETag"), tag);
    EXPECT_EQ(r.headers.at("Cache-Control"), "public, max-age=60");
  }
  const auto miss = get({{"if-none-match", "\"something-else\""}});
  EXPECT_EQ(miss.status, 200);
  ASSERT_TRUE(miss.file.has_value());
  EXPECT_EQ(miss.file->length, 100u);
}

TEST_F(FileResponse, RangeTable) {
  struct Case {
    const char* range;
    int status;
    std::uint64_t offset, length;
    const char* content_range;  // "" when absent
  };
  const Case cases[] = {
      {"bytes=0-9", 206, 0, 10, "bytes 0-9/100"},
      {"bytes=10-", 206, 10, 90, "bytes 10-99/100"},
      {"bytes=-5", 206, 95, 5, "bytes 95-99/100"},
      {"bytes=-500", 206, 0, 100, "bytes 0-99/100"},  // suffix longer than the file: all of it
      {"bytes=99-99", 206, 99, 1, "bytes 99-99/100"},
      {"bytes=90-500", 206, 90, 10, "bytes 90-99/100"},  // last clamped to the end
      {"bytes=0-", 206, 0, 100, "bytes 0-99/100"},
      // Ignored: full 200 (multi-range, other units, malformed, reversed).
      {"bytes=0-1,5-6", 200, 0, 100, ""},
      {"items=0-9", 200, 0, 100, ""},
      {"bytes=abc", 200, 0, 100, ""},
      {"bytes=9-0", 200, 0, 100, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.range);
    const auto r = get({{"Range", c.range}});
    EXPECT_EQ(r.status, c.status);
    ASSERT_TRUE(r.file.has_value());
    EXPECT_EQ(r.file->offset, c.offset);
    EXPECT_EQ(r.file->length, c.length);
    if (*c.content_range) {
      EXPECT_EQ(r.headers.at("Content-Range"), c.content_range);
    } else {
      EXPECT_EQ(r.headers.count("Content-Range"), 0u);
    }
    EXPECT_EQ(r.headers.at("Content-Type"), "video/mp2t");
  }
}

TEST_F(FileResponse, UnsatisfiableRangeIs416) {
  for (const char* range : {"bytes=100-", "bytes=100-200", "bytes=1000-1001", "bytes=-0"}) {
    SCOPED_TRACE(range);
    const auto r = get({{"Range", range}});
    EXPECT_EQ(r.status, 416);
    EXPECT_EQ(r.headers.at("Content-Range"), "bytes */100");
    EXPECT_FALSE(r.file.has_value());
    EXPECT_EQ(json::parse(r.body),
              (json{{"error", "Range Not Satisfiable"}, {"message", "Requested range not satisfiable"}, {"code", 416}}));
  }
}

TEST_F(FileResponse, IfRange) {
  const auto tag = etag();
  const auto match = get({{"Range", "bytes=0-9"}, {"If-Range", tag}});
  EXPECT_EQ(match.status, 206);
  EXPECT_EQ(match.file->length, 10u);
  // A stale validator means the client's partial copy is outdated: send the whole file.
  const auto stale = get({{"Range", "bytes=0-9"}, {"If-Range", "\"1-1\""}});
  EXPECT_EQ(stale.status, 200);
  ASSERT_TRUE(stale.file.has_value());
  EXPECT_EQ(stale.file->offset, 0u);
  EXPECT_EQ(stale.file->length, 100u);
  EXPECT_EQ(stale.headers.count("Content-Range"), 0u);
}

TEST_F(FileResponse, EmptyFile) {
  const auto empty = dir_ / "empty.bin";
  std::ofstream(empty).close();
  Request req;
  const auto r = Response::file_of(req, empty, "application/octet-stream", "no-cache");
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(r.file.has_value());
  EXPECT_EQ(r.file->length, 0u);
  req.headers["Range"] = "bytes=-5";
  const auto ranged = Response::file_of(req, empty, "application/octet-stream", "no-cache");
  EXPECT_EQ(ranged.status, 416);
  EXPECT_EQ(ranged.headers.at("Content-Range"), "bytes */0");
}

TEST_F(FileResponse, MissingFileOrDirectoryIsNotFound) {
  Request req;
  for (const auto& p : {dir_ / "absent.ts", dir_}) {
    SCOPED_TRACE(p.string());
    const auto e = api_error_of([&] { Response::file_of(req, p, "video/mp2t", "no-cache"); });
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

}  // namespace
}  // namespace reelhub::http
