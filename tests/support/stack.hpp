#pragma once
// What one integration test binary runs against: a fresh database and a server using it.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "server_process.hpp"
#include "test_database.hpp"

namespace reelhub::testing {

/// REELHUB_RATE_LIMITS high enough that a test binary may register and log in many users;
/// rate_limit_test runs with the server's defaults instead.
std::map<std::string, std::string> relaxed_rate_limits();

/// A migrated database on REELHUB_TEST_PG_URL plus `reelhub serve` on it.
struct Stack {
  explicit Stack(std::map<std::string, std::string> env = relaxed_rate_limits());

  HttpClient http() const { return server.http(); }

  TestDatabase db;
  ServerProcess server;
};

/// Fixture base: one Stack shared by every case of a suite, stopped with SIGTERM after the last
/// case; an unclean exit (a crash, a sanitizer report) fails the suite.
class StackTest : public ::testing::Test {
 protected:
  /// A suite that needs its own environment hides SetUpTestSuite and calls this with it.
  static void start_stack(std::map<std::string, std::string> env = relaxed_rate_limits());
  static void SetUpTestSuite() { start_stack(); }
  static void TearDownTestSuite();
  void SetUp() override { ASSERT_TRUE(stack_) << "the test server did not start (see the suite's failure)"; }

  static bool started() { return stack_ != nullptr; }
  static Stack& stack() { return *stack_; }
  static HttpClient http() { return stack_->http(); }

 private:
  static inline std::unique_ptr<Stack> stack_;
};

}  // namespace reelhub::testing
