// Route matching on decoded path segments: specificity, params, 404 vs 405, HEAD, empty segments.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "reelhub/http/router.hpp"

namespace reelhub::http {

using auth::Role;
namespace {

using Segments = std::vector<std::string>;
using Params = std::map<std::string, std::string>;
using Methods = std::vector<std::string>;

Handler noop() {
  return [](Request&) { return Response::no_content(); };
}

/// The routes of a small API; the handler of each route returns its own name as the body.
Router api() {
  Router r;
  auto named = [](std::string name) -> Handler {
    return [name](Request&) {
      Response res;
      res.body = name;
      return res;
    };
  };
  r.add("GET", "/users/{id}", named("get_user"));
  r.add("GET", "/users/profile", named("get_profile"));
  r.add("PATCH", "/users/profile", named("update_profile"));
  r.add("POST", "/users/{id}/subscribe", named("subscribe"));
  r.add("DELETE", "/users/{id}/subscribe", named("unsubscribe"));
  r.add("GET", "/streams/{stream_id}/chat/{message_id}", named("chat_message"));
  r.add("POST", "/auth/login", named("login"));
  r.add("GET", "/health", named("health"));
  return r;
}

std::string handler_name(const Match& m) {
  Request req;
  return m.route ? m.route->handler(req).body : "<none>";
}

TEST(Router, MatchTable) {
  const Router r = api();
  struct Case {
    std::string method;
    Segments segments;
    std::string handler;  // "<none>" when no route matches
    std::string pattern;
    Params params;
  };
  const Case cases[] = {
      {"GET", {"users", "profile"}, "get_profile", "/users/profile", {}},
      {"PATCH", {"users", "profile"}, "update_profile", "/users/profile", {}},
      {"GET", {"users", "42"}, "get_user", "/users/{id}", {{"id", "42"}}},
      {"GET", {"users", "profile2"}, "get_user", "/users/{id}", {{"id", "profile2"}}},
      {"POST", {"users", "7", "subscribe"}, "subscribe", "/users/{id}/subscribe", {{"id", "7"}}},
      {"DELETE", {"users", "7", "subscribe"}, "unsubscribe", "/users/{id}/subscribe", {{"id", "7"}}},
      {"GET",
       {"streams", "s1", "chat", "m9"},
       "chat_message",
       "/streams/{stream_id}/chat/{message_id}",
       {{"stream_id", "s1"}, {"message_id", "m9"}}},
      {"POST", {"auth", "login"}, "login", "/auth/login", {}},
      {"GET", {"health"}, "health", "/health", {}},
      // Matching is case-sensitive and exact.
      {"GET", {"Health"}, "<none>", "", {}},
      {"get", {"health"}, "<none>", "", {}},
      {"GET", {"users"}, "<none>", "", {}},
      {"GET", {"users", "7", "subscribe", "extra"}, "<none>", "", {}},
      {"GET", {}, "<none>", "", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " /" + (c.segments.empty() ? "" : c.segments[0]) + "...");
    const Match m = r.match(c.method, c.segments);
    EXPECT_EQ(handler_name(m), c.handler);
    if (m.route) {
      EXPECT_EQ(m.route->pattern, c.pattern);
      EXPECT_EQ(m.route->method, c.method);
    }
    EXPECT_EQ(m.params, c.params);
  }
}

TEST(Router, LiteralBeatsParamWhateverTheRegistrationOrder) {
  for (bool literal_first : {true, false}) {
    SCOPED_TRACE(literal_first);
    Router r;
    if (literal_first) r.add("GET", "/users/profile", noop());
    r.add("GET", "/users/{id}", noop());
    if (!literal_first) r.add("GET", "/users/profile", noop());
    EXPECT_EQ(r.match("GET", {"users", "profile"}).route->pattern, "/users/profile");
    EXPECT_EQ(r.match("GET", {"users", "5"}).route->pattern, "/users/{id}");
  }
}

TEST(Router, MoreLiteralsWinAcrossPositions) {
  Router r;
  r.add("GET", "/{a}/{b}/{c}", noop());
  r.add("GET", "/videos/{id}/{part}", noop());
  r.add("GET", "/videos/{id}/thumbnail", noop());
  EXPECT_EQ(r.match("GET", {"videos", "1", "thumbnail"}).route->pattern, "/videos/{id}/thumbnail");
  EXPECT_EQ(r.match("GET", {"videos", "1", "hls"}).route->pattern, "/videos/{id}/{part}");
  EXPECT_EQ(r.match("GET", {"music", "1", "hls"}).route->pattern, "/{a}/{b}/{c}");
}

TEST(Router, RegistrationOrderBreaksTies) {
  Router r;
  r.add("GET", "/x/{first}", noop());
  r.add("GET", "/x/{second}", noop());
  const Match m = r.match("GET", {"x", "v"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/x/{first}");
  EXPECT_EQ(m.params, (Params{{"first", "v"}}));

  // Equal literal counts in different positions: the earlier registration wins too.
  Router s;
  s.add("GET", "/{kind}/latest", noop());
  s.add("GET", "/videos/{id}", noop());
  EXPECT_EQ(s.match("GET", {"videos", "latest"}).route->pattern, "/{kind}/latest");
  Router t;
  t.add("GET", "/videos/{id}", noop());
  t.add("GET", "/{kind}/latest", noop());
  EXPECT_EQ(t.match("GET", {"videos", "latest"}).route->pattern, "/videos/{id}");
}

TEST(Router, ParamsComeOnlyFromTheChosenRoute) {
  Router r;
  r.add("POST", "/items/{other}", noop());
  r.add("GET", "/items/{id}", noop());
  const Match m = r.match("GET", {"items", "3"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params, (Params{{"id", "3"}}));
}

TEST(Router, UnknownPathIs404WithNothingAllowed) {
  const Router r = api();
  const Match m = r.match("GET", {"nope"});
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allowed.empty());
  EXPECT_TRUE(m.params.empty());
}

TEST(Router, KnownPathWrongMethodListsAllowedMethods) {
  const Router r = api();
  struct Case {
    std::string method;
    Segments segments;
    Methods allowed;
  };
  const Case cases[] = {
      // "/users/profile" and "/users/{id}" both match; GET is listed once.
      {"DELETE", {"users", "profile"}, {"GET", "PATCH", "HEAD", "OPTIONS"}},
      {"PUT", {"users", "42"}, {"GET", "HEAD", "OPTIONS"}},
      {"GET", {"users", "7", "subscribe"}, {"POST", "DELETE", "OPTIONS"}},
      {"GET", {"auth", "login"}, {"POST", "OPTIONS"}},
      {"POST", {"health"}, {"GET", "HEAD", "OPTIONS"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.segments[0]);
    const Match m = r.match(c.method, c.segments);
    EXPECT_EQ(m.route, nullptr);
    EXPECT_EQ(m.allowed, c.allowed);
  }
}

TEST(Router, AllowedIsFilledOnSuccessToo) {
  const Router r = api();
  const Match m = r.match("PATCH", {"users", "profile"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.allowed, (Methods{"GET", "PATCH", "HEAD", "OPTIONS"}));
}

TEST(Router, HeadMatchesGetRoutes) {
  const Router r = api();
  const Match m = r.match("HEAD", {"users", "42"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, "GET");
  EXPECT_EQ(m.route->pattern, "/users/{id}");
  EXPECT_EQ(m.params, (Params{{"id", "42"}}));

  const Match post_only = r.match("HEAD", {"auth", "login"});
  EXPECT_EQ(post_only.route, nullptr);
  EXPECT_EQ(post_only.allowed, (Methods{"POST", "OPTIONS"}));
}

TEST(Router, TrailingSlashAndEmptySegmentsDoNotMatch) {
  const Router r = api();
  // "/health/" arrives as {"health", ""}; "/users//subscribe" as {"users", "", "subscribe"}.
  EXPECT_EQ(r.match("GET", {"health", ""}).route, nullptr);
  EXPECT_TRUE(r.match("GET", {"health", ""}).allowed.empty());
  EXPECT_EQ(r.match("GET", {"users", ""}).route, nullptr) << "an empty segment is not an {id}";
  EXPECT_TRUE(r.match("GET", {"users", ""}).allowed.empty());
  EXPECT_EQ(r.match("POST", {"users", "", "subscribe"}).route, nullptr);
  EXPECT_EQ(r.match("GET", {"", "health"}).route, nullptr);
}

TEST(Router, EncodedSlashStaysOneSegment) {
  Router r;
  r.add("GET", "/files/{id}", noop());
  r.add("GET", "/files/{id}/x", noop());
  // "/files/a%2Fb" decodes to the single segment "a/b": it must not be split into {"a", "b"}.
  const Match m = r.match("GET", {"files", "a/b"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/files/{id}");
  EXPECT_EQ(m.params, (Params{{"id", "a/b"}}));
  EXPECT_EQ(r.match("GET", {"files", "a/x"}).route->pattern, "/files/{id}");
}

TEST(Router, PatternSegmentsAreSplitOnSlash) {
  Router r;
  r.add("GET", "/a/{b}/c", noop());
  r.add("GET", "/trailing/", noop());
  const auto& routes = r.routes();
  ASSERT_EQ(routes.size(), 2u);
  for (const auto& route : routes) {
    if (route->pattern == "/a/{b}/c") {
      EXPECT_EQ(route->segments, (Segments{"a", "{b}", "c"}));
    } else {
      EXPECT_EQ(route->segments, (Segments{"trailing", ""}));
    }
  }
  // A pattern with a trailing slash matches exactly that form and nothing else.
  EXPECT_NE(r.match("GET", {"trailing", ""}).route, nullptr);
  EXPECT_EQ(r.match("GET", {"trailing"}).route, nullptr);
}

TEST(Router, BracesThatAreNotAParamAreLiteral) {
  Router r;
  r.add("GET", "/x/{}", noop());  // "{}" is too short to name a parameter
  EXPECT_EQ(r.match("GET", {"x", "anything"}).route, nullptr);
  EXPECT_NE(r.match("GET", {"x", "{}"}).route, nullptr);
}

TEST(Router, RouteOptionsAreKept) {
  Router r;
  RouteOptions opt;
  opt.access = Access::user;
  opt.min_role = Role::admin;
  opt.rate_policy = "upload";
  opt.body_limit = 5 << 20;
  opt.blocking = false;
  opt.public_media = true;
  r.add("POST", "/videos", noop(), opt);
  const Match m = r.match("POST", {"videos"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->options.access, Access::user);
  EXPECT_EQ(m.route->options.min_role, Role::admin);
  EXPECT_EQ(m.route->options.rate_policy, "upload");
  EXPECT_EQ(m.route->options.body_limit, std::size_t{5 << 20});
  EXPECT_FALSE(m.route->options.blocking);
  EXPECT_TRUE(m.route->options.public_media);

  const RouteOptions defaults;
  EXPECT_EQ(defaults.access, Access::public_);
  EXPECT_EQ(defaults.min_role, Role::viewer);
  EXPECT_EQ(defaults.rate_policy, "general");
  EXPECT_EQ(defaults.body_limit, 0u);
  EXPECT_TRUE(defaults.blocking);
  EXPECT_FALSE(defaults.public_media);
}

TEST(Router, FallbackTakesOnlyGetsOfUnmatchedPaths) {
  Router r = api();
  r.set_fallback("/{web client}", [](Request&) {
    Response res;
    res.body = "site";
    return res;
  });
  // API routes win, also over a GET the path does not allow (405 stays 405).
  EXPECT_EQ(handler_name(r.match("GET", {"users", "profile"})), "get_profile");
  EXPECT_EQ(r.match("GET", {"auth", "login"}).route, nullptr);
  EXPECT_EQ(r.match("GET", {"auth", "login"}).allowed, (Methods{"POST", "OPTIONS"}));

  const Match page = r.match("GET", {"watch", "42"});
  EXPECT_EQ(handler_name(page), "site");
  EXPECT_EQ(page.route->pattern, "/{web client}");
  EXPECT_TRUE(page.allowed.empty());
  EXPECT_EQ(handler_name(r.match("HEAD", {})), "site");
  EXPECT_EQ(r.match("POST", {"watch", "42"}).route, nullptr);
  EXPECT_EQ(r.match("OPTIONS", {"watch", "42"}).route, nullptr);
}

}  // namespace
}  // namespace reelhub::http
