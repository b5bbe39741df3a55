#include "stack.hpp"

#include <signal.h>

#include <nlohmann/json.hpp>

#include "expectations.hpp"

namespace reelhub::testing {

std::map<std::string, std::string> relaxed_rate_limits() {
  nlohmann::json rules = nlohmann::json::object();
  for (const char* policy : {"general", "login", "register", "upload", "live", "ws_connect", "chat_send"}) {
    rules[policy] = {{"limit", 100000}, {"window_seconds", 60}};
  }
  return {{"REELHUB_RATE_LIMITS", rules.dump()}};
}

Stack::Stack(std::map<std::string, std::string> env) : db(), server(ServerOptions{db.url(), std::move(env)}) {}

void StackTest::start_stack(std::map<std::string, std::string> env) {
  try {
    stack_ = std::make_unique<Stack>(std::move(env));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "starting the test stack failed: " << e.what();
  }
}

void StackTest::TearDownTestSuite() {
  if (!stack_) return;
  stack_->server.send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(stack_->server)) << "after SIGTERM at the end of the suite";
  stack_.reset();
}

}  // namespace reelhub::testing
