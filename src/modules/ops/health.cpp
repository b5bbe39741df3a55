#include "modules/ops/health.hpp"

#include "reelhub/db/migrations.hpp"

namespace reelhub::ops {

bool HealthService::migrations_current() {
  try {
    return db_.with_connection(
        [](pqxx::connection& c) { return db::migrations_current(c, db::embedded_migrations()); });
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace reelhub::ops
