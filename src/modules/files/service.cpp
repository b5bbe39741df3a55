#include "service.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>

#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "repo.hpp"

namespace reelhub::files {
namespace {

constexpr std::size_t kMaxNameBytes = 128;
constexpr std::size_t kMaxOriginalNameBytes = 255;

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    if (c < 0x80) extra = 0;
    else if (c >= 0xC2 && c <= 0xDF) extra = 1;
    else if (c >= 0xE0 && c <= 0xEF) extra = 2;
    else if (c >= 0xF0 && c <= 0xF4) extra = 3;
    else return false;
    if (i + extra >= s.size() && extra > 0) return false;
    for (std::size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

bool text_content(std::string_view content) {
  return content.find('\0') == std::string_view::npos && valid_utf8(content);
}

struct KnownType {
  std::string_view extension;
  std::string_view content_type;
  bool (*matches)(std::string_view);
};

const std::array<KnownType, 8> kTypes{{
    {"txt", "text/plain", text_content},
    {"pdf", "application/pdf", [](std::string_view c) { return c.starts_with("%PDF-"); }},
    {"png", "image/png", [](std::string_view c) { return c.starts_with("\x89PNG\r\n\x1a\n"); }},
    {"jpg", "image/jpeg", [](std::string_view c) { return c.starts_with("\xFF\xD8\xFF"); }},
    {"jpeg", "image/jpeg", [](std::string_view c) { return c.starts_with("\xFF\xD8\xFF"); }},
    {"gif", "image/gif", [](std::string_view c) { return c.starts_with("GIF87a") || c.starts_with("GIF89a"); }},
    // Word 97-2003: an OLE2 compound file.
    {"doc", "application/msword",
     [](std::string_view c) { return c.starts_with(std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8)); }},
    // Word 2007+: a ZIP whose (stored, uncompressed) entry names include the Word part.
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     [](std::string_view c) {
       return c.starts_with("PK\x03\x04") && c.find("[Content_Types].xml") != std::string_view::npos &&
              c.find("word/") != std::string_view::npos;
     }},
}};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The last path component of what the client sent, so "C:\\docs\\a.txt" is "a.txt".
std::string base_name(std::string_view sent) {
  const auto slash = sent.find_last_of("/\\");
  std::string_view name = slash == std::string_view::npos ? sent : sent.substr(slash + 1);
  if (name.size() > kMaxOriginalNameBytes) name = name.substr(name.size() - kMaxOriginalNameBytes);
  return std::string(name);
}

/// YYYYMMDD_HHMMSS_<12 random hex>.<ext> (seed 001's shape), in UTC.
std::string generated_name(const std::string& extension) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &utc);
  return std::string(stamp) + "_" + random_hex(6) + "." + extension;
}

std::string storage_key(std::int64_t user_id, const std::string& name) {
  return "files/" + std::to_string(user_id) + "/" + name;
}

ApiError not_found() { return ApiError(ErrorCode::not_found, "File not found"); }

}  // namespace

const std::vector<std::string>& allowed_extensions() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> out;
    for (const auto& t : kTypes) out.emplace_back(t.extension);
    return out;
  }();
  return all;
}

std::optional<std::string> sniffed_content_type(std::string_view extension, std::string_view content) {
  for (const auto& t : kTypes)
    if (t.extension == extension) return t.matches(content) ? std::optional<std::string>(t.content_type) : std::nullopt;
  return std::nullopt;
}

bool plausible_file_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

FileView FileService::view_of(StoredFile file) {
  auto url = store_.presign_get(file.storage_key, kUrlTtl);
  return {.file = std::move(file), .download = std::move(url)};
}

FileView FileService::upload(const auth::AuthUser& caller, std::string_view original_name, std::string_view content) {
  const std::string original = base_name(original_name);
  if (original.empty()) throw ApiError(ErrorCode::bad_request, "No file in the form field `file`").with_reason(kNoFile);
  const auto dot = original.rfind('.');
  const std::string extension = dot == std::string::npos ? "" : lower(original.substr(dot + 1));
  const bool allowed = std::find(allowed_extensions().begin(), allowed_extensions().end(), extension) !=
                       allowed_extensions().end();
  if (!allowed) throw ApiError(ErrorCode::bad_request, "File type not allowed").with_reason(kTypeNotAllowed);
  if (content.size() > max_bytes_)
    throw ApiError(ErrorCode::bad_request, "File is larger than " + std::to_string(max_bytes_) + " bytes")
        .with_reason(kTooLarge);
  const auto content_type = sniffed_content_type(extension, content);
  if (!content_type)
    throw ApiError(ErrorCode::bad_request, "The content is not a ." + extension + " file")
        .with_reason(kTypeNotAllowed);

  const std::string name = generated_name(extension);
  const std::string key = storage_key(caller.id, name);
  const storage::ObjectInfo object = store_.put_bytes(key, content);
  try {
    StoredFile stored = db_.transact([&](pqxx::work& tx) {
      return repo::insert(tx, {.name = name,
                               .user_id = caller.id,
                               .original_name = original,
                               .size = static_cast<std::int64_t>(object.size),
                               .content_type = *content_type,
                               .etag = object.etag,
                               .storage_key = key,
                               .last_modified = {},
                               .upload_time = {}});
    });
    return view_of(std::move(stored));
  } catch (...) {
    store_.remove(key);  // no row names it: nobody could ever reach or delete it
    throw;
  }
}

std::vector<FileView> FileService::list(const auth::AuthUser& caller, const std::string& prefix, std::int64_t limit) {
  const std::optional<std::int64_t> owner =
      caller.role == auth::Role::admin ? std::nullopt : std::optional<std::int64_t>(caller.id);
  auto rows = db_.transact([&](pqxx::work& tx) { return repo::list(tx, owner, prefix, limit); });
  std::vector<FileView> out;
  out.reserve(rows.size());
  for (auto& row : rows) out.push_back(view_of(std::move(row)));
  return out;
}

StoredFile FileService::visible_file(const auth::AuthUser& caller, const std::string& name) {
  if (!plausible_file_name(name)) throw not_found();
  auto file = db_.transact([&](pqxx::work& tx) { return repo::find(tx, name); });
  if (!file || (file->user_id != caller.id && caller.role != auth::Role::admin)) throw not_found();
  return std::move(*file);
}

FileView FileService::info(const auth::AuthUser& caller, const std::string& name) {
  return view_of(visible_file(caller, name));
}

void FileService::remove(const auth::AuthUser& caller, const std::string& name) {
  const StoredFile file = visible_file(caller, name);
  // Row first: once it is gone nobody can reach the object, and a failed object delete leaves
  // only unreachable bytes rather than a row naming nothing.
  if (!db_.transact([&](pqxx::work& tx) { return repo::remove(tx, file.name); })) throw not_found();
  store_.remove(file.storage_key);
}

}  // namespace reelhub::files
