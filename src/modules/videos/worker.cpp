#include "worker.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/media/transcode.hpp"
#include "repo.hpp"

namespace reelhub::videos {
namespace {

namespace fs = std::filesystem;

/// How often an idle worker looks for jobs whose lease ran out (uploads wake it at once).
constexpr auto kPollInterval = std::chrono::seconds(1);
/// Progress is stored at most this often (each store also renews the lease).
constexpr auto kProgressWriteInterval = std::chrono::seconds(1);

}  // namespace

TranscodeWorkers::TranscodeWorkers(const Config& config, db::Pool& db, ws::Hub& hub, metrics::Registry& metrics,
                                   const std::filesystem::path& media_root)
    : config_(config),
      db_(db),
      hub_(hub),
      metrics_(metrics),
      videos_dir_(media_root / "videos"),
      worker_id_(std::to_string(::getpid()) + "-" + random_hex(8)) {
  metrics_.describe("reelhub_transcode_jobs_total", "counter", "Finished transcode jobs by result");
  metrics_.describe("reelhub_transcode_queue_depth", "gauge", "Videos waiting for or in a transcode");
  metrics_.describe("reelhub_transcode_duration_seconds", "histogram", "Wall time of successful transcodes",
                    {5, 15, 30, 60, 120, 300, 600, 1800, 3600});
}

TranscodeWorkers::~TranscodeWorkers() { stop(); }

void TranscodeWorkers::start() {
  for (int i = 0; i < config_.transcode_workers; ++i) threads_.emplace_back([this] { run(); });
}

void TranscodeWorkers::request_stop() {
  stopping_ = true;
  wakeup_.notify_all();
}

void TranscodeWorkers::stop() {
  request_stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void TranscodeWorkers::wake() {
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  wakeup_.notify_one();
}

void TranscodeWorkers::run() {
  // Live ingest and HTTP come first: the nice value is per thread on Linux, and the threads
  // libx264 starts inherit it.
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), config_.transcode_nice) != 0) {
    spdlog::warn("transcode worker cannot lower its priority: {}", std::strerror(errno));
  }
  while (!stopping_) {
    std::optional<Job> job;
    try {
      job = db_.transact([&](pqxx::work& tx) {
        metrics_.set("reelhub_transcode_queue_depth", {}, static_cast<double>(repo::queue_depth(tx)));
        return repo::claim_job(tx, worker_id_, config_.transcode_lease_seconds);
      });
      if (job) {
        process(*job);
        continue;
      }
    } catch (const std::exception& e) {
      // A worker thread never dies: the job's lease runs out and it is claimed again.
      spdlog::warn("transcode worker: {}", e.what());
    }
    std::unique_lock lock(mutex_);
    wakeup_.wait_for(lock, kPollInterval, [this] { return pending_ || stopping_.load(); });
    pending_ = false;
  }
}

void TranscodeWorkers::fail(const Job& job, const std::string& reason) {
  spdlog::warn("video {} failed: {}", job.video_id, reason);
  metrics_.inc("reelhub_transcode_jobs_total", {{"result", "failed"}});
  try {
    const bool ours = db_.transact([&](pqxx::work& tx) { return repo::fail_job(tx, job.video_id, worker_id_, reason); });
    if (!ours) return;
  } catch (const std::exception& e) {
    spdlog::warn("video {}: cannot store the failure ({}); the job will be retried", job.video_id, e.what());
    return;
  }
  // Nothing of a failed video is ever served; the row keeps the reason.
  std::error_code ignored;
  fs::remove_all(videos_dir_ / job.video_id, ignored);
  hub_.send_to_user(job.owner_id, "video.failed", {{"video_id", job.video_id}, {"reason", reason}});
}

void TranscodeWorkers::process(const Job& job) {
  if (job.attempts > kMaxAttempts) {
    fail(job, "transcoding was interrupted " + std::to_string(job.attempts - 1) +
                  " times (the server stopped or crashed during it)");
    return;
  }
  const fs::path dir = videos_dir_ / job.video_id;
  const fs::path source = dir / "source";
  if (!fs::exists(source)) {
    fail(job, "the uploaded file is missing");
    return;
  }
  spdlog::info("transcoding video {} (attempt {})", job.video_id, job.attempts);
  const auto started = std::chrono::steady_clock::now();
  auto last_write = started;
  int last_percent = 0;
  const media::ProgressFn progress = [&](double fraction) {
    if (stopping_) return false;
    const auto now = std::chrono::steady_clock::now();
    // At most 99 until the row says ready, so a client never sees 100 on a processing video.
    const int percent = std::min(99, static_cast<int>(fraction * 100));
    const bool lease_due = now - last_write >= std::chrono::seconds(config_.transcode_lease_seconds) / 3;
    if (!lease_due && (percent == last_percent || now - last_write < kProgressWriteInterval)) return true;
    last_write = now;
    const bool ours = db_.transact([&](pqxx::work& tx) {
      return repo::renew_job(tx, job.video_id, worker_id_, config_.transcode_lease_seconds, percent);
    });
    if (!ours) return false;  // deleted meanwhile, or taken over: stop working on it
    if (percent != last_percent) {
      last_percent = percent;
      hub_.send_to_user(job.owner_id, "video.progress", {{"video_id", job.video_id}, {"progress_percent", percent}});
    }
    return true;
  };
  const media::TranscodeOptions options{.segment_seconds = config_.transcode_segment_seconds,
                                        .threads = config_.transcode_threads,
                                        .preset = config_.transcode_preset};
  try {
    const media::TranscodeResult result = media::transcode_to_hls(source, dir, options, progress);
    std::vector<std::string> variants;
    for (const auto& v : result.variants) variants.push_back(v.name);
    const bool ours = db_.transact([&](pqxx::work& tx) {
      return repo::finish_job(tx, job.video_id, worker_id_, result.duration_seconds, result.width, result.height,
                              variants);
    });
    if (!ours) return;
    std::error_code ignored;
    fs::remove(source, ignored);  // the renditions are what is served; the original is not kept
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_.inc("reelhub_transcode_jobs_total", {{"result", "ready"}});
    metrics_.observe("reelhub_transcode_duration_seconds", {}, seconds);
    spdlog::info("video {} ready in {:.1f} s ({:.1f} s of video)", job.video_id, seconds, result.duration_seconds);
    hub_.send_to_user(job.owner_id, "video.ready",
                      {{"video_id", job.video_id}, {"variants", variants}, {"duration_seconds", result.duration_seconds}});
  } catch (const media::TranscodeCancelled&) {
    if (!stopping_) {
      // Deleted meanwhile: what this transcode wrote after the delete removed the directory
      // must go too. (Otherwise another worker took the job over and owns the files now.)
      const bool exists = db_.transact([&](pqxx::work& tx) { return repo::video_exists(tx, job.video_id); });
      std::error_code ignored;
      if (!exists) fs::remove_all(dir, ignored);
      return;
    }
    try {
      db_.transact([&](pqxx::work& tx) { repo::release_job(tx, job.video_id, worker_id_); });
      spdlog::info("video {}: transcode given back for the next start", job.video_id);
    } catch (const std::exception& e) {
      spdlog::warn("video {}: cannot give the job back ({}); it resumes when its lease runs out", job.video_id, e.what());
    }
  } catch (const ApiError& e) {
    // The database went away mid-job: the lease runs out and the job is resumed then.
    spdlog::warn("video {}: transcode abandoned: {}", job.video_id, e.what());
  } catch (const pqxx::failure& e) {
    spdlog::warn("video {}: transcode abandoned: {}", job.video_id, e.what());
  } catch (const std::exception& e) {
    fail(job, e.what());
  }
}

}  // namespace reelhub::videos
