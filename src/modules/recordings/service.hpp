#pragma once
// Rules of the recordings module: a stopped live stream becomes one recording (VOD), produced by
// worker threads from the stream's live segments; who may read and delete recordings; what is
// published on the hub's `stream:<id>` topics when one is ready or failed.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "model.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/http/message.hpp"
#include "reelhub/ws/hub.hpp"

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
  /// How long a claimed job is its worker's. Past it, the worker is taken for dead and another
  /// claims the job: keep it above the longest remux (minutes for hours of video).
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

struct RecordingPage {
  std::vector<Recording> recordings{};
  std::int64_t total = 0;
  std::int64_t limit = 0;
  std::int64_t offset = 0;
};

/// Jobs and reads of recordings. Processing runs on its own threads at a lower CPU priority
/// than live ingest; the HTTP handlers only read rows and files.
class RecordingService {
 public:
  /// Claims before a job is failed for good: a failure or a crash counts as one.
  static constexpr int kMaxAttempts = 2;

  RecordingService(db::Pool& db, ws::Hub& hub, std::filesystem::path media_root, RecordingOptions options);
  ~RecordingService();  // stops the worker
  RecordingService(const RecordingService&) = delete;
  RecordingService& operator=(const RecordingService&) = delete;

  /// Idempotent per stream_id: stores the recording (status "processing") and its job in PostgreSQL
  /// in one transaction, then wakes the worker. A second call for the same stream does nothing.
  void enqueue(const RecordingRequest& request);
  /// Starts the worker thread(s); jobs left unfinished by a previous process (crash/restart) are resumed.
  void start();
  /// Stops the workers; a remux in progress is abandoned and its job left for the next start
  /// (the interrupted claim is not counted).
  void stop();

  /// 404 for an unknown stream id (or one that is no UUID).
  Recording get(const std::string& stream_id);
  /// Newest first. 422 for an unknown status.
  RecordingPage list(const RecordingFilter& filter);
  /// The MP4 / JPEG of a ready recording; 404 until it is ready.
  std::filesystem::path video_path(const std::string& stream_id);
  std::filesystem::path thumbnail_path(const std::string& stream_id);
  /// Deletes the recording, its files and any live segments left. Owner or admin (403), 404 unknown.
  /// Returns the canonical stream id.
  std::string remove(const http::AuthUser& caller, const std::string& stream_id);

 private:
  struct Job;
  void work(bool sweeps);  // `sweeps`: this worker also removes old live segments
  /// Claims and processes one job; false when none was claimable.
  bool run_one();
  void process(const Job& job);
  void sweep_live_segments();
  std::filesystem::path recording_dir(const std::string& stream_id) const;
  std::filesystem::path live_dir(const std::string& stream_id) const;
  Recording require_ready(const std::string& stream_id);

  db::Pool& db_;
  ws::Hub& hub_;
  std::filesystem::path media_root_;
  RecordingOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;  // guarded by mutex_: a job was enqueued since a worker last looked
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> workers_;
};

}  // namespace reelhub::recordings
