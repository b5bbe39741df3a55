#include "reelhub/db/migrations.hpp"

#include <spdlog/spdlog.h>

namespace reelhub::db {
namespace {

constexpr const char* kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

// Any constant works; it only has to be the same in every Reelhub process.
constexpr long long kAdvisoryLockKey = 0x5265656c687562;  // "Reelhub"

int applied_max(pqxx::transaction_base& tx) {
  auto r = tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
  return r[0][0].as<int>();
}

}  // namespace

int migrate(pqxx::connection& conn, const std::vector<Migration>& migrations) {
  {
    pqxx::nontransaction tx(conn);
    tx.exec(kCreateTable);
    tx.exec_params("SELECT pg_advisory_lock($1)", kAdvisoryLockKey);
  }
  int applied = 0;
  try {
    for (const auto& m : migrations) {
      pqxx::work tx(conn);
      if (m.version <= applied_max(tx)) continue;
      spdlog::info("applying migration {} ({})", m.version, m.name);
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name);
      tx.commit();
      ++applied;
    }
  } catch (...) {
    pqxx::nontransaction unlock(conn);
    unlock.exec_params("SELECT pg_advisory_unlock($1)", kAdvisoryLockKey);
    throw;
  }
  pqxx::nontransaction unlock(conn);
  unlock.exec_params("SELECT pg_advisory_unlock($1)", kAdvisoryLockKey);
  return applied;
}

bool migrations_current(pqxx::connection& conn, const std::vector<Migration>& migrations) {
  if (migrations.empty()) return true;
  pqxx::nontransaction tx(conn);
  auto exists = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return false;
  return applied_max(tx) >= migrations.back().version;
}

}  // namespace reelhub::db
