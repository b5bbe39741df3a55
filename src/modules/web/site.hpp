#pragma once
// The web client (web/, built into `web_root` by Vite): its files, and index.html for the
// client's own pages, with the caching, compression and Content-Security-Policy rules in one
// place. The router reaches it only for GET paths no API route matches.

#include <filesystem>
#include <set>
#include <string>

#include "reelhub/http/message.hpp"

namespace reelhub::web {

/// The policy every page of the client runs under: scripts, styles and workers from this
/// origin only (hls.js starts its worker from a blob: URL and feeds the video element through
/// MediaSource blob: URLs), fetch and WebSocket to this origin, no framing.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self' ws: wss:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

class StaticSite {
 public:
  /// `root`: the built client (may not exist yet: then every request is a 404).
  /// `api_prefixes`: first path segments that belong to the API ("auth", "videos", ...); an
  /// unknown path under them is a JSON 404, never the client's index.html.
  StaticSite(std::filesystem::path root, std::set<std::string> api_prefixes);

  /// A file of the client, or index.html for a page of the client (a request that accepts
  /// text/html); 404 otherwise. Never a file outside the root.
  http::Response serve(const http::Request& req) const;

 private:
  /// The file the path names under the root, or empty when it names none (or tries to leave).
  std::filesystem::path file_for(const std::string& path) const;
  http::Response file_response(const http::Request& req, const std::filesystem::path& file,
                               const std::string& relative) const;

  std::filesystem::path root_;
  std::set<std::string> api_prefixes_;
};

}  // namespace reelhub::web
