#include "service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

#include "dto.hpp"
#include "modules/kit/ids.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/files.hpp"
#include "reelhub/core/validation.hpp"
#include "reelhub/media/live_playlist.hpp"
#include "reelhub/media/recording.hpp"
#include "repo.hpp"

namespace reelhub::recordings {
namespace {

constexpr int kWorkerNice = 10;  // live ingest and HTTP keep the CPU when a remux competes
constexpr int kThumbnailWidth = 640;
const std::array<std::string_view, 3> kStatuses = {"processing", "ready", "failed"};

[[noreturn]] void recording_not_found() { throw ApiError(ErrorCode::not_found, "Recording not found"); }

/// The stream id of a path, canonical; anything but a UUID names no recording.
std::string recording_ref(const std::string& stream_id) { return modules::require_uuid(stream_id, "Recording not found"); }

std::string topic_of(const std::string& stream_id) { return "stream:" + stream_id; }

std::string key_of(const std::string& stream_id, const char* name) { return "recordings/" + stream_id + "/" + name; }

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

RecordingService::RecordingService(db::Pool& db, ws::Hub& hub, std::filesystem::path media_root,
                                   storage::ObjectStore& store, RecordingOptions options)
    : db_(db),
      hub_(hub),
      media_root_(std::move(media_root)),
      store_(store),
      options_(options),
      runner_({.name = "recording",
               .workers = std::max(1, options.workers),
               .nice = kWorkerNice,
               .lease = options.lease,
               .poll_interval = options.poll_interval,
               .max_attempts = kMaxAttempts},
              job_handlers()) {}

jobs::Handlers<repo::Claim> RecordingService::job_handlers() {
  jobs::Handlers<repo::Claim> handlers{
      .claim =
          [this](const std::string& owner, std::chrono::seconds lease) {
            return db_.transact([&](pqxx::work& tx) { return repo::claim(tx, owner, lease); });
          },
      .renew =
          [this](const repo::Claim& job, const std::string& owner, std::chrono::seconds lease) {
            return db_.transact([&](pqxx::work& tx) { return repo::renew(tx, job.stream_id, owner, lease); });
          },
      .run = [this](const repo::Claim& job, jobs::Lease& lease) { process(job, lease); },
      .fail = [this](const repo::Claim& job, const std::string& owner,
                     const std::string& reason) { fail(job, owner, reason); },
      .release = [this](const repo::Claim& job, const std::string& owner,
                        const std::optional<std::string>& reason) { release(job, owner, reason); },
  };
  // Without a retention, segments are removed as soon as their recording is ready.
  if (options_.live_retention.count() > 0) handlers.housekeeping = [this] { sweep_live_segments(); };
  return handlers;
}

void RecordingService::enqueue(const RecordingRequest& request) {
  const auto stream_id = canonical_uuid(request.stream_id);
  if (!stream_id) throw std::invalid_argument("recording of a stream id that is no UUID: " + request.stream_id);
  const bool inserted = db_.transact(
      [&](pqxx::work& tx) { return repo::insert(tx, *stream_id, request.user_id, request.username, request.title); });
  if (!inserted) return;  // the stream was stopped before: its recording exists
  spdlog::info("recordings: queued stream {}", *stream_id);
  runner_.wake();
}

void RecordingService::start() { runner_.start(); }

void RecordingService::stop() { runner_.stop(); }

void RecordingService::fail(const repo::Claim& job, const std::string& owner, const std::string& reason) {
  const std::string& id = job.stream_id;
  if (!db_.transact([&](pqxx::work& tx) { return repo::mark_failed(tx, id, owner, reason); })) return;
  spdlog::error("recordings: stream {} failed: {}", id, reason);
  hub_.publish(topic_of(id), "recording_failed", {{"stream_id", id}, {"status", "failed"}, {"reason", reason}});
}

void RecordingService::release(const repo::Claim& job, const std::string& owner,
                               const std::optional<std::string>& reason) {
  const std::string& id = job.stream_id;
  if (!db_.transact([&](pqxx::work& tx) { return repo::release(tx, id, owner, reason); })) return;
  if (reason) {
    spdlog::warn("recordings: stream {} attempt {} failed, will retry: {}", id, job.attempts, *reason);
  } else {
    spdlog::info("recordings: stream {} left for the next start", id);
  }
}

void RecordingService::leave(const std::string& stream_id) {
  if (db_.transact([&](pqxx::work& tx) { return repo::find(tx, stream_id).has_value(); })) {
    spdlog::info("recordings: stream {} was taken over by another worker", stream_id);
    return;
  }
  spdlog::info("recordings: stream {} was deleted while processing", stream_id);
  remove_output(stream_id);
}

void RecordingService::process(const repo::Claim& job, jobs::Lease& lease) {
  const std::string& id = job.stream_id;
  spdlog::info("recordings: processing stream {} (attempt {})", id, job.attempts);
  const auto dir = recording_dir(id);
  std::filesystem::create_directories(dir);
  const auto video = dir / "video.mp4";
  // Written under a unique name and renamed into place: a player never gets half an MP4, and a
  // worker wrongly taken for dead cannot tear the file another one is writing.
  TempFile part(temp_path_beside(video));
  const auto result = [&] {
    try {
      // Each packet renews the lease when due: a remux of hours of video outlasts any lease.
      return media::remux_segments_to_mp4(media::ordered_segments(live_dir(id)), part.path(),
                                          [&lease] { return !lease.keep_alive(); });
    } catch (const media::Cancelled&) {
      if (lease.lost()) leave(id);
      throw;  // the runner gives the job back when it is stopping
    }
  }();
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
  // With object storage the files are uploaded before the row says ready (a large MP4 as a
  // multipart upload), so any instance serves them from then on.
  if (!store_.local_file(key_of(id, "video.mp4"))) {
    store_.put_file(key_of(id, "video.mp4"), video);
    if (has_thumbnail) store_.put_file(key_of(id, "thumbnail.jpg"), dir / "thumbnail.jpg");
    remove_quietly(dir);
  }
  const bool kept = db_.transact([&](pqxx::work& tx) {
    return repo::mark_ready(tx, id, lease.owner(), result.duration_seconds, size, has_thumbnail);
  });
  if (!kept) {
    leave(id);
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

void RecordingService::remove_output(const std::string& stream_id) {
  remove_quietly(recording_dir(stream_id));
  if (store_.local_file(key_of(stream_id, "video.mp4"))) return;
  try {
    storage::remove_prefix(store_, "recordings/" + stream_id + "/");
  } catch (const std::exception& e) {
    spdlog::warn("recordings: stream {}: its stored objects could not be removed: {}", stream_id, e.what());
  }
}

std::filesystem::path RecordingService::live_dir(const std::string& stream_id) const {
  return media::live_dir(media_root_, stream_id);
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

std::string RecordingService::video_key(const std::string& stream_id) {
  return key_of(require_ready(stream_id).stream_id, "video.mp4");
}

std::string RecordingService::thumbnail_key(const std::string& stream_id) {
  const Recording recording = require_ready(stream_id);
  if (!recording.has_thumbnail) throw ApiError(ErrorCode::not_found, "Recording has no thumbnail");
  return key_of(recording.stream_id, "thumbnail.jpg");
}

std::string RecordingService::remove(const auth::AuthUser& caller, const std::string& stream_id) {
  const std::string id = recording_ref(stream_id);
  db_.transact([&](pqxx::work& tx) {
    const auto recording = repo::find(tx, id);
    if (!recording) recording_not_found();
    if (recording->user_id != caller.id && caller.role != auth::Role::admin) {
      throw ApiError(ErrorCode::forbidden, "Only the owner or an admin may delete this recording");
    }
    repo::remove(tx, id);
  });
  // After the commit: a worker still processing it finds the row gone and removes its output.
  remove_output(id);
  remove_quietly(live_dir(id));
  return id;
}

}  // namespace reelhub::recordings
