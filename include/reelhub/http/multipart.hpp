#pragma once
// A small, strict multipart/form-data parser (RFC 7578 / RFC 2046) for bodies already held in
// memory, such as avatar uploads. Large uploads (videos) need a streaming parser instead.

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reelhub::http {

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

}  // namespace reelhub::http
