#include "reelhub/http/multipart.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "reelhub/core/error.hpp"

namespace reelhub::http {
namespace {

constexpr std::size_t kMaxBoundary = 70;        // RFC 2046 5.1.1
constexpr std::size_t kMaxPartHeaders = 8192;   // bytes of one part's header section
constexpr std::string_view kCrlf = "\r\n";

[[noreturn]] void malformed(const std::string& why) {
  throw ApiError(ErrorCode::bad_request, "Malformed multipart body: " + why);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_boundary_char(char c) {  // bchars of RFC 2046
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

/// A header value split at ';' into its leading value and `name=value` parameters, where a value
/// is a token or a quoted-string (RFC 9110 5.6.6). Parameter names are lower-cased.
struct ParameterizedValue {
  std::string_view value;
  std::vector<std::pair<std::string, std::string>> params;

  const std::string* param(std::string_view name) const {
    for (const auto& [key, val] : params) {
      if (key == name) return &val;
    }
    return nullptr;
  }
};

ParameterizedValue parse_parameterized(std::string_view header, const char* what) {
  ParameterizedValue out;
  const std::size_t semi = header.find(';');
  out.value = trim(header.substr(0, semi));
  std::size_t pos = semi;
  while (pos != std::string_view::npos) {
    ++pos;  // past ';'
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == '\t')) ++pos;
    if (pos == header.size()) break;  // a trailing ';' is tolerated
    const std::size_t eq = header.find('=', pos);
    if (eq == std::string_view::npos) malformed(std::string("parameter without value in ") + what);
    std::string name(trim(header.substr(pos, eq - pos)));
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      malformed(std::string("bad parameter name in ") + what);
    }
    std::transform(name.begin(), name.end(), name.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
    pos = eq + 1;
    std::string value;
    if (pos < header.size() && header[pos] == '"') {
      for (++pos;; ++pos) {
        if (pos >= header.size()) malformed(std::string("unterminated quoted string in ") + what);
        if (header[pos] == '"') break;
        if (header[pos] == '\\' && pos + 1 < header.size()) ++pos;
        value.push_back(header[pos]);
      }
      ++pos;  // past the closing quote
    } else {
      const std::size_t start = pos;
      while (pos < header.size() && is_token_char(header[pos])) ++pos;
      value.assign(header.substr(start, pos - start));
      if (value.empty()) malformed(std::string("empty parameter value in ") + what);
    }
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == '\t')) ++pos;
    if (pos < header.size() && header[pos] != ';') malformed(std::string("junk after parameter in ") + what);
    out.params.emplace_back(std::move(name), std::move(value));
    pos = pos < header.size() ? pos : std::string_view::npos;
  }
  return out;
}

/// Reads one part's header lines starting at `pos` (just after the delimiter line) and fills
/// `part`; returns the position of the part's content.
std::size_t parse_part_headers(std::string_view body, std::size_t pos, FormPart& part) {
  const std::size_t limit = std::min(body.size(), pos + kMaxPartHeaders);
  bool has_disposition = false;
  part.content_type = "text/plain";
  for (;;) {
    const std::size_t eol = body.find(kCrlf, pos);
    if (eol == std::string_view::npos || eol + kCrlf.size() > limit) malformed("part headers too long or unterminated");
    const std::string_view line = body.substr(pos, eol - pos);
    pos = eol + kCrlf.size();
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos || name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      malformed("bad part header line");  // also rejects obsolete line folding
    }
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Disposition")) {
      const auto disposition = parse_parameterized(value, "Content-Disposition");
      const std::string* field = disposition.param("name");
      if (!iequals(disposition.value, "form-data") || field == nullptr) {
        malformed("part disposition must be form-data with a name");
      }
      part.name = *field;
      if (const std::string* filename = disposition.param("filename")) part.filename = *filename;
      has_disposition = true;
    } else if (iequals(name, "Content-Type")) {
      part.content_type = std::string(value);
    }
  }
  if (!has_disposition) malformed("part without Content-Disposition");
  return pos;
}

constexpr std::size_t kReadChunk = 64 * 1024;

/// An open file descriptor, closed on scope exit.
class File {
 public:
  File(const std::filesystem::path& path, int flags) : fd_(::open(path.c_str(), flags | O_CLOEXEC, 0600)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path.string());
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { ::close(fd_); }
  int fd() const { return fd_; }

 private:
  int fd_;
};

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(n < 0 ? errno : EIO, std::generic_category(), "cannot write upload part");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// A window onto a file: at most one chunk plus what is still unconsumed is in memory.
class Window {
 public:
  explicit Window(const std::filesystem::path& path) : file_(path, O_RDONLY) {}

  std::string_view view() const { return std::string_view(buf_).substr(pos_); }
  void consume(std::size_t n) { pos_ += n; }
  /// Reads another chunk; false at the end of the file.
  bool more() {
    buf_.erase(0, pos_);
    pos_ = 0;
    const std::size_t old = buf_.size();
    buf_.resize(old + kReadChunk);
    ssize_t n;
    do n = ::read(file_.fd(), buf_.data() + old, kReadChunk);
    while (n < 0 && errno == EINTR);
    if (n < 0) throw std::system_error(errno, std::generic_category(), "cannot read upload");
    buf_.resize(old + static_cast<std::size_t>(n));
    return n > 0;
  }
  /// Makes at least `n` bytes visible unless the file ends first.
  void want(std::size_t n) {
    while (view().size() < n && more()) {
    }
  }
  /// Passes everything before the next `delimiter` to `sink` and consumes the delimiter; false
  /// when the file ends without one.
  template <class Sink>
  bool until(std::string_view delimiter, Sink&& sink) {
    for (;;) {
      const std::string_view v = view();
      if (const std::size_t at = v.find(delimiter); at != std::string_view::npos) {
        sink(v.substr(0, at));
        consume(at + delimiter.size());
        return true;
      }
      // Keep a tail that may be the start of a delimiter split across chunks.
      const std::size_t safe = v.size() >= delimiter.size() ? v.size() - delimiter.size() + 1 : 0;
      sink(v.substr(0, safe));
      consume(safe);
      if (!more()) return false;
    }
  }

 private:
  File file_;
  std::string buf_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
  const auto parsed = parse_parameterized(content_type, "Content-Type");
  if (!iequals(parsed.value, "multipart/form-data")) {
    throw ApiError(ErrorCode::unsupported_media_type, "Expected a multipart/form-data body");
  }
  const std::string* boundary = parsed.param("boundary");
  if (boundary == nullptr || boundary->empty() || boundary->size() > kMaxBoundary || boundary->back() == ' ' ||
      !std::all_of(boundary->begin(), boundary->end(), is_boundary_char)) {
    throw ApiError(ErrorCode::bad_request, "Missing or invalid multipart boundary");
  }
  return *boundary;
}

std::vector<FormPart> parse_multipart(std::string_view body, std::string_view boundary, std::size_t max_parts) {
  const std::string delimiter = "\r\n--" + std::string(boundary);
  const std::string_view dash_boundary = std::string_view(delimiter).substr(kCrlf.size());
  // The first delimiter opens the body, or follows a preamble, which is ignored (RFC 2046 5.1.1).
  std::size_t pos = 0;
  if (body.substr(0, dash_boundary.size()) == dash_boundary) {
    pos = dash_boundary.size();
  } else if (const std::size_t found = body.find(delimiter); found != std::string_view::npos) {
    pos = found + delimiter.size();
  } else {
    malformed("no opening boundary");
  }

  std::vector<FormPart> parts;
  for (;;) {
    if (body.substr(pos, 2) == "--") return parts;  // close delimiter; the epilogue is ignored
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;  // transport padding
    if (body.substr(pos, kCrlf.size()) != kCrlf) malformed("boundary line not followed by CRLF");
    if (parts.size() == max_parts) malformed("too many parts");
    FormPart& part = parts.emplace_back();
    pos = parse_part_headers(body, pos + kCrlf.size(), part);
    const std::size_t end = body.find(delimiter, pos);
    if (end == std::string_view::npos) malformed("part not closed by a boundary");
    part.data = body.substr(pos, end - pos);
    pos = end + delimiter.size();
  }
}

StreamedForm parse_multipart_file(const std::filesystem::path& body_path, std::string_view boundary,
                                  std::string_view file_field, const std::filesystem::path& file_out,
                                  std::size_t max_field_bytes, std::size_t max_parts) {
  const std::string delimiter = "\r\n--" + std::string(boundary);
  const std::string_view dash_boundary = std::string_view(delimiter).substr(kCrlf.size());
  Window in(body_path);
  in.want(dash_boundary.size());
  if (in.view().substr(0, dash_boundary.size()) == dash_boundary) {
    in.consume(dash_boundary.size());
  } else if (!in.until(delimiter, [](std::string_view) {})) {  // a preamble is ignored
    malformed("no opening boundary");
  }

  StreamedForm form;
  for (std::size_t parts = 0;; ++parts) {
    in.want(2);
    if (in.view().substr(0, 2) == "--") return form;  // close delimiter; the epilogue is ignored
    for (in.want(1); !in.view().empty() && (in.view()[0] == ' ' || in.view()[0] == '\t'); in.want(1)) in.consume(1);
    in.want(kCrlf.size());
    if (in.view().substr(0, kCrlf.size()) != kCrlf) malformed("boundary line not followed by CRLF");
    in.consume(kCrlf.size());
    if (parts == max_parts) malformed("too many parts");

    // The header section ends with an empty line; parse_part_headers reads it from a view that
    // holds all of it.
    std::size_t end = std::string_view::npos;
    for (in.want(kMaxPartHeaders); end == std::string_view::npos;) {
      const std::string_view v = in.view();
      end = v.substr(0, 2) == kCrlf ? 0 : v.find("\r\n\r\n");
      if (end == std::string_view::npos && (v.size() >= kMaxPartHeaders || !in.more())) {
        malformed("part headers too long or unterminated");
      }
    }
    FormPart part;
    in.consume(parse_part_headers(in.view(), 0, part));

    bool closed = false;
    if (part.name == file_field && !form.file) {
      File out(file_out, O_WRONLY | O_CREAT | O_TRUNC);
      SavedFilePart saved{part.filename, part.content_type, 0};
      closed = in.until(delimiter, [&](std::string_view bytes) {
        write_all(out.fd(), bytes);
        saved.size += bytes.size();
      });
      form.file = std::move(saved);
    } else {
      std::string value;
      closed = in.until(delimiter, [&](std::string_view bytes) {
        if (value.size() + bytes.size() > max_field_bytes) {
          throw ApiError(ErrorCode::payload_too_large,
                         "Form field '" + part.name + "' exceeds " + std::to_string(max_field_bytes) + " bytes");
        }
        value.append(bytes);
      });
      form.fields.emplace(part.name, std::move(value));
    }
    if (!closed) malformed("part not closed by a boundary");
  }
}

const FormPart* find_part(const std::vector<FormPart>& parts, std::initializer_list<std::string_view> names) {
  for (const FormPart& part : parts) {
    if (std::find(names.begin(), names.end(), part.name) != names.end()) return &part;
  }
  return nullptr;
}

}  // namespace reelhub::http
