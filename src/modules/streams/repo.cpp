#include "repo.hpp"

#include "reelhub/core/time.hpp"
#include "reelhub/db/statements.hpp"

namespace reelhub::streams::repo {
namespace {

constexpr const char* kColumns = R"sql(
id::text, user_id, name, title, description, status, passphrase, start_time, stopped_at, status_reason,
COALESCE(EXTRACT(epoch FROM COALESCE(stopped_at, now()) - start_time)::bigint, 0), created_at, updated_at,
recording_requested)sql";

const db::Statement kInsert{"streams.insert", std::string(R"sql(
INSERT INTO streams (user_id, name, title, description, passphrase) VALUES ($1, $2, $3, $4, $5)
RETURNING )sql") + kColumns};

const db::Statement kFind{"streams.find", std::string("SELECT ") + kColumns + " FROM streams WHERE id = $1::uuid"};

const db::Statement kTransition{"streams.transition", std::string(R"sql(
UPDATE streams SET status = $3, status_reason = $4, updated_at = now(),
  start_time = CASE WHEN $3 = 'active' THEN COALESCE(start_time, now()) ELSE start_time END,
  stopped_at = CASE WHEN $3 = 'stopped' THEN now() ELSE stopped_at END
WHERE id = $1::uuid AND status = ANY ($2::text[])
RETURNING )sql") + kColumns};

const db::Statement kList{"streams.list", std::string("SELECT ") + kColumns + R"sql(, count(*) OVER ()
FROM streams WHERE ($1::bigint IS NULL OR user_id = $1) AND ($2::text IS NULL OR status = $2)
ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4)sql"};

const db::Statement kCount{
    "streams.count",
    "SELECT count(*) FROM streams WHERE ($1::bigint IS NULL OR user_id = $1) AND ($2::text IS NULL OR status = $2)"};

// hashtextextended(text, seed): one advisory lock key per user, from a name no other lock uses.
const db::Statement kLockOwnerStarts{"streams.lock_owner_starts",
                                     "SELECT pg_advisory_xact_lock(hashtextextended('reelhub.streams.start', $1))"};

const db::Statement kCountStarted{
    "streams.count_started", "SELECT count(*) FROM streams WHERE user_id = $1 AND status IN ('waiting', 'active')"};

const db::Statement kDelete{"streams.delete", "DELETE FROM streams WHERE id = $1::uuid"};

const db::Statement kWithStatus{
    "streams.with_status",
    std::string("SELECT ") + kColumns + " FROM streams WHERE status = ANY ($1::text[]) ORDER BY created_at"};

const db::Statement kRecordingsNotRequested{"streams.recordings_not_requested",
                                            std::string("SELECT ") + kColumns +
                                                " FROM streams WHERE status = 'stopped' AND start_time IS NOT NULL"
                                                " AND NOT recording_requested ORDER BY stopped_at"};

const db::Statement kMarkRequested{"streams.mark_requested",
                                   "UPDATE streams SET recording_requested = true WHERE id = $1::uuid"};

std::optional<std::string> optional_time(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return iso8601_from_pg(f.as<std::string>());
}

StreamRow row_to_stream(const pqxx::row& r) {
  StreamRow s;
  s.id = r[0].as<std::string>();
  s.user_id = r[1].as<std::int64_t>();
  s.name = r[2].as<std::string>();
  s.title = r[3].as<std::string>();
  s.description = r[4].as<std::string>();
  s.status = parse_status(r[5].as<std::string>()).value_or(StreamStatus::created);
  s.passphrase = r[6].as<std::string>();
  s.start_time = optional_time(r[7]);
  s.stopped_at = optional_time(r[8]);
  if (!r[9].is_null()) s.status_reason = r[9].as<std::string>();
  s.duration_seconds = r[10].as<std::int64_t>();
  s.created_at = iso8601_from_pg(r[11].as<std::string>());
  s.updated_at = iso8601_from_pg(r[12].as<std::string>());
  s.recording_requested = r[13].as<bool>();
  return s;
}

/// A PostgreSQL text[] literal of status names (libpqxx 6 has no array parameters).
std::string status_array(const std::vector<StreamStatus>& statuses) {
  std::string out = "{";
  for (const StreamStatus s : statuses) {
    if (out.size() > 1) out += ',';
    out += status_name(s);
  }
  return out + "}";
}

std::optional<std::string> status_param(const std::optional<StreamStatus>& s) {
  if (!s) return std::nullopt;
  return std::string(status_name(*s));
}

}  // namespace

StreamRow insert(pqxx::work& tx, const NewStreamRow& s) {
  return row_to_stream(tx.exec_prepared1(kInsert.name(), s.user_id, s.name, s.title, s.description, s.passphrase));
}

std::optional<StreamRow> find(pqxx::work& tx, const std::string& id) {
  const pqxx::result r = tx.exec_prepared(kFind.name(), id);
  if (r.empty()) return std::nullopt;
  return row_to_stream(r[0]);
}

std::optional<StreamRow> transition(pqxx::work& tx, const std::string& id, const std::vector<StreamStatus>& from,
                                    StreamStatus to, const std::optional<std::string>& reason) {
  const pqxx::result r = tx.exec_prepared(kTransition.name(), id, status_array(from), status_name(to), reason);
  if (r.empty()) return std::nullopt;
  return row_to_stream(r[0]);
}

ListPage list(pqxx::work& tx, const ListFilter& f) {
  ListPage page;
  const pqxx::result r = tx.exec_prepared(kList.name(), f.user_id, status_param(f.status), f.limit, f.offset);
  for (const auto& row : r) page.rows.push_back(row_to_stream(row));
  // count(*) OVER () rides on the rows; an offset past the end has none, so count separately.
  page.total = r.empty() ? tx.exec_prepared1(kCount.name(), f.user_id, status_param(f.status))[0].as<std::int64_t>()
                         : r[0][14].as<std::int64_t>();
  return page;
}

std::int64_t count_started_locked(pqxx::work& tx, std::int64_t user_id) {
  tx.exec_prepared(kLockOwnerStarts.name(), user_id);
  return tx.exec_prepared1(kCountStarted.name(), user_id)[0].as<std::int64_t>();
}

bool remove(pqxx::work& tx, const std::string& id) { return tx.exec_prepared(kDelete.name(), id).affected_rows() > 0; }

std::vector<StreamRow> with_status(pqxx::work& tx, const std::vector<StreamStatus>& statuses) {
  std::vector<StreamRow> out;
  for (const auto& row : tx.exec_prepared(kWithStatus.name(), status_array(statuses))) {
    out.push_back(row_to_stream(row));
  }
  return out;
}

std::vector<StreamRow> recordings_not_requested(pqxx::work& tx) {
  std::vector<StreamRow> out;
  for (const auto& row : tx.exec_prepared(kRecordingsNotRequested.name())) out.push_back(row_to_stream(row));
  return out;
}

void mark_recording_requested(pqxx::work& tx, const std::string& id) { tx.exec_prepared(kMarkRequested.name(), id); }

}  // namespace reelhub::streams::repo
