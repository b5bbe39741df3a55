#pragma once
// JSON shapes of the files endpoints, field for field as seed 001 names them, and seed 001's
// error bodies.

#include <nlohmann/json.hpp>

#include "reelhub/core/error.hpp"
#include "reelhub/http/message.hpp"
#include "service.hpp"

namespace reelhub::files {

/// {name, size, last_modified, content_type, etag}: `file_info` of the download answer.
nlohmann::json file_info_json(const StoredFile& file);
/// file_info_json + metadata{original_name, upload_time, file_size (a string), content_type}:
/// `file_info` of the upload answer.
nlohmann::json file_details_json(const StoredFile& file);
/// {message, filename, original_name, size, content_type, download_url, file_info}
nlohmann::json upload_json(const FileView& view);
/// {name, size, last_modified, etag, download_url}: one entry of `files`.
nlohmann::json list_entry_json(const FileView& view);
/// {download_url, file_info, expires_in}
nlohmann::json download_json(const FileView& view);

/// Reelhub's error body for `e` ({"error","message","code"}) with `error` in seed 001's words
/// and its extra fields: `allowed_extensions` for a refused type, `max_size_mb` for a file too big.
http::Response seed_error_response(const ApiError& e, std::size_t max_bytes);

}  // namespace reelhub::files
