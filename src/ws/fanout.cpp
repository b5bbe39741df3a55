#include "fanout.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <system_error>

#include "reelhub/db/statements.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/protocol.hpp"

namespace reelhub::ws {
namespace {

constexpr const char* kChannel = "reelhub_ws";
// NOTIFY refuses payloads of 8000 bytes or more; anything near that goes through ws_outbox.
constexpr std::size_t kInlineLimit = 7900;

const db::Statement kNotify{"ws.notify", "SELECT pg_notify($1, $2)"};
const db::Statement kNotifyViaOutbox{
    "ws.notify_via_outbox",
    "WITH stored AS (INSERT INTO ws_outbox (payload) VALUES ($2) RETURNING id) "
    "SELECT pg_notify($1, json_build_object('v', 1, 'i', $3::text, 'ref', stored.id)::text) FROM stored"};
const db::Statement kFetchOutbox{"ws.fetch_outbox", "SELECT payload FROM ws_outbox WHERE id = $1"};
const db::Statement kHeartbeat{
    "ws.heartbeat",
    "INSERT INTO ws_instances (id, heartbeat_at) VALUES ($1, now()) "
    "ON CONFLICT (id) DO UPDATE SET heartbeat_at = now() RETURNING (xmax = 0) AS inserted"};
const db::Statement kForgetStaleInstances{
    "ws.forget_stale_instances", "DELETE FROM ws_instances WHERE heartbeat_at < now() - make_interval(secs => $1)"};
const db::Statement kForgetOldOutbox{"ws.forget_old_outbox",
                                     "DELETE FROM ws_outbox WHERE created_at < now() - interval '5 minutes'"};
const db::Statement kPresenceClear{"ws.presence_clear", "DELETE FROM ws_presence WHERE instance_id = $1"};
const db::Statement kPresenceAdd{
    "ws.presence_add", "INSERT INTO ws_presence (instance_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"};
const db::Statement kPresenceRemove{"ws.presence_remove",
                                    "DELETE FROM ws_presence WHERE instance_id = $1 AND user_id = $2"};
const db::Statement kLeave{"ws.leave", "DELETE FROM ws_instances WHERE id = $1"};

constexpr auto kTick = std::chrono::seconds(1);
constexpr auto kMaxBackoff = std::chrono::milliseconds(5000);

/// Collects payloads; they are handled after get_notifs() returns, never re-entrantly.
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, std::vector<std::string>& inbox) : notification_receiver(c, kChannel), inbox_(inbox) {}
  void operator()(const std::string& payload, int) override { inbox_.push_back(payload); }

 private:
  std::vector<std::string>& inbox_;
};

}  // namespace

Fanout::Fanout(FanoutOptions options, Hooks hooks, metrics::Registry& metrics)
    : options_(std::move(options)), hooks_(std::move(hooks)), metrics_(metrics) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  metrics_.describe("reelhub_ws_fanout_reconnects_total", "counter",
                    "Times the hub's LISTEN connection to PostgreSQL was (re)established");
  metrics_.describe("reelhub_ws_fanout_dropped_total", "counter",
                    "Events not sent to other instances because too many waited for the database");
}

Fanout::~Fanout() {
  stop();
  ::close(wake_fd_);
}

void Fanout::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void Fanout::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

void Fanout::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void Fanout::publish(const Envelope& e) {
  {
    std::lock_guard lock(mutex_);
    // "n" keeps equal events apart: PostgreSQL folds identical payloads within one transaction.
    nlohmann::json env = {{"v", 1},     {"i", options_.instance_id}, {"n", ++sequence_},
                          {"t", e.topic}, {"y", e.type},             {"ts", e.ts}};
    if (!e.audience.hidden_from.empty()) env["h"] = e.audience.hidden_from;
    if (e.audience.last_for) env["l"] = *e.audience.last_for;
    std::string text = dump(env);
    text.pop_back();  // splice the already serialized data in as "d"
    text += ",\"d\":" + e.data_json + "}";
    outgoing_.push_back(std::move(text));
    if (outgoing_.size() > options_.max_pending) {
      outgoing_.pop_front();
      metrics_.inc("reelhub_ws_fanout_dropped_total");
    }
  }
  wake();
}

void Fanout::presence_changed(std::int64_t user_id, bool online) {
  {
    std::lock_guard lock(mutex_);
    presence_[user_id] = online;
  }
  wake();
}

void Fanout::sleep_for(std::chrono::milliseconds d) {
  pollfd p{wake_fd_, POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(d.count()));
  std::uint64_t drained;
  [[maybe_unused]] auto n = ::read(wake_fd_, &drained, sizeof drained);
}

void Fanout::run() {
  auto stopping = [this] {
    std::lock_guard lock(mutex_);
    return stopping_;
  };
  auto backoff = std::chrono::milliseconds(100);
  while (!stopping()) {
    try {
      pqxx::connection conn(options_.url);
      conn.set_variable("TimeZone", "'UTC'");
      db::define_statements(conn);
      backoff = std::chrono::milliseconds(100);
      serve(conn);
      // serve() returns only when stopping: leave the presence tables on the way out.
      pqxx::work tx(conn);
      tx.exec_prepared(kLeave.name(), options_.instance_id);
      tx.commit();
      break;
    } catch (const std::exception& e) {
      if (stopping()) break;
      spdlog::warn("ws fan-out: PostgreSQL connection lost or unavailable ({}); retrying in {} ms", e.what(),
                   backoff.count());
    }
    hooks_.tick();
    sleep_for(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

void Fanout::serve(pqxx::connection_base& conn) {
  std::vector<std::string> inbox;
  Receiver receiver(conn, inbox);  // issues LISTEN
  const std::string& me = options_.instance_id;

  // Register with a clean presence slate, then report the gap: whatever other instances published
  // while we were not listening is lost to this instance, so its topics must change epoch.
  auto resync_presence = [&](pqxx::work& tx) {
    {
      // Pending changes are superseded by the snapshot; later ones queue up again and are idempotent.
      std::lock_guard lock(mutex_);
      presence_.clear();
    }
    tx.exec_prepared(kPresenceClear.name(), me);
    for (auto user : hooks_.online_users()) tx.exec_prepared(kPresenceAdd.name(), me, user);
  };
  {
    pqxx::work tx(conn);
    tx.exec_prepared(kHeartbeat.name(), me);
    resync_presence(tx);
    tx.commit();
  }
  metrics_.inc("reelhub_ws_fanout_reconnects_total");
  spdlog::info("ws fan-out: listening on PostgreSQL channel {} as instance {}", kChannel, me);
  hooks_.gap();

  auto next_heartbeat = std::chrono::steady_clock::now() + options_.heartbeat;
  auto next_tick = std::chrono::steady_clock::now() + kTick;
  for (;;) {
    // 1. Events from other instances (ours come back too: skipped by instance id).
    do {
      conn.get_notifs();
      for (auto& payload : inbox) {
        auto env = nlohmann::json::parse(payload, nullptr, false);
        if (!env.is_object() || env.value("i", "") == me) continue;
        if (auto ref = env.find("ref"); ref != env.end()) {
          pqxx::work tx(conn);
          auto rows = tx.exec_prepared(kFetchOutbox.name(), ref->get<std::int64_t>());
          tx.commit();
          if (rows.empty()) continue;  // cleaned up already: far too old to matter
          env = nlohmann::json::parse(rows[0][0].c_str(), nullptr, false);
          if (!env.is_object()) continue;
        }
        try {
          Audience audience{.hidden_from = env.value("h", std::vector<std::int64_t>{})};
          if (const auto last_for = env.find("l"); last_for != env.end()) {
            audience.last_for = last_for->get<std::int64_t>();
          }
          hooks_.deliver(Envelope{env.at("t").get<std::string>(), env.at("y").get<std::string>(), dump(env.at("d")),
                                  env.at("ts").get<std::string>(), std::move(audience)});
        } catch (const nlohmann::json::exception& e) {
          spdlog::warn("ws fan-out: ignoring a malformed event: {}", e.what());
        }
      }
      inbox.clear();
    } while (conn.get_notifs() > 0 || !inbox.empty());

    // 2. What this instance publishes, and presence changes, in one transaction.
    std::deque<std::string> out;
    std::map<std::int64_t, bool> presence;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      out.swap(outgoing_);
      presence.swap(presence_);
    }
    if (!out.empty() || !presence.empty()) {
      try {
        pqxx::work tx(conn);
        for (const auto& payload : out) {
          if (payload.size() <= kInlineLimit) tx.exec_prepared(kNotify.name(), kChannel, payload);
          else tx.exec_prepared(kNotifyViaOutbox.name(), kChannel, payload, me);
        }
        for (const auto& [user, online] : presence) {
          tx.exec_prepared((online ? kPresenceAdd : kPresenceRemove).name(), me, user);
        }
        tx.commit();
      } catch (...) {
        // Not sent: put it back (in order, ahead of anything newer) for the next connection.
        std::lock_guard lock(mutex_);
        for (auto it = out.rbegin(); it != out.rend(); ++it) outgoing_.push_front(std::move(*it));
        for (const auto& [user, online] : presence) presence_.try_emplace(user, online);
        throw;
      }
    }

    // 3. Heartbeat; forget instances that stopped beating (their presence rows cascade).
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_heartbeat) {
      pqxx::work tx(conn);
      // A row found missing means another instance took us for dead: re-register our presence.
      if (tx.exec_prepared1(kHeartbeat.name(), me)[0].as<bool>()) resync_presence(tx);
      tx.exec_prepared(kForgetStaleInstances.name(), 3 * options_.heartbeat.count());
      tx.exec_prepared(kForgetOldOutbox.name());
      tx.commit();
      next_heartbeat = now + options_.heartbeat;
    }
    if (now >= next_tick) {
      hooks_.tick();
      next_tick = now + kTick;
    }
    if (conn.get_notifs() > 0 || !inbox.empty()) continue;  // arrived during our own statements

    // 4. Sleep until PostgreSQL sends something, someone publishes, or the next tick.
    pollfd fds[2] = {{conn.sock(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(std::min(next_tick, next_heartbeat) - now);
    ::poll(fds, 2, static_cast<int>(std::max<std::int64_t>(wait.count(), 0)));
    if (fds[1].revents & POLLIN) {
      std::uint64_t drained;
      [[maybe_unused]] auto n = ::read(wake_fd_, &drained, sizeof drained);
    }
  }
}

}  // namespace reelhub::ws
