#pragma once
// The transcode workers: a jobs::Runner whose threads, at low CPU priority, claim processing
// videos from PostgreSQL (FOR UPDATE SKIP LOCKED + a lease), run media::transcode_to_hls, store
// progress, and publish `video.progress` / `video.ready` / `video.failed` to the owner on the hub.

#include <filesystem>
#include <optional>
#include <string>

#include "files.hpp"
#include "model.hpp"
#include "reelhub/core/config.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/jobs/runner.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/hub.hpp"

namespace reelhub::videos {

/// The transcode job queue of this process: its workers, and what a transcode job does.
class TranscodeWorkers {
 public:
  /// Claims a job may use: one interrupted by a crash, or failed for a passing reason (the disk,
  /// the database), counts. A source that cannot be transcoded fails at once.
  static constexpr int kMaxAttempts = 2;

  TranscodeWorkers(const Config& config, db::Pool& db, ws::Hub& hub, metrics::Registry& metrics, VideoFiles& files);
  TranscodeWorkers(const TranscodeWorkers&) = delete;
  TranscodeWorkers& operator=(const TranscodeWorkers&) = delete;

  /// Starts transcode_workers threads (after migrations).
  void start();
  /// Makes the workers give their jobs back (so a restart resumes them at once) and exit; safe
  /// from any thread, never blocks.
  void request_stop();
  /// request_stop() and waits for the threads. The destructor stops them too.
  void stop();
  /// Tells an idle worker that a job is waiting.
  void wake();

 private:
  /// What the runner calls to claim, run, renew and settle transcode jobs.
  jobs::Handlers<Job> job_handlers();
  /// process(), with any failure that is not the source's turned into a reason fit for the owner.
  void run(const Job& job, jobs::Lease& lease);
  void process(const Job& job, jobs::Lease& lease);
  /// After a transcode stopped without the job being ours any more: when the video was deleted
  /// meanwhile, what the transcode wrote after the delete removed the directory must go too.
  void leave(const Job& job);
  void fail(const Job& job, const std::string& owner, const std::string& reason);
  void release(const Job& job, const std::string& owner, const std::optional<std::string>& reason);

  const Config& config_;
  db::Pool& db_;
  ws::Hub& hub_;
  metrics::Registry& metrics_;
  VideoFiles& files_;
  jobs::Runner<Job> runner_;  // last: its workers stop before what they use is destroyed
};

}  // namespace reelhub::videos
