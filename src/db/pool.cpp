#include "reelhub/db/pool.hpp"

#include <spdlog/spdlog.h>

#include "reelhub/core/error.hpp"
#include "reelhub/db/statements.hpp"
#include "reelhub/metrics/registry.hpp"

namespace reelhub::db {

Lease::~Lease() {
  if (pool_ && conn_) pool_->give_back(std::move(conn_));
}

Pool::Pool(PoolOptions options, metrics::Registry& metrics) : options_(std::move(options)), metrics_(metrics) {
  metrics_.describe("reelhub_db_pool_wait_seconds", "histogram", "Time spent waiting for a database connection");
  metrics_.gauge_callback("reelhub_db_pool_connections", [this] {
    std::lock_guard lock(mutex_);
    const auto idle = static_cast<double>(idle_.size());
    return std::vector<std::pair<metrics::Labels, double>>{{{{"state", "idle"}}, idle},
                                                           {{{"state", "in_use"}}, open_count_ - idle}};
  });
}

Pool::~Pool() = default;

std::unique_ptr<pqxx::connection> Pool::open() {
  try {
    auto conn = std::make_unique<pqxx::connection>(options_.url);
    // Timestamps go out in UTC and no statement may hold a connection forever.
    conn->set_variable("TimeZone", "'UTC'");
    conn->set_variable("statement_timeout", std::to_string(options_.statement_timeout_ms));
    // Every connection, including one that replaces a broken one, prepares the repos' statements
    // afresh: a server session keeps prepared statements only for its own lifetime.
    define_statements(*conn);
    return conn;
  } catch (const std::exception& e) {
    spdlog::warn("database connection failed: {}", e.what());
    return nullptr;
  }
}

Lease Pool::acquire() {
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + options_.wait;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      lock.unlock();
      metrics_.observe("reelhub_db_pool_wait_seconds", {},
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      return Lease(this, std::move(conn), true);
    }
    if (open_count_ < options_.size) {
      ++open_count_;
      lock.unlock();
      auto conn = open();
      if (!conn) {
        lock.lock();
        --open_count_;
        freed_.notify_one();
        lock.unlock();
        throw_unavailable();
      }
      metrics_.observe("reelhub_db_pool_wait_seconds", {},
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      return Lease(this, std::move(conn), false);
    }
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_count_ >= options_.size) {
      lock.unlock();
      throw ApiError(ErrorCode::unavailable, "Database is busy, try again").with_retry_after(1);
    }
  }
}

void Pool::give_back(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard lock(mutex_);
  // A connection that broke (or is mid-transaction after an error) is dropped; the next
  // acquire() opens a fresh one, which is how the pool heals after a database restart.
  if (conn->is_open()) idle_.push_back(std::move(conn));
  else --open_count_;
  freed_.notify_one();
}

void Pool::drop_idle() {
  std::lock_guard lock(mutex_);
  open_count_ -= static_cast<int>(idle_.size());
  idle_.clear();
  freed_.notify_all();
}

void Pool::throw_unavailable() {
  throw database_unavailable();
}

bool Pool::ping() {
  try {
    return with_connection([](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec("SELECT 1");
      return true;
    });
  } catch (const std::exception&) {
    return false;
  }
}

bool is_unique_violation(const pqxx::sql_error& e) { return e.sqlstate() == "23505"; }

}  // namespace reelhub::db
