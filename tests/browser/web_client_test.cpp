// The web client in a real browser (issue 15's acceptance): each case runs one script of
// web/tests/ (puppeteer-core + Debian's chromium) against this binary's server, which serves
// web/dist with the sandbox payment provider on. Screenshots land in
// <build dir>/browser-artifacts/<script>/.

#include <gtest/gtest.h>

#include "browser.hpp"
#include "stack.hpp"
#include "live.hpp"

namespace reelhub::testing {
namespace {

class WebClientTest : public StackTest {
 protected:
  static void SetUpTestSuite() {
    start_stack(live_env({{"REELHUB_WEB_ROOT", built_web_root().string()},
                          {"REELHUB_PAYMENTS_SANDBOX_ENABLED", "true"},
                          // Short live segments: the live page starts playing sooner.
                          {"REELHUB_LIVE_SEGMENT_MS", "1000"},
                          {"REELHUB_LIVE_WINDOW_SEGMENTS", "6"}}));
  }

  static void run(const std::string& script) {
    const std::string base = "http://127.0.0.1:" + std::to_string(stack().server.port());
    const BrowserRun result = run_browser_script(script, base);
    EXPECT_EQ(result.exit_code, 0) << "web/tests/" << script << ".mjs failed:\n"
                                   << result.output << "\n--- server log ---\n"
                                   << stack().server.log();
  }
};

// 1. Register, log in, upload a clip, wait for ready, play it; the quality menu lists the rungs.
TEST_F(WebClientTest, UploadAndPlayAVideo) { run("vod"); }

// 2 and 4. The studio starts a stream, ffmpeg publishes to the SRT URL it shows, a second
// context plays the live page, the viewer count reaches 1, chat crosses contexts; a donation
// from the live page moves the balances and shows on the streamer's page.
TEST_F(WebClientTest, GoLiveChatAndDonate) { run("live"); }

// 3. Two contexts in one room: the host seeks and plays, the guest follows within 0.5 s.
TEST_F(WebClientTest, RoomKeepsPlayersInSync) { run("room"); }

// 5. axe-core on every page: no serious or critical violation; screenshots at two widths.
TEST_F(WebClientTest, EveryPageIsAccessible) { run("a11y"); }

}  // namespace
}  // namespace reelhub::testing
