#include "reelhub/storage/object_store.hpp"

#include <utility>

#include "reelhub/core/error.hpp"

namespace reelhub::storage {
namespace {

constexpr std::size_t kMaxKeyBytes = 512;

bool valid_segment(std::string_view s) {
  if (s.empty() || s.front() == '.') return false;  // also refuses "." and ".."
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string content_type_of(std::string_view key) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".txt", "text/plain; charset=utf-8"},
      {".pdf", "application/pdf"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".doc", "application/msword"},
      {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {".m3u8", "application/vnd.apple.mpegurl"},
      {".ts", "video/mp2t"},
      {".mp4", "video/mp4"},
  };
  for (const auto& [extension, type] : kTypes)
    if (key.ends_with(extension)) return std::string(type);
  return "application/octet-stream";
}

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = key.find('/', start);
    if (!valid_segment(key.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)))
      return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

const std::string& checked_key(const std::string& key) {
  if (!valid_key(key)) throw ApiError(ErrorCode::not_found, "Object not found");
  return key;
}

std::size_t remove_prefix(ObjectStore& store, const std::string& prefix) {
  // Listing again after each batch rather than paging: what was removed is no longer listed.
  constexpr std::size_t kBatch = 1000;
  std::size_t removed = 0;
  while (true) {
    const std::vector<ObjectInfo> batch = store.list(prefix, kBatch);
    std::size_t batch_removed = 0;
    for (const ObjectInfo& object : batch) batch_removed += store.remove(object.key) ? 1 : 0;
    removed += batch_removed;
    if (batch.size() < kBatch || batch_removed == 0) return removed;
  }
}

}  // namespace reelhub::storage
