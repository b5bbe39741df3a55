#include "reelhub/storage/sigv4.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <stdexcept>

#include "digest.hpp"

namespace reelhub::storage::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string hex_of(std::string_view bytes) {
  return to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// Header value as canonicalized: outer whitespace trimmed, inner runs of spaces made one.
std::string trimmed(std::string_view v) {
  std::string out;
  bool space = false;
  for (const char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string date_of(std::string_view amz) { return std::string(amz.substr(0, 8)); }

std::string scope_of(std::string_view date, const Scope& scope) {
  return std::string(date) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

/// Sorted, lower-cased "name:value" lines and the signed-header list.
std::pair<std::string, std::string> canonical_headers(const Request& r) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : r.headers) headers.emplace_back(lower(name), trimmed(value));
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string lines, names;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    // Repeated names are one line, their values joined by commas.
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      lines.back() = ',';
      lines += headers[i].second + "\n";
      continue;
    }
    lines += headers[i].first + ":" + headers[i].second + "\n";
    if (!names.empty()) names += ';';
    names += headers[i].first;
  }
  return {lines, names};
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, true), uri_encode(value, true));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

std::string signing_key(const Credentials& c, std::string_view date, const Scope& scope) {
  const std::string k_date = hmac_sha256("AWS4" + c.secret_key, date);
  const std::string k_region = hmac_sha256(k_date, scope.region);
  const std::string k_service = hmac_sha256(k_region, scope.service);
  return hmac_sha256(k_service, "aws4_request");
}

std::string signature(const Request& r, const Credentials& c, const Scope& scope, std::string_view amz) {
  const std::string date = date_of(amz);
  const std::string string_to_sign = std::string(kAlgorithm) + "\n" + std::string(amz) + "\n" + scope_of(date, scope) +
                                     "\n" + sha256_hex(canonical_request(r));
  return hex_of(hmac_sha256(signing_key(c, date, scope), string_to_sign));
}

}  // namespace

std::string uri_encode(std::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (c == '/' && !encode_slash)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char out[20];
  std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &utc);
  return out;
}

std::string sha256_hex(std::string_view data) {
  Digest d(EVP_sha256());
  d.update(data);
  return d.hex();
}

std::string canonical_request(const Request& r) {
  const auto [lines, names] = canonical_headers(r);
  return r.method + "\n" + r.path + "\n" + canonical_query(r.query) + "\n" + lines + "\n" + names + "\n" +
         r.payload_hash;
}

std::string authorization(const Request& r, const Credentials& c, const Scope& scope,
                          std::chrono::system_clock::time_point now) {
  const std::string amz = amz_date(now);
  return std::string(kAlgorithm) + " Credential=" + c.access_key + "/" + scope_of(date_of(amz), scope) +
         ", SignedHeaders=" + canonical_headers(r).second + ", Signature=" + signature(r, c, scope, amz);
}

std::string presigned_query(std::string_view method, std::string_view path, std::string_view host,
                            const Credentials& c, const Scope& scope, std::chrono::system_clock::time_point now,
                            std::chrono::seconds expires) {
  const std::string amz = amz_date(now);
  Request r{.method = std::string(method),
            .path = std::string(path),
            .query = {{"X-Amz-Algorithm", std::string(kAlgorithm)},
                      {"X-Amz-Credential", c.access_key + "/" + scope_of(date_of(amz), scope)},
                      {"X-Amz-Date", amz},
                      {"X-Amz-Expires", std::to_string(expires.count())},
                      {"X-Amz-SignedHeaders", "host"}},
            .headers = {{"host", std::string(host)}},
            .payload_hash = "UNSIGNED-PAYLOAD"};
  return canonical_query(r.query) + "&X-Amz-Signature=" + signature(r, c, scope, amz);
}

}  // namespace reelhub::storage::sigv4
