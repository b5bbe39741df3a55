#include "reelhub/jobs/runner.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "reelhub/core/random.hpp"

namespace reelhub::jobs {
namespace {

constexpr std::size_t kMaxThreadName = 15;  // Linux keeps 16 bytes with the terminating NUL

/// Names the calling thread (top -H, /proc) and sets its nice value. Linux: setpriority on a
/// thread id is per thread, and threads the job starts (libx264's) inherit it.
void become_worker_thread(const RunnerOptions& options) {
  ::pthread_setname_np(::pthread_self(), options.name.substr(0, kMaxThreadName).c_str());
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), options.nice) != 0) {
    spdlog::warn("{}: cannot set the worker's nice value to {}: {}", options.name, options.nice, std::strerror(errno));
  }
}

}  // namespace

Lease::Lease(std::string owner, std::chrono::seconds length, std::stop_token stop, std::function<bool()> renew)
    : owner_(std::move(owner)),
      interval_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(length) / 3),
      stop_(std::move(stop)),
      renew_(std::move(renew)),
      next_renewal_(std::chrono::steady_clock::now() + interval_) {}

bool Lease::keep_alive() {
  if (lost_ || stopping()) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_renewal_) return true;
  try {
    if (!renew_()) {
      lost_ = true;
      return false;
    }
    next_renewal_ = now + interval_;
  } catch (const std::exception& e) {
    // The database is briefly away: the lease still runs for two thirds of its length.
    spdlog::warn("jobs: cannot renew the lease of {}, retrying: {}", owner_, e.what());
    next_renewal_ = now + interval_ / 3;
  }
  return true;
}

WorkerThreads::WorkerThreads(RunnerOptions options, Step step, std::function<void()> housekeeping)
    : options_(std::move(options)), step_(std::move(step)), housekeeping_(std::move(housekeeping)) {}

WorkerThreads::~WorkerThreads() { stop(); }

void WorkerThreads::start() {
  std::lock_guard lock(threads_mutex_);
  if (!threads_.empty()) return;
  for (int i = 0; i < options_.workers; ++i) {
    threads_.emplace_back([this, housekeeper = i == 0](const std::stop_token& stop) { work(stop, housekeeper); });
  }
}

void WorkerThreads::request_stop() {
  std::lock_guard lock(threads_mutex_);
  // Each worker waits on its own token: requesting the stop also wakes it.
  for (auto& thread : threads_) thread.request_stop();
}

void WorkerThreads::stop() {
  std::vector<std::jthread> threads;
  {
    std::lock_guard lock(threads_mutex_);
    threads.swap(threads_);
  }
  for (auto& thread : threads) thread.request_stop();
  threads.clear();  // joins
}

void WorkerThreads::wake() {
  {
    std::lock_guard lock(wake_mutex_);
    woken_ = true;
  }
  wakeup_.notify_one();
}

bool WorkerThreads::guarded(const char* what, const std::function<bool()>& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    // The database is down or a disk is full: the job's lease runs out and it is claimed again.
    spdlog::error("{}: {}: {}", options_.name, what, e.what());
  } catch (...) {
    spdlog::error("{}: {}: unknown exception", options_.name, what);
  }
  return false;
}

void WorkerThreads::work(const std::stop_token& stop, bool housekeeper) {
  become_worker_thread(options_);
  auto next_housekeeping = std::chrono::steady_clock::now();
  while (!stop.stop_requested()) {
    const bool busy = guarded("worker", [&] { return step_(stop); });
    if (housekeeper && housekeeping_ && std::chrono::steady_clock::now() >= next_housekeeping) {
      next_housekeeping = std::chrono::steady_clock::now() + options_.poll_interval;
      guarded("housekeeping", [&] {
        housekeeping_();
        return true;
      });
    }
    if (busy) continue;
    std::unique_lock lock(wake_mutex_);
    wakeup_.wait_for(lock, stop, options_.poll_interval, [this] { return woken_; });
    woken_ = false;
  }
}

std::string new_owner_id() { return std::to_string(::getpid()) + "-" + random_hex(8); }

std::string interrupted_reason(int attempts, const std::optional<std::string>& last_failure) {
  std::string reason = "processing was interrupted " + std::to_string(attempts - 1) +
                       " times (the server crashed or was killed during it)";
  if (last_failure) reason += "; last error: " + *last_failure;
  return reason;
}

}  // namespace reelhub::jobs
