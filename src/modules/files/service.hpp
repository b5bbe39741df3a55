#pragma once
// Rules of the files module (seed 001): a user's uploaded documents and images, their bytes an
// object in the storage layer under files/<user id>/<name>. Only allowed types, checked against
// the content's real type; each user sees their own files, an admin everyone's; a file someone
// may not see is answered like one that does not exist.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model.hpp"
#include "reelhub/auth/identity.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/storage/object_store.hpp"

namespace reelhub::files {

/// Seed 001's allowed extensions, in its order.
const std::vector<std::string>& allowed_extensions();
/// The content type of `content` when its real type (magic bytes; for txt: UTF-8 without NUL)
/// is the one `extension` (lower case) names; nullopt otherwise, e.g. an executable named .pdf.
std::optional<std::string> sniffed_content_type(std::string_view extension, std::string_view content);
/// True for a name the files API could have generated; anything else (`..`, '/', NUL) names no file.
bool plausible_file_name(std::string_view name);

/// Reasons of the upload's 400s (ApiError::reason), for seed 001's error bodies.
inline constexpr const char* kNoFile = "file_missing";
inline constexpr const char* kTypeNotAllowed = "file_type_not_allowed";
inline constexpr const char* kTooLarge = "file_too_large";

/// A file and a presigned GET URL of its bytes.
struct FileView {
  StoredFile file;
  storage::PresignedUrl download;
};

class FileService {
 public:
  /// How long presigned download URLs work (seed 001: `expires_in: 300`).
  static constexpr std::chrono::seconds kUrlTtl{300};

  FileService(db::Pool& db, storage::ObjectStore& store, std::size_t max_bytes)
      : db_(db), store_(store), max_bytes_(max_bytes) {}

  /// Stores `content` sent as `original_name`. Throws ApiError(bad_request) with reason kNoFile,
  /// kTypeNotAllowed or kTooLarge.
  FileView upload(const auth::AuthUser& caller, std::string_view original_name, std::string_view content);
  /// The caller's files (an admin: everyone's) whose name starts with `prefix`, by name.
  std::vector<FileView> list(const auth::AuthUser& caller, const std::string& prefix, std::int64_t limit);
  /// Throws ApiError(not_found) for a file that is not there or not the caller's.
  FileView info(const auth::AuthUser& caller, const std::string& name);
  void remove(const auth::AuthUser& caller, const std::string& name);

  std::size_t max_bytes() const { return max_bytes_; }

 private:
  StoredFile visible_file(const auth::AuthUser& caller, const std::string& name);
  FileView view_of(StoredFile file);

  db::Pool& db_;
  storage::ObjectStore& store_;
  std::size_t max_bytes_;
};

}  // namespace reelhub::files
