#include "reelhub/http/server.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <array>
#include <cerrno>
#include <filesystem>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "reelhub/core/blocking.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/files.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/http/admission.hpp"
#include "reelhub/http/client_address.hpp"
#include "reelhub/http/router.hpp"
#include "reelhub/http/upgrade.hpp"
#include "reelhub/metrics/registry.hpp"

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
  asio::any_io_executor executor;        // its event loop's; all access to `stream` runs there
  beast::tcp_stream* stream = nullptr;   // null once the session has ended
  std::atomic<bool> idle{true};  // waiting for the first byte of a request
};

/// The most one sendfile(2) call sends, so one large file does not hold the loop for long.
constexpr std::uint64_t kSendfileChunk = 1 << 20;

/// Descriptors of the files this io thread sent lately, so a hot segment is opened once rather than
/// once per request. An entry serves only the very file the handler's stat saw (device, inode,
/// size, mtime): a file replaced or rewritten since is opened afresh, and a removed one is never
/// reached (the handler's stat fails first). At most kMaxEntries entries per thread; a response
/// still sending from a descriptor holds it open after its entry was replaced or evicted.
class OpenFiles {
 public:
  /// An open descriptor of `file`, or null (errno set) when it can't be opened.
  std::shared_ptr<const FileDescriptor> open(const FileBody& file) {
    const auto found = entries_.find(file.path.native());
    if (found != entries_.end()) {
      Entry& e = found->second;
      if (file.inode != 0 && e.device == file.device && e.inode == file.inode && e.size == file.size &&
          e.mtime_ns == file.mtime_ns) {
        e.used = ++clock_;
        return e.fd;
      }
      entries_.erase(found);
    }
    auto fd = std::make_shared<const FileDescriptor>(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!*fd) return nullptr;
    if (file.inode == 0) return fd;  // identity unknown: used for this response only
    struct stat st {};
    // What was opened may be newer than what the handler saw: then it is not that file.
    if (::fstat(fd->get(), &st) != 0 || static_cast<std::uint64_t>(st.st_ino) != file.inode ||
        static_cast<std::uint64_t>(st.st_dev) != file.device) {
      errno = ENOENT;
      return nullptr;
    }
    if (entries_.size() >= kMaxEntries) evict_least_recent();
    entries_.emplace(file.path.native(), Entry{fd, file.device, file.inode, file.size, file.mtime_ns, ++clock_});
    return fd;
  }

 private:
  static constexpr std::size_t kMaxEntries = 256;
  struct Entry {
    std::shared_ptr<const FileDescriptor> fd;
    std::uint64_t device, inode, size, mtime_ns;
    std::uint64_t used;  // clock_ at the last use
  };
  void evict_least_recent() {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->second.used < oldest->second.used) oldest = it;
    entries_.erase(oldest);
  }
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t clock_ = 0;
};

/// One per io thread: a connection is written on its event loop's thread only.
thread_local OpenFiles open_files;

bool no_body_allowed(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

/// The status line and fields of `res`, rendered straight into one string that leaves in the same
/// system call as the start of the body. No `content_length`: the body follows in chunks.
std::string render_header(const Response& res, std::optional<std::uint64_t> content_length, bool keep_alive) {
  std::string out;
  out.reserve(512);
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(res.status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& [name, value] : res.headers) {
    // Framing is the server's to decide.
    if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Connection") ||
        beast::iequals(name, "Transfer-Encoding") || beast::iequals(name, "Server"))
      continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Server: reelhub\r\n";
  if (!no_body_allowed(res.status)) {
    if (content_length) {
      out += "Content-Length: ";
      out += std::to_string(*content_length);
      out += "\r\n";
    } else {
      out += "Transfer-Encoding: chunked\r\n";
    }
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

/// The request as the pipeline sees it, from the header alone (the body is read after routing).
Request to_request(const bhttp::request_header<>& msg, const std::string& peer_ip, const ClientAddress& client) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) req.headers[std::string(field.name_string())] = std::string(field.value());
  req.remote_ip = client.of(peer_ip, req.header("X-Forwarded-For"));
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

/// One request on a connection, from its header to its response.
struct Exchange {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bhttp::request_parser<bhttp::string_body> parser;
  Request req;
  Prepared prepared;  // routed once, at the header
  BodyPolicy policy;
  BodyFile body_file;  // the streamed body of a body_to_file route, removed after the response
  BodyBudget::Reservation body_memory;  // the share of the body budget an in-memory body holds
  bool keep_alive = false;
  const UpgradeHook* upgrade_hook = nullptr;  // set when the request switches protocols
  bhttp::request<bhttp::string_body> upgrade_request;
};

}  // namespace

/// One io thread's event loop and its own listening socket on the shared port (SO_REUSEPORT):
/// the kernel spreads new connections over the loops, and a connection lives on one loop for
/// its whole life, so serving a request never wakes another thread.
struct EventLoop {
  asio::io_context ioc{1};  // run by one thread: Asio keeps posted work in a thread-local queue
  tcp::acceptor acceptor{ioc};
};

struct Server::Impl {
  Impl(const Config& c, Pipeline& p, metrics::Registry& m)
      : config(c),
        pipeline(p),
        metrics(m),
        loops(make_loops(c.io_threads > 0 ? c.io_threads : std::max(1u, std::thread::hardware_concurrency()))),
        workers(static_cast<std::size_t>(c.db_pool_size)),
        grace_timer(loops.front()->ioc),
        client_address(c.trusted_proxies),
        peers(c.max_connections_per_ip, client_address),
        body_budget(c.body_memory_budget_bytes) {}

  static std::vector<std::unique_ptr<EventLoop>> make_loops(unsigned count) {
    std::vector<std::unique_ptr<EventLoop>> loops;
    for (unsigned i = 0; i < count; ++i) loops.push_back(std::make_unique<EventLoop>());
    return loops;
  }
  void stop_loops() {
    for (auto& loop : loops) loop->ioc.stop();
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor);
  asio::awaitable<void> session(tcp::socket socket, PeerConnections::Slot slot);
  /// Waits for the first byte of the next request under the idle timeout; false: close.
  asio::awaitable<bool> await_request(beast::tcp_stream& stream, beast::flat_buffer& buffer);
  /// Reads and routes the header, then admits the request on it alone: authentication, rate
  /// limit, the body's declared size and its share of the body budget, all before a byte of the
  /// body is read. false: the connection ends (any answer was written).
  asio::awaitable<bool> read_header(beast::tcp_stream& stream, beast::flat_buffer& buffer, const std::string& peer_ip,
                                    Exchange& ex);
  /// Reads the body (to memory or to a file); false: the connection ends.
  asio::awaitable<bool> read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer, const std::string& peer_ip,
                                  Exchange& ex);
  /// Answers the request; false when the connection ends after it.
  asio::awaitable<bool> dispatch(beast::tcp_stream& stream, Exchange& ex);
  /// Answers 101 and hands the stream to the route's upgrade hook.
  asio::awaitable<void> upgrade(beast::tcp_stream& stream, Exchange& ex);
  /// Answers a request that failed before the pipeline could (bad framing, too large) and ends it.
  asio::awaitable<void> reject(beast::tcp_stream& stream, const std::string& peer_ip, ErrorCode code,
                               const std::string& message);
  /// Answers a connection that is over a connection cap, and closes it.
  asio::awaitable<void> refuse_connection(tcp::socket socket, ApiError error, std::string reason);
  /// Answers a request that ends its connection without its body being read.
  asio::awaitable<void> refuse_request(beast::tcp_stream& stream, Exchange& ex);
  /// After a refusal that left body bytes unread: reads and drops what the client still sends for
  /// a moment, so closing the socket does not reset it before the client has read the answer.
  asio::awaitable<void> linger(beast::tcp_stream& stream);
  asio::awaitable<bool> write_response(beast::tcp_stream& stream, const Request& req, Response& res, bool keep_alive);
  /// Writes `header` then `body` from where they are, with gather writes (one sendmsg(2) for both
  /// when the socket takes them); `more`: a file follows, so the header waits to leave with its
  /// first bytes. false when the connection ends.
  asio::awaitable<bool> send_buffers(tcp::socket& socket, std::string_view header, std::string_view body, bool more);
  /// Sends `length` bytes of `fd` from `offset` with sendfile(2); false when the connection ends.
  asio::awaitable<bool> send_file(tcp::socket& socket, int fd, std::uint64_t offset, std::uint64_t length);
  /// Waits until `socket` takes more bytes, for at most the body timeout; false when it doesn't.
  asio::awaitable<bool> wait_writable(tcp::socket& socket, std::optional<asio::steady_timer>& deadline);
  asio::awaitable<Response> run_handler(const Prepared& prepared, Request& req);
  /// Waits (a timer, no thread) until a deferred response is ready or expires.
  asio::awaitable<Response> await_deferred(DeferredResponse& deferred);
  /// Sends a growing body chunk by chunk; false when the connection ends after it.
  asio::awaitable<bool> write_growing(beast::tcp_stream& stream, Response& res, bool keep_alive);
  asio::awaitable<boost::system::error_code> read_body_to_file(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                               bhttp::request_parser<bhttp::buffer_body>& parser,
                                                               BodyFile& file);
  void start_drain();
  void connection_closed();

  const Config& config;
  Pipeline& pipeline;
  metrics::Registry& metrics;
  std::vector<std::unique_ptr<EventLoop>> loops;  // one per io thread; the first also runs the drain
  asio::thread_pool workers;  // blocking handlers: PostgreSQL, password hashing, media probing
  asio::steady_timer grace_timer;
  std::atomic<int> open_connections{0};
  std::atomic<bool> draining{false};
  /// Notified when the drain starts: wakes the requests waiting on a DeferredResponse.
  const std::shared_ptr<ChangeNotifier> drain_started = std::make_shared<ChangeNotifier>();
  std::mutex connections_mutex;
  std::list<std::shared_ptr<Connection>> connections;
  std::vector<std::function<void()>> drain_hooks;
  std::map<std::string, UpgradeHook> upgrade_hooks;  // by route pattern
  const ClientAddress client_address;
  PeerConnections peers;
  BodyBudget body_budget;
};

Server::Server(const Config& config, Pipeline& pipeline, metrics::Registry& metrics)
    : impl_(std::make_unique<Impl>(config, pipeline, metrics)) {
  metrics.gauge_callback("reelhub_http_open_connections", [impl = impl_.get()] {
    return std::vector<std::pair<metrics::Labels, double>>{{{}, double(impl->open_connections.load())}};
  });
  metrics.gauge_callback("reelhub_http_body_memory_bytes", [impl = impl_.get()] {
    return std::vector<std::pair<metrics::Labels, double>>{{{}, double(impl->body_budget.in_use())}};
  });
  metrics.describe("reelhub_http_connections_refused_total", "counter",
                   "Connections refused over a connection cap, by reason (total, per_ip)");
  metrics.describe("reelhub_http_body_budget_refused_total", "counter",
                   "Requests refused with 503 because the in-memory body budget was spent");
  metrics.describe("reelhub_http_body_memory_bytes", "gauge", "Bytes reserved by request bodies being read into memory");
}

Server::~Server() { impl_->workers.join(); }

void Server::listen() {
  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  tcp::endpoint ep(asio::ip::make_address(impl_->config.http_host), impl_->config.http_port);
  if (ep.port() != 0) {
    // Sockets that all set SO_REUSEPORT share a port, so another server of the same user
    // already listening there would not make our bind fail: a probe without it does.
    tcp::acceptor probe(impl_->loops.front()->ioc);
    probe.open(ep.protocol());
    probe.set_option(asio::socket_base::reuse_address(true));
    probe.bind(ep);
  }
  for (auto& loop : impl_->loops) {
    auto& a = loop->acceptor;
    a.open(ep.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.set_option(reuse_port(true));
    a.bind(ep);
    a.listen(asio::socket_base::max_listen_connections);
    ep.port(a.local_endpoint().port());  // port 0: the others join the port the first was given
  }
}

std::uint16_t Server::port() const { return impl_->loops.front()->acceptor.local_endpoint().port(); }

void Server::on_drain(std::function<void()> fn) { impl_->drain_hooks.push_back(std::move(fn)); }

void Server::on_upgrade(std::string pattern, UpgradeHook hook) {
  impl_->upgrade_hooks[std::move(pattern)] = std::move(hook);
}

asio::any_io_executor Server::executor() { return impl_->loops.front()->ioc.get_executor(); }

void Server::drain() { impl_->start_drain(); }

void Server::run() {
  auto& impl = *impl_;
  for (auto& loop : impl.loops)
    asio::co_spawn(loop->ioc, impl.accept_loop(loop->acceptor), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  spdlog::info("HTTP listening on {}:{} with {} io threads", impl.config.http_host, port(), impl.loops.size());
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < impl.loops.size(); ++i) pool.emplace_back([loop = impl.loops[i].get()] { loop->ioc.run(); });
  impl.loops.front()->ioc.run();
  for (auto& t : pool) t.join();
  impl.workers.join();
  spdlog::info("HTTP server stopped");
}

void Server::Impl::start_drain() {
  if (draining.exchange(true)) return;
  drain_started->notify();
  // New connections are refused from here on; each acceptor is closed on its own loop's thread.
  for (auto& loop : loops)
    asio::post(loop->ioc, [&acceptor = loop->acceptor] {
      boost::system::error_code ignored;
      acceptor.close(ignored);
    });
  for (auto& hook : drain_hooks) hook();
  {
    // Idle keep-alive connections have nothing in flight: close them now. Busy ones close
    // themselves after their response.
    std::lock_guard lock(connections_mutex);
    for (auto& c : connections)
      if (c->idle) asio::post(c->executor, [c] {
          if (c->stream && c->idle) c->stream->socket().close();
        });
  }
  grace_timer.expires_after(std::chrono::seconds(config.shutdown_grace_seconds));
  grace_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    spdlog::warn("shutdown grace period over with {} connections open", open_connections.load());
    stop_loops();
  });
  if (open_connections == 0) stop_loops();
}

void Server::Impl::connection_closed() {
  if (--open_connections == 0 && draining) stop_loops();
}

asio::awaitable<void> Server::Impl::accept_loop(tcp::acceptor& acceptor) {
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(as_tuple);
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
      asio::co_spawn(ex,
                     refuse_connection(std::move(socket),
                                       ApiError(ErrorCode::unavailable, "Too many connections").with_retry_after(1),
                                       "total"),
                     asio::detached);
      continue;
    }
    boost::system::error_code peer_error;
    const auto peer = socket.remote_endpoint(peer_error);
    if (peer_error) continue;  // reset before we got to it
    auto slot = peers.acquire(peer.address());
    if (!slot) {
      asio::co_spawn(ex,
                     refuse_connection(std::move(socket),
                                       ApiError(ErrorCode::rate_limited, "Too many connections from your address")
                                           .with_retry_after(1),
                                       "per_ip"),
                     asio::detached);
      continue;
    }
    ++open_connections;
    asio::co_spawn(ex, session(std::move(socket), std::move(*slot)), [](std::exception_ptr e) {
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

asio::awaitable<void> Server::Impl::refuse_connection(tcp::socket socket, ApiError error, std::string reason) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(2));
  Response res = error_response(error);
  Request req;
  req.method = "GET";
  co_await write_response(stream, req, res, false);
  metrics.inc("reelhub_http_connections_refused_total", {{"reason", reason}});
}

asio::awaitable<Response> Server::Impl::run_handler(const Prepared& prepared, Request& req) {
  const bool on_io_thread = !prepared.route->options.blocking && !prepared.session_unconfirmed;
  if (on_io_thread) co_return pipeline.invoke(prepared, req);
  auto invoke = [&] { return pipeline.invoke(prepared, req); };  // never throws
  std::optional<Response> busy;
  try {
    co_return co_await run_blocking(workers.get_executor(), std::chrono::milliseconds(config.db_wait_ms), invoke);
  } catch (const ApiError& e) {
    busy = error_response(e);
  }
  co_return std::move(*busy);
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
  const FileDescriptor fd(::open(file.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) {
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
      const ssize_t w = ::write(fd.get(), chunk.data() + written, got - written);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) co_return boost::system::error_code(w < 0 ? errno : EIO, boost::system::generic_category());
      written += static_cast<std::size_t>(w);
    }
  }
  co_return boost::system::error_code{};
}

// `slot` is the connection's place under the per-address cap, held for as long as the session runs.
asio::awaitable<void> Server::Impl::session(tcp::socket socket, [[maybe_unused]] PeerConnections::Slot slot) {
  beast::tcp_stream stream(std::move(socket));
  auto conn = std::make_shared<Connection>();
  conn->executor = stream.get_executor();
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
  bool upgraded = false;  // the stream now belongs to the upgrade hook
  bool unread_body = false;  // refused before its body: the client may still be sending it

  for (;;) {
    conn->idle = true;
    if (draining || !co_await await_request(stream, buffer)) break;
    conn->idle = false;
    Exchange ex;
    if (!co_await read_header(stream, buffer, peer_ip, ex)) {
      unread_body = !ex.parser.is_done();
      break;
    }
    if (!co_await read_body(stream, buffer, peer_ip, ex)) break;
    if (ex.upgrade_hook) {
      upgraded = true;
      conn->stream = nullptr;  // the drain reaches it through the hook's own drain (close 1001)
      buffer = {};  // a WebSocket client sends nothing before the 101, so nothing is left in it
      co_await upgrade(stream, ex);
      break;
    }
    if (!co_await dispatch(stream, ex)) break;
  }
  if (!upgraded) {
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (unread_body) co_await linger(stream);
  }
  conn->stream = nullptr;
  {
    std::lock_guard lock(connections_mutex);
    connections.erase(registered);
  }
  connection_closed();
}

asio::awaitable<bool> Server::Impl::await_request(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
  if (buffer.size() > 0) co_return true;  // a pipelined request is already here
  // Between requests only the idle timeout runs; once a byte arrives the header deadline
  // starts, so a client trickling headers (slowloris) is cut off after header_timeout.
  stream.expires_after(std::chrono::seconds(config.idle_timeout_seconds));
  auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), as_tuple);
  if (ec) co_return false;
  buffer.commit(n);
  co_return true;
}

asio::awaitable<bool> Server::Impl::read_header(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                const std::string& peer_ip, Exchange& ex) {
  auto& parser = ex.parser;
  parser.header_limit(16 * 1024);
  // Beast's default body limit (1 MiB) would fail the header read itself for a larger
  // Content-Length; lift it here so the route's own limit below answers with 413.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  stream.expires_after(std::chrono::seconds(config.header_timeout_seconds));
  auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, as_tuple);
  if (ec) {
    if (ec == bhttp::error::header_limit) co_await reject(stream, peer_ip, ErrorCode::bad_request, "Request headers too large");
    else if (ec.category() == boost::system::error_code(bhttp::error::bad_method).category())
      co_await reject(stream, peer_ip, ErrorCode::bad_request, "Malformed HTTP request");
    co_return false;
  }
  const auto& header = parser.get();
  ex.req = to_request(header, peer_ip, client_address);
  ex.prepared = pipeline.route(ex.req);
  ex.policy = pipeline.body_policy(ex.prepared);
  if (parser.content_length() && *parser.content_length() > ex.policy.limit) {
    co_await reject(stream, peer_ip, ErrorCode::payload_too_large,
                    "Request body exceeds " + std::to_string(ex.policy.limit) + " bytes");
    co_return false;
  }
  parser.body_limit(ex.policy.limit);
  // Authentication and rate limits before the body: nobody unauthorised gets to fill memory or
  // disk, and an unroutable request (404, 405, 501) is answered without reading what it carries.
  pipeline.admit(ex.req, ex.prepared);
  const bool has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
  if (!ex.prepared.response && has_body && !ex.policy.to_file) {
    // Chunked bodies declare no size: they are held to the route's whole limit.
    auto reservation = body_budget.reserve(parser.content_length() ? *parser.content_length() : ex.policy.limit);
    if (reservation) {
      ex.body_memory = std::move(*reservation);
    } else {
      metrics.inc("reelhub_http_body_budget_refused_total");
      ex.prepared.response = error_response(
          ApiError(ErrorCode::unavailable, "Server busy: too many request bodies in flight").with_retry_after(1));
    }
  }
  if (ex.prepared.response) {
    if (!has_body) co_return true;  // answered by dispatch; the connection may stay open
    co_await refuse_request(stream, ex);
    co_return false;
  }
  if (header[bhttp::field::expect] == "100-continue") {
    bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
    co_await bhttp::async_write(stream, cont, as_tuple);
  }
  co_return true;
}

asio::awaitable<bool> Server::Impl::read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                              const std::string& peer_ip, Exchange& ex) {
  if (ex.prepared.response) {  // refused on the header of a request without a body
    ex.keep_alive = ex.parser.get().keep_alive();
    co_return true;
  }
  boost::system::error_code ec;
  if (ex.policy.to_file) {
    bhttp::request_parser<bhttp::buffer_body> file_parser{std::move(ex.parser)};
    file_parser.body_limit(ex.policy.limit);
    ec = co_await read_body_to_file(stream, buffer, file_parser, ex.body_file);
    if (!ec) {
      ex.req.body_file = ex.body_file.path;
      ex.keep_alive = file_parser.get().keep_alive();
    }
  } else {
    stream.expires_after(std::chrono::seconds(config.body_timeout_seconds));
    auto [rec, n] = co_await bhttp::async_read(stream, buffer, ex.parser, as_tuple);
    ec = rec;
    if (!ec) {
      auto msg = ex.parser.release();
      ex.keep_alive = msg.keep_alive();
      ex.req.body = std::move(msg.body());
      const auto hook = upgrade_hooks.find(ex.prepared.route_label);
      if (hook != upgrade_hooks.end() && beast::websocket::is_upgrade(msg)) {
        ex.upgrade_hook = &hook->second;
        ex.upgrade_request = std::move(msg);
      }
    }
  }
  if (!ec) co_return true;
  if (ec == bhttp::error::body_limit)
    co_await reject(stream, peer_ip, ErrorCode::payload_too_large,
                    "Request body exceeds " + std::to_string(ex.policy.limit) + " bytes");
  else if (ec.category() == boost::system::generic_category())
    co_await reject(stream, peer_ip, ErrorCode::unavailable, "Cannot store the request body");
  else if (ec != beast::error::timeout && ec != bhttp::error::end_of_stream && ec != asio::error::eof &&
           ec != asio::error::connection_reset)
    co_await reject(stream, peer_ip, ErrorCode::bad_request, "Malformed HTTP request body");
  co_return false;
}

asio::awaitable<bool> Server::Impl::dispatch(beast::tcp_stream& stream, Exchange& ex) {
  // Not a conditional expression: GCC 12 miscompiles co_await inside ?: (double destruction).
  Response res;
  if (ex.prepared.response) res = std::move(*ex.prepared.response);
  else res = co_await run_handler(ex.prepared, ex.req);
  if (res.deferred) {
    const std::shared_ptr<DeferredResponse> deferred = std::move(res.deferred);
    res = co_await await_deferred(*deferred);
  }
  pipeline.finish(ex.req, ex.prepared, res, ex.started);
  if (!co_await write_response(stream, ex.req, res, ex.keep_alive && !draining)) co_return false;
  co_return ex.keep_alive && !draining;
}

asio::awaitable<void> Server::Impl::upgrade(beast::tcp_stream& stream, Exchange& ex) {
  Response switching;
  switching.status = 101;
  pipeline.finish(ex.req, ex.prepared, switching, ex.started);
  // A named local, not a temporary inside the co_await: GCC 12 mishandles the lifetime of
  // temporaries in co_await expressions.
  Upgrade handover{.stream = std::move(stream),
                   .request = std::move(ex.upgrade_request),
                   .query = std::move(ex.req.query),
                   .workers = workers.get_executor()};
  auto served = (*ex.upgrade_hook)(std::move(handover));
  co_await std::move(served);
}

asio::awaitable<void> Server::Impl::refuse_request(beast::tcp_stream& stream, Exchange& ex) {
  Response refused = std::move(*ex.prepared.response);
  pipeline.finish(ex.req, ex.prepared, refused, ex.started);
  co_await write_response(stream, ex.req, refused, false);
}

asio::awaitable<void> Server::Impl::linger(beast::tcp_stream& stream) {
  // nginx's lingering close, bounded: at most 2 s and 1 MiB are spent on a client we refused.
  constexpr std::size_t kMaxDropped = 1 << 20;
  std::array<char, 16 * 1024> sink;
  stream.expires_after(std::chrono::seconds(2));
  for (std::size_t dropped = 0; dropped < kMaxDropped;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), as_tuple);
    if (ec) break;
    dropped += n;
  }
}

asio::awaitable<void> Server::Impl::reject(beast::tcp_stream& stream, const std::string& peer_ip, ErrorCode code,
                                           const std::string& message) {
  Request req;
  req.method = "GET";
  req.remote_ip = peer_ip;
  req.request_id = unique_hex(8);
  Prepared none;
  Response res = error_response(ApiError(code, message));
  pipeline.finish(req, none, res, std::chrono::steady_clock::now());
  co_await write_response(stream, req, res, false);
}

asio::awaitable<bool> Server::Impl::write_response(beast::tcp_stream& stream, const Request& req, Response& res,
                                                   bool keep_alive) {
  const bool head = req.method == "HEAD";
  if (res.growing && !head) co_return co_await write_growing(stream, res, keep_alive);
  auto& socket = stream.socket();
  // Asio made the socket non-blocking on its first asynchronous read; the check saves a system
  // call per response.
  if (!socket.native_non_blocking()) {
    boost::system::error_code ec;
    socket.native_non_blocking(true, ec);
    if (ec) co_return false;
  }
  if (!res.file) {
    // Shared bytes (live segments) are written from where they are, never copied.
    const std::string_view body =
        res.shared_body ? std::string_view(*res.shared_body) : std::string_view(res.body);
    const std::string header = render_header(res, body.size(), keep_alive);
    std::string_view sent_body;
    if (!head && !no_body_allowed(res.status)) sent_body = body;
    co_return co_await send_buffers(socket, header, sent_body, false);
  }

  // Files go from the page cache to the socket with sendfile(2): no copy through user space and
  // no buffer per connection, whatever the size of the file.
  const FileBody& file = *res.file;
  const auto fd = open_files.open(file);  // held until the last byte is sent
  if (!fd) {
    Response missing = error_response(ApiError(ErrorCode::not_found, "File not found"));
    missing.headers.insert(res.headers.begin(), res.headers.end());
    missing.file.reset();
    co_return co_await write_response(stream, req, missing, keep_alive);
  }
  const std::string header = render_header(res, file.length, keep_alive);
  const bool body = !head && file.length > 0;
  if (!co_await send_buffers(socket, header, {}, body)) co_return false;
  if (!body) co_return true;
  co_return co_await send_file(socket, fd->get(), file.offset, file.length);
}

asio::awaitable<bool> Server::Impl::wait_writable(tcp::socket& socket, std::optional<asio::steady_timer>& deadline) {
  // The socket is used past tcp_stream's own timeout: a timer cancels the wait for a client that
  // stops reading.
  if (!deadline) deadline.emplace(socket.get_executor());
  deadline->expires_after(std::chrono::seconds(config.body_timeout_seconds));
  deadline->async_wait([&socket](const boost::system::error_code& timer_error) {
    boost::system::error_code ignored;
    if (!timer_error) socket.cancel(ignored);
  });
  auto [wait_error] = co_await socket.async_wait(tcp::socket::wait_write, as_tuple);
  deadline->cancel();
  co_return !wait_error;
}

asio::awaitable<bool> Server::Impl::send_buffers(tcp::socket& socket, std::string_view header, std::string_view body,
                                                 bool more) {
  std::array<iovec, 2> iov{{{const_cast<char*>(header.data()), header.size()},
                            {const_cast<char*>(body.data()), body.size()}}};
  std::size_t first = 0;  // the first iovec with bytes left
  std::optional<asio::steady_timer> deadline;
  while (first < iov.size()) {
    if (iov[first].iov_len == 0) {
      ++first;
      continue;
    }
    msghdr msg{};
    msg.msg_iov = &iov[first];
    msg.msg_iovlen = iov.size() - first;
    ssize_t sent = ::sendmsg(socket.native_handle(), &msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) co_return false;
      if (!co_await wait_writable(socket, deadline)) co_return false;
      continue;
    }
    if (sent == 0) co_return false;
    for (auto left = static_cast<std::size_t>(sent); left > 0 && first < iov.size(); ++first) {
      const std::size_t taken = std::min(left, iov[first].iov_len);
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + taken;
      iov[first].iov_len -= taken;
      left -= taken;
      if (iov[first].iov_len > 0) break;
    }
  }
  co_return true;
}

namespace {

/// A timer that a notification (from any thread) wakes early: the wake is posted to the timer's
/// own executor, so only its io thread touches it. A wake that lands after the wait it was meant
/// for ends the next wait early, which only costs one more look at the state.
ChangeNotifier::Subscription wake_on_change(ChangeNotifier& changes, const std::shared_ptr<asio::steady_timer>& timer) {
  return changes.subscribe([weak = std::weak_ptr<asio::steady_timer>(timer), ex = timer->get_executor()] {
    asio::post(ex, [weak] {
      if (const auto t = weak.lock()) t->cancel();
    });
  });
}

}  // namespace

asio::awaitable<Response> Server::Impl::await_deferred(DeferredResponse& deferred) {
  const auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor);
  for (;;) {
    // Subscribed before looking, so a change between the look and the wait is not missed.
    const ChangeNotifier::Subscription subscription = wake_on_change(*deferred.changes, timer);
    const ChangeNotifier::Subscription drain_subscription = wake_on_change(*drain_started, timer);
    if (auto ready = deferred.poll()) co_return std::move(*ready);
    // A drain does not wait for what may take until the deadline to come (or never come, and
    // the grace period may be shorter): the client is told at once to retry, as on any 503.
    if (draining)
      co_return error_response(ApiError(ErrorCode::unavailable, "Server shutting down").with_retry_after(1));
    timer->expires_at(deferred.deadline);
    auto [ec] = co_await timer->async_wait(as_tuple);
    if (!ec) co_return deferred.expire();
  }
}

asio::awaitable<bool> Server::Impl::write_growing(beast::tcp_stream& stream, Response& res, bool keep_alive) {
  GrowingBody& body = *res.growing;
  auto& socket = stream.socket();
  const std::string header = render_header(res, std::nullopt, keep_alive);
  if (!co_await send_buffers(socket, header, {}, false)) co_return false;
  const auto timer = std::make_shared<asio::steady_timer>(stream.get_executor());
  std::size_t offset = 0;
  for (;;) {
    const ChangeNotifier::Subscription subscription = wake_on_change(*body.changes, timer);
    GrowingChunk chunk = body.read(offset);
    if (chunk.failed) co_return false;
    if (!chunk.bytes.empty()) {
      offset += chunk.bytes.size();
      stream.expires_after(std::chrono::seconds(config.body_timeout_seconds));
      // Named locals, not temporaries inside the co_await (GCC 12, see upgrade()).
      const auto piece = bhttp::make_chunk(asio::buffer(chunk.bytes));
      auto [ec, n] = co_await asio::async_write(stream, piece, as_tuple);
      if (ec) co_return false;
    }
    if (chunk.complete) {
      const auto last = bhttp::make_chunk_last();
      auto [ec, n] = co_await asio::async_write(stream, last, as_tuple);
      co_return !ec;
    }
    if (!chunk.bytes.empty()) continue;  // look again before sleeping: more may have come meanwhile
    timer->expires_after(body.idle_timeout);
    auto [ec] = co_await timer->async_wait(as_tuple);
    if (!ec) co_return false;  // no byte for too long: cut off, never passed off as complete
  }
}

asio::awaitable<bool> Server::Impl::send_file(tcp::socket& socket, int fd, std::uint64_t offset,
                                              std::uint64_t length) {
  auto off = static_cast<off_t>(offset);
  std::uint64_t left = length;
  std::optional<asio::steady_timer> deadline;
  while (left > 0) {
    const ssize_t sent = ::sendfile(socket.native_handle(), fd, &off, std::min<std::uint64_t>(left, kSendfileChunk));
    if (sent > 0) {
      left -= static_cast<std::uint64_t>(sent);
      continue;
    }
    if (sent == 0) co_return false;  // the file shrank underneath us: the length promised can't be kept
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return false;
    if (!co_await wait_writable(socket, deadline)) co_return false;
  }
  co_return true;
}

}  // namespace reelhub::http
