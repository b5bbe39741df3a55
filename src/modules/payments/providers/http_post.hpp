#pragma once
// One outbound HTTPS (or, for local stand-ins, plain HTTP) POST, synchronous: what a provider
// adapter needs to call its provider's API from a worker thread.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace reelhub::payments {

struct HttpReply {
  int status = 0;
  std::string body{};
};

/// POSTs `body` to `url` (https:// verifies the peer against the system's CAs and its host
/// name; http:// is for local stand-ins). Throws std::runtime_error when the exchange fails.
HttpReply http_post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& body, std::chrono::milliseconds timeout);

/// application/x-www-form-urlencoded encoding of one key or value.
std::string form_encode(const std::string& s);

}  // namespace reelhub::payments
