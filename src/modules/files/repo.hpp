#pragma once
// SQL of the files module. Only this module reads or writes the files table.

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model.hpp"

namespace reelhub::files::repo {

/// Inserts `file` (name, user, original name, size, type, etag, key) and returns it as stored.
StoredFile insert(pqxx::work& tx, const StoredFile& file);
std::optional<StoredFile> find(pqxx::work& tx, const std::string& name);
/// Files whose name starts with `prefix`, by name; of `user_id` only, or everyone's when unset.
std::vector<StoredFile> list(pqxx::work& tx, std::optional<std::int64_t> user_id, const std::string& prefix,
                             std::int64_t limit);
/// Deletes the row; false when there was none.
bool remove(pqxx::work& tx, const std::string& name);

}  // namespace reelhub::files::repo
