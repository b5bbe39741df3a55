#pragma once
// A bounded pool of libpqxx connections. libpqxx blocks, so the pool is used only from worker
// threads (never io threads). Connections are opened lazily and replaced when they break, so the
// server recovers by itself when PostgreSQL comes back. Each connection knows every registered
// db::Statement (statements.hpp) and prepares it on first use.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace reelhub::metrics {
class Registry;
}

namespace reelhub::db {

class Pool;

/// A connection borrowed from the pool; returned (or discarded when broken) on destruction.
class Lease {
 public:
  Lease(Pool* pool, std::unique_ptr<pqxx::connection> conn, bool reused)
      : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease();
  pqxx::connection& operator*() { return *conn_; }
  pqxx::connection* operator->() { return conn_.get(); }
  /// True when the connection sat idle in the pool (it may have died meanwhile).
  bool reused() const { return reused_; }

 private:
  Pool* pool_;
  std::unique_ptr<pqxx::connection> conn_;
  bool reused_;
};

struct PoolOptions {
  std::string url;
  int size = 8;
  std::chrono::milliseconds wait{2000};
  int statement_timeout_ms = 10000;
};

class Pool {
 public:
  Pool(PoolOptions options, metrics::Registry& metrics);
  ~Pool();

  /// Borrows a connection, opening one if the pool has room. Throws ApiError(unavailable)
  /// when none frees up within the wait deadline or PostgreSQL cannot be reached.
  Lease acquire();

  /// Runs `fn(pqxx::work&)` in one transaction and commits; any exception rolls back.
  /// A lost connection becomes ApiError(unavailable) and the connection is discarded.
  template <class Fn>
  auto transact(Fn&& fn) {
    return with_connection([&](pqxx::connection& c) {
      pqxx::work tx(c);
      if constexpr (std::is_void_v<decltype(fn(tx))>) {
        fn(tx);
        tx.commit();
      } else {
        auto result = fn(tx);
        tx.commit();
        return result;
      }
    });
  }

  /// Runs `fn(pqxx::nontransaction&)` outside a transaction block: each statement commits on its
  /// own, which saves the BEGIN and COMMIT round trips of transact(). Only for reads made of one
  /// statement: several would not see one snapshot.
  template <class Fn>
  auto read(Fn&& fn) {
    return with_connection([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return fn(tx);
    });
  }

  /// Runs `fn(pqxx::connection&)` with the same broken-connection handling as transact().
  /// A pooled connection found dead (the database restarted) is retried once on a fresh one:
  /// nothing was committed on it — a failed commit is pqxx::in_doubt_error, never retried.
  template <class Fn>
  auto with_connection(Fn&& fn) {
    for (int attempt = 0;; ++attempt) {
      Lease lease = acquire();
      const bool reused = lease.reused();
      try {
        return fn(*lease);
      } catch (const pqxx::broken_connection&) {
        drop_idle();
        if (!reused || attempt > 0) throw_unavailable();
      }
    }
  }

  /// True when a trivial query succeeds now (readiness probe).
  bool ping();
  const PoolOptions& options() const { return options_; }

 private:
  friend class Lease;
  void give_back(std::unique_ptr<pqxx::connection> conn);
  /// Closes every idle connection: after one is found dead, the rest are most likely dead too.
  void drop_idle();
  [[noreturn]] static void throw_unavailable();
  std::unique_ptr<pqxx::connection> open();

  PoolOptions options_;
  metrics::Registry& metrics_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_count_ = 0;  // idle + leased
};

/// True when `e` is PostgreSQL's unique_violation (23505) — used by repos to map to 409.
bool is_unique_violation(const pqxx::sql_error& e);

}  // namespace reelhub::db
