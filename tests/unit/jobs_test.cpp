// jobs::Runner against a real PostgreSQL table that each test creates: claims with FOR UPDATE
// SKIP LOCKED never run a job twice at once, a lease that runs out moves the job to another
// owner and refuses the old one, renewals keep a long job, a stop gives the job back uncounted,
// attempts fail a job for good, and the workers run at their name and nice value.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "reelhub/core/random.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/jobs/runner.hpp"
#include "reelhub/metrics/registry.hpp"
#include "system.hpp"
#include "test_database.hpp"

namespace reelhub::jobs {
namespace {

using namespace std::chrono_literals;
using reelhub::testing::thread_nice_values;

constexpr auto kDeadline = 30s;

/// A claimed row of the test table.
struct TestJob {
  std::int64_t id = 0;
  int attempts = 0;
  std::optional<std::string> last_failure;
};

/// A row of the test table as the test checks it.
struct Row {
  std::string status;
  int attempts = 0;
  std::optional<std::string> lease_owner;
  std::optional<std::string> failure_reason;
  std::optional<std::string> done_by;
};

/// Polls `condition` until it holds or `deadline` passes; whether it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline = kDeadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class JobsRunnerTest : public ::testing::Test {
 protected:
  using Run = std::function<void(const TestJob&, Lease&)>;

  static void SetUpTestSuite() { database_ = std::make_unique<reelhub::testing::TestDatabase>(); }
  static void TearDownTestSuite() { database_.reset(); }

  void SetUp() override {
    database_->exec("CREATE TABLE " + table_ + R"sql( (
      id             bigserial PRIMARY KEY,
      status         text      NOT NULL DEFAULT 'pending',  -- pending | done | failed
      attempts       integer   NOT NULL DEFAULT 0,
      lease_owner    text,
      lease_until    timestamptz,
      failure_reason text,
      done_by        text))sql");
  }

  /// Inserts a pending job that was claimed `attempts` times before; returns its id.
  std::int64_t insert(int attempts = 0, const std::optional<std::string>& failure = std::nullopt) {
    return pool_.transact([&](pqxx::work& tx) {
      return tx
          .exec_params1("INSERT INTO " + table_ + " (attempts, failure_reason) VALUES ($1, $2) RETURNING id",
                        attempts, failure)[0]
          .as<std::int64_t>();
    });
  }

  Row row(std::int64_t id) {
    return pool_.transact([&](pqxx::work& tx) {
      const auto r = tx.exec_params1(
          "SELECT status, attempts, lease_owner, failure_reason, done_by FROM " + table_ + " WHERE id = $1", id);
      return Row{r[0].as<std::string>(), r[1].as<int>(), r[2].get<std::string>(), r[3].get<std::string>(),
                 r[4].get<std::string>()};
    });
  }

  /// Starts `first`, then `second` once `first` runs its job; stops both when a job is done.
  void start_second_once_first_runs(Runner<TestJob>& first, const std::atomic<bool>& first_runs,
                                    Runner<TestJob>& second) {
    first.start();
    ASSERT_TRUE(eventually([&] { return first_runs.load(); }));
    second.start();
    ASSERT_TRUE(eventually([&] { return count("done") == 1; }));
    first.stop();
    second.stop();
  }

  std::int64_t count(const std::string& status) {
    return pool_.transact([&](pqxx::work& tx) {
      return tx.exec_params1("SELECT count(*) FROM " + table_ + " WHERE status = $1", status)[0].as<std::int64_t>();
    });
  }

  /// The job's owner-checked completion; false when `owner` no longer holds it.
  bool complete(std::int64_t id, const std::string& owner) {
    return pool_.transact([&](pqxx::work& tx) {
      return tx
                 .exec_params0("UPDATE " + table_ +
                                   " SET status = 'done', done_by = $2, lease_owner = NULL, lease_until = NULL "
                                   "WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
                               id, owner)
                 .affected_rows() > 0;
    });
  }

  /// The table's SQL as a module's repo would write it, with `run` as what a job does.
  Handlers<TestJob> handlers(Run run) {
    return {
        .claim =
            [this](const std::string& owner, std::chrono::seconds lease) {
              return pool_.transact([&](pqxx::work& tx) -> std::optional<TestJob> {
                const auto r = tx.exec_params(
                    "UPDATE " + table_ +
                        " SET attempts = attempts + 1, lease_owner = $1, "
                        "lease_until = now() + make_interval(secs => $2) WHERE id = ("
                        "SELECT id FROM " + table_ +
                        " WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < now()) "
                        "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, attempts, failure_reason",
                    owner, static_cast<std::int64_t>(lease.count()));
                if (r.empty()) return std::nullopt;
                return TestJob{r[0][0].as<std::int64_t>(), r[0][1].as<int>(), r[0][2].get<std::string>()};
              });
            },
        .renew =
            [this](const TestJob& job, const std::string& owner, std::chrono::seconds lease) {
              ++renewals_;
              return pool_.transact([&](pqxx::work& tx) {
                return tx
                           .exec_params0("UPDATE " + table_ +
                                             " SET lease_until = now() + make_interval(secs => $3) "
                                             "WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
                                         job.id, owner, static_cast<std::int64_t>(lease.count()))
                           .affected_rows() > 0;
              });
            },
        .run = std::move(run),
        .fail =
            [this](const TestJob& job, const std::string& owner, const std::string& reason) {
              pool_.transact([&](pqxx::work& tx) {
                tx.exec_params0("UPDATE " + table_ +
                                    " SET status = 'failed', failure_reason = $3, lease_owner = NULL, "
                                    "lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
                                job.id, owner, reason);
              });
            },
        .release =
            [this](const TestJob& job, const std::string& owner, const std::optional<std::string>& reason) {
              pool_.transact([&](pqxx::work& tx) {
                tx.exec_params0("UPDATE " + table_ +
                                    " SET lease_owner = NULL, lease_until = NULL, "
                                    "failure_reason = COALESCE($3, failure_reason), "
                                    "attempts = CASE WHEN $3::text IS NULL THEN attempts - 1 ELSE attempts END "
                                    "WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
                                job.id, owner, reason);
              });
            },
    };
  }

  /// A quick poll so that tests wait for outcomes, not for idle workers.
  static RunnerOptions options(int workers = 1, std::chrono::seconds lease = 60s) {
    return {.name = "jobs-test",
            .workers = workers,
            .nice = 0,
            .lease = lease,
            .poll_interval = 50ms,
            .max_attempts = 2};
  }

  static inline std::unique_ptr<reelhub::testing::TestDatabase> database_;
  metrics::Registry metrics_;
  db::Pool pool_{db::PoolOptions{database_->url(), 12}, metrics_};
  std::string table_ = "jobs_" + random_hex(6);
  std::atomic<int> renewals_{0};
};

TEST_F(JobsRunnerTest, TwoRunnersNeverRunTheSameJobAtOnce) {
  constexpr int kJobs = 30;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kJobs; ++i) ids.push_back(insert());
  std::mutex mutex;
  std::set<std::int64_t> running;
  std::atomic<int> runs{0};
  std::atomic<bool> overlap{false};
  const Run run = [&](const TestJob& job, Lease& lease) {
    {
      std::lock_guard lock(mutex);
      if (!running.insert(job.id).second) overlap = true;
    }
    std::this_thread::sleep_for(5ms);  // the job's work: claims of both runners overlap it
    {
      std::lock_guard lock(mutex);
      running.erase(job.id);
    }
    ++runs;
    EXPECT_TRUE(complete(job.id, lease.owner()));
  };
  Runner<TestJob> a(options(3), handlers(run));
  Runner<TestJob> b(options(3), handlers(run));
  ASSERT_NE(a.owner(), b.owner());
  a.start();
  b.start();
  ASSERT_TRUE(eventually([&] { return count("done") == kJobs; }));
  a.stop();
  b.stop();
  EXPECT_FALSE(overlap);
  EXPECT_EQ(runs, kJobs) << "every job ran once";
  for (const auto id : ids) {
    const Row r = row(id);
    EXPECT_EQ(r.attempts, 1) << id;
    EXPECT_TRUE(r.done_by == a.owner() || r.done_by == b.owner()) << id;
  }
}

TEST_F(JobsRunnerTest, ExpiredLeaseIsClaimedAgainAndTheOldOwnersCompletionIsRefused) {
  const std::int64_t id = insert();
  std::atomic<bool> a_started{false}, b_claimed{false}, a_done{false};
  std::atomic<bool> a_completed{true}, a_keeps_it{true}, a_lost{false}, b_completed{false};
  // A stalls without renewing (a frozen process): its one-second lease runs out.
  Runner<TestJob> a(options(1, 1s), handlers([&](const TestJob& job, Lease& lease) {
                      a_started = true;
                      EXPECT_TRUE(eventually([&] { return b_claimed.load(); }));
                      a_completed = complete(job.id, lease.owner());
                      a_keeps_it = lease.keep_alive();
                      a_lost = lease.lost();
                      a_done = true;
                    }));
  Runner<TestJob> b(options(1, 60s), handlers([&](const TestJob& job, Lease& lease) {
                      b_claimed = true;
                      EXPECT_TRUE(eventually([&] { return a_done.load(); }));
                      b_completed = complete(job.id, lease.owner());
                    }));
  start_second_once_first_runs(a, a_started, b);
  EXPECT_FALSE(a_completed) << "the old owner's completion is refused";
  EXPECT_FALSE(a_keeps_it) << "its renewal finds the job taken over";
  EXPECT_TRUE(a_lost);
  EXPECT_TRUE(b_completed);
  const Row r = row(id);
  EXPECT_EQ(r.done_by, b.owner());
  EXPECT_EQ(r.attempts, 2);
}

TEST_F(JobsRunnerTest, RenewalKeepsTheLeaseWhileAJobOutlastsIt) {
  const std::int64_t id = insert();
  std::atomic<bool> a_started{false};
  std::atomic<int> b_runs{0};
  Runner<TestJob> a(options(1, 1s), handlers([&](const TestJob& job, Lease& lease) {
                      a_started = true;
                      // Three leases long, as a remux of hours of video outlasts its lease.
                      const auto until = std::chrono::steady_clock::now() + 3s;
                      while (std::chrono::steady_clock::now() < until) {
                        ASSERT_TRUE(lease.keep_alive());
                        std::this_thread::sleep_for(20ms);  // the job's work between two packets
                      }
                      EXPECT_TRUE(complete(job.id, lease.owner()));
                    }));
  Runner<TestJob> b(options(1, 60s), handlers([&](const TestJob&, Lease&) { ++b_runs; }));
  start_second_once_first_runs(a, a_started, b);
  EXPECT_EQ(b_runs, 0) << "the other runner never claimed the renewed job";
  const Row r = row(id);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.done_by, a.owner());
  // A third of a one-second lease: at least 6 renewals in 3 s, and far fewer than keep_alive() calls.
  EXPECT_GE(renewals_, 6);
  EXPECT_LE(renewals_, 12);
}

TEST_F(JobsRunnerTest, RequestStopGivesTheJobBackWithoutCountingTheAttempt) {
  const std::int64_t id = insert();
  std::atomic<bool> started{false}, saw_stopping{false};
  Runner<TestJob> runner(options(), handlers([&](const TestJob&, Lease& lease) {
                           started = true;
                           while (lease.keep_alive()) std::this_thread::sleep_for(5ms);
                           saw_stopping = lease.stopping();
                           throw std::runtime_error("cancelled");  // as a remux or transcode stops
                         }));
  runner.start();
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  EXPECT_EQ(row(id).attempts, 1);
  runner.request_stop();  // returns at once; the job notices at its next keep_alive()
  runner.stop();
  EXPECT_TRUE(saw_stopping);
  Row r = row(id);
  EXPECT_EQ(r.status, "pending");
  EXPECT_EQ(r.attempts, 0) << "a give-back is not an attempt";
  EXPECT_FALSE(r.lease_owner);
  EXPECT_FALSE(r.failure_reason);

  // Free at once: the next runner claims it without waiting for a lease to run out.
  Runner<TestJob> next(options(), handlers([&](const TestJob& job, Lease& lease) { complete(job.id, lease.owner()); }));
  next.start();
  ASSERT_TRUE(eventually([&] { return row(id).status == "done"; }));
  next.stop();
  EXPECT_EQ(row(id).attempts, 1);
}

TEST_F(JobsRunnerTest, JobClaimedMoreThanMaxAttemptsIsFailedWithTheReason) {
  const std::int64_t id = insert(2, "disk full");  // claimed twice; its workers died
  std::atomic<bool> ran{false};
  Runner<TestJob> runner(options(), handlers([&](const TestJob&, Lease&) { ran = true; }));
  runner.start();
  ASSERT_TRUE(eventually([&] { return row(id).status == "failed"; }));
  runner.stop();
  EXPECT_FALSE(ran) << "the job is not run a third time";
  const Row r = row(id);
  EXPECT_EQ(r.attempts, 3);
  ASSERT_TRUE(r.failure_reason);
  EXPECT_NE(r.failure_reason->find("interrupted 2 times"), std::string::npos) << *r.failure_reason;
  EXPECT_NE(r.failure_reason->find("last error: disk full"), std::string::npos) << *r.failure_reason;
}

TEST_F(JobsRunnerTest, ThrowingJobIsRetriedThenFailed) {
  const std::int64_t id = insert();
  std::atomic<int> runs{0};
  Runner<TestJob> runner(options(), handlers([&](const TestJob& job, Lease&) {
                           ++runs;
                           throw std::runtime_error("boom " + std::to_string(job.attempts));
                         }));
  runner.start();
  ASSERT_TRUE(eventually([&] { return row(id).status == "failed"; }));
  runner.stop();
  EXPECT_EQ(runs, 2);
  const Row r = row(id);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.failure_reason, "boom 2");
}

TEST_F(JobsRunnerTest, PermanentErrorFailsAtOnce) {
  const std::int64_t id = insert();
  std::atomic<int> runs{0};
  Runner<TestJob> runner(options(), handlers([&](const TestJob&, Lease&) {
                           ++runs;
                           throw PermanentError("not a video");
                         }));
  runner.start();
  ASSERT_TRUE(eventually([&] { return row(id).status == "failed"; }));
  runner.stop();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(row(id).attempts, 1);
  EXPECT_EQ(row(id).failure_reason, "not a video");
}

TEST_F(JobsRunnerTest, WorkerSurvivesFailingClaims) {
  const std::int64_t id = insert();
  std::atomic<int> claims{0};
  auto h = handlers([&](const TestJob& job, Lease& lease) { complete(job.id, lease.owner()); });
  h.claim = [claim = h.claim, &claims](const std::string& owner, std::chrono::seconds lease) {
    if (++claims <= 2) throw std::runtime_error("database unavailable");
    return claim(owner, lease);
  };
  Runner<TestJob> runner(options(), std::move(h));
  runner.start();
  ASSERT_TRUE(eventually([&] { return row(id).status == "done"; })) << "the worker kept polling";
  runner.stop();
  EXPECT_GE(claims, 3);
}

TEST_F(JobsRunnerTest, WakeStartsAnIdleWorker) {
  std::atomic<int> idle_claims{0};
  auto h = handlers([&](const TestJob& job, Lease& lease) { complete(job.id, lease.owner()); });
  h.claim = [claim = h.claim, &idle_claims](const std::string& owner, std::chrono::seconds lease) {
    auto job = claim(owner, lease);
    if (!job) ++idle_claims;
    return job;
  };
  RunnerOptions sleepy = options();
  sleepy.poll_interval = 1h;  // only wake() brings it back in time
  Runner<TestJob> runner(sleepy, std::move(h));
  runner.start();
  ASSERT_TRUE(eventually([&] { return idle_claims == 1; }));
  const std::int64_t id = insert();  // after the worker looked: it did not see this one
  runner.wake();
  ASSERT_TRUE(eventually([&] { return row(id).status == "done"; }));
  runner.stop();
}

TEST_F(JobsRunnerTest, WorkersRunAtTheConfiguredNiceValueAndName) {
  RunnerOptions niced = options(2);
  niced.name = "jobs-niced-with-a-long-name";
  niced.nice = 7;
  const std::string shown = "jobs-niced-with";  // Linux keeps 15 characters
  ASSERT_TRUE(thread_nice_values(shown).empty());
  Runner<TestJob> runner(niced, handlers([](const TestJob&, Lease&) {}));
  runner.start();
  ASSERT_TRUE(eventually([&] { return thread_nice_values(shown).size() == 2; }));
  EXPECT_EQ(thread_nice_values(shown), (std::vector<int>{7, 7}));
  runner.stop();
  EXPECT_TRUE(thread_nice_values(shown).empty()) << "stop() joins the workers";
}

TEST_F(JobsRunnerTest, HousekeepingRunsOnOneWorkerOnly) {
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::atomic<int> rounds{0};
  auto h = handlers([](const TestJob&, Lease&) {});
  h.housekeeping = [&] {
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
    ++rounds;
  };
  Runner<TestJob> runner(options(3), std::move(h));
  runner.start();
  ASSERT_TRUE(eventually([&] { return rounds >= 3; })) << "once per poll interval";
  runner.stop();
  std::lock_guard lock(mutex);
  EXPECT_EQ(threads.size(), 1u);
}

}  // namespace
}  // namespace reelhub::jobs
