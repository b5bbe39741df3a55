#include "modules/web/site.hpp"

#include <array>
#include <charconv>
#include <string_view>
#include <utility>

#include "reelhub/core/error.hpp"

namespace reelhub::web {
namespace {

/// Vite puts every file whose name carries a content hash under assets/: such a file never
/// changes, so browsers may keep it for a year without asking again.
constexpr std::string_view kHashedDir = "assets/";
constexpr const char* kImmutable = "public, max-age=31536000, immutable";
/// index.html and the unhashed files (favicon): revalidated on every load (ETag), so a new
/// build is picked up at once.
constexpr const char* kRevalidate = "no-cache";

/// The client's own file types. Deliberately not storage::content_type_of: users' files must
/// never be served as HTML or script, the client's own build must.
std::string content_type_of(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".webmanifest", "application/manifest+json"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  for (const auto& [ext, type] : kTypes)
    if (name.ends_with(ext)) return std::string(type);
  return "application/octet-stream";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Whether an Accept or Accept-Encoding header lists `token` with a q-value above zero.
bool header_lists(std::string_view header, std::string_view token) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string_view name = trim(item.substr(0, semi));
    if (name != token) continue;
    double q = 1.0;
    for (std::string_view params = semi == std::string_view::npos ? "" : item.substr(semi + 1); !params.empty();) {
      const auto next = params.find(';');
      const std::string_view param = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
      if (param.starts_with("q=")) {
        const std::string_view value = param.substr(2);
        if (std::from_chars(value.data(), value.data() + value.size(), q).ec != std::errc{}) q = 0;
      }
    }
    if (q > 0) return true;
  }
  return false;
}

/// A regular file (after symbolic links); false for anything else and on any error.
bool is_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

}  // namespace

StaticSite::StaticSite(std::filesystem::path root, std::set<std::string> api_prefixes)
    : root_(std::move(root)), api_prefixes_(std::move(api_prefixes)) {}

std::filesystem::path StaticSite::file_for(const std::string& path) const {
  // req.path is the decoded segments joined by '/': a segment that was "%2F" or ".." (Boost.URL
  // keeps an encoded one) shows up here and is refused, as is any hidden name ('.' first).
  std::string relative;
  std::string_view rest = path;
  while (!rest.empty()) {
    if (rest.front() != '/') return {};
    rest.remove_prefix(1);
    const auto end = rest.find('/');
    const std::string_view segment = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    if (segment.empty() || segment.front() == '.' || segment.find('\0') != std::string_view::npos ||
        segment.find('\\') != std::string_view::npos)
      return {};
    if (!relative.empty()) relative += '/';
    relative += segment;
  }
  if (relative.empty()) return {};
  const auto file = root_ / relative;
  return is_file(file) ? file : std::filesystem::path{};
}

http::Response StaticSite::file_response(const http::Request& req, const std::filesystem::path& file,
                                         const std::string& relative) const {
  const std::string cache = relative.starts_with(kHashedDir) ? kImmutable : kRevalidate;
  // The build writes .br and .gz beside each compressible file; the smallest one the client
  // takes is sent as is, with no compression work per request.
  const std::string encodings = req.header("Accept-Encoding");
  std::filesystem::path chosen = file;
  std::string encoding;
  for (const auto& [name, suffix] : {std::pair{"br", ".br"}, std::pair{"gzip", ".gz"}}) {
    auto variant = file;
    variant += suffix;
    if ((header_lists(encodings, name) || header_lists(encodings, "*")) && is_file(variant)) {
      chosen = std::move(variant);
      encoding = name;
      break;
    }
  }
  http::Response res = http::Response::file_of(req, chosen, content_type_of(relative), cache);
  if (!encoding.empty() && res.status != 304) res.headers["Content-Encoding"] = encoding;
  res.headers["Vary"] = "Accept-Encoding";
  res.headers["Content-Security-Policy"] = kContentSecurityPolicy;
  res.headers["X-Content-Type-Options"] = "nosniff";
  res.headers["Referrer-Policy"] = "same-origin";
  return res;
}

http::Response StaticSite::serve(const http::Request& req) const {
  if (const auto file = file_for(req.path); !file.empty())
    return file_response(req, file, file.lexically_relative(root_).generic_string());
  // Anything else is a page of the client when a browser navigates to it, except under the
  // API's own prefixes: a mistyped API path stays a JSON 404 for API clients and browsers alike.
  const auto second_slash = req.path.find('/', 1);
  const std::string first = req.path.substr(1, second_slash == std::string::npos ? std::string::npos : second_slash - 1);
  const bool page =
      req.path == "/" || (!api_prefixes_.contains(first) && header_lists(req.header("Accept"), "text/html"));
  const auto index = root_ / "index.html";
  if (page && is_file(index)) return file_response(req, index, "index.html");
  throw ApiError(ErrorCode::not_found, "Route not found");
}

}  // namespace reelhub::web
