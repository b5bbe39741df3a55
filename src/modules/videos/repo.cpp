#include "repo.hpp"

#include <nlohmann/json.hpp>

#include "reelhub/core/time.hpp"
#include "reelhub/db/statements.hpp"

namespace reelhub::videos::repo {
namespace {

const db::Statement kInsertVideo{"videos.insert_video", R"sql(
INSERT INTO videos (owner_id, title, description, duration_seconds, width, height, storage_bytes)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::text
)sql"};

// One owner's uploads are counted against the quota one at a time: the lock is held until the
// upload's transaction ends, and the sum runs as the next statement, after any upload that held
// the lock before committed (READ COMMITTED takes a snapshot per statement).
const db::Statement kLockOwnerStorage{"videos.lock_owner_storage",
                                      "SELECT pg_advisory_xact_lock(hashtextextended('videos.storage:' || $1::bigint, 0))"};
const db::Statement kStorageUsed{"videos.storage_used",
                                 "SELECT coalesce(sum(storage_bytes), 0)::bigint FROM videos WHERE owner_id = $1"};

constexpr const char* kVideoColumns = R"sql(
v.id::text, v.owner_id, v.title, v.description, v.status, v.progress_percent, v.failure_reason,
v.duration_seconds, v.width, v.height, v.variants::text, v.likes_count, v.comments_count, v.views_count,
v.created_at, trunc(extract(epoch FROM v.created_at) * 1000000)::bigint AS created_us)sql";

/// The `liked` column: whether the viewer in parameter `param` (NULL: no viewer) likes the video.
std::string liked_by(const std::string& param) {
  std::string column = ", CASE WHEN ";
  column += param;
  column += "::bigint IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM video_likes l WHERE l.video_id = v.id AND l.user_id = ";
  column += param;
  column += ") END AS liked";
  return column;
}

const db::Statement kFindVideo{
    "videos.find_video",
    std::string("SELECT ") + kVideoColumns + liked_by("$2") + " FROM videos v WHERE v.id = $1::uuid"};

const db::Statement kDeleteVideo{"videos.delete_video", "DELETE FROM videos WHERE id = $1::uuid"};

// Owners to hide travel as one JSON array (libpqxx 6 has no array parameters).
const db::Statement kFeed{"videos.feed", std::string("SELECT ") + kVideoColumns + liked_by("$1") + R"sql( FROM videos v
WHERE v.status = 'ready'
  AND v.owner_id NOT IN (SELECT jsonb_array_elements_text($2::jsonb)::bigint)
  AND ($3::bigint IS NULL OR (trunc(extract(epoch FROM v.created_at) * 1000000)::bigint, v.id) < ($3, $4::uuid))
ORDER BY v.created_at DESC, v.id DESC LIMIT $5)sql"};

// The insert (or delete) and the counter move in one statement; a concurrent like of the same
// pair waits on the primary key and then does nothing, so the count stays exact.
const db::Statement kLike{"videos.like", R"sql(
WITH inserted AS (
  INSERT INTO video_likes (video_id, user_id) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING RETURNING 1
)
UPDATE videos SET likes_count = likes_count + (SELECT count(*) FROM inserted) WHERE id = $1::uuid
RETURNING likes_count
)sql"};

const db::Statement kUnlike{"videos.unlike", R"sql(
WITH deleted AS (
  DELETE FROM video_likes WHERE video_id = $1::uuid AND user_id = $2 RETURNING 1
)
UPDATE videos SET likes_count = likes_count - (SELECT count(*) FROM deleted) WHERE id = $1::uuid
RETURNING likes_count
)sql"};

constexpr const char* kCommentColumns = R"sql(
c.id::text, c.video_id::text, c.user_id, c.body, c.created_at,
trunc(extract(epoch FROM c.created_at) * 1000000)::bigint AS created_us
)sql";

const db::Statement kInsertComment{"videos.insert_comment", std::string(R"sql(
WITH c AS (
  INSERT INTO video_comments (video_id, user_id, body) VALUES ($1::uuid, $2, $3) RETURNING *
), counted AS (
  UPDATE videos SET comments_count = comments_count + 1 WHERE id = $1::uuid
)
SELECT )sql") + kCommentColumns + " FROM c"};

const db::Statement kComments{"videos.comments", std::string("SELECT ") + kCommentColumns + R"sql( FROM video_comments c
WHERE c.video_id = $1::uuid
  AND ($2::bigint IS NULL OR (trunc(extract(epoch FROM c.created_at) * 1000000)::bigint, c.id) < ($2, $3::uuid))
ORDER BY c.created_at DESC, c.id DESC LIMIT $4)sql"};

const db::Statement kCommentAuthor{"videos.comment_author",
                                   "SELECT user_id FROM video_comments WHERE video_id = $1::uuid AND id = $2::uuid"};

const db::Statement kDeleteComment{"videos.delete_comment", R"sql(
WITH deleted AS (DELETE FROM video_comments WHERE video_id = $1::uuid AND id = $2::uuid RETURNING 1)
UPDATE videos SET comments_count = comments_count - (SELECT count(*) FROM deleted) WHERE id = $1::uuid
)sql"};

// The conditional upsert counts at most one view per viewer and hour, also under concurrency:
// a second insert of the pair waits for the first and then finds its fresh timestamp.
const db::Statement kCountView{"videos.count_view", R"sql(
WITH counted AS (
  INSERT INTO video_views (video_id, viewer) VALUES ($1::uuid, $2)
  ON CONFLICT (video_id, viewer) DO UPDATE SET last_counted_at = now()
    WHERE video_views.last_counted_at <= now() - interval '1 hour'
  RETURNING 1
)
UPDATE videos SET views_count = views_count + (SELECT count(*) FROM counted) WHERE id = $1::uuid
RETURNING views_count, (SELECT count(*) FROM counted) > 0
)sql"};

// The waiting jobs (processing, lease free or run out) in the order workers take them: round
// robin by owner. A job's `turn` is its rank among its owner's waiting jobs, oldest first; turns
// go in order, and within a turn the owner whose latest claim is oldest (never claimed: first)
// goes first, then the owner waiting longest. So one owner's many uploads take a worker once per
// round, as everybody else's single one does. (For one worker and no new uploads this static
// order is exactly the order of the claims, so queue_position is exact.)
constexpr const char* kFairQueue = R"sql(
waiting AS (
  SELECT v.id, v.owner_id,
         row_number() OVER (PARTITION BY v.owner_id ORDER BY v.created_at, v.id) AS turn,
         min(v.created_at) OVER (PARTITION BY v.owner_id) AS owner_waiting_since
  FROM videos v
  WHERE v.status = 'processing' AND (v.lease_until IS NULL OR v.lease_until < now())
), fair_queue AS (
  SELECT w.id, row_number() OVER (
           ORDER BY w.turn, (SELECT max(c.claimed_at) FROM videos c WHERE c.owner_id = w.owner_id) NULLS FIRST,
                    w.owner_waiting_since, w.owner_id) AS queue_position
  FROM waiting w
))sql";

// The row is checked again once locked: another worker may have claimed it meanwhile.
const db::Statement kClaimJob{"videos.claim_job", std::string("WITH ") + kFairQueue + R"sql(
UPDATE videos SET attempts = attempts + 1, lease_owner = $1, lease_until = now() + make_interval(secs => $2),
                  claimed_at = now()
WHERE id = (
  SELECT v.id FROM videos v JOIN fair_queue f ON f.id = v.id
  WHERE v.status = 'processing' AND (v.lease_until IS NULL OR v.lease_until < now())
  ORDER BY f.queue_position LIMIT 1 FOR UPDATE OF v SKIP LOCKED)
RETURNING id::text, owner_id, attempts
)sql"};

const db::Statement kQueuePosition{"videos.queue_position", std::string("WITH ") + kFairQueue +
                                                                " SELECT queue_position FROM fair_queue WHERE id = $1::uuid"};

const db::Statement kRenewJob{"videos.renew_job", R"sql(
UPDATE videos SET lease_until = now() + make_interval(secs => $3), progress_percent = COALESCE($4, progress_percent)
WHERE id = $1::uuid AND lease_owner = $2 AND status = 'processing'
)sql"};

const db::Statement kFinishJob{"videos.finish_job", R"sql(
UPDATE videos SET status = 'ready', progress_percent = 100, duration_seconds = $3, width = $4, height = $5,
                  variants = $6::jsonb, storage_bytes = $7, lease_owner = NULL, lease_until = NULL, ready_at = now()
WHERE id = $1::uuid AND lease_owner = $2 AND status = 'processing'
)sql"};

const db::Statement kFailJob{"videos.fail_job", R"sql(
UPDATE videos SET status = 'failed', failure_reason = $3, storage_bytes = 0, lease_owner = NULL, lease_until = NULL
WHERE id = $1::uuid AND lease_owner = $2 AND status = 'processing'
)sql"};

const db::Statement kReleaseJob{"videos.release_job", R"sql(
UPDATE videos SET attempts = CASE WHEN $3 THEN attempts ELSE greatest(attempts - 1, 0) END,
                  lease_owner = NULL, lease_until = NULL
WHERE id = $1::uuid AND lease_owner = $2 AND status = 'processing'
)sql"};

const db::Statement kQueueDepth{"videos.queue_depth", "SELECT count(*) FROM videos WHERE status = 'processing'"};
const db::Statement kVideoExists{"videos.video_exists", "SELECT 1 FROM videos WHERE id = $1::uuid"};
const db::Statement kExistingVideos{
    "videos.existing_videos",
    "SELECT id::text FROM videos WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))::uuid[])"};

std::string position_of(const pqxx::row& r) { return r["created_us"].as<std::string>() + "_" + r["id"].as<std::string>(); }

Video video_row(const pqxx::row& r) {
  Video v;
  v.id = r["id"].as<std::string>();
  v.owner_id = r["owner_id"].as<std::int64_t>();
  v.title = r["title"].as<std::string>();
  v.description = r["description"].as<std::string>();
  v.status = parse_video_status(r["status"].as<std::string>()).value();  // the CHECK admits no other
  v.progress_percent = r["progress_percent"].as<int>();
  v.failure_reason = r["failure_reason"].get<std::string>();
  v.duration_seconds = r["duration_seconds"].get<double>();
  v.width = r["width"].get<int>();
  v.height = r["height"].get<int>();
  v.variants = nlohmann::json::parse(r["variants"].as<std::string>()).get<std::vector<std::string>>();
  v.likes_count = r["likes_count"].as<std::int64_t>();
  v.comments_count = r["comments_count"].as<std::int64_t>();
  v.views_count = r["views_count"].as<std::int64_t>();
  v.liked = r["liked"].get<bool>();
  v.created_at = iso8601_from_pg(r["created_at"].as<std::string>());
  v.position = position_of(r);
  return v;
}

Comment comment_row(const pqxx::row& r) {
  return Comment{.id = r["id"].as<std::string>(),
                 .video_id = r["video_id"].as<std::string>(),
                 .user_id = r["user_id"].as<std::int64_t>(),
                 .username = {},
                 .text = r["body"].as<std::string>(),
                 .created_at = iso8601_from_pg(r["created_at"].as<std::string>()),
                 .position = position_of(r)};
}

std::optional<std::int64_t> created_us(const std::optional<Position>& p) {
  if (!p) return std::nullopt;
  return p->created_us;
}

std::optional<std::string> position_id(const std::optional<Position>& p) {
  if (!p) return std::nullopt;
  return p->id;
}

}  // namespace

std::string insert_video(pqxx::work& tx, std::int64_t owner_id, const std::string& title,
                         const std::string& description, double duration_seconds, int width, int height,
                         std::int64_t storage_bytes) {
  return tx
      .exec_prepared1(kInsertVideo.name(), owner_id, title, description, duration_seconds, width, height,
                      storage_bytes)[0]
      .as<std::string>();
}

std::int64_t lock_storage_used(pqxx::work& tx, std::int64_t owner_id) {
  tx.exec_prepared(kLockOwnerStorage.name(), owner_id);
  return tx.exec_prepared1(kStorageUsed.name(), owner_id)[0].as<std::int64_t>();
}

std::optional<Video> find_video(pqxx::work& tx, const std::string& id, std::optional<std::int64_t> viewer_id) {
  const auto result = tx.exec_prepared(kFindVideo.name(), id, viewer_id);
  if (result.empty()) return std::nullopt;
  return video_row(result[0]);
}

bool delete_video(pqxx::work& tx, const std::string& id) {
  return tx.exec_prepared(kDeleteVideo.name(), id).affected_rows() > 0;
}

std::vector<Video> feed(pqxx::work& tx, std::optional<std::int64_t> viewer_id,
                        const std::vector<std::int64_t>& hidden_owner_ids, const std::optional<Position>& after,
                        std::int64_t limit) {
  std::vector<Video> out;
  for (const auto& r : tx.exec_prepared(kFeed.name(), viewer_id, nlohmann::json(hidden_owner_ids).dump(),
                                        created_us(after), position_id(after), limit)) {
    out.push_back(video_row(r));
  }
  return out;
}

std::int64_t like(pqxx::work& tx, const std::string& video_id, std::int64_t user_id) {
  return tx.exec_prepared1(kLike.name(), video_id, user_id)[0].as<std::int64_t>();
}

std::int64_t unlike(pqxx::work& tx, const std::string& video_id, std::int64_t user_id) {
  return tx.exec_prepared1(kUnlike.name(), video_id, user_id)[0].as<std::int64_t>();
}

Comment insert_comment(pqxx::work& tx, const std::string& video_id, std::int64_t user_id, const std::string& text) {
  return comment_row(tx.exec_prepared1(kInsertComment.name(), video_id, user_id, text));
}

std::vector<Comment> comments(pqxx::work& tx, const std::string& video_id, const std::optional<Position>& after,
                              std::int64_t limit) {
  std::vector<Comment> out;
  for (const auto& r : tx.exec_prepared(kComments.name(), video_id, created_us(after), position_id(after), limit)) {
    out.push_back(comment_row(r));
  }
  return out;
}

std::optional<std::int64_t> comment_author(pqxx::work& tx, const std::string& video_id, const std::string& comment_id) {
  const auto result = tx.exec_prepared(kCommentAuthor.name(), video_id, comment_id);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::int64_t>();
}

void delete_comment(pqxx::work& tx, const std::string& video_id, const std::string& comment_id) {
  tx.exec_prepared0(kDeleteComment.name(), video_id, comment_id);
}

std::pair<std::int64_t, bool> count_view(pqxx::work& tx, const std::string& video_id, const std::string& viewer) {
  const auto r = tx.exec_prepared1(kCountView.name(), video_id, viewer);
  return {r[0].as<std::int64_t>(), r[1].as<bool>()};
}

std::optional<Job> claim_job(pqxx::work& tx, const std::string& worker, int lease_seconds) {
  const auto result = tx.exec_prepared(kClaimJob.name(), worker, lease_seconds);
  if (result.empty()) return std::nullopt;
  return Job{result[0][0].as<std::string>(), result[0][1].as<std::int64_t>(), result[0][2].as<int>()};
}

bool renew_job(pqxx::work& tx, const std::string& video_id, const std::string& worker, int lease_seconds,
               std::optional<int> progress_percent) {
  return tx.exec_prepared0(kRenewJob.name(), video_id, worker, lease_seconds, progress_percent).affected_rows() > 0;
}

bool finish_job(pqxx::work& tx, const std::string& video_id, const std::string& worker, double duration_seconds,
                int width, int height, const std::vector<std::string>& variants, std::int64_t storage_bytes) {
  return tx
             .exec_prepared0(kFinishJob.name(), video_id, worker, duration_seconds, width, height,
                             nlohmann::json(variants).dump(), storage_bytes)
             .affected_rows() > 0;
}

std::optional<std::int64_t> queue_position(pqxx::work& tx, const std::string& video_id) {
  const auto result = tx.exec_prepared(kQueuePosition.name(), video_id);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::int64_t>();
}

bool fail_job(pqxx::work& tx, const std::string& video_id, const std::string& worker, const std::string& reason) {
  return tx.exec_prepared0(kFailJob.name(), video_id, worker, reason).affected_rows() > 0;
}

bool release_job(pqxx::work& tx, const std::string& video_id, const std::string& worker, bool attempt_failed) {
  return tx.exec_prepared0(kReleaseJob.name(), video_id, worker, attempt_failed).affected_rows() > 0;
}

std::int64_t queue_depth(pqxx::work& tx) { return tx.exec_prepared1(kQueueDepth.name())[0].as<std::int64_t>(); }

bool video_exists(pqxx::work& tx, const std::string& video_id) {
  return !tx.exec_prepared(kVideoExists.name(), video_id).empty();
}

std::vector<std::string> existing_videos(pqxx::work& tx, const std::vector<std::string>& video_ids) {
  std::vector<std::string> found;
  for (const auto& r : tx.exec_prepared(kExistingVideos.name(), nlohmann::json(video_ids).dump()))
    found.push_back(r[0].as<std::string>());
  return found;
}

}  // namespace reelhub::videos::repo
