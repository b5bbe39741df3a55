#pragma once
// Forward-only SQL migrations from migrations/NNNN_name.sql, embedded at build time and
// recorded in schema_migrations.

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace reelhub::db {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

const std::vector<Migration>& embedded_migrations();

/// Applies every pending migration in order, each in its own transaction, under an advisory
/// lock so two processes starting together do not race. Returns how many were applied.
int migrate(pqxx::connection& conn, const std::vector<Migration>& migrations);
/// True when every embedded migration is recorded (readiness).
bool migrations_current(pqxx::connection& conn, const std::vector<Migration>& migrations);

}  // namespace reelhub::db
