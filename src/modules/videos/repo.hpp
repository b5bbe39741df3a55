#pragma once
// SQL of the videos module. Only this module reads or writes videos, video_likes,
// video_comments and video_views. Ids arrive here already validated as UUIDs.

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model.hpp"

namespace reelhub::videos::repo {

/// Keyset position of a list ordered by (created_at, id) descending.
struct Position {
  std::int64_t created_us = 0;
  std::string id;
};

/// `storage_bytes`: the source's size, counted against the owner's quota until the transcode ends.
std::string insert_video(pqxx::work& tx, std::int64_t owner_id, const std::string& title,
                         const std::string& description, double duration_seconds, int width, int height,
                         std::int64_t storage_bytes);
/// Bytes the owner's videos hold, after taking the owner's upload lock for the rest of the
/// transaction, so concurrent uploads of one owner are checked against the quota one by one.
std::int64_t lock_storage_used(pqxx::work& tx, std::int64_t owner_id);
/// The video with `viewer_id`'s like (when given); owner_username is not filled in.
std::optional<Video> find_video(pqxx::work& tx, const std::string& id, std::optional<std::int64_t> viewer_id);
/// Deletes the video and everything hanging off it; false when it did not exist.
bool delete_video(pqxx::work& tx, const std::string& id);
/// Ready videos newest first, after `after`, without those of `hidden_owner_ids`.
std::vector<Video> feed(pqxx::work& tx, std::optional<std::int64_t> viewer_id,
                        const std::vector<std::int64_t>& hidden_owner_ids, const std::optional<Position>& after,
                        std::int64_t limit);

/// Inserts or deletes the like and moves likes_count with it in the caller's transaction;
/// returns the count after. A repeated like or unlike changes nothing.
std::int64_t like(pqxx::work& tx, const std::string& video_id, std::int64_t user_id);
std::int64_t unlike(pqxx::work& tx, const std::string& video_id, std::int64_t user_id);

Comment insert_comment(pqxx::work& tx, const std::string& video_id, std::int64_t user_id, const std::string& text);
std::vector<Comment> comments(pqxx::work& tx, const std::string& video_id, const std::optional<Position>& after,
                              std::int64_t limit);
/// The author of a comment of the video; nullopt when the video has no such comment.
std::optional<std::int64_t> comment_author(pqxx::work& tx, const std::string& video_id, const std::string& comment_id);
void delete_comment(pqxx::work& tx, const std::string& video_id, const std::string& comment_id);

/// Counts a view unless `viewer` had one counted for the video within the last hour; returns
/// the views count after, and whether this one counted.
std::pair<std::int64_t, bool> count_view(pqxx::work& tx, const std::string& video_id, const std::string& viewer);

/// Takes the next processing video whose lease is free or ran out, round robin by owner (see
/// queue_position), counting an attempt.
std::optional<Job> claim_job(pqxx::work& tx, const std::string& worker, int lease_seconds);
/// Extends the lease and stores the progress (when given); false when the job is no longer this
/// worker's (the video was deleted, or the lease was lost to another worker).
bool renew_job(pqxx::work& tx, const std::string& video_id, const std::string& worker, int lease_seconds,
               std::optional<int> progress_percent);
/// `storage_bytes`: the renditions' size, which replaces the source's against the owner's quota.
bool finish_job(pqxx::work& tx, const std::string& video_id, const std::string& worker, double duration_seconds,
                int width, int height, const std::vector<std::string>& variants, std::int64_t storage_bytes);
/// 1 for the job the next claim takes, 2 for the one after, ...; none unless the video waits
/// for a worker (it is being transcoded, or no longer processing).
std::optional<std::int64_t> queue_position(pqxx::work& tx, const std::string& video_id);
bool fail_job(pqxx::work& tx, const std::string& video_id, const std::string& worker, const std::string& reason);
/// Gives the job back for another claim. Its attempt counts only when it failed; one given back
/// untouched (a clean shutdown) does not. False when the job was not this worker's.
bool release_job(pqxx::work& tx, const std::string& video_id, const std::string& worker, bool attempt_failed);
/// Videos waiting for or in a transcode (the queue depth metric).
std::int64_t queue_depth(pqxx::work& tx);
/// True while the video's row exists (a deleted video's transcode leaves nothing behind).
bool video_exists(pqxx::work& tx, const std::string& video_id);
/// Which of `video_ids` (canonical UUIDs) have a row.
std::vector<std::string> existing_videos(pqxx::work& tx, const std::vector<std::string>& video_ids);

}  // namespace reelhub::videos::repo
