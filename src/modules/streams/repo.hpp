#pragma once
// SQL of the streams module. Only this module reads or writes the streams table. Stream ids
// arrive here already validated as UUIDs.

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model.hpp"

namespace reelhub::streams::repo {

struct NewStreamRow {
  std::int64_t user_id = 0;
  std::string name, title, description, passphrase;
};
StreamRow insert(pqxx::work& tx, const NewStreamRow& stream);
std::optional<StreamRow> find(pqxx::work& tx, const std::string& id);

/// Moves the stream to `to` when its status is one of `from`; nullopt when it is not (or does
/// not exist). Entering active records the first start_time; entering stopped, stopped_at.
std::optional<StreamRow> transition(pqxx::work& tx, const std::string& id, const std::vector<StreamStatus>& from,
                                    StreamStatus to, const std::optional<std::string>& reason);

struct ListFilter {
  std::optional<std::int64_t> user_id;  // nullopt: every user's (admins)
  std::optional<StreamStatus> status;
  int limit = 50;
  int offset = 0;
};
struct ListPage {
  std::vector<StreamRow> rows;
  std::int64_t total = 0;
};
ListPage list(pqxx::work& tx, const ListFilter& filter);

/// The started (waiting or active) streams of `user_id`, counted under a lock per user held until
/// the transaction ends: concurrent starts by one user queue here, so they cannot all fit under
/// a limit that only one of them may take.
std::int64_t count_started_locked(pqxx::work& tx, std::int64_t user_id);

bool remove(pqxx::work& tx, const std::string& id);

/// Streams in any of `statuses` (start-up: reopen started streams, remember created ones).
std::vector<StreamRow> with_status(pqxx::work& tx, const std::vector<StreamStatus>& statuses);
/// Stopped streams that had media but whose recording was never handed over (a crash in between).
std::vector<StreamRow> recordings_not_requested(pqxx::work& tx);
void mark_recording_requested(pqxx::work& tx, const std::string& id);

}  // namespace reelhub::streams::repo
