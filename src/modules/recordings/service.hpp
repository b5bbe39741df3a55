#pragma once
// Rules of the recordings module: a stopped live stream becomes one recording (VOD), produced by
// worker threads from the stream's live segments; who may read and delete recordings; what is
// published on the hub's `stream:<id>` topics when one is ready or failed.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "model.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/auth/identity.hpp"
#include "reelhub/jobs/runner.hpp"
#include "reelhub/storage/object_store.hpp"
#include "reelhub/ws/hub.hpp"
#include "repo.hpp"

namespace reelhub::recordings {

/// What the streams module hands over when a stream stops.
struct RecordingRequest {
  std::string stream_id;  // uuid
  std::int64_t user_id = 0;
  std::string title;
  std::string username;  // the owner's, shown with the recording
};

struct RecordingOptions {
  int workers = 1;
  /// How long live segments stay on disk after their recording is ready (0 = removed at once).
  std::chrono::seconds live_retention{0};
  /// How long a claimed job is its worker's without a renewal (a remux renews it every third of
  /// it). Past it, the worker is taken for dead and another claims the job.
  std::chrono::seconds lease{600};
  /// How often an idle worker looks for jobs other instances enqueued and sweeps old segments.
  std::chrono::milliseconds poll_interval{5000};
};

struct RecordingFilter {
  std::optional<std::int64_t> user_id{};
  std::optional<std::string> status{};  // processing | ready | failed
  std::int64_t limit = 50;
  std::int64_t offset = 0;
};

/// Jobs and reads of recordings. Processing runs on its own threads at a lower CPU priority
/// than live ingest; the HTTP handlers only read rows and files. A recording is made from the
/// live segments under media_root in <media_root>/recordings/<stream id>/, which with the local
/// backend is where its objects `recordings/<stream id>/video.mp4` and `thumbnail.jpg` are; with
/// object storage both are uploaded before the row says ready and the directory goes.
class RecordingService {
 public:
  /// Claims before a job is failed for good: a failure or a crash counts as one.
  static constexpr int kMaxAttempts = 2;

  RecordingService(db::Pool& db, ws::Hub& hub, std::filesystem::path media_root, storage::ObjectStore& store,
                   RecordingOptions options);
  RecordingService(const RecordingService&) = delete;
  RecordingService& operator=(const RecordingService&) = delete;

  /// Idempotent per stream_id: stores the recording (status "processing") and its job in PostgreSQL
  /// in one transaction, then wakes the worker. A second call for the same stream does nothing.
  void enqueue(const RecordingRequest& request);
  /// Starts the worker thread(s); jobs left unfinished by a previous process (crash/restart) are resumed.
  void start();
  /// Stops the workers; a remux in progress is abandoned and its job left for the next start
  /// (the interrupted claim is not counted). The destructor stops them too.
  void stop();

  /// 404 for an unknown stream id (or one that is no UUID).
  Recording get(const std::string& stream_id);
  /// Newest first. 422 for an unknown status.
  RecordingPage list(const RecordingFilter& filter);
  /// The object keys of the MP4 / JPEG of a ready recording; 404 until it is ready.
  std::string video_key(const std::string& stream_id);
  std::string thumbnail_key(const std::string& stream_id);
  /// Deletes the recording, its files and any live segments left. Owner or admin (403), 404 unknown.
  /// Returns the canonical stream id.
  std::string remove(const auth::AuthUser& caller, const std::string& stream_id);

 private:
  /// What the runner calls to claim, run, renew and settle this module's jobs.
  jobs::Handlers<repo::Claim> job_handlers();
  void process(const repo::Claim& job, jobs::Lease& lease);
  /// After the job was found no longer ours: removes what this worker wrote when the recording
  /// was deleted meanwhile (another worker that took it over owns the files otherwise).
  void leave(const std::string& stream_id);
  void fail(const repo::Claim& job, const std::string& owner, const std::string& reason);
  void release(const repo::Claim& job, const std::string& owner, const std::optional<std::string>& reason);
  void sweep_live_segments();
  std::filesystem::path recording_dir(const std::string& stream_id) const;
  /// The recording's directory and, with object storage, its objects. Never throws.
  void remove_output(const std::string& stream_id);
  std::filesystem::path live_dir(const std::string& stream_id) const;
  Recording require_ready(const std::string& stream_id);

  db::Pool& db_;
  ws::Hub& hub_;
  std::filesystem::path media_root_;
  storage::ObjectStore& store_;
  RecordingOptions options_;
  jobs::Runner<repo::Claim> runner_;  // last: its workers stop before what they use is destroyed
};

}  // namespace reelhub::recordings
