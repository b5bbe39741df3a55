#pragma once
// A job runner for jobs kept as rows of a module's table (recordings, transcodes, next an outbox):
// worker threads claim one row at a time under a lease, run it, renew the lease while it works,
// retry or fail it by its attempts, and give it back on shutdown. The runner knows no table: the
// module supplies the SQL (claim with FOR UPDATE SKIP LOCKED, and UPDATEs that check
// `lease_owner`) and what a job does, as plain callbacks.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace reelhub::jobs {

struct RunnerOptions {
  /// Names the threads (at most 15 characters are kept) and prefixes the log lines.
  std::string name = "jobs";
  int workers = 1;
  /// Nice value of the worker threads: above 0 lets live ingest and HTTP come first.
  int nice = 0;
  /// How long a claim is the runner's without a renewal. A job's worker renews it every third of
  /// it; past it, the worker is taken for dead and another one claims the job.
  std::chrono::seconds lease{600};
  /// How often an idle worker looks for jobs nobody woke it for (other instances, lost leases).
  std::chrono::milliseconds poll_interval{5000};
  /// Claims a job may use: a failure or a dead worker counts as one.
  int max_attempts = 2;
};

/// Thrown by a job whose failure no retry can fix (its input is bad): it is failed at once.
struct PermanentError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A worker's hold on the job it runs: the job's long loops call keep_alive() to renew the
/// lease and to learn when to stop; its completing UPDATEs check owner().
class Lease {
 public:
  /// `renew` is the module's UPDATE of the lease; false when the row is no longer `owner`'s.
  Lease(std::string owner, std::chrono::seconds length, std::stop_token stop, std::function<bool()> renew);

  /// True while the job should go on. Renews the lease once a third of it has passed since the
  /// last renewal; false once the runner is stopping or the lease was lost (the row was deleted
  /// or another worker took it over). A renewal the database refuses to answer is retried soon
  /// (the lease still holds for a while), not taken for a loss.
  bool keep_alive();
  /// The runner is stopping: the job is given back, its attempt not counted.
  bool stopping() const { return stop_.stop_requested(); }
  /// A renewal found the job no longer ours.
  bool lost() const { return lost_; }
  const std::string& owner() const { return owner_; }

 private:
  std::string owner_;
  std::chrono::steady_clock::duration interval_;
  std::stop_token stop_;
  std::function<bool()> renew_;
  std::chrono::steady_clock::time_point next_renewal_;
  bool lost_ = false;
};

/// A runner's threads: named, at their nice value, each looping over `step` until stopped and
/// waiting for wake() or the poll interval whenever a step found nothing to do.
class WorkerThreads {
 public:
  /// Does one unit of work; false when there was none. An exception is logged and waited out.
  using Step = std::function<bool(const std::stop_token&)>;

  /// `housekeeping` (may be empty) runs on the first worker between jobs, at most once per poll.
  WorkerThreads(RunnerOptions options, Step step, std::function<void()> housekeeping);
  ~WorkerThreads();  // stop()
  WorkerThreads(const WorkerThreads&) = delete;
  WorkerThreads& operator=(const WorkerThreads&) = delete;

  /// Starts the threads unless they run.
  void start();
  /// Makes every worker see its stop token; never blocks, safe from any thread.
  void request_stop();
  /// request_stop() and waits for the threads.
  void stop();
  /// Tells an idle worker that a job is waiting.
  void wake();
  const RunnerOptions& options() const { return options_; }

 private:
  void work(const std::stop_token& stop, bool housekeeper);
  /// Runs `fn`, logging what it throws: a worker thread never dies.
  bool guarded(const char* what, const std::function<bool()>& fn);

  RunnerOptions options_;
  Step step_;
  std::function<void()> housekeeping_;
  std::mutex wake_mutex_;
  std::condition_variable_any wakeup_;
  bool woken_ = false;  // guarded by wake_mutex_: a wake() not yet seen by a worker
  std::mutex threads_mutex_;
  std::vector<std::jthread> threads_;  // guarded by threads_mutex_
};

/// A unique lease owner name: the process id and a random suffix.
std::string new_owner_id();
/// The reason a job is failed with when it was claimed more than `max_attempts` times.
std::string interrupted_reason(int attempts, const std::optional<std::string>& last_failure);

/// What a module supplies for its kind of job. `Job` is its claimed row and has an `int
/// attempts` (claims so far, this one included) and may have a `last_failure`.
template <class Job>
struct Handlers {
  /// Takes one claimable job for `owner` (FOR UPDATE SKIP LOCKED), leasing it for `lease` and
  /// counting the attempt; none when there is no job.
  std::function<std::optional<Job>(const std::string& owner, std::chrono::seconds lease)> claim;
  /// Extends the lease; false when the row is no longer `owner`'s.
  std::function<bool(const Job&, const std::string& owner, std::chrono::seconds lease)> renew;
  /// Does the job and stores its outcome with an UPDATE that checks `lease.owner()`. Throws to
  /// fail the attempt (PermanentError: for good).
  std::function<void(const Job&, Lease& lease)> run;
  /// Fails the job for good with `reason`, unless it is no longer `owner`'s.
  std::function<void(const Job&, const std::string& owner, const std::string& reason)> fail;
  /// Frees the job for another claim, unless it is no longer `owner`'s. With a `reason` the
  /// attempt failed and counts; without one (shutdown) it is not counted.
  std::function<void(const Job&, const std::string& owner, const std::optional<std::string>& reason)> release;
  /// Optional housekeeping on one worker at most once per poll interval (e.g. sweeping old files).
  std::function<void()> housekeeping{};
};

/// Runs one module's jobs on its own worker threads.
template <class Job>
class Runner {
 public:
  Runner(RunnerOptions options, Handlers<Job> handlers)
      : handlers_(std::move(handlers)),
        owner_(new_owner_id()),
        threads_(std::move(options), [this](const std::stop_token& stop) { return run_one(stop); },
                 handlers_.housekeeping) {}

  /// Starts the workers; jobs left unfinished by an earlier process are resumed.
  void start() { threads_.start(); }
  /// Makes the running jobs stop and give their rows back uncounted; never blocks.
  void request_stop() { threads_.request_stop(); }
  /// request_stop() and waits for the workers.
  void stop() { threads_.stop(); }
  /// Tells an idle worker that a job is waiting.
  void wake() { threads_.wake(); }
  /// The lease owner name of this runner's claims.
  const std::string& owner() const { return owner_; }

 private:
  /// Claims and settles one job; false when none was claimable.
  bool run_one(const std::stop_token& stop) {
    const RunnerOptions& options = threads_.options();
    const std::optional<Job> job = handlers_.claim(owner_, options.lease);
    if (!job) return false;
    if (job->attempts > options.max_attempts) {
      // Claimed that often without an outcome: its workers died on it (crash, OOM, SIGKILL).
      std::optional<std::string> last_failure;
      if constexpr (requires { job->last_failure; }) last_failure = job->last_failure;
      handlers_.fail(*job, owner_, interrupted_reason(job->attempts, last_failure));
      return true;
    }
    Lease lease(owner_, options.lease, stop, [&] { return handlers_.renew(*job, owner_, options.lease); });
    try {
      handlers_.run(*job, lease);
    } catch (const std::exception& e) {
      settle_failed(*job, lease, e);
    }
    return true;
  }

  void settle_failed(const Job& job, const Lease& lease, const std::exception& e) {
    // Another worker holds it now (or the row is gone): the outcome is not ours to store.
    if (lease.lost()) return;
    if (lease.stopping()) {
      handlers_.release(job, owner_, std::nullopt);
    } else if (dynamic_cast<const PermanentError*>(&e) != nullptr || job.attempts >= threads_.options().max_attempts) {
      handlers_.fail(job, owner_, e.what());
    } else {
      handlers_.release(job, owner_, std::string(e.what()));
    }
  }

  Handlers<Job> handlers_;
  std::string owner_;
  WorkerThreads threads_;  // last: its threads stop before the handlers they call are destroyed
};

}  // namespace reelhub::jobs
