// Named prepared statements against a real, freshly migrated PostgreSQL database: each pooled
// connection prepares a statement once, on first use; a connection that replaces a terminated one
// prepares it again; an unknown name fails clearly.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "reelhub/db/pool.hpp"
#include "reelhub/db/statements.hpp"
#include "reelhub/metrics/registry.hpp"
#include "test_database.hpp"

namespace reelhub::db {
namespace {

const Statement kNextNumber{"test.db_statements.next_number", "SELECT $1::int + 1"};

/// Where a statement stands on the connection that runs this: prepared at all, and how often run.
struct Prepared {
  int count = 0;       // rows in pg_prepared_statements with the name
  int executions = 0;  // generic + custom plans chosen: one per execution
};

Prepared prepared_here(pqxx::work& tx, const std::string& name) {
  // exec_params runs as the unnamed statement, which pg_prepared_statements does not list.
  const auto r = tx.exec_params1(
      "SELECT count(*), COALESCE(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements WHERE name = $1",
      name);
  return Prepared{r[0].as<int>(), r[1].as<int>()};
}

int backend_pid(pqxx::work& tx) { return tx.exec1("SELECT pg_backend_pid()")[0].as<int>(); }

class DbStatementsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { database_ = std::make_unique<reelhub::testing::TestDatabase>(); }
  static void TearDownTestSuite() { database_.reset(); }

  int next_number(int n) {
    return pool_.transact([&](pqxx::work& tx) { return tx.exec_prepared1(kNextNumber.name(), n)[0].as<int>(); });
  }

  static inline std::unique_ptr<reelhub::testing::TestDatabase> database_;
  metrics::Registry metrics_;
  // One connection, so every call below runs on the same one until it is replaced.
  Pool pool_{PoolOptions{database_->url(), 1}, metrics_};
};

TEST_F(DbStatementsTest, PreparedOnFirstUseAndOnlyOncePerConnection) {
  const auto before = pool_.transact([](pqxx::work& tx) { return prepared_here(tx, kNextNumber.name()); });
  EXPECT_EQ(before.count, 0) << "prepared before its first use";

  EXPECT_EQ(next_number(41), 42);
  EXPECT_EQ(next_number(1), 2);
  EXPECT_EQ(next_number(-1), 0);

  const auto after = pool_.transact([](pqxx::work& tx) { return prepared_here(tx, kNextNumber.name()); });
  EXPECT_EQ(after.count, 1);
  EXPECT_EQ(after.executions, 3) << "every call should run the one prepared statement";
}

TEST_F(DbStatementsTest, ReplacementConnectionPreparesAgain) {
  EXPECT_EQ(next_number(1), 2);
  const int old_pid = pool_.transact([](pqxx::work& tx) { return backend_pid(tx); });

  {
    pqxx::connection admin(database_->url());
    pqxx::nontransaction tx(admin);
    ASSERT_TRUE(tx.exec_params1("SELECT pg_terminate_backend($1)", old_pid)[0].as<bool>());
    // pg_terminate_backend only signals; wait until the backend is really gone.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (tx.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", old_pid)[0].as<int>() > 0) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "backend " << old_pid << " did not exit";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // The pooled connection is dead: the pool retries once on a fresh one, which prepares anew.
  EXPECT_EQ(next_number(9), 10);
  const auto [pid, prepared] = pool_.transact([](pqxx::work& tx) {
    return std::pair{backend_pid(tx), prepared_here(tx, kNextNumber.name())};
  });
  EXPECT_NE(pid, old_pid);
  EXPECT_EQ(prepared.count, 1);
  EXPECT_EQ(prepared.executions, 1);
  EXPECT_EQ(next_number(10), 11);
}

TEST_F(DbStatementsTest, UnknownStatementFailsClearly) {
  try {
    pool_.transact([](pqxx::work& tx) { tx.exec_prepared("test.db_statements.missing", 1); });
    ADD_FAILURE() << "an unknown statement ran";
  } catch (const pqxx::argument_error& e) {
    EXPECT_NE(std::string(e.what()).find("test.db_statements.missing"), std::string::npos) << e.what();
  }
  EXPECT_EQ(next_number(2), 3) << "the connection stays usable";
}

TEST_F(DbStatementsTest, NameDeclaredTwiceIsRejected) {
  EXPECT_THROW(Statement("test.db_statements.next_number", "SELECT 1"), std::logic_error);
  EXPECT_EQ(next_number(3), 4) << "the first definition stays";
}

TEST_F(DbStatementsTest, EveryRepoStatementPreparesAgainstTheSchema) {
  const auto names = statement_names();
  for (const char* name : {"auth.rotate_token", "chats.insert_message", "notifications.page", "users.find_user"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name << " is not registered";
  }
  // A typo in any repo's SQL shows up here rather than on the first request that needs it.
  pool_.with_connection([&](pqxx::connection& c) {
    for (const auto& name : names) {
      try {
        c.prepare_now(name);
      } catch (const pqxx::sql_error& e) {
        ADD_FAILURE() << name << ": " << e.what();
      }
    }
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM pg_prepared_statements")[0].as<std::size_t>(), names.size());
  });
}

TEST_F(DbStatementsTest, ConnectionsOutsideThePoolCanDefineThemToo) {
  pqxx::connection conn(database_->url());
  define_statements(conn);
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec_prepared1(kNextNumber.name(), 6)[0].as<int>(), 7);
}

}  // namespace
}  // namespace reelhub::db
