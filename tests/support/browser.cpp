#include "browser.hpp"

#include <signal.h>

#include <stdexcept>

#include "child_process.hpp"

namespace reelhub::testing {

namespace fs = std::filesystem;

fs::path built_web_root() {
  const fs::path root = fs::path(REELHUB_SOURCE_DIR) / "web/dist";
  if (!fs::exists(root / "index.html"))
    throw std::runtime_error(root.string() + "/index.html is missing: build the web client (scripts/test does: npm ci "
                                             "and npm run build in web/)");
  return root;
}

fs::path browser_artifact_dir(const std::string& script) {
  const fs::path dir = fs::path(REELHUB_BROWSER_ARTIFACTS) / script;
  fs::create_directories(dir);
  return dir;
}

BrowserRun run_browser_script(const std::string& script, const std::string& base_url, std::chrono::seconds timeout) {
  built_web_root();
  const fs::path web = fs::path(REELHUB_SOURCE_DIR) / "web";
  if (!fs::exists(web / "node_modules/puppeteer-core"))
    throw std::runtime_error("web/node_modules is missing: run `npm ci` in web/ (scripts/test does)");
  const fs::path artifacts = browser_artifact_dir(script);
  ChildProcess node({"node", (web / "tests" / (script + ".mjs")).string(), base_url, artifacts.string()},
                    current_environment_entries(), web, artifacts / "output.log");
  BrowserRun run;
  try {
    run.exit_code = node.wait_exit(timeout);
  } catch (const std::exception&) {
    node.send_signal(SIGKILL);
    run.output = node.output();
    throw std::runtime_error("web/tests/" + script + ".mjs ran past its time limit; its output:\n" + run.output);
  }
  run.output = node.output();
  return run;
}

}  // namespace reelhub::testing
