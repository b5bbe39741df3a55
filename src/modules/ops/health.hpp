#pragma once
// What the health endpoints report: database reachable, schema current, object storage writable.

#include <string>

#include "reelhub/db/pool.hpp"
#include "reelhub/storage/object_store.hpp"

namespace reelhub::ops {

class HealthService {
 public:
  HealthService(db::Pool& db, storage::ObjectStore& store) : db_(db), store_(store) {}

  bool database_up() { return db_.ping(); }
  bool migrations_current();
  /// Asks the storage backend (local: writes, syncs and removes a probe file under the media root).
  storage::StoreHealth storage() { return store_.health(); }
  std::string storage_backend() const { return store_.backend(); }

 private:
  db::Pool& db_;
  storage::ObjectStore& store_;
};

}  // namespace reelhub::ops
