#include "repo.hpp"

#include "reelhub/db/statements.hpp"

namespace reelhub::files::repo {
namespace {

constexpr const char* kColumns = R"sql(
name, user_id, original_name, size_bytes, content_type, etag, storage_key,
to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_modified,
to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS upload_time )sql";

const db::Statement kInsert{"files.insert", std::string(R"sql(
INSERT INTO files (name, user_id, original_name, size_bytes, content_type, etag, storage_key)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING )sql") + kColumns};

const db::Statement kFind{"files.find", std::string("SELECT ") + kColumns + "FROM files WHERE name = $1"};

// starts_with, not LIKE: a prefix holding % or _ means those characters.
const db::Statement kList{"files.list", std::string("SELECT ") + kColumns + R"sql(
FROM files WHERE ($1::bigint IS NULL OR user_id = $1) AND starts_with(name, $2)
ORDER BY name LIMIT $3)sql"};

const db::Statement kDelete{"files.delete", "DELETE FROM files WHERE name = $1"};

StoredFile file_of(const pqxx::row& r) {
  return StoredFile{.name = r["name"].as<std::string>(),
                    .user_id = r["user_id"].as<std::int64_t>(),
                    .original_name = r["original_name"].as<std::string>(),
                    .size = r["size_bytes"].as<std::int64_t>(),
                    .content_type = r["content_type"].as<std::string>(),
                    .etag = r["etag"].as<std::string>(),
                    .storage_key = r["storage_key"].as<std::string>(),
                    .last_modified = r["last_modified"].as<std::string>(),
                    .upload_time = r["upload_time"].as<std::string>()};
}

}  // namespace

StoredFile insert(pqxx::work& tx, const StoredFile& f) {
  return file_of(tx.exec_prepared1(kInsert.name(), f.name, f.user_id, f.original_name, f.size, f.content_type, f.etag,
                                   f.storage_key));
}

std::optional<StoredFile> find(pqxx::work& tx, const std::string& name) {
  const auto result = tx.exec_prepared(kFind.name(), name);
  if (result.empty()) return std::nullopt;
  return file_of(result[0]);
}

std::vector<StoredFile> list(pqxx::work& tx, std::optional<std::int64_t> user_id, const std::string& prefix,
                             std::int64_t limit) {
  std::vector<StoredFile> out;
  for (const auto& row : tx.exec_prepared(kList.name(), user_id, prefix, limit)) out.push_back(file_of(row));
  return out;
}

bool remove(pqxx::work& tx, const std::string& name) {
  return tx.exec_prepared0(kDelete.name(), name).affected_rows() > 0;
}

}  // namespace reelhub::files::repo
