#pragma once
// Rules of the videos module: who sees which video, uploads (probing, storage), deletion, the
// feed, likes, comments, views, and which files of a video may be served over HLS.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "files.hpp"
#include "model.hpp"
#include "modules/users/accounts.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/auth/identity.hpp"
#include "reelhub/core/config.hpp"

namespace reelhub::videos {

/// An upload as the routes parsed it: `source` is the file part, already on disk.
struct NewVideo {
  std::string title;
  std::string description;
  std::filesystem::path source;
};

/// What one upload may be and what one user may store (upload_* config keys).
struct UploadLimits {
  std::uint64_t quota_bytes = 0;  // all of a user's videos
  int max_duration_seconds = 0;
  std::int64_t max_pixels = 0;  // width x height as displayed
};
UploadLimits upload_limits(const Config& config);

/// Which file of a video's HLS directory a request names.
enum class HlsFile { master, best_playlist, thumbnail, preview, in_variant };

class VideoService {
 public:
  static constexpr std::size_t kMaxTitle = 200;         // code points
  static constexpr std::size_t kMaxDescription = 5000;  // code points
  static constexpr std::size_t kMaxComment = 2000;      // code points

  /// `on_uploaded` wakes the transcode workers.
  VideoService(db::Pool& db, VideoFiles& files, UploadLimits limits, std::function<void()> on_uploaded);

  /// Probes the source (415 when it is no video; 422 `duration_exceeded` / `resolution_exceeded`
  /// past the limits), checks the owner's quota (413 `storage_quota_exceeded`), stores the row
  /// and moves the source into the video's directory, where a transcode worker finds it.
  Video upload(const auth::AuthUser& caller, const NewVideo& video);
  /// Ready videos to anyone; processing and failed ones only to their owner (and admins).
  Video get(const std::optional<auth::AuthUser>& caller, const std::string& id);
  /// Owner or admin: the row, its likes, comments, views, and every file.
  void remove(const auth::AuthUser& caller, const std::string& id);
  /// Ready videos newest first, without the owners the caller blocked. 422 for a bad cursor.
  VideoPage feed(const std::optional<auth::AuthUser>& caller, const std::optional<std::string>& cursor,
                 std::int64_t limit);
  /// Idempotent; only ready videos.
  LikeState like(const auth::AuthUser& caller, const std::string& id);
  LikeState unlike(const auth::AuthUser& caller, const std::string& id);
  /// 422 for empty, too long or control characters.
  Comment add_comment(const auth::AuthUser& caller, const std::string& id, const std::string& text);
  CommentPage comments(const std::string& id, const std::optional<std::string>& cursor, std::int64_t limit);
  /// The author, the video's owner or an admin.
  void delete_comment(const auth::AuthUser& caller, const std::string& id, const std::string& comment_id);
  /// One counted view per viewer (user, else IP) per video per hour.
  ViewCount view(const std::optional<auth::AuthUser>& caller, const std::string& remote_ip, const std::string& id);
  /// Status, progress and rungs, as get() shows videos: a ready one to anyone, a processing or
  /// failed one (its progress, its place in the queue, its failure reason) only to its owner and
  /// admins, 404 to others.
  Video status(const std::optional<auth::AuthUser>& caller, const std::string& id);

  /// The object key of an HLS file of a video, built from validated parts only: 404 for anything
  /// else (an id that is no UUID; for in_variant, a variant that is no rung name or a name other
  /// than index.m3u8 and segment_<n>.ts) and, on the local backend, for every file of a video
  /// whose master.m3u8 is missing: the transcode removes it first and writes it last, so nothing
  /// of a ladder in the making (or of a failed one) is served. With object storage nothing of a
  /// ladder is stored before it is complete (master last) and a failed one's objects are removed,
  /// so no request is spent on asking. Whether the object exists is for the caller to find out.
  std::string hls_key(const std::string& id, HlsFile file, const std::string& variant = {},
                      const std::string& name = {}) const;
  /// The janitor's sweep: removes video directories older than `min_age` that no row names — an
  /// upload whose transaction never committed, or a delete whose file removal failed. Returns
  /// how many it removed.
  std::size_t remove_abandoned_dirs(std::chrono::seconds min_age);

 private:
  /// The video when `caller` may see it (the rule of get()); 404 otherwise.
  Video visible_video(const std::optional<auth::AuthUser>& caller, const std::string& id);
  Video with_owner_name(Video video);

  db::Pool& db_;
  VideoFiles& files_;
  UploadLimits limits_;
  std::function<void()> on_uploaded_;
  users::Accounts accounts_;
};

}  // namespace reelhub::videos
