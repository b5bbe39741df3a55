// multipart/form-data as avatar and video uploads send it. Input: the Content-Type header value,
// a newline, then the body. The boundary is parsed as the handlers do; the body goes through both
// parsers, parse_multipart (held in memory) and parse_multipart_file (streamed from a file with a
// 64 KiB window), which must agree: both accept or both refuse, with the same file part.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "check.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/http/multipart.hpp"

namespace {

namespace fs = std::filesystem;

/// A directory of this process for the body file and the saved file part.
const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    std::string templ = (fs::temp_directory_path() / "reelhub-fuzz-multipart-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) std::abort();
    return fs::path(templ);
  }();
  return dir;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reelhub;
  using reelhub::fuzz::require;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  std::string boundary;
  try {
    boundary = http::multipart_boundary(input.substr(0, newline));
  } catch (const ApiError&) {
    return 0;
  }
  const std::string_view body = input.substr(newline + 1);

  std::optional<std::string> memory_file_part;  // the bytes of the first part named "file"
  bool memory_ok = true;
  try {
    const auto parts = http::parse_multipart(body, boundary);
    for (const auto& part : parts) {
      require(part.data.data() >= body.data() && part.data.data() + part.data.size() <= body.data() + body.size(),
              "a part views its body");
    }
    if (const auto* file = http::find_part(parts, {"file"})) memory_file_part = std::string(file->data);
  } catch (const ApiError& e) {
    require(e.code() == ErrorCode::bad_request, "a malformed body is a bad request");
    memory_ok = false;
  }

  const fs::path body_path = scratch_dir() / "body", saved_path = scratch_dir() / "saved";
  {
    std::ofstream out(body_path, std::ios::binary | std::ios::trunc);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
  }
  try {
    const auto form = http::parse_multipart_file(body_path, boundary, "file", saved_path);
    require(memory_ok, "the streamed parser accepts only what the in-memory one accepts");
    require(form.file.has_value() == memory_file_part.has_value(), "both parsers find the same file part");
    if (form.file) {
      require(form.file->size == memory_file_part->size(), "the saved part has the part's size");
      require(read_file(saved_path) == *memory_file_part, "the saved part has the part's bytes");
    }
  } catch (const ApiError& e) {
    // A field over 64 KiB is refused by the streamed parser alone, which never holds a part whole.
    if (e.code() != ErrorCode::payload_too_large) {
      require(e.code() == ErrorCode::bad_request, "a malformed body is a bad request");
      require(!memory_ok, "the streamed parser refuses only what the in-memory one refuses");
    }
  }
  return 0;
}
