#pragma once
// Where a video's files live. A transcode always works in <media_root>/videos/<id>/ (the source,
// the renditions in the making). With the local backend that directory is also where the objects
// `videos/<id>/...` are, so finishing is removing the source. With object storage the source is
// stored as `videos/<id>/source` at upload (any instance may claim the job and download it) and
// the finished ladder is uploaded, master.m3u8 last, after which the local directory goes.

#include <filesystem>
#include <string>

#include "reelhub/storage/object_store.hpp"

namespace reelhub::videos {

class VideoFiles {
 public:
  VideoFiles(storage::ObjectStore& store, const std::filesystem::path& media_root);

  /// The object key of `name` ("master.m3u8", "360p/segment_0.ts") of video `id`.
  static std::string key(const std::string& id, const std::string& name);
  /// Where a transcode of `id` works.
  std::filesystem::path work_dir(const std::string& id) const;
  /// Stores an uploaded source for video `id` (local: moved into the work directory).
  void keep_source(const std::string& id, const std::filesystem::path& upload);
  /// The source as a file in the work directory (downloaded from object storage when another
  /// instance received the upload); false when there is none.
  bool fetch_source(const std::string& id);
  /// Makes the finished ladder in the work directory the video's stored files (object storage:
  /// uploads them, master.m3u8 last; local: they already are).
  void publish(const std::string& id);
  /// Once the row says ready: the source goes (the renditions are what is served), and with
  /// object storage the work directory too.
  void drop_source(const std::string& id);
  /// With object storage, the work directory of a job given back or failed for a retry (the next
  /// attempt, here or on another instance, starts from the stored source). Never throws.
  void drop_work(const std::string& id);
  /// True when the video's master.m3u8 is stored: its ladder is complete (object storage: one request).
  bool has_master(const std::string& id) const;
  /// Every file of the video: its work directory and its objects. Never throws.
  void remove(const std::string& id);
  /// Whether the stored files are the work directory's (local backend).
  bool in_place() const { return in_place_; }
  storage::ObjectStore& store() const { return store_; }
  const std::filesystem::path& videos_dir() const { return videos_dir_; }

 private:
  storage::ObjectStore& store_;
  std::filesystem::path videos_dir_;
  bool in_place_;
};

}  // namespace reelhub::videos
