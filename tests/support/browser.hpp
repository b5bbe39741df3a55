#pragma once
// Runs one of the web client's browser scripts (web/tests/<name>.mjs: puppeteer-core driving
// Debian's chromium headless) against a running server, for the `browser` tests.

#include <chrono>
#include <filesystem>
#include <string>

namespace reelhub::testing {

struct BrowserRun {
  int exit_code = -1;
  std::string output;  // what the script printed (its steps, and the failure when it failed)
};

/// Where screenshots go: <build dir>/browser-artifacts/<script name>/.
std::filesystem::path browser_artifact_dir(const std::string& script);

/// `node web/tests/<script>.mjs <base_url> <artifact dir>` from the source tree; throws when
/// web/dist (npm run build) or chromium is missing, or the script runs past `timeout`.
BrowserRun run_browser_script(const std::string& script, const std::string& base_url,
                              std::chrono::seconds timeout = std::chrono::seconds(300));

/// The built web client the server under test serves (REELHUB_WEB_ROOT).
std::filesystem::path built_web_root();

}  // namespace reelhub::testing
