#include "reelhub/storage/s3_store.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>
#include <thread>

#include "digest.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"

namespace reelhub::storage {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::system_clock;

/// What came back: status, the headers we read, and the body unless it went to a sink.
struct Reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

/// Receives the body of a 2xx answer piece by piece (GET into a stream).
using Sink = std::function<void(std::string_view)>;

/// A failure worth trying again: the network, or the service saying so (5xx).
struct Transient : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string xml_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool known = false;
    for (const auto& [entity, c] : kEntities) {
      if (s.substr(i).starts_with(entity)) {
        out += c;
        i += entity.size() - 1;
        known = true;
        break;
      }
    }
    if (!known) out += '&';
  }
  return out;
}

/// The text of every <tag>...</tag> in `xml`, in order (S3's answers are flat enough).
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    const std::size_t start = pos + open.size();
    const std::size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(start, end - start));
    pos = end + close.size();
  }
  return out;
}

std::string xml_text(std::string_view xml, std::string_view tag) {
  const auto all = xml_elements(xml, tag);
  return all.empty() ? "" : xml_unescape(all.front());
}

std::string unquoted(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

Clock::time_point parse_time(const std::string& text, const char* format) {
  std::tm tm{};
  if (strptime(text.c_str(), format, &tm) == nullptr) return {};
  return Clock::from_time_t(timegm(&tm));
}

}  // namespace

struct S3Store::Impl {
  S3Options options;
  bool tls = false;
  std::string host;        // endpoint host
  std::string port;        // endpoint port (explicit or the scheme's)
  std::string host_header; // what requests send and sign as Host
  std::string scheme;

  explicit Impl(S3Options o) : options(std::move(o)) {
    const auto url = boost::urls::parse_uri(options.endpoint);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty())
      throw std::invalid_argument("s3_endpoint must be an http:// or https:// URL: " + options.endpoint);
    scheme.assign(url->scheme().data(), url->scheme().size());
    tls = scheme == "https";
    host = url->host();
    port = url->has_port() ? std::string(url->port().data(), url->port().size()) : (tls ? "443" : "80");
    const std::string authority = url->has_port() ? host + ":" + port : host;
    host_header = options.path_style ? authority : options.bucket + "." + authority;
  }

  /// The URI-encoded path of `key` (or of the bucket when `key` is empty).
  std::string path_of(const std::string& key) const {
    const std::string encoded = sigv4::uri_encode(key, false);
    return options.path_style ? "/" + options.bucket + "/" + encoded : "/" + encoded;
  }

  /// One signed request on a fresh connection, retried with backoff while it fails transiently.
  Reply send(const std::string& method, const std::string& path, std::vector<std::pair<std::string, std::string>> query,
             std::string_view body, std::vector<std::pair<std::string, std::string>> headers = {},
             const Sink* sink = nullptr) {
    std::chrono::milliseconds backoff = options.first_backoff;
    // Bytes already handed to the sink cannot be taken back: such a request is not retried.
    std::uint64_t delivered = 0;
    const Sink counting = [&](std::string_view piece) {
      delivered += piece.size();
      (*sink)(piece);
    };
    for (int attempt = 1;; ++attempt) {
      try {
        return send_once(method, path, query, body, headers, sink ? &counting : nullptr);
      } catch (const Transient& e) {
        if (delivered > 0) throw std::runtime_error(std::string("s3: ") + method + " " + path + " broke off: " + e.what());
        if (attempt >= options.max_attempts) {
          spdlog::warn("s3: {} {} failed {} times, last: {}", method, path, attempt, e.what());
          throw ApiError(ErrorCode::unavailable, "Object storage is unavailable").with_retry_after(5);
        }
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
      }
    }
  }

  Reply send_once(const std::string& method, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& query, std::string_view body,
                  const std::vector<std::pair<std::string, std::string>>& extra_headers, const Sink* sink) {
    const auto now = Clock::now();
    sigv4::Request signed_request{.method = method,
                                  .path = path,
                                  .query = query,
                                  .headers = extra_headers,
                                  .payload_hash = sigv4::sha256_hex(body)};
    signed_request.headers.emplace_back("Host", host_header);
    signed_request.headers.emplace_back("x-amz-content-sha256", signed_request.payload_hash);
    signed_request.headers.emplace_back("x-amz-date", sigv4::amz_date(now));

    std::string target = path;
    for (std::size_t i = 0; i < query.size(); ++i) {
      target += i == 0 ? '?' : '&';
      target += sigv4::uri_encode(query[i].first, true);
      if (!query[i].second.empty() || query[i].first != "uploads") target += "=" + sigv4::uri_encode(query[i].second, true);
    }
    http::request<http::string_body> req{method == "GET"      ? http::verb::get
                                         : method == "PUT"    ? http::verb::put
                                         : method == "POST"   ? http::verb::post
                                         : method == "DELETE" ? http::verb::delete_
                                                              : http::verb::head,
                                         target, 11};
    for (const auto& [name, value] : signed_request.headers) req.set(name, value);
    req.set(http::field::authorization,
            sigv4::authorization(signed_request, options.credentials, {.region = options.region}, now));
    req.body() = std::string(body);
    req.prepare_payload();

    Reply reply;
    std::exception_ptr failure;
    asio::io_context ioc;
    asio::co_spawn(ioc, exchange(ioc, req, reply, sink),
                   [&failure](std::exception_ptr e) { failure = std::move(e); });
    ioc.run();
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const boost::system::system_error& e) {
        throw Transient(e.what());
      }
    }
    if (reply.status >= 500) throw Transient("HTTP " + std::to_string(reply.status) + ": " + xml_text(reply.body, "Code"));
    return reply;
  }

  asio::awaitable<void> exchange(asio::io_context& ioc, http::request<http::string_body>& req, Reply& reply,
                                 const Sink* sink) {
    asio::ip::tcp::resolver resolver(ioc);
    const auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);
    if (!tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(options.timeout);
      co_await stream.async_connect(endpoints, asio::use_awaitable);
      co_await talk(stream, stream, req, reply, sink);
      co_return;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()))
      throw std::runtime_error("cannot set the TLS server name");
    stream.set_verify_callback(asio::ssl::host_name_verification(host));
    beast::get_lowest_layer(stream).expires_after(options.timeout);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_await talk(stream, beast::get_lowest_layer(stream), req, reply, sink);
  }

  template <class Stream>
  asio::awaitable<void> talk(Stream& stream, beast::tcp_stream& timer, http::request<http::string_body>& req,
                             Reply& reply, const Sink* sink) {
    timer.expires_after(options.timeout);
    co_await http::async_write(stream, req, asio::use_awaitable);
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    if (req.method() == http::verb::head) parser.skip(true);
    timer.expires_after(options.timeout);
    co_await http::async_read_header(stream, buffer, parser, asio::use_awaitable);
    reply.status = parser.get().result_int();
    for (const auto& field : parser.get()) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(field.value());
    }
    const bool to_sink = sink != nullptr && reply.status / 100 == 2;
    std::array<char, 64 * 1024> chunk{};
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      timer.expires_after(options.timeout);
      const auto result = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      const boost::system::error_code ec = std::get<0>(result);
      if (ec && ec != http::error::need_buffer) throw boost::system::system_error(ec);
      const std::string_view piece(chunk.data(), chunk.size() - parser.get().body().size);
      if (to_sink) (*sink)(piece);
      else reply.body.append(piece);
    }
  }

  static ObjectInfo info_from(const std::string& key, const Reply& r) {
    ObjectInfo info{.key = key, .size = 0, .last_modified = {}, .etag = unquoted(r.header("etag"))};
    if (const std::string length = r.header("content-length"); !length.empty()) info.size = std::stoull(length);
    info.last_modified = parse_time(r.header("last-modified"), "%a, %d %b %Y %H:%M:%S");
    return info;
  }

  [[noreturn]] static void fail(const std::string& what, const Reply& r) {
    throw std::runtime_error("s3: " + what + ": HTTP " + std::to_string(r.status) + " " + xml_text(r.body, "Code") +
                             " " + xml_text(r.body, "Message"));
  }

  std::string put_part(const std::string& key, std::string_view bytes,
                       std::vector<std::pair<std::string, std::string>> query) {
    const Reply r = send("PUT", path_of(key), std::move(query), bytes, {{"Content-Type", content_type_of(key)}});
    if (r.status != 200) fail("PUT " + key, r);
    return unquoted(r.header("etag"));
  }

  ObjectInfo put_multipart(const std::string& key, std::ifstream& in, std::uint64_t size) {
    const Reply created = send("POST", path_of(key), {{"uploads", ""}}, "", {{"Content-Type", content_type_of(key)}});
    if (created.status != 200) fail("CreateMultipartUpload " + key, created);
    const std::string upload_id = xml_text(created.body, "UploadId");
    try {
      std::string complete = "<CompleteMultipartUpload>";
      std::string part(options.part_bytes, '\0');
      Digest md5(EVP_md5());
      for (int number = 1; in; ++number) {
        in.read(part.data(), static_cast<std::streamsize>(part.size()));
        const std::string_view bytes(part.data(), static_cast<std::size_t>(in.gcount()));
        if (bytes.empty()) break;
        md5.update(bytes);
        const std::string etag =
            put_part(key, bytes, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}});
        complete += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>\"" + etag +
                    "\"</ETag></Part>";
      }
      complete += "</CompleteMultipartUpload>";
      const Reply done = send("POST", path_of(key), {{"uploadId", upload_id}}, complete);
      // S3 may answer 200 with an <Error> body when completing fails late.
      if (done.status != 200 || done.body.find("<Error>") != std::string::npos) fail("CompleteMultipartUpload", done);
      // The ETag of a multipart object is not its MD5; callers get the MD5 they can check.
      return {.key = key, .size = size, .last_modified = Clock::now(), .etag = md5.hex()};
    } catch (...) {
      try {
        send("DELETE", path_of(key), {{"uploadId", upload_id}}, "");
      } catch (const std::exception& e) {
        spdlog::warn("s3: aborting multipart upload of {} failed: {}", key, e.what());
      }
      throw;
    }
  }
};

S3Store::S3Store(S3Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
S3Store::~S3Store() = default;

ObjectInfo S3Store::put_bytes(const std::string& key, std::string_view bytes) {
  checked_key(key);
  impl_->put_part(key, bytes, {});
  return {.key = key, .size = bytes.size(), .last_modified = Clock::now(), .etag = md5_hex(bytes)};
}

ObjectInfo S3Store::put_file(const std::string& key, const std::filesystem::path& source) {
  checked_key(key);
  std::ifstream in(source, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + source.string());
  const std::uint64_t size = std::filesystem::file_size(source);
  if (size > impl_->options.multipart_threshold_bytes) return impl_->put_multipart(key, in, size);
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  return put_bytes(key, bytes);
}

void S3Store::get(const std::string& key, std::ostream& out, std::optional<ByteRange> range) {
  checked_key(key);
  std::vector<std::pair<std::string, std::string>> headers;
  if (range) {
    std::string value = "bytes=" + std::to_string(range->offset) + "-";
    if (range->length) value += std::to_string(range->offset + *range->length - 1);
    headers.emplace_back("Range", value);
  }
  const Sink sink = [&out](std::string_view piece) { out.write(piece.data(), static_cast<std::streamsize>(piece.size())); };
  const Reply r = impl_->send("GET", impl_->path_of(key), {}, "", headers, &sink);
  if (r.status == 404) throw ApiError(ErrorCode::not_found, "Object not found");
  if (r.status == 416) throw ApiError(ErrorCode::range_not_satisfiable, "Range starts past the end of the object");
  if (r.status != 200 && r.status != 206) Impl::fail("GET " + key, r);
}

std::optional<ObjectInfo> S3Store::head(const std::string& key) {
  checked_key(key);
  const Reply r = impl_->send("HEAD", impl_->path_of(key), {}, "");
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) Impl::fail("HEAD " + key, r);
  return Impl::info_from(key, r);
}

bool S3Store::remove(const std::string& key) {
  // S3 answers a DELETE 204 whether or not there was an object.
  if (!head(key)) return false;
  const Reply r = impl_->send("DELETE", impl_->path_of(key), {}, "");
  if (r.status != 204 && r.status != 200) Impl::fail("DELETE " + key, r);
  return true;
}

std::vector<ObjectInfo> S3Store::list(const std::string& prefix, std::size_t limit) {
  std::vector<ObjectInfo> out;
  std::string token;
  const std::string bucket_path = impl_->options.path_style ? "/" + impl_->options.bucket : "/";
  while (out.size() < limit) {
    std::vector<std::pair<std::string, std::string>> query = {
        {"list-type", "2"}, {"max-keys", std::to_string(std::min<std::size_t>(limit - out.size(), 1000))}};
    if (!prefix.empty()) query.emplace_back("prefix", prefix);
    if (!token.empty()) query.emplace_back("continuation-token", token);
    const Reply r = impl_->send("GET", bucket_path, query, "");
    if (r.status != 200) Impl::fail("ListObjectsV2", r);
    for (const std::string_view entry : xml_elements(r.body, "Contents")) {
      ObjectInfo info{.key = xml_text(entry, "Key"),
                      .size = std::stoull(std::string(xml_text(entry, "Size"))),
                      .last_modified = parse_time(xml_text(entry, "LastModified"), "%Y-%m-%dT%H:%M:%S"),
                      .etag = unquoted(xml_text(entry, "ETag"))};
      if (out.size() < limit) out.push_back(std::move(info));
    }
    token = xml_text(r.body, "NextContinuationToken");
    if (xml_text(r.body, "IsTruncated") != "true" || token.empty()) break;
  }
  return out;
}

PresignedUrl S3Store::presign_get(const std::string& key, std::chrono::seconds ttl) {
  const auto now = Clock::now();
  const std::string path = impl_->path_of(checked_key(key));
  const std::string query = sigv4::presigned_query("GET", path, impl_->host_header, impl_->options.credentials,
                                                   {.region = impl_->options.region}, now, ttl);
  return {.url = impl_->scheme + "://" + impl_->host_header + path + "?" + query,
          .expires_at = std::chrono::time_point_cast<std::chrono::seconds>(now) + ttl};
}

StoreHealth S3Store::health() {
  StoreHealth state;
  // A write and a delete of a probe object: reachable, credentials accepted, bucket writable.
  const std::string probe = "reelhub-health/probe-" + random_hex(6);
  try {
    impl_->put_part(probe, "ok", {});
    const Reply r = impl_->send("DELETE", impl_->path_of(probe), {}, "");
    if (r.status != 204 && r.status != 200) Impl::fail("DELETE " + probe, r);
    state.reachable = true;
    state.message = "Object storage is available";
  } catch (const std::exception& e) {
    state.message = std::string("Object storage is not available: ") + e.what();
  }
  return state;
}

}  // namespace reelhub::storage
