#pragma once
// A private, throwaway PostgreSQL cluster for tests that stop and start the database.

#include <cstdint>
#include <string>

#include "system.hpp"

namespace reelhub::testing {

/// initdb in a temp dir, served on a free loopback port; runs as `postgres` when we are root.
/// Binaries come from REELHUB_PG_BIN (default /usr/lib/postgresql/15/bin). Removed on destruction.
class PgCluster {
 public:
  PgCluster();  // initdb + start
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  /// Stops abruptly (`-m immediate`), like a crash or a pulled cable: clients see broken connections.
  void stop();
  void start();
  /// Superuser URL of the `postgres` maintenance database.
  std::string admin_url() const;

 private:
  void pg_ctl(const std::vector<std::string>& args) const;

  TempDir dir_;
  std::string bin_;
  std::uint16_t port_;
  bool running_ = false;
};

}  // namespace reelhub::testing
