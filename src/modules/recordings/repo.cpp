#include "repo.hpp"

#include "reelhub/core/time.hpp"
#include "reelhub/db/statements.hpp"

namespace reelhub::recordings::repo {
namespace {

const db::Statement kInsert{"recordings.insert", R"sql(
INSERT INTO recordings (stream_id, user_id, username, title) VALUES ($1::uuid, $2, $3, $4)
ON CONFLICT (stream_id) DO NOTHING
)sql"};

constexpr const char* kColumns = R"sql(
SELECT id::text, stream_id::text, user_id, username, title, status, failure_reason, duration_seconds,
       file_size_bytes, has_thumbnail, created_at, updated_at FROM recordings )sql";

const db::Statement kFind{"recordings.find", std::string(kColumns) + "WHERE stream_id = $1::uuid"};

constexpr const char* kFilter = "WHERE ($1::bigint IS NULL OR user_id = $1) AND ($2::text IS NULL OR status = $2)";

const db::Statement kList{"recordings.list",
                          std::string(kColumns) + kFilter + " ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"};

const db::Statement kCount{"recordings.count", std::string("SELECT count(*) FROM recordings ") + kFilter};

const db::Statement kDelete{"recordings.delete", "DELETE FROM recordings WHERE stream_id = $1::uuid"};

// SKIP LOCKED: two workers (or instances) claiming at once get different jobs instead of
// waiting on each other. The attempt is counted here, so a worker that dies mid-job still used one.
const db::Statement kClaim{"recordings.claim", R"sql(
WITH job AS (
  SELECT id FROM recordings
  WHERE status = 'processing' AND (lease_expires_at IS NULL OR lease_expires_at < now())
  ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
UPDATE recordings r
SET attempts = r.attempts + 1, claimed_at = now(), lease_owner = $1,
    lease_expires_at = now() + make_interval(secs => $2), updated_at = now()
FROM job WHERE r.id = job.id
RETURNING r.stream_id::text, r.user_id, r.attempts, r.failure_reason
)sql"};

// Every statement on a claimed job checks the lease owner: a worker taken for dead whose job
// was claimed again changes nothing.
const db::Statement kRenew{"recordings.renew", R"sql(
UPDATE recordings SET lease_expires_at = now() + make_interval(secs => $3)
WHERE stream_id = $1::uuid AND lease_owner = $2 AND status = 'processing'
)sql"};

const db::Statement kMarkReady{"recordings.mark_ready", R"sql(
UPDATE recordings
SET status = 'ready', failure_reason = NULL, duration_seconds = $3, file_size_bytes = $4, has_thumbnail = $5,
    lease_owner = NULL, lease_expires_at = NULL, ready_at = now(), updated_at = now()
WHERE stream_id = $1::uuid AND lease_owner = $2 AND status = 'processing'
)sql"};

const db::Statement kMarkFailed{"recordings.mark_failed", R"sql(
UPDATE recordings
SET status = 'failed', failure_reason = $3, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
WHERE stream_id = $1::uuid AND lease_owner = $2 AND status = 'processing'
)sql"};

const db::Statement kRelease{"recordings.release", R"sql(
UPDATE recordings
SET lease_owner = NULL, lease_expires_at = NULL, failure_reason = COALESCE($3, failure_reason),
    attempts = CASE WHEN $3::text IS NULL THEN attempts - 1 ELSE attempts END, updated_at = now()
WHERE stream_id = $1::uuid AND lease_owner = $2 AND status = 'processing'
)sql"};

const db::Statement kLiveDue{"recordings.live_due", R"sql(
SELECT stream_id::text FROM recordings
WHERE status = 'ready' AND live_removed_at IS NULL AND ready_at <= now() - make_interval(secs => $1)
ORDER BY ready_at LIMIT 100
)sql"};

const db::Statement kMarkLiveRemoved{"recordings.mark_live_removed",
                                     "UPDATE recordings SET live_removed_at = now() WHERE stream_id = $1::uuid"};

Recording recording_row(const pqxx::row& r) {
  return Recording{.id = r["id"].as<std::string>(),
                   .stream_id = r["stream_id"].as<std::string>(),
                   .user_id = r["user_id"].as<std::int64_t>(),
                   .username = r["username"].as<std::string>(),
                   .title = r["title"].as<std::string>(),
                   .status = r["status"].as<std::string>(),
                   .failure_reason = r["failure_reason"].get<std::string>(),
                   .duration_seconds = r["duration_seconds"].get<double>(),
                   .file_size_bytes = r["file_size_bytes"].get<std::int64_t>(),
                   .has_thumbnail = r["has_thumbnail"].as<bool>(),
                   .created_at = iso8601_from_pg(r["created_at"].as<std::string>()),
                   .updated_at = iso8601_from_pg(r["updated_at"].as<std::string>())};
}

}  // namespace

bool insert(pqxx::work& tx, const std::string& stream_id, std::int64_t user_id, const std::string& username,
            const std::string& title) {
  return tx.exec_prepared0(kInsert.name(), stream_id, user_id, username, title).affected_rows() > 0;
}

std::optional<Recording> find(pqxx::work& tx, const std::string& stream_id) {
  const auto result = tx.exec_prepared(kFind.name(), stream_id);
  if (result.empty()) return std::nullopt;
  return recording_row(result[0]);
}

std::vector<Recording> list(pqxx::work& tx, std::optional<std::int64_t> user_id, const std::optional<std::string>& status,
                            std::int64_t limit, std::int64_t offset) {
  const auto result = tx.exec_prepared(kList.name(), user_id, status, limit, offset);
  std::vector<Recording> out;
  out.reserve(result.size());
  for (const auto& r : result) out.push_back(recording_row(r));
  return out;
}

std::int64_t count(pqxx::work& tx, std::optional<std::int64_t> user_id, const std::optional<std::string>& status) {
  return tx.exec_prepared1(kCount.name(), user_id, status)[0].as<std::int64_t>();
}

bool remove(pqxx::work& tx, const std::string& stream_id) {
  return tx.exec_prepared0(kDelete.name(), stream_id).affected_rows() > 0;
}

std::optional<Claim> claim(pqxx::work& tx, const std::string& owner, std::chrono::seconds lease) {
  const auto result = tx.exec_prepared(kClaim.name(), owner, static_cast<std::int64_t>(lease.count()));
  if (result.empty()) return std::nullopt;
  const auto& r = result[0];
  return Claim{r[0].as<std::string>(), r[1].as<std::int64_t>(), r[2].as<int>(), r[3].get<std::string>()};
}

bool renew(pqxx::work& tx, const std::string& stream_id, const std::string& owner, std::chrono::seconds lease) {
  return tx.exec_prepared0(kRenew.name(), stream_id, owner, static_cast<std::int64_t>(lease.count())).affected_rows() > 0;
}

bool mark_ready(pqxx::work& tx, const std::string& stream_id, const std::string& owner, double duration_seconds,
                std::int64_t file_size_bytes, bool has_thumbnail) {
  return tx.exec_prepared0(kMarkReady.name(), stream_id, owner, duration_seconds, file_size_bytes, has_thumbnail)
             .affected_rows() > 0;
}

bool mark_failed(pqxx::work& tx, const std::string& stream_id, const std::string& owner, const std::string& reason) {
  return tx.exec_prepared0(kMarkFailed.name(), stream_id, owner, reason).affected_rows() > 0;
}

bool release(pqxx::work& tx, const std::string& stream_id, const std::string& owner,
             const std::optional<std::string>& reason) {
  return tx.exec_prepared0(kRelease.name(), stream_id, owner, reason).affected_rows() > 0;
}

std::vector<std::string> live_due(pqxx::work& tx, std::chrono::seconds retention) {
  std::vector<std::string> out;
  for (const auto& r : tx.exec_prepared(kLiveDue.name(), static_cast<std::int64_t>(retention.count()))) {
    out.push_back(r[0].as<std::string>());
  }
  return out;
}

void mark_live_removed(pqxx::work& tx, const std::string& stream_id) {
  tx.exec_prepared0(kMarkLiveRemoved.name(), stream_id);
}

}  // namespace reelhub::recordings::repo
