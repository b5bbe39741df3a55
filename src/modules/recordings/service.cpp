#include "service.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "dto.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/files.hpp"
#include "reelhub/core/validation.hpp"
#include "reelhub/media/recording.hpp"
#include "repo.hpp"

namespace reelhub::recordings {
namespace {

constexpr int kWorkerNice = 10;  // live ingest and HTTP keep the CPU when a remux competes
constexpr int kThumbnailWidth = 640;
const std::array<std::string_view, 3> kStatuses = {"processing", "ready", "failed"};

[[noreturn]] void recording_not_found() { throw ApiError(ErrorCode::not_found, "Recording not found"); }

/// The stream id of a path, canonical; anything but a UUID names no recording.
std::string recording_ref(const std::string& stream_id) {
  auto canonical = canonical_uuid(stream_id);
  if (!canonical) recording_not_found();
  return *canonical;
}

std::string topic_of(const std::string& stream_id) { return "stream:" + stream_id; }

/// Names the calling thread (top -H, /proc) and lowers its CPU priority (Linux: setpriority on a
/// thread id is per thread).
void become_worker_thread() {
  ::pthread_setname_np(::pthread_self(), "recording");
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWorkerNice) != 0) {
    spdlog::warn("recordings: cannot lower the worker's priority: {}", std::strerror(errno));
  }
}

void remove_quietly(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) spdlog::warn("recordings: cannot remove {}: {}", path.string(), ec.message());
}

/// Removes a file unless it was handed on (renamed into place) first.
class TempFile {
 public:
  explicit TempFile(std::filesystem::path path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!path_.empty()) remove_quietly(path_);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void rename_to(const std::filesystem::path& target) {
    std::filesystem::rename(path_, target);
    path_.clear();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace

struct RecordingService::Job {
  repo::Claim claim;
};

RecordingService::RecordingService(db::Pool& db, ws::Hub& hub, std::filesystem::path media_root,
                                   RecordingOptions options)
    : db_(db), hub_(hub), media_root_(std::move(media_root)), options_(options) {}

RecordingService::~RecordingService() { stop(); }

void RecordingService::enqueue(const RecordingRequest& request) {
  const auto stream_id = canonical_uuid(request.stream_id);
  if (!stream_id) throw std::invalid_argument("recording of a stream id that is no UUID: " + request.stream_id);
  const bool inserted = db_.transact(
      [&](pqxx::work& tx) { return repo::insert(tx, *stream_id, request.user_id, request.username, request.title); });
  if (!inserted) return;  // the stream was stopped before: its recording exists
  spdlog::info("recordings: queued stream {}", *stream_id);
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

void RecordingService::start() {
  std::lock_guard lock(mutex_);
  if (!workers_.empty()) return;
  stopping_ = false;
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this, i] { work(i == 0); });
}

void RecordingService::stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    workers.swap(workers_);
  }
  wake_.notify_all();
  for (auto& worker : workers) worker.join();
}

void RecordingService::work(bool sweeps) {
  become_worker_thread();
  auto next_sweep = std::chrono::steady_clock::now();
  while (!stopping_) {
    bool busy = false;
    try {
      busy = run_one();
      if (sweeps && options_.live_retention.count() > 0 && std::chrono::steady_clock::now() >= next_sweep) {
        next_sweep = std::chrono::steady_clock::now() + options_.poll_interval;
        sweep_live_segments();
      }
    } catch (const std::exception& e) {
      // The database is down or a disk is full: try again at the next poll.
      spdlog::error("recordings: worker: {}", e.what());
    }
    if (busy) continue;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.poll_interval, [&] { return woken_ || stopping_; });
    woken_ = false;
  }
}

bool RecordingService::run_one() {
  const auto claim = db_.transact([&](pqxx::work& tx) { return repo::claim(tx, options_.lease); });
  if (!claim) return false;
  const std::string& id = claim->stream_id;
  auto fail = [&](const std::string& reason) {
    spdlog::error("recordings: stream {} failed: {}", id, reason);
    db_.transact([&](pqxx::work& tx) { repo::mark_failed(tx, id, reason); });
    hub_.publish(topic_of(id), "recording_failed", {{"stream_id", id}, {"status", "failed"}, {"reason", reason}});
  };
  if (claim->attempts > kMaxAttempts) {
    // Claimed that often without an outcome: its workers died on it (crash, OOM, SIGKILL).
    std::string reason = "processing was interrupted (its worker died); gave up after ";
    reason += std::to_string(claim->attempts - 1);
    reason += " attempts";
    if (claim->last_failure) reason += "; last error: " + *claim->last_failure;
    fail(reason);
    return true;
  }
  spdlog::info("recordings: processing stream {} (attempt {})", id, claim->attempts);
  try {
    process(Job{*claim});
  } catch (const media::Cancelled&) {
    spdlog::info("recordings: stream {} left for the next start", id);
    db_.transact([&](pqxx::work& tx) { repo::release(tx, id, std::nullopt); });
  } catch (const std::exception& e) {
    if (claim->attempts >= kMaxAttempts) {
      fail(e.what());
    } else {
      spdlog::warn("recordings: stream {} attempt {} failed, will retry: {}", id, claim->attempts, e.what());
      db_.transact([&](pqxx::work& tx) { repo::release(tx, id, std::string(e.what())); });
    }
  }
  return true;
}

void RecordingService::process(const Job& job) {
  const std::string& id = job.claim.stream_id;
  const auto dir = recording_dir(id);
  std::filesystem::create_directories(dir);
  const auto video = dir / "video.mp4";
  // Written under a unique name and renamed into place: a player never gets half an MP4, and a
  // worker wrongly taken for dead cannot tear the file another one is writing.
  TempFile part(temp_path_beside(video));
  const auto result = media::remux_segments_to_mp4(media::ordered_segments(live_dir(id)), part.path(),
                                                   [this] { return stopping_.load(); });
  part.rename_to(video);

  bool has_thumbnail = false;
  try {
    write_file_atomically(dir / "thumbnail.jpg",
                          media::thumbnail_from_keyframe(video, result.duration_seconds / 2, kThumbnailWidth));
    has_thumbnail = true;
  } catch (const std::exception& e) {
    // The video plays without it; the recording is still worth having.
    spdlog::warn("recordings: no thumbnail for stream {}: {}", id, e.what());
  }
  const auto size = static_cast<std::int64_t>(std::filesystem::file_size(video));
  const bool kept = db_.transact(
      [&](pqxx::work& tx) { return repo::mark_ready(tx, id, result.duration_seconds, size, has_thumbnail); });
  if (!kept) {
    spdlog::info("recordings: stream {} was deleted while processing", id);
    remove_quietly(dir);
    return;
  }
  spdlog::info("recordings: stream {} ready: {:.1f} s, {} bytes, {} segments ({} skipped)", id,
               result.duration_seconds, size, result.segments_used, result.segments_skipped);
  hub_.publish(topic_of(id), "recording_ready", ready_event_json(get(id)));
  if (options_.live_retention.count() == 0) {
    remove_quietly(live_dir(id));
    db_.transact([&](pqxx::work& tx) { repo::mark_live_removed(tx, id); });
  }
}

void RecordingService::sweep_live_segments() {
  const auto due = db_.transact([&](pqxx::work& tx) { return repo::live_due(tx, options_.live_retention); });
  for (const auto& id : due) {
    remove_quietly(live_dir(id));
    db_.transact([&](pqxx::work& tx) { repo::mark_live_removed(tx, id); });
  }
}

std::filesystem::path RecordingService::recording_dir(const std::string& stream_id) const {
  return media_root_ / "recordings" / stream_id;
}

std::filesystem::path RecordingService::live_dir(const std::string& stream_id) const {
  return media_root_ / "live" / stream_id;
}

Recording RecordingService::get(const std::string& stream_id) {
  const std::string id = recording_ref(stream_id);
  auto recording = db_.transact([&](pqxx::work& tx) { return repo::find(tx, id); });
  if (!recording) recording_not_found();
  return *recording;
}

RecordingPage RecordingService::list(const RecordingFilter& filter) {
  if (filter.status && std::find(kStatuses.begin(), kStatuses.end(), *filter.status) == kStatuses.end()) {
    throw ApiError(ErrorCode::validation_failed, "Invalid query",
                   {{"status", {"must be one of processing, ready, failed"}}});
  }
  return db_.transact([&](pqxx::work& tx) {
    return RecordingPage{.recordings = repo::list(tx, filter.user_id, filter.status, filter.limit, filter.offset),
                         .total = repo::count(tx, filter.user_id, filter.status),
                         .limit = filter.limit,
                         .offset = filter.offset};
  });
}

Recording RecordingService::require_ready(const std::string& stream_id) {
  Recording recording = get(stream_id);
  if (recording.status != "ready") throw ApiError(ErrorCode::not_found, "Recording is not ready");
  return recording;
}

std::filesystem::path RecordingService::video_path(const std::string& stream_id) {
  return recording_dir(require_ready(stream_id).stream_id) / "video.mp4";
}

std::filesystem::path RecordingService::thumbnail_path(const std::string& stream_id) {
  const Recording recording = require_ready(stream_id);
  if (!recording.has_thumbnail) throw ApiError(ErrorCode::not_found, "Recording has no thumbnail");
  return recording_dir(recording.stream_id) / "thumbnail.jpg";
}

std::string RecordingService::remove(const http::AuthUser& caller, const std::string& stream_id) {
  const std::string id = recording_ref(stream_id);
  db_.transact([&](pqxx::work& tx) {
    const auto recording = repo::find(tx, id);
    if (!recording) recording_not_found();
    if (recording->user_id != caller.id && caller.role != http::Role::admin) {
      throw ApiError(ErrorCode::forbidden, "Only the owner or an admin may delete this recording");
    }
    repo::remove(tx, id);
  });
  // After the commit: a worker still processing it finds the row gone and removes its output.
  remove_quietly(recording_dir(id));
  remove_quietly(live_dir(id));
  return id;
}

}  // namespace reelhub::recordings
