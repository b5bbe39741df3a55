#pragma once
// A small, strict multipart/form-data parser (RFC 7578 / RFC 2046): for bodies held in memory,
// such as avatar uploads, and for bodies the server streamed to a file (video uploads), which
// are read chunk by chunk and never held whole.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reelhub::http {

/// Room for the framing around a form's file part (boundaries, part headers): a route taking a
/// file of at most N bytes takes a body of N + kMultipartFraming.
inline constexpr std::size_t kMultipartFraming = 64 * 1024;

/// One part of a form. `data` views the body it was parsed from, which must outlive it.
struct FormPart {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;  // as sent, "text/plain" when the part declares none (RFC 7578 4.4)
  std::string_view data;
};

/// The boundary parameter of a `multipart/form-data` Content-Type value. Throws
/// ApiError(unsupported_media_type) for another media type, ApiError(bad_request) for a missing
/// or invalid boundary.
std::string multipart_boundary(std::string_view content_type);

/// Splits `body` into its parts. Throws ApiError(bad_request) when the body is malformed: no
/// opening or closing delimiter, bad part headers, a part without `Content-Disposition: form-data;
/// name=...`, or more than `max_parts` parts.
std::vector<FormPart> parse_multipart(std::string_view body, std::string_view boundary, std::size_t max_parts = 32);

/// The first part whose name is one of `names`, or nullptr.
const FormPart* find_part(const std::vector<FormPart>& parts, std::initializer_list<std::string_view> names);

/// The file part of a StreamedForm; its bytes went to the file named by the caller.
struct SavedFilePart {
  std::optional<std::string> filename;
  std::string content_type;
  std::uint64_t size = 0;
};

struct StreamedForm {
  std::map<std::string, std::string> fields;  // every other part by name; the first of a name wins
  std::optional<SavedFilePart> file;          // set when the form had a part named `file_field`
};

/// Parses the multipart body stored in `body_path` with a 64 KiB window, whatever its size: the
/// first part named `file_field` is copied to `file_out` (created or truncated), the other parts
/// are kept in memory. Throws what parse_multipart throws for a malformed body, and
/// ApiError(payload_too_large) for a non-file part over `max_field_bytes`.
StreamedForm parse_multipart_file(const std::filesystem::path& body_path, std::string_view boundary,
                                  std::string_view file_field, const std::filesystem::path& file_out,
                                  std::size_t max_field_bytes = 64 * 1024, std::size_t max_parts = 32);

}  // namespace reelhub::http
