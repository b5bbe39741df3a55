#pragma once
// The transcode worker pool: threads at low CPU priority that claim processing videos from
// PostgreSQL (FOR UPDATE SKIP LOCKED + a lease), run media::transcode_to_hls, store progress,
// and publish `video.progress` / `video.ready` / `video.failed` to the owner on the hub.

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model.hpp"
#include "reelhub/core/config.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/hub.hpp"

namespace reelhub::videos {

class TranscodeWorkers {
 public:
  /// A job is failed for good when claimed after this many interrupted attempts.
  static constexpr int kMaxAttempts = 2;

  /// Files live under `<media_root>/videos`.
  TranscodeWorkers(const Config& config, db::Pool& db, ws::Hub& hub, metrics::Registry& metrics,
                   const std::filesystem::path& media_root);
  ~TranscodeWorkers();
  TranscodeWorkers(const TranscodeWorkers&) = delete;
  TranscodeWorkers& operator=(const TranscodeWorkers&) = delete;

  /// Starts transcode_workers threads (after migrations).
  void start();
  /// Makes the workers give their jobs back (so a restart resumes them at once) and exit; safe
  /// from any thread, never blocks.
  void request_stop();
  /// request_stop() and waits for the threads.
  void stop();
  /// Tells an idle worker that a job is waiting.
  void wake();

 private:
  void run();
  void process(const Job& job);
  void fail(const Job& job, const std::string& reason);

  const Config& config_;
  db::Pool& db_;
  ws::Hub& hub_;
  metrics::Registry& metrics_;
  std::filesystem::path videos_dir_;
  std::string worker_id_;  // lease owner name: unique per process
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool pending_ = false;  // a wake() not yet seen by a worker
  std::vector<std::thread> threads_;
};

}  // namespace reelhub::videos
