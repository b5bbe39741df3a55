#include "pg_cluster.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace reelhub::testing {
namespace {

const char* const kUser = "postgres";

// The data directory must belong to the user PostgreSQL runs as.
void hand_over(const std::filesystem::path& dir) {
  if (::geteuid() != 0) return;
  const passwd* pw = ::getpwnam(kUser);
  if (!pw) throw std::runtime_error("running as root but there is no 'postgres' user to run PostgreSQL as");
  if (::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("chown " + dir.string() + " failed");
  }
}

}  // namespace

PgCluster::PgCluster()
    : dir_("reelhub-pg"), bin_(env_or("REELHUB_PG_BIN", "/usr/lib/postgresql/15/bin")), port_(free_tcp_port()) {
  hand_over(dir_.path());
  run_command(as_user(kUser, {bin_ + "/initdb", "-D", (dir_.path() / "data").string(), "-U", kUser, "-A", "trust",
                              "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"}));
  start();
}

PgCluster::~PgCluster() {
  if (!running_) return;
  try {
    stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: could not stop test PostgreSQL: %s\n", e.what());
  }
}

void PgCluster::pg_ctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {bin_ + "/pg_ctl", "-D", (dir_.path() / "data").string(), "-w", "-t", "60"};
  argv.insert(argv.end(), args.begin(), args.end());
  run_command(as_user(kUser, argv));
}

void PgCluster::start() {
  // fsync=off is safe here because stop() simulates a server crash, not a machine crash; commits
  // stay synchronous so every acknowledged write survives the crash, as in production.
  const std::string options = "-p " + std::to_string(port_) + " -k " + dir_.path().string() +
                              " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off";
  pg_ctl({"-l", (dir_.path() / "server.log").string(), "-o", options, "start"});
  running_ = true;
}

void PgCluster::stop() {
  pg_ctl({"-m", "immediate", "stop"});
  running_ = false;
}

std::string PgCluster::admin_url() const {
  return "postgresql://" + std::string(kUser) + "@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

}  // namespace reelhub::testing

