#pragma once
// SQL of the recordings module. Only this module reads or writes the recordings table. Stream
// ids arrive here already validated as UUIDs.

#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model.hpp"

namespace reelhub::recordings::repo {

/// Inserts a processing recording unless the stream has one; false when it had.
bool insert(pqxx::work& tx, const std::string& stream_id, std::int64_t user_id, const std::string& username,
            const std::string& title);
std::optional<Recording> find(pqxx::work& tx, const std::string& stream_id);
/// Newest first.
std::vector<Recording> list(pqxx::work& tx, std::optional<std::int64_t> user_id, const std::optional<std::string>& status,
                            std::int64_t limit, std::int64_t offset);
std::int64_t count(pqxx::work& tx, std::optional<std::int64_t> user_id, const std::optional<std::string>& status);
/// Deletes the row; false when there was none.
bool remove(pqxx::work& tx, const std::string& stream_id);

/// A claimed job: the recording and how many times it has been claimed, this claim included.
struct Claim {
  std::string stream_id;
  std::int64_t user_id = 0;
  int attempts = 0;
  std::optional<std::string> last_failure;
};
/// Claims the oldest processing recording that is free or whose lease ran out, skipping those
/// another transaction is claiming, and leases it to `owner` for `lease`. Counts the attempt.
std::optional<Claim> claim(pqxx::work& tx, const std::string& owner, std::chrono::seconds lease);
// The statements below change a claimed job only while `owner` holds its lease; false otherwise
// (the recording was deleted, or its lease ran out and another worker claimed it).
/// Extends the lease to `lease` from now.
bool renew(pqxx::work& tx, const std::string& stream_id, const std::string& owner, std::chrono::seconds lease);
/// Status ready with the results; ends the lease.
bool mark_ready(pqxx::work& tx, const std::string& stream_id, const std::string& owner, double duration_seconds,
                std::int64_t file_size_bytes, bool has_thumbnail);
/// Status failed for good with `reason`; ends the lease.
bool mark_failed(pqxx::work& tx, const std::string& stream_id, const std::string& owner, const std::string& reason);
/// Frees the job for another claim; `reason` is recorded when the attempt failed, and an
/// attempt that did not fail (shutdown) is not counted.
bool release(pqxx::work& tx, const std::string& stream_id, const std::string& owner,
             const std::optional<std::string>& reason);
/// Ready recordings whose live segments are still on disk and older than `retention`.
std::vector<std::string> live_due(pqxx::work& tx, std::chrono::seconds retention);
void mark_live_removed(pqxx::work& tx, const std::string& stream_id);

}  // namespace reelhub::recordings::repo
