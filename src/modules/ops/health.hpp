#pragma once
// What the health endpoints report: database reachable, schema current, media root writable.

#include <filesystem>
#include <string>

#include "reelhub/db/pool.hpp"

namespace reelhub::ops {

struct StorageState {
  bool writable = false;
  std::string message;
  std::uintmax_t free_bytes = 0;
};

class HealthService {
 public:
  HealthService(db::Pool& db, std::filesystem::path media_root) : db_(db), media_root_(std::move(media_root)) {}

  bool database_up() { return db_.ping(); }
  bool migrations_current();
  /// Writes, syncs and removes a probe file under the media root.
  StorageState storage();

 private:
  db::Pool& db_;
  std::filesystem::path media_root_;
};

}  // namespace reelhub::ops
