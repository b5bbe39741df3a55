// The web client's files served at / (src/modules/web): caching, CSP, precompressed variants
// chosen by Accept-Encoding, the SPA fallback for pages, API routes winning, traversal refused.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "stack.hpp"
#include "system.hpp"

namespace reelhub::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kIndex = "<!doctype html><title>Reelhub</title><script type=module src=/assets/app-1a2b3c.js></script>";
constexpr const char* kScript = "console.log('reelhub web client');";

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

class WebTest : public StackTest {
 protected:
  static void SetUpTestSuite() {
    // A built client as Vite leaves it (plus what scripts/compress.mjs adds), and a file beside
    // the root that no request may reach.
    dir_ = std::make_unique<TempDir>("reelhub-web");
    const fs::path site = dir_->path() / "dist";
    write(site / "index.html", kIndex);
    write(site / "index.html.gz", "gzip bytes of index");
    write(site / "assets/app-1a2b3c.js", kScript);
    write(site / "assets/app-1a2b3c.js.br", "brotli bytes of app");
    write(site / "assets/app-1a2b3c.js.gz", "gzip bytes of app");
    write(site / "favicon.svg", "<svg/>");
    write(site / ".env", "hidden");
    write(dir_->path() / "secret.txt", "outside the root");
    auto env = relaxed_rate_limits();
    env["REELHUB_WEB_ROOT"] = site.string();
    start_stack(env);
  }
  static void TearDownTestSuite() {
    StackTest::TearDownTestSuite();
    dir_.reset();
  }

  static inline std::unique_ptr<TempDir> dir_;
};

const Headers kBrowser = {{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}};

TEST_F(WebTest, IndexIsRevalidatedAndCarriesThePolicy) {
  const auto res = http().get("/");
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.body, kIndex);
  EXPECT_EQ(res.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(res.header("Cache-Control"), "no-cache");
  EXPECT_EQ(res.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(res.header("X-Content-Type-Options"), "nosniff");
  const std::string csp = res.header("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
  EXPECT_NE(csp.find("media-src 'self' blob:"), std::string::npos) << csp;
  EXPECT_NE(csp.find("worker-src 'self' blob:"), std::string::npos) << csp;
  EXPECT_NE(csp.find("connect-src 'self' ws: wss:"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;

  const auto again = http().get("/", {{"If-None-Match", res.header("ETag")}});
  EXPECT_EQ(again.status, 304) << again;
}

TEST_F(WebTest, HashedAssetsAreImmutable) {
  const auto res = http().get("/assets/app-1a2b3c.js");
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.body, kScript);
  EXPECT_EQ(res.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(res.header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_FALSE(res.has_header("Content-Encoding"));
  // An unhashed file at the root is revalidated like index.html.
  const auto icon = http().get("/favicon.svg");
  ASSERT_EQ(icon.status, 200) << icon;
  EXPECT_EQ(icon.header("Content-Type"), "image/svg+xml");
  EXPECT_EQ(icon.header("Cache-Control"), "no-cache");
}

TEST_F(WebTest, PrecompressedFilesFollowAcceptEncoding) {
  const auto br = http().get("/assets/app-1a2b3c.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_EQ(br.status, 200) << br;
  EXPECT_EQ(br.body, "brotli bytes of app");
  EXPECT_EQ(br.header("Content-Encoding"), "br");
  EXPECT_EQ(br.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(br.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(br.header("Cache-Control"), "public, max-age=31536000, immutable");

  const auto gz = http().get("/assets/app-1a2b3c.js", {{"Accept-Encoding", "gzip, br;q=0"}});
  EXPECT_EQ(gz.body, "gzip bytes of app");
  EXPECT_EQ(gz.header("Content-Encoding"), "gzip");
  EXPECT_NE(gz.header("ETag"), br.header("ETag"));  // each representation has its own validator

  const auto any = http().get("/assets/app-1a2b3c.js", {{"Accept-Encoding", "*"}});
  EXPECT_EQ(any.header("Content-Encoding"), "br");
  const auto identity = http().get("/assets/app-1a2b3c.js", {{"Accept-Encoding", "identity"}});
  EXPECT_EQ(identity.body, kScript);
  EXPECT_FALSE(identity.has_header("Content-Encoding"));

  // index.html has only a .gz: a brotli-only client gets the plain file.
  EXPECT_EQ(http().get("/", {{"Accept-Encoding", "br"}}).body, kIndex);
  const auto index_gz = http().get("/", {{"Accept-Encoding", "br, gzip"}});
  EXPECT_EQ(index_gz.body, "gzip bytes of index");
  EXPECT_EQ(index_gz.header("Content-Encoding"), "gzip");
}

TEST_F(WebTest, PagesOfTheClientFallBackToIndex) {
  for (const char* page : {"/watch/5b7c", "/login", "/room/abc?invite=1", "/studio"}) {
    SCOPED_TRACE(page);
    const auto res = http().get(page, kBrowser);
    ASSERT_EQ(res.status, 200) << res;
    EXPECT_EQ(res.body, kIndex);
    EXPECT_EQ(res.header("Cache-Control"), "no-cache");
    EXPECT_FALSE(res.header("Content-Security-Policy").empty());
  }
  // Not a browser navigation: a JSON 404, as before the client existed.
  const auto api_client = http().get("/watch/5b7c", {{"Accept", "application/json"}});
  EXPECT_EQ(api_client.status, 404) << api_client;
  EXPECT_EQ(api_client.json()["code"], 404);  // the JSON error body, not the client
  EXPECT_EQ(http().get("/missing.js").status, 404);
  EXPECT_EQ(http().get("/watch/5b7c", {{"Accept", "text/html;q=0"}}).status, 404);
}

TEST_F(WebTest, ApiRoutesWin) {
  const auto health = http().get("/health", kBrowser);
  ASSERT_EQ(health.status, 200) << health;
  EXPECT_EQ(health.json()["status"], "healthy");
  // An unknown path under an API prefix stays the API's 404, even for a browser.
  const auto unknown = http().get("/videos/feed/extra", kBrowser);
  EXPECT_EQ(unknown.status, 404) << unknown;
  EXPECT_EQ(unknown.json()["code"], 404);  // the JSON error body, not the client
  EXPECT_EQ(http().get("/api/nothing", kBrowser).status, 404);
  // A method the path does not allow is still 405, and only GET reaches the client's pages.
  EXPECT_EQ(http().get("/auth/login", kBrowser).status, 405);
  EXPECT_EQ(http().request("POST", "/watch/5b7c", "{}", kBrowser).status, 404);
}

TEST_F(WebTest, NothingOutsideTheRootNorHiddenIsServed) {
  for (const char* target : {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt",
                             "/assets/%2e%2e/%2e%2e/secret.txt", "/..%5csecret.txt", "/.env", "/%2eenv",
                             "/assets/app-1a2b3c.js%00.html"}) {
    SCOPED_TRACE(target);
    const auto res = http().get(target, {{"Accept", "*/*"}});
    EXPECT_EQ(res.status, 404) << res;
    EXPECT_EQ(res.body.find("outside the root"), std::string::npos);
    EXPECT_EQ(res.body.find("hidden"), std::string::npos);
    // A browser gets the client's index.html, never the file.
    const auto page = http().get(target, kBrowser);
    EXPECT_EQ(page.body.find("outside the root"), std::string::npos);
    EXPECT_EQ(page.body.find("hidden"), std::string::npos);
  }
}

}  // namespace
}  // namespace reelhub::testing
