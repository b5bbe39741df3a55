#include "worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "reelhub/media/transcode.hpp"
#include "repo.hpp"

namespace reelhub::videos {
namespace {

namespace fs = std::filesystem;

/// How often an idle worker looks for jobs whose lease ran out (uploads wake it at once).
constexpr auto kPollInterval = std::chrono::seconds(1);
/// Progress is stored at most this often (each store also renews the lease).
constexpr auto kProgressWriteInterval = std::chrono::seconds(1);
/// The reason the owner reads when a transcode stopped for a cause of the server's (the disk,
/// the database, a bug) rather than of the source; the exception's own text, which may name
/// server paths, goes to the log only.
constexpr const char* kServerFailure = "the video could not be processed because of a server error";

/// Bytes of the files under a video's directory but its source: what stays once the source goes.
std::int64_t renditions_size(const fs::path& dir) {
  std::uintmax_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path() != dir / "source") bytes += entry.file_size();
  }
  return static_cast<std::int64_t>(bytes);
}

}  // namespace

TranscodeWorkers::TranscodeWorkers(const Config& config, db::Pool& db, ws::Hub& hub, metrics::Registry& metrics,
                                   VideoFiles& files)
    : config_(config),
      db_(db),
      hub_(hub),
      metrics_(metrics),
      files_(files),
      runner_({.name = "transcode",
               .workers = config.transcode_workers,
               .nice = config.transcode_nice,
               .lease = std::chrono::seconds(config.transcode_lease_seconds),
               .poll_interval = kPollInterval,
               .max_attempts = kMaxAttempts},
              job_handlers()) {
  metrics_.describe("reelhub_transcode_jobs_total", "counter", "Finished transcode jobs by result");
  metrics_.describe("reelhub_transcode_queue_depth", "gauge", "Videos waiting for or in a transcode");
  metrics_.describe("reelhub_transcode_duration_seconds", "histogram", "Wall time of successful transcodes",
                    {5, 15, 30, 60, 120, 300, 600, 1800, 3600});
}

jobs::Handlers<Job> TranscodeWorkers::job_handlers() {
  return {
      .claim =
          [this](const std::string& owner, std::chrono::seconds lease) {
            return db_.transact([&](pqxx::work& tx) {
              metrics_.set("reelhub_transcode_queue_depth", {}, static_cast<double>(repo::queue_depth(tx)));
              return repo::claim_job(tx, owner, static_cast<int>(lease.count()));
            });
          },
      .renew =
          [this](const Job& job, const std::string& owner, std::chrono::seconds lease) {
            return db_.transact([&](pqxx::work& tx) {
              return repo::renew_job(tx, job.video_id, owner, static_cast<int>(lease.count()), std::nullopt);
            });
          },
      .run = [this](const Job& job, jobs::Lease& lease) { run(job, lease); },
      .fail = [this](const Job& job, const std::string& owner, const std::string& reason) { fail(job, owner, reason); },
      .release = [this](const Job& job, const std::string& owner,
                        const std::optional<std::string>& reason) { release(job, owner, reason); },
  };
}

void TranscodeWorkers::start() { runner_.start(); }

void TranscodeWorkers::request_stop() { runner_.request_stop(); }

void TranscodeWorkers::stop() { runner_.stop(); }

void TranscodeWorkers::wake() { runner_.wake(); }

void TranscodeWorkers::fail(const Job& job, const std::string& owner, const std::string& reason) {
  spdlog::warn("video {} failed: {}", job.video_id, reason);
  metrics_.inc("reelhub_transcode_jobs_total", {{"result", "failed"}});
  if (!db_.transact([&](pqxx::work& tx) { return repo::fail_job(tx, job.video_id, owner, reason); })) return;
  // Nothing of a failed video is ever served; the row keeps the reason.
  files_.remove(job.video_id);
  hub_.send_to_user(job.owner_id, "video.failed", {{"video_id", job.video_id}, {"reason", reason}});
}

void TranscodeWorkers::release(const Job& job, const std::string& owner, const std::optional<std::string>& reason) {
  const bool failed = reason.has_value();
  if (!db_.transact([&](pqxx::work& tx) { return repo::release_job(tx, job.video_id, owner, failed); })) return;
  files_.drop_work(job.video_id);
  if (failed) {
    spdlog::warn("video {}: transcode attempt {} failed, will retry: {}", job.video_id, job.attempts, *reason);
  } else {
    spdlog::info("video {}: transcode given back for the next start", job.video_id);
  }
}

void TranscodeWorkers::leave(const Job& job) {
  // Another worker took the job over and owns the stored files now; on object storage what
  // this one downloaded and wrote locally is nobody's.
  if (db_.transact([&](pqxx::work& tx) { return repo::video_exists(tx, job.video_id); })) {
    files_.drop_work(job.video_id);
    return;
  }
  files_.remove(job.video_id);
}

void TranscodeWorkers::run(const Job& job, jobs::Lease& lease) {
  // What a job throws becomes its stored (and published) reason: only reasons written for the
  // owner pass through.
  try {
    process(job, lease);
  } catch (const jobs::PermanentError&) {
    throw;
  } catch (const media::TranscodeCancelled&) {
    throw;
  } catch (const std::exception& e) {
    spdlog::warn("video {}: transcode attempt {} failed: {}", job.video_id, job.attempts, e.what());
    throw std::runtime_error(kServerFailure);
  }
}

void TranscodeWorkers::process(const Job& job, jobs::Lease& lease) {
  if (!files_.fetch_source(job.video_id)) throw jobs::PermanentError("the uploaded file is missing");
  const fs::path dir = files_.work_dir(job.video_id);
  const fs::path source = dir / "source";
  spdlog::info("transcoding video {} (attempt {})", job.video_id, job.attempts);
  const auto started = std::chrono::steady_clock::now();
  auto last_write = started;
  int last_percent = 0;
  const media::ProgressFn progress = [&](double fraction) {
    if (!lease.keep_alive()) return false;
    const auto now = std::chrono::steady_clock::now();
    // At most 99 until the row says ready, so a client never sees 100 on a processing video.
    const int percent = std::min(99, static_cast<int>(fraction * 100));
    if (percent == last_percent || now - last_write < kProgressWriteInterval) return true;
    last_write = now;
    const bool ours = db_.transact([&](pqxx::work& tx) {
      return repo::renew_job(tx, job.video_id, lease.owner(), config_.transcode_lease_seconds, percent);
    });
    if (!ours) return false;  // deleted meanwhile, or taken over: stop working on it
    last_percent = percent;
    hub_.send_to_user(job.owner_id, "video.progress", {{"video_id", job.video_id}, {"progress_percent", percent}});
    return true;
  };
  const media::TranscodeOptions options{.segment_seconds = config_.transcode_segment_seconds,
                                        .threads = config_.transcode_threads,
                                        .preset = config_.transcode_preset,
                                        .max_seconds = static_cast<double>(config_.upload_max_duration_seconds),
                                        .max_pixels = config_.upload_max_pixels};
  const media::TranscodeResult result = [&] {
    try {
      return media::transcode_to_hls(source, dir, options, progress);
    } catch (const media::TranscodeCancelled&) {
      if (!lease.stopping()) leave(job);
      throw;  // the runner gives the job back when it is stopping
    } catch (const media::TranscodeError& e) {
      spdlog::warn("video {}: {}", job.video_id, e.detail());
      throw jobs::PermanentError(e.what());  // the same source fails the same way again
    }
  }();
  std::vector<std::string> variants;
  for (const auto& v : result.variants) variants.push_back(v.name);
  const std::int64_t storage_bytes = renditions_size(dir);
  files_.publish(job.video_id);
  const bool ours = db_.transact([&](pqxx::work& tx) {
    return repo::finish_job(tx, job.video_id, lease.owner(), result.duration_seconds, result.width, result.height,
                            variants, storage_bytes);
  });
  if (!ours) {
    leave(job);  // deleted meanwhile: what publish() stored after the delete must go too
    return;
  }
  files_.drop_source(job.video_id);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.inc("reelhub_transcode_jobs_total", {{"result", "ready"}});
  metrics_.observe("reelhub_transcode_duration_seconds", {}, seconds);
  spdlog::info("video {} ready in {:.1f} s ({:.1f} s of video)", job.video_id, seconds, result.duration_seconds);
  hub_.send_to_user(job.owner_id, "video.ready",
                    {{"video_id", job.video_id}, {"variants", variants}, {"duration_seconds", result.duration_seconds}});
}

}  // namespace reelhub::videos
