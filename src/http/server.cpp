#include "reelhub/http/server.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cerrno>
#include <filesystem>
#include <limits>
#include <list>
#include <thread>

#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/http/router.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/live_hub.hpp"
#include "ws/session.hpp"

namespace reelhub::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

/// One open connection, as the drain logic sees it.
struct Connection {
  asio::any_io_executor strand;          // the session's strand; all access to `stream` runs on it
  beast::tcp_stream* stream = nullptr;   // null once the session has ended
  std::atomic<bool> idle{true};  // waiting for the first byte of a request
};

/// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Request to_request(const bhttp::request_header<>& msg, std::string body, const std::string& peer_ip,
                   bool trust_proxy) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) req.headers[std::string(field.name_string())] = std::string(field.value());
  req.body = std::move(body);
  req.remote_ip = peer_ip;
  if (trust_proxy) {
    const auto forwarded = req.header("X-Forwarded-For");
    if (!forwarded.empty()) {
      auto first = forwarded.substr(0, forwarded.find(','));
      first.erase(0, first.find_first_not_of(' '));
      first.erase(first.find_last_not_of(' ') + 1);
      if (!first.empty()) req.remote_ip = first;
    }
  }
  return req;
}

/// A request body streamed to disk; the file is removed when the request is done with it.
struct BodyFile {
  std::filesystem::path path;
  BodyFile() = default;
  BodyFile(const BodyFile&) = delete;
  BodyFile& operator=(const BodyFile&) = delete;
  ~BodyFile() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove(path, ignored);
  }
};

template <class Body>
void copy_headers(const Response& res, bhttp::response<Body>& out) {
  for (const auto& [name, value] : res.headers) out.set(name, value);
  out.set(bhttp::field::server, "reelhub");
}

}  // namespace

struct Server::Impl {
  Impl(const Config& c, Pipeline& p, metrics::Registry& m)
      : config(c),
        pipeline(p),
        metrics(m),
        threads(c.io_threads > 0 ? c.io_threads : std::max(1u, std::thread::hardware_concurrency())),
        ioc(threads),
        workers(static_cast<std::size_t>(c.db_pool_size)),
        acceptor(ioc),
        signals(ioc, SIGINT, SIGTERM),
        grace_timer(ioc) {}

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(tcp::socket socket);
  asio::awaitable<void> refuse_busy(tcp::socket socket);
  asio::awaitable<bool> write_response(beast::tcp_stream& stream, const Request& req, Response& res, bool keep_alive);
  asio::awaitable<Response> run_handler(const Prepared& prepared, Request& req);
  asio::awaitable<boost::system::error_code> read_body_to_file(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                               bhttp::request_parser<bhttp::buffer_body>& parser,
                                                               BodyFile& file);
  void start_drain();
  void connection_closed();

  const Config& config;
  Pipeline& pipeline;
  metrics::Registry& metrics;
  int threads;
  asio::io_context ioc;
  asio::thread_pool workers;  // blocking handlers: PostgreSQL, password hashing, media probing
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer grace_timer;
  std::atomic<int> open_connections{0};
  std::atomic<bool> draining{false};
  std::mutex connections_mutex;
  std::list<std::shared_ptr<Connection>> connections;
  std::vector<std::function<void()>> drain_hooks;
  ws::LiveHub* hub = nullptr;  // set by serve_websockets()
  const auth::TokenSigner* tokens = nullptr;
};

Server::Server(const Config& config, Pipeline& pipeline, metrics::Registry& metrics)
    : impl_(std::make_unique<Impl>(config, pipeline, metrics)) {
  metrics.gauge_callback("reelhub_http_open_connections", [impl = impl_.get()] {
    return std::vector<std::pair<metrics::Labels, double>>{{{}, double(impl->open_connections.load())}};
  });
}

Server::~Server() { impl_->workers.join(); }

void Server::listen() {
  auto& a = impl_->acceptor;
  const tcp::endpoint ep(asio::ip::make_address(impl_->config.http_host), impl_->config.http_port);
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
}

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::on_drain(std::function<void()> fn) { impl_->drain_hooks.push_back(std::move(fn)); }

void Server::serve_websockets(ws::LiveHub& hub, const auth::TokenSigner& tokens) {
  impl_->hub = &hub;
  impl_->tokens = &tokens;
  on_drain([&hub] { hub.close_all(ws::CloseCode::going_away, "Server shutting down"); });
}

void Server::run() {
  auto& impl = *impl_;
  impl.signals.async_wait([&impl](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("received signal {}, draining", signo);
    impl.start_drain();
  });
  asio::co_spawn(impl.ioc, impl.accept_loop(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  spdlog::info("HTTP listening on {}:{} with {} io threads", impl.config.http_host, port(), impl.threads);
  std::vector<std::thread> pool;
  for (int i = 1; i < impl.threads; ++i) pool.emplace_back([&impl] { impl.ioc.run(); });
  impl.ioc.run();
  for (auto& t : pool) t.join();
  impl.workers.join();
  spdlog::info("HTTP server stopped");
}

void Server::Impl::start_drain() {
  if (draining.exchange(true)) return;
  boost::system::error_code ignored;
  acceptor.close(ignored);  // new connections are refused from here on
  for (auto& hook : drain_hooks) hook();
  {
    // Idle keep-alive connections have nothing in flight: close them now. Busy ones close
    // themselves after their response.
    std::lock_guard lock(connections_mutex);
    for (auto& c : connections)
      if (c->idle) asio::post(c->strand, [c] {
          if (c->stream && c->idle) c->stream->socket().close();
        });
  }
  grace_timer.expires_after(std::chrono::seconds(config.shutdown_grace_seconds));
  grace_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    spdlog::warn("shutdown grace period over with {} connections open", open_connections.load());
    ioc.stop();
  });
  if (open_connections == 0) ioc.stop();
}

void Server::Impl::connection_closed() {
  if (--open_connections == 0 && draining) asio::post(ioc, [this] { ioc.stop(); });
}

asio::awaitable<void> Server::Impl::accept_loop() {
  asio::steady_timer backoff(ioc);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), as_tuple);
    if (ec) {
      if (draining || !acceptor.is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning on a failing accept.
      spdlog::warn("accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(as_tuple);
      continue;
    }
    auto ex = socket.get_executor();
    if (open_connections >= config.max_connections) {
      asio::co_spawn(ex, refuse_busy(std::move(socket)), asio::detached);
      continue;
    }
    ++open_connections;
    asio::co_spawn(ex, session(std::move(socket)), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("connection failed: {}", ex.what());
        }
      }
    });
  }
}

asio::awaitable<void> Server::Impl::refuse_busy(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(2));
  Response res = error_response(ApiError(ErrorCode::unavailable, "Too many connections").with_retry_after(1));
  Request req;
  req.method = "GET";
  co_await write_response(stream, req, res, false);
  metrics.inc("reelhub_http_connections_refused_total");
}

asio::awaitable<Response> Server::Impl::run_handler(const Prepared& prepared, Request& req) {
  if (!prepared.route->options.blocking) co_return pipeline.invoke(*prepared.route, req);
  const auto queued = std::chrono::steady_clock::now();
  const auto wait_limit = std::chrono::milliseconds(config.db_wait_ms);
  // The coroutine frame outlives the worker call, so the references stay valid.
  co_return co_await asio::co_spawn(
      workers,
      [&]() -> asio::awaitable<Response> {
        if (std::chrono::steady_clock::now() - queued > wait_limit)
          co_return error_response(ApiError(ErrorCode::unavailable, "Server is busy, try again").with_retry_after(1));
        co_return pipeline.invoke(*prepared.route, req);
      },
      use_awaitable);
}

asio::awaitable<boost::system::error_code> Server::Impl::read_body_to_file(
    beast::tcp_stream& stream, beast::flat_buffer& buffer, bhttp::request_parser<bhttp::buffer_body>& parser,
    BodyFile& file) {
  // Appended piecewise: GCC 12 at -O3 misreads `"literal" + std::string` as an overflowing memcpy.
  std::string name = "upload-";
  name += random_hex(16);
  name += ".part";
  const std::filesystem::path dir = std::filesystem::path(config.media_root) / "tmp";
  std::error_code fs_error;
  std::filesystem::create_directories(dir, fs_error);
  file.path = dir / name;
  Fd fd{::open(file.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (fd.fd < 0) {
    const int error = errno;
    file.path.clear();
    co_return boost::system::error_code(error, boost::system::generic_category());
  }
  // One chunk in memory at a time; the timeout is per chunk, so a large upload on a slow link
  // may take as long as it keeps making progress.
  std::vector<char> chunk(64 * 1024);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    stream.expires_after(std::chrono::seconds(config.body_timeout_seconds));
    auto [ec, n] = co_await bhttp::async_read_some(stream, buffer, parser, as_tuple);
    if (ec && ec != bhttp::error::need_buffer) co_return ec;
    const std::size_t got = chunk.size() - parser.get().body().size;
    for (std::size_t written = 0; written < got;) {
      const ssize_t w = ::write(fd.fd, chunk.data() + written, got - written);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) co_return boost::system::error_code(w < 0 ? errno : EIO, boost::system::generic_category());
      written += static_cast<std::size_t>(w);
    }
  }
  co_return boost::system::error_code{};
}

asio::awaitable<void> Server::Impl::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto conn = std::make_shared<Connection>();
  conn->strand = stream.get_executor();
  conn->stream = &stream;
  std::list<std::shared_ptr<Connection>>::iterator registered;
  {
    std::lock_guard lock(connections_mutex);
    registered = connections.insert(connections.end(), conn);
  }
  boost::system::error_code ignored;
  const auto peer = stream.socket().remote_endpoint(ignored);
  const std::string peer_ip = ignored ? std::string("unknown") : peer.address().to_string();
  beast::flat_buffer buffer;
  bool upgraded = false;  // the stream now belongs to a WebSocket session

  // Answers a request that failed before the pipeline saw it (bad framing, too large).
  auto reject = [&](ErrorCode code, const std::string& message) -> asio::awaitable<void> {
    Request req;
    req.method = "GET";
    req.remote_ip = peer_ip;
    req.request_id = random_hex(8);
    Prepared none;
    Response res = error_response(ApiError(code, message));
    pipeline.finish(req, none, res, std::chrono::steady_clock::now());
    co_await write_response(stream, req, res, false);
  };

  for (;;) {
    conn->idle = true;
    if (draining) break;
    if (buffer.size() == 0) {
      // Between requests only the idle timeout runs; once a byte arrives the header deadline
      // starts, so a client trickling headers (slowloris) is cut off after header_timeout.
      stream.expires_after(std::chrono::seconds(config.idle_timeout_seconds));
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), as_tuple);
      if (ec) break;
      buffer.commit(n);
    }
    conn->idle = false;
    const auto started = std::chrono::steady_clock::now();

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    // Beast's default body limit (1 MiB) would fail the header read itself for a larger
    // Content-Length; lift it here so the route's own limit below answers with 413.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    stream.expires_after(std::chrono::seconds(config.header_timeout_seconds));
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, as_tuple);
    if (hec) {
      if (hec == bhttp::error::header_limit) co_await reject(ErrorCode::bad_request, "Request headers too large");
      else if (hec.category() == boost::system::error_code(bhttp::error::bad_method).category())
        co_await reject(ErrorCode::bad_request, "Malformed HTTP request");
      break;
    }
    auto& header = parser.get();
    const auto policy = pipeline.body_policy_for(std::string(header.method_string()), std::string(header.target()));
    const std::size_t limit = policy.limit;
    if (parser.content_length() && *parser.content_length() > limit) {
      co_await reject(ErrorCode::payload_too_large, "Request body exceeds " + std::to_string(limit) + " bytes");
      break;
    }
    parser.body_limit(limit);
    Request req;
    std::optional<Prepared> early;  // a body_to_file request is routed and checked before its body
    if (policy.to_file) {
      // Authentication and rate limits first: nobody unauthorised gets to fill the disk.
      req = to_request(header, {}, peer_ip, config.trust_proxy);
      early = pipeline.prepare(req);
      if (early->response) {
        Response refused = std::move(*early->response);
        pipeline.finish(req, *early, refused, started);
        co_await write_response(stream, req, refused, false);  // the unread body ends the connection
        break;
      }
    }
    if (header[bhttp::field::expect] == "100-continue") {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
      co_await bhttp::async_write(stream, cont, as_tuple);
    }
    boost::system::error_code bec;
    BodyFile body_file;  // the streamed body of a body_to_file route, removed after the response
    bhttp::request<bhttp::string_body> msg;
    if (policy.to_file) {
      bhttp::request_parser<bhttp::buffer_body> file_parser{std::move(parser)};
      file_parser.body_limit(limit);
      bec = co_await read_body_to_file(stream, buffer, file_parser, body_file);
      if (!bec) {
        req.body_file = body_file.path;
        msg.keep_alive(file_parser.get().keep_alive());
      }
    } else {
      stream.expires_after(std::chrono::seconds(config.body_timeout_seconds));
      auto [ec, bn] = co_await bhttp::async_read(stream, buffer, parser, as_tuple);
      bec = ec;
      if (!bec) {
        msg = parser.release();
        req = to_request(msg, std::move(msg.body()), peer_ip, config.trust_proxy);  // moves the body only
      }
    }
    if (bec) {
      if (bec == bhttp::error::body_limit)
        co_await reject(ErrorCode::payload_too_large, "Request body exceeds " + std::to_string(limit) + " bytes");
      else if (bec.category() == boost::system::generic_category())
        co_await reject(ErrorCode::unavailable, "Cannot store the request body");
      else if (bec != beast::error::timeout && bec != bhttp::error::end_of_stream && bec != asio::error::eof &&
               bec != asio::error::connection_reset)
        co_await reject(ErrorCode::bad_request, "Malformed HTTP request body");
      break;
    }

    const bool keep_alive = msg.keep_alive();
    const bool websocket = hub && !policy.to_file && beast::websocket::is_upgrade(msg);
    Prepared prepared = early ? std::move(*early) : pipeline.prepare(req);
    if (websocket && !prepared.response && prepared.route_label == ws::kEndpointPath) {
      Response switching;
      switching.status = 101;
      pipeline.finish(req, prepared, switching, started);
      buffer = {};  // a WebSocket client sends nothing before the 101, so nothing is left in it
      upgraded = true;
      conn->stream = nullptr;  // the drain reaches it through the hub (close 1001), not the socket
      co_await ws::serve_websocket(*hub, *tokens, workers.get_executor(), std::move(stream), std::move(msg),
                                   std::move(req));
      break;
    }
    // Not a conditional expression: GCC 12 miscompiles co_await inside ?: (double destruction).
    Response res;
    if (prepared.response) res = std::move(*prepared.response);
    else res = co_await run_handler(prepared, req);
    pipeline.finish(req, prepared, res, started);
    if (!co_await write_response(stream, req, res, keep_alive && !draining)) break;
    if (!keep_alive || draining) break;
  }
  if (!upgraded) stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  conn->stream = nullptr;
  {
    std::lock_guard lock(connections_mutex);
    connections.erase(registered);
  }
  connection_closed();
}

asio::awaitable<bool> Server::Impl::write_response(beast::tcp_stream& stream, const Request& req, Response& res,
                                                   bool keep_alive) {
  const bool head = req.method == "HEAD";
  stream.expires_after(std::chrono::seconds(config.body_timeout_seconds));
  if (res.shared_body) {
    // `res` (and so the shared bytes) outlives the write: it lives in the caller's frame.
    bhttp::response<bhttp::span_body<const char>> out{static_cast<bhttp::status>(res.status), 11};
    copy_headers(res, out);
    out.keep_alive(keep_alive);
    out.body() = {res.shared_body->data(), res.shared_body->size()};
    out.prepare_payload();
    if (head) {
      bhttp::response_serializer<bhttp::span_body<const char>> sr{out};
      auto [ec, n] = co_await bhttp::async_write_header(stream, sr, as_tuple);
      co_return !ec;
    }
    auto [ec, n] = co_await bhttp::async_write(stream, out, as_tuple);
    co_return !ec;
  }
  if (!res.file) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), 11};
    copy_headers(res, out);
    out.keep_alive(keep_alive);
    if (head) {
      out.content_length(res.body.size());
      bhttp::response_serializer<bhttp::string_body> sr{out};
      auto [ec, n] = co_await bhttp::async_write_header(stream, sr, as_tuple);
      co_return !ec;
    }
    out.body() = std::move(res.body);
    out.prepare_payload();
    auto [ec, n] = co_await bhttp::async_write(stream, out, as_tuple);
    co_return !ec;
  }

  // Files are streamed in chunks from the requested offset, so a multi-GB recording costs
  // one 64 KiB buffer per connection.
  const FileBody& file = *res.file;
  Fd fd{::open(file.path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) {
    Response missing = error_response(ApiError(ErrorCode::not_found, "File not found"));
    missing.headers.insert(res.headers.begin(), res.headers.end());
    missing.file.reset();
    co_return co_await write_response(stream, req, missing, keep_alive);
  }
  bhttp::response<bhttp::buffer_body> out{static_cast<bhttp::status>(res.status), 11};
  copy_headers(res, out);
  out.keep_alive(keep_alive);
  out.content_length(file.length);
  out.body().data = nullptr;
  out.body().more = !head && file.length > 0;
  bhttp::response_serializer<bhttp::buffer_body> sr{out};
  auto [hec, hn] = co_await bhttp::async_write_header(stream, sr, as_tuple);
  if (hec) co_return false;
  if (head) co_return true;
  std::vector<char> chunk(64 * 1024);
  std::uint64_t offset = file.offset;
  std::uint64_t left = file.length;
  while (left > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), left));
    const ssize_t got = ::pread(fd.fd, chunk.data(), want, static_cast<off_t>(offset));
    if (got <= 0) co_return false;  // file shrank underneath us: the length promised can't be kept
    offset += got;
    left -= got;
    out.body().data = chunk.data();
    out.body().size = static_cast<std::size_t>(got);
    out.body().more = left > 0;
    stream.expires_after(std::chrono::seconds(config.body_timeout_seconds));
    auto [ec, n] = co_await bhttp::async_write(stream, sr, as_tuple);
    if (ec == bhttp::error::need_buffer) continue;
    if (ec) co_return false;
  }
  if (!sr.is_done()) {
    out.body().data = nullptr;
    out.body().more = false;
    auto [ec, n] = co_await bhttp::async_write(stream, sr, as_tuple);
    if (ec) co_return false;
  }
  co_return true;
}

}  // namespace reelhub::http
