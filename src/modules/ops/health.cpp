#include "modules/ops/health.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "reelhub/core/random.hpp"
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

StorageState HealthService::storage() {
  StorageState state;
  std::error_code ec;
  std::filesystem::create_directories(media_root_, ec);
  const auto probe = media_root_ / (".health-" + random_hex(6));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    state.message = "Media storage is not writable: " + std::string(std::strerror(errno));
    return state;
  }
  const bool written = ::write(fd, "ok", 2) == 2 && ::fsync(fd) == 0;
  ::close(fd);
  std::filesystem::remove(probe, ec);
  const auto space = std::filesystem::space(media_root_, ec);
  if (!ec) state.free_bytes = space.available;
  state.writable = written;
  state.message = written ? "Media storage is available" : "Media storage write failed";
  return state;
}

}  // namespace reelhub::ops
