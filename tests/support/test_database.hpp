#pragma once
// A fresh, migrated PostgreSQL database per test binary, dropped when the binary ends.

#include <string>

namespace reelhub::testing {

/// Creates `reelhub_test_<random>` on the server of a superuser URL, applies the embedded
/// migrations, and drops the database (WITH (FORCE)) on destruction.
class TestDatabase {
 public:
  /// Uses REELHUB_TEST_PG_URL; throws when it is unset (tests never skip silently).
  TestDatabase();
  explicit TestDatabase(std::string admin_url);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  /// Runs one SQL statement in its own transaction (test setup, e.g. promoting an admin).
  void exec(const std::string& sql) const;
  /// Runs one statement in its own transaction and returns the single value it yields, as text
  /// ("" for NULL); throws unless that is one row of one column.
  std::string scalar(const std::string& sql) const;

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

}  // namespace reelhub::testing
