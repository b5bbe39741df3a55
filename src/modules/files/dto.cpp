#include "dto.hpp"

#include <cmath>
#include <cstdint>

namespace reelhub::files {

using nlohmann::json;

json file_info_json(const StoredFile& f) {
  return {{"name", f.name},
          {"size", f.size},
          {"last_modified", f.last_modified},
          {"content_type", f.content_type},
          {"etag", f.etag}};
}

json file_details_json(const StoredFile& f) {
  json out = file_info_json(f);
  out["metadata"] = {{"original_name", f.original_name},
                     {"upload_time", f.upload_time},
                     {"file_size", std::to_string(f.size)},
                     {"content_type", f.content_type}};
  return out;
}

json upload_json(const FileView& v) {
  return {{"message", "Файл успешно загружен"},
          {"filename", v.file.name},
          {"original_name", v.file.original_name},
          {"size", v.file.size},
          {"content_type", v.file.content_type},
          {"download_url", v.download.url},
          {"file_info", file_details_json(v.file)}};
}

json list_entry_json(const FileView& v) {
  return {{"name", v.file.name},
          {"size", v.file.size},
          {"last_modified", v.file.last_modified},
          {"etag", v.file.etag},
          {"download_url", v.download.url}};
}

json download_json(const FileView& v) {
  return {{"download_url", v.download.url},
          {"file_info", file_info_json(v.file)},
          {"expires_in", FileService::kUrlTtl.count()}};
}

http::Response seed_error_response(const ApiError& e, std::size_t max_bytes) {
  http::Response r = http::error_response(e);
  json body = json::parse(r.body);
  if (e.code() == ErrorCode::not_found) body["error"] = "Файл не найден";
  if (e.reason() == kNoFile) body["error"] = "Файл не выбран";
  if (e.reason() == kTypeNotAllowed) {
    body["error"] = "Недопустимый тип файла";
    body["allowed_extensions"] = allowed_extensions();
  }
  if (e.reason() == kTooLarge) {
    body["error"] = "Файл слишком большой";
    body["max_size_mb"] = static_cast<std::int64_t>(std::ceil(static_cast<double>(max_bytes) / (1 << 20)));
  }
  r.body = body.dump();
  return r;
}

}  // namespace reelhub::files
