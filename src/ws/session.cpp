#include "reelhub/ws/session.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <mutex>
#include <pqxx/except>
#include <set>

#include "reelhub/auth/session_cache.hpp"
#include "reelhub/auth/tokens.hpp"
#include "reelhub/core/blocking.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/time.hpp"
#include "reelhub/ws/live_hub.hpp"
#include "reelhub/ws/protocol.hpp"
#include "reelhub/ws/send_queue.hpp"

namespace reelhub::ws {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

/// How long a close handshake may take before the socket is simply closed: a client that stopped
/// reading never answers, and the write it stalled never completes.
constexpr auto kCloseTimeout = std::chrono::seconds(5);
/// Read buffer capacity kept between messages; one large message must not pin its size.
constexpr std::size_t kKeptReadBuffer = 8 * 1024;

/// After ws_departure_grace_ms, reports each of `topics` whose family watches departures and that
/// `user_id` has not subscribed to again here (a reconnect within the grace keeps the place).
/// During a drain nothing is reported: a restart is no departure.
void watch_departures(LiveHub& hub, std::int64_t user_id, std::vector<std::string> topics, asio::any_io_executor io,
                      asio::any_io_executor workers) {
  std::erase_if(topics, [&](const std::string& topic) { return !hub.watches_departures(topic); });
  if (topics.empty() || hub.closing()) return;
  auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(hub.config().ws_departure_grace_ms));
  timer->async_wait([timer, &hub, user_id, topics = std::move(topics), workers](beast::error_code ec) {
    if (ec || hub.closing()) return;
    for (const auto& topic : topics) {
      if (hub.is_subscribed(user_id, topic)) continue;
      // The family's handler may query PostgreSQL: on a worker, never on this io thread.
      asio::post(workers, [&hub, user_id, topic] { hub.report_departure(user_id, topic); });
    }
  });
}

/// One client: a read loop, one writer draining a bounded queue, keepalive and auth timers.
/// Everything except send() and close() runs on the connection's event loop.
class Session final : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(LiveHub& hub, const auth::TokenSigner& tokens, asio::any_io_executor workers, beast::tcp_stream stream)
      : hub_(hub),
        tokens_(tokens),
        workers_(std::move(workers)),
        ws_(std::move(stream)),
        queue_(hub.queue_limits(), hub.queue_totals()),
        ping_timer_(ws_.get_executor()),
        auth_timer_(ws_.get_executor()),
        session_timer_(ws_.get_executor()),
        close_timer_(ws_.get_executor()) {}

  asio::awaitable<void> run(bhttp::request<bhttp::string_body> upgrade, std::optional<std::string> token);

  std::int64_t user_id() const override { return user_id_.load(std::memory_order_relaxed); }
  void send(std::shared_ptr<const std::string> frame) override;
  void close(CloseCode code, const std::string& reason) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), code, reason] { self->start_close(code, reason); });
  }
  void session_ended(const std::string& session_id) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), session_id] {
      if (self->user_ && self->user_->session_id == session_id)
        self->start_close(CloseCode::unauthorized, "Session has ended");
    });
  }

 private:
  asio::awaitable<void> handle(std::string text, std::chrono::system_clock::time_point received);
  /// A module's message type, answered on a worker by the handler it registered.
  asio::awaitable<void> answer_module(std::string type, nlohmann::json frame, nlohmann::json id);
  /// Takes one of the connection's request tokens (ws_request_rate per second, as many in a
  /// burst) for time.sync and module messages; throws ApiError(rate_limited) when none is left.
  void take_request_token();
  asio::awaitable<void> subscribe(ClientRequest request, nlohmann::json id);
  asio::awaitable<void> keepalive(std::shared_ptr<Session> self);
  asio::awaitable<void> auth_deadline(std::shared_ptr<Session> self);
  /// Closes the connection (4401) when its token expires or its session ends; re-armed by each
  /// authenticate. Checks the session about once per session cache TTL (deactivated accounts).
  asio::awaitable<void> watch_session(std::shared_ptr<Session> self);
  /// The session cache's answer, asking the database on a worker when it has none.
  asio::awaitable<bool> session_live(auth::AuthUser user);
  /// The first authenticate, or a later one with a fresh token of the same user (stays open).
  asio::awaitable<void> authenticate(std::string token, nlohmann::json id);
  void reply(std::string frame) { send(std::make_shared<const std::string>(std::move(frame))); }
  void write_next();
  void start_close(CloseCode code, std::string reason);
  void send_close();
  void finish();

  LiveHub& hub_;
  const auth::TokenSigner& tokens_;
  asio::any_io_executor workers_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;

  std::mutex queue_mutex_;  // guards queue_ and closing_: send() comes from any thread
  SendQueue queue_;
  bool closing_ = false;  // no more frames are queued

  // Strand only.
  std::optional<auth::AuthUser> user_;
  std::atomic<std::int64_t> user_id_{0};
  std::set<std::string> topics_;
  asio::steady_timer ping_timer_, auth_timer_, session_timer_, close_timer_;
  double request_tokens_ = -1;  // < 0: not yet filled
  std::chrono::steady_clock::time_point tokens_at_{};
  bool heard_ = true;  // any frame or pong since the last ping
  int missed_ = 0;
  bool ping_in_flight_ = false;
  bool close_started_ = false, close_sent_ = false, close_done_ = false, finished_ = false;
  CloseCode close_code_ = CloseCode::going_away;
  std::string close_reason_;
};

asio::awaitable<void> Session::run(bhttp::request<bhttp::string_body> upgrade, std::optional<std::string> token) {
  auto self = shared_from_this();
  const Config& config = hub_.config();
  // The WebSocket layer keeps its own time: keepalive() for idle peers, kCloseTimeout for closing.
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout{kCloseTimeout, websocket::stream_base::none(), false});
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(bhttp::field::server, "reelhub"); }));
  ws_.read_message_max(static_cast<std::size_t>(config.ws_max_message_bytes));
  ws_.text(true);
  ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) heard_ = true;
  });
  {
    // Scoped so the request's headers are freed once answered: parameters would live as long
    // as the connection.
    const auto request = std::move(upgrade);
    auto [accept_ec] = co_await ws_.async_accept(request, as_tuple);
    if (accept_ec) co_return;
  }
  hub_.attach(self);

  asio::co_spawn(ws_.get_executor(), keepalive(self), asio::detached);
  if (token) {
    const nlohmann::json no_request_id;
    co_await authenticate(std::move(*token), no_request_id);
  }
  else asio::co_spawn(ws_.get_executor(), auth_deadline(self), asio::detached);

  for (;;) {
    auto [ec, n] = co_await ws_.async_read(buffer_, as_tuple);
    if (ec) break;  // closed, too big (Beast has sent 1009), reset, or our close timer fired
    const auto received = std::chrono::system_clock::now();  // time.sync's t1
    heard_ = true;
    if (close_started_) {
      buffer_.consume(buffer_.size());
      continue;
    }
    if (!ws_.got_text()) {
      buffer_.consume(buffer_.size());
      start_close(CloseCode::unsupported_data, "Binary frames are not supported; send JSON text");
      continue;
    }
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (buffer_.capacity() > kKeptReadBuffer) buffer_.shrink_to_fit();  // idle connections stay small
    co_await handle(std::move(text), received);
  }
  // Our read can end (operation_aborted) while Beast still completes the close handshake we
  // started; closing the socket now would reset the peer before it answers. kCloseTimeout bounds it.
  if (close_sent_ && !close_done_) co_await close_timer_.async_wait(as_tuple);
  finish();
}

asio::awaitable<void> Session::handle(std::string text, std::chrono::system_clock::time_point received) {
  nlohmann::json id;
  try {
    nlohmann::json frame = parse_frame(text);
    id = request_id(frame);
    const ClientRequest request =
        parse_request(frame, [this](const std::string& type) { return bool(hub_.request_handler(type)); });
    if (!user_ && request.kind != ClientRequest::Kind::authenticate)
      throw ApiError(ErrorCode::unauthorized, "Authenticate first");
    switch (request.kind) {
      case ClientRequest::Kind::authenticate:
        co_await authenticate(request.token, id);
        break;
      case ClientRequest::Kind::subscribe:
        co_await subscribe(request, id);
        break;
      case ClientRequest::Kind::unsubscribe:
        hub_.unsubscribe(request.topic, this);
        topics_.erase(request.topic);
        reply(reply_frame("unsubscribed", {{"topic", request.topic}}, id));
        break;
      case ClientRequest::Kind::ping:
        reply(reply_frame("pong", nlohmann::json::object(), id));
        break;
      case ClientRequest::Kind::time_sync:
        take_request_token();
        reply(time_sync_frame(request.t0, epoch_millis(received), epoch_millis(std::chrono::system_clock::now()), id));
        break;
      case ClientRequest::Kind::module:
        take_request_token();
        co_await answer_module(request.type, std::move(frame), id);
        break;
    }
  } catch (const ApiError& e) {
    // Before authentication nothing but a valid authenticate is accepted (seed 004).
    if (!user_) start_close(CloseCode::unauthorized, e.what());
    else reply(error_frame(e, id));
  } catch (const pqxx::broken_connection&) {
    reply(error_frame(database_unavailable(), id));
  } catch (const std::exception& e) {
    spdlog::error("ws: user {} request failed: {}", user_id(), e.what());
    reply(error_frame(ApiError(ErrorCode::internal, "Internal server error"), id));
  }
}

void Session::take_request_token() {
  const double rate = hub_.config().ws_request_rate;
  const auto now = std::chrono::steady_clock::now();
  if (request_tokens_ < 0) request_tokens_ = rate;
  else request_tokens_ = std::min(rate, request_tokens_ + rate * std::chrono::duration<double>(now - tokens_at_).count());
  tokens_at_ = now;
  if (request_tokens_ < 1) {
    throw ApiError(ErrorCode::rate_limited, "Too many requests on this connection: at most " +
                                                std::to_string(hub_.config().ws_request_rate) + " per second")
        .with_retry_after(1);
  }
  request_tokens_ -= 1;
}

asio::awaitable<void> Session::answer_module(std::string type, nlohmann::json frame, nlohmann::json id) {
  const RequestHandler handler = hub_.request_handler(type);
  const auth::AuthUser user = *user_;
  auto answer = [&] { return handler(user, frame); };
  nlohmann::json fields = co_await run_blocking(workers_, std::chrono::milliseconds(hub_.config().db_wait_ms), answer);
  if (close_started_) co_return;
  reply(reply_frame(type, std::move(fields), id));
}

asio::awaitable<void> Session::authenticate(std::string token, nlohmann::json id) {
  auth::AuthUser user;
  try {
    user = tokens_.verify(token);
  } catch (const ApiError&) {
    // A bad first token closes; a bad renewal leaves the current token in charge until it expires.
    if (!user_) start_close(CloseCode::unauthorized, "Invalid or expired token");
    else reply(error_frame(ApiError(ErrorCode::unauthorized, "Invalid or expired token"), id));
    co_return;
  }
  if (user_ && user.id != user_->id) {
    reply(error_frame(ApiError(ErrorCode::forbidden, "The token belongs to another user"), id));
    co_return;
  }
  // Logged out, revoked or deactivated: such a token may not open, or keep open, a connection.
  bool live = false;
  std::optional<ApiError> failure;
  try {
    live = co_await session_live(user);
  } catch (const ApiError& e) {
    failure = e;  // the pool was too busy, or PostgreSQL is unreachable
  } catch (const std::exception&) {
    failure = database_unavailable();
  }
  if (close_started_) co_return;
  if (failure) {
    if (!user_) start_close(CloseCode::unauthorized, failure->what());
    else reply(error_frame(*failure, id));
    co_return;
  }
  if (!live) {
    start_close(CloseCode::unauthorized, "Session has ended");
    co_return;
  }
  nlohmann::json fields = {{"user_id", user.id},
                           {"username", user.username},
                           {"role", auth::role_name(user.role)},
                           {"expires_at", iso8601(user.valid_until)}};
  if (user_) {
    // A renewal: same user, same subscriptions; the watch re-arms for the new token.
    user_ = user;
    session_timer_.cancel();
    fields["topic"] = LiveHub::personal_topic(user.id);
    reply(reply_frame("authenticated", std::move(fields), id));
    co_return;
  }
  auth_timer_.cancel();
  user_ = user;
  user_id_ = user.id;
  hub_.user_connected(user.id);
  asio::co_spawn(ws_.get_executor(), watch_session(shared_from_this()), asio::detached);
  // Every connection joins its user's personal topic, where send_to_user() publishes.
  const std::string topic = LiveHub::personal_topic(user.id);
  topics_.insert(topic);
  hub_.subscribe(topic, shared_from_this(), std::nullopt, [&](const Subscription& s) {
    fields["topic"] = topic;
    fields["offset"] = s.position.offset;
    fields["epoch"] = s.position.epoch;
    reply(reply_frame("authenticated", std::move(fields), id));
  });
}

asio::awaitable<bool> Session::session_live(auth::AuthUser user) {
  auth::SessionCache* sessions = hub_.sessions();
  if (!sessions) co_return true;
  if (const auto known = sessions->cached(user)) co_return *known;
  // A miss reads PostgreSQL: on the worker pool, like a subscribe's access check.
  auto check = [&] { return sessions->check(user); };
  co_return co_await run_blocking(workers_, std::chrono::milliseconds(hub_.config().db_wait_ms), check);
}

asio::awaitable<void> Session::watch_session(std::shared_ptr<Session> self) {
  auth::SessionCache* sessions = hub_.sessions();
  const auto recheck = std::max<std::chrono::milliseconds>(sessions ? sessions->ttl() : std::chrono::hours(1),
                                                           std::chrono::seconds(1));
  while (!self->close_started_ && !self->finished_) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(user_->valid_until - std::chrono::system_clock::now());
    session_timer_.expires_after(std::min(left, recheck));
    auto [ec] = co_await session_timer_.async_wait(as_tuple);
    if (close_started_ || finished_) co_return;
    if (ec) continue;  // cancelled by a renewal: re-arm for the new token
    if (std::chrono::system_clock::now() >= user_->valid_until) {
      start_close(CloseCode::unauthorized, "Token expired");
      co_return;
    }
    const auth::AuthUser user = *user_;
    bool live = true;
    try {
      live = co_await session_live(user);
    } catch (const std::exception& e) {
      // PostgreSQL unreachable or the pool busy: keep the connection, ask again next round.
      spdlog::debug("ws: session check of user {} deferred: {}", user.id, e.what());
    }
    if (close_started_ || finished_) co_return;
    if (!live && user_->session_id == user.session_id) {
      start_close(CloseCode::unauthorized, "Session has ended");
      co_return;
    }
  }
}

asio::awaitable<void> Session::subscribe(ClientRequest request, nlohmann::json id) {
  const auto limit = static_cast<std::size_t>(hub_.config().ws_max_subscriptions);
  if (!topics_.count(request.topic) && topics_.size() >= limit)
    throw ApiError(ErrorCode::bad_request, "At most " + std::to_string(limit) + " subscriptions per connection");
  // The family's check may query PostgreSQL: run it on the worker pool, never on this io thread,
  // and give up like a blocking HTTP route when the pool is too busy to start it in time.
  const auth::AuthUser user = *user_;
  auto check = [&] { hub_.check_access(user, request.topic); };
  co_await run_blocking(workers_, std::chrono::milliseconds(hub_.config().db_wait_ms), check);
  if (close_started_) co_return;
  topics_.insert(request.topic);
  hub_.subscribe(request.topic, shared_from_this(), request.since, [&](const Subscription& s) {
    nlohmann::json fields = {{"topic", request.topic}, {"offset", s.position.offset}, {"epoch", s.position.epoch}};
    if (request.since) fields["recovered"] = s.recovered;
    reply(reply_frame("subscribed", std::move(fields), id));
    for (const auto& frame : s.missed) send(frame);
  });
}

void Session::send(std::shared_ptr<const std::string> frame) {
  std::lock_guard lock(queue_mutex_);
  if (closing_) {
    hub_.queue_totals().dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  switch (queue_.push(std::move(frame))) {
    case SendQueue::Push::queued:
      break;
    case SendQueue::Push::start:
      asio::post(ws_.get_executor(), [self = shared_from_this()] { self->write_next(); });
      break;
    case SendQueue::Push::overflow:
      // Never wait for a slow client: free its backlog now and close it (the publisher may hold
      // a topic lock here, so the close itself runs later, on its event loop).
      closing_ = true;
      queue_.drop_pending();
      hub_.count_slow_consumer();
      asio::post(ws_.get_executor(), [self = shared_from_this()] {
        self->start_close(CloseCode::policy_violation, "Send queue full: the client reads too slowly");
      });
      break;
  }
}

void Session::write_next() {
  std::shared_ptr<const std::string> frame;
  {
    std::lock_guard lock(queue_mutex_);
    frame = queue_.front();
  }
  if (!frame) return;
  ws_.async_write(asio::buffer(*frame), [self = shared_from_this(), frame](beast::error_code ec, std::size_t) {
    bool more = false;
    {
      std::lock_guard lock(self->queue_mutex_);
      if (ec) {
        self->closing_ = true;
        self->queue_.clear();
        return;
      }
      more = self->queue_.pop();
    }
    self->hub_.count_sent();
    if (more) self->write_next();
  });
}

asio::awaitable<void> Session::keepalive(std::shared_ptr<Session> self) {
  const auto interval = std::chrono::milliseconds(hub_.config().ws_ping_interval_ms);
  const int max_missed = hub_.config().ws_max_missed_pongs;
  while (!close_started_ && !finished_) {
    ping_timer_.expires_after(interval);
    auto [ec] = co_await ping_timer_.async_wait(as_tuple);
    if (ec || close_started_ || finished_) co_return;
    missed_ = heard_ ? 0 : missed_ + 1;
    heard_ = false;
    if (missed_ >= max_missed) {
      start_close(CloseCode::ping_timeout, "No pong received");
      co_return;
    }
    if (!ping_in_flight_) {
      ping_in_flight_ = true;
      ws_.async_ping({}, [self](beast::error_code) {
        self->ping_in_flight_ = false;
        if (self->close_started_ && !self->close_sent_) self->send_close();
      });
    }
  }
}

asio::awaitable<void> Session::auth_deadline(std::shared_ptr<Session> self) {
  auth_timer_.expires_after(std::chrono::milliseconds(hub_.config().ws_auth_timeout_ms));
  auto [ec] = co_await auth_timer_.async_wait(as_tuple);
  if (!ec && !self->user_) self->start_close(CloseCode::unauthorized, "Authentication timeout");
}

void Session::start_close(CloseCode code, std::string reason) {
  if (close_started_ || finished_) return;
  close_started_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
  {
    std::lock_guard lock(queue_mutex_);
    closing_ = true;
    queue_.drop_pending();
  }
  if (code == CloseCode::policy_violation)
    spdlog::warn("ws: closing the connection of user {}: {}", user_id(), close_reason_);
  ping_timer_.cancel();
  auth_timer_.cancel();
  session_timer_.cancel();
  close_timer_.expires_after(kCloseTimeout);
  close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec) return;
    beast::error_code ignored;
    beast::get_lowest_layer(self->ws_).socket().close(ignored);
  });
  // Beast allows one ping or close at a time; a ping in flight sends the close when it completes.
  if (!ping_in_flight_) send_close();
}

void Session::send_close() {
  close_sent_ = true;
  if (close_reason_.size() > 123) close_reason_.resize(123);  // RFC 6455: the reason fits a control frame
  ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_reason_),
                  [self = shared_from_this()](beast::error_code) {
                    self->close_done_ = true;
                    self->close_timer_.cancel();
                  });
}

void Session::finish() {
  finished_ = true;
  {
    std::lock_guard lock(queue_mutex_);
    closing_ = true;
    queue_.clear();
  }
  for (const auto& topic : topics_) hub_.unsubscribe(topic, this);
  if (user_) {
    hub_.user_disconnected(user_->id);
    watch_departures(hub_, user_->id, {topics_.begin(), topics_.end()}, ws_.get_executor(), workers_);
  }
  topics_.clear();
  hub_.detach(this);
  ping_timer_.cancel();
  auth_timer_.cancel();
  session_timer_.cancel();
  close_timer_.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

}  // namespace

asio::awaitable<void> serve_websocket(LiveHub& hub, const auth::TokenSigner& tokens, asio::any_io_executor workers,
                                      beast::tcp_stream stream, bhttp::request<bhttp::string_body> upgrade,
                                      std::optional<std::string> access_token) {
  auto session = std::make_shared<Session>(hub, tokens, std::move(workers), std::move(stream));
  co_await session->run(std::move(upgrade), std::move(access_token));
}

}  // namespace reelhub::ws
