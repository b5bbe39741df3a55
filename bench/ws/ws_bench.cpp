// WebSocket hub benchmark; bench/ws/run starts PostgreSQL and the server, then runs it.
//
//   ws_bench --port P --token T --user-id U --server-pid PID --database-url URL
//            [--idle 10000] [--subscribers 1000] [--events 200] [--rate 50] [--burst 200] [--threads 2]
//
// 1. Idle: opens --idle connections authenticated by ?access_token=, waits for every
//    "authenticated", and reports how much the server's resident memory grew per connection.
// 2. Broadcast: --subscribers connections of one user, all on its personal topic, while a
//    ws::LiveHub in this process publishes to that topic through PostgreSQL (as a second instance
//    would): --events events paced at --rate per second (latency), then --burst events at once
//    (throughput). Latency runs from publish() to the client reading the frame; both ends are in
//    this process, so one clock measures it.

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "reelhub/core/config.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/live_hub.hpp"
#include "support.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);
using reelhub::bench::now_ns;
using reelhub::bench::percentile_ms;
using reelhub::bench::rss_kib;
using reelhub::bench::wait_for;

struct Options {
  std::uint16_t port = 0;
  std::string token;
  std::int64_t user_id = 0;
  int server_pid = 0;
  std::string database_url;
  int idle = 10000;
  int subscribers = 1000;
  int events = 200;
  int rate = 50;
  int burst = 200;
  int threads = 2;
};

/// What every client of one phase shares.
struct Fleet {
  std::atomic<int> authenticated{0};
  std::atomic<int> failed{0};
  std::atomic<int> connecting{0};
  std::atomic<std::uint64_t> events{0};      // event frames read, all clients
  std::atomic<bool> record{false};           // collect latencies
  std::mutex mutex;
  std::vector<std::uint64_t> latencies_ns;   // publish -> receipt, recorded events only
  std::uint64_t last_receipt_ns = 0;
};

asio::awaitable<void> client(tcp::endpoint ep, std::string target, Fleet& fleet) {
  websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
  auto [cec] = co_await beast::get_lowest_layer(ws).async_connect(ep, as_tuple);
  if (!cec) std::tie(cec) = co_await ws.async_handshake("127.0.0.1", target, as_tuple);
  if (cec) {
    ++fleet.failed;
    --fleet.connecting;
    co_return;
  }
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, as_tuple);
    if (ec) co_return;
    const std::uint64_t received = now_ns();
    if (first) {  // "authenticated"
      first = false;
      ++fleet.authenticated;
      --fleet.connecting;
    } else {
      ++fleet.events;
      if (fleet.record) {
        const std::string_view text(static_cast<const char*>(buffer.data().data()), buffer.size());
        if (auto pos = text.find("\"t\":"); pos != std::string_view::npos) {
          const std::uint64_t sent = std::strtoull(text.data() + pos + 4, nullptr, 10);
          std::lock_guard lock(fleet.mutex);
          fleet.latencies_ns.push_back(received - sent);
          fleet.last_receipt_ns = std::max(fleet.last_receipt_ns, received);
        }
      }
    }
    buffer.consume(buffer.size());
  }
}

/// `count` clients on `threads` threads; connects at most 256 at a time (the accept backlog).
class Clients {
 public:
  Clients(const Options& o, int count, Fleet& fleet) : ioc_(o.threads), guard_(asio::make_work_guard(ioc_)) {
    for (int i = 0; i < o.threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
    const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), o.port);
    const std::string target = "/ws?access_token=" + o.token;
    for (int i = 0; i < count; ++i) {
      while (fleet.connecting >= 256) std::this_thread::sleep_for(1ms);
      ++fleet.connecting;
      asio::co_spawn(ioc_, client(ep, target, fleet), asio::detached);
    }
  }
  ~Clients() {
    ioc_.stop();
    for (auto& t : threads_) t.join();
  }

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

void idle_phase(const Options& o) {
  const long before = rss_kib(o.server_pid);
  Fleet fleet;
  const auto started = std::chrono::steady_clock::now();
  {
    Clients clients(o, o.idle, fleet);
    const bool all = wait_for([&] { return fleet.authenticated + fleet.failed >= o.idle; }, 300s);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::this_thread::sleep_for(2s);  // let the server settle (allocator, presence flush)
    const long after = rss_kib(o.server_pid);
    std::printf("\nIdle connections\n");
    std::printf("  authenticated        %d of %d (%d failed%s) in %.1f s\n", fleet.authenticated.load(), o.idle,
                fleet.failed.load(), all ? "" : ", timed out", took);
    std::printf("  server RSS           %.1f MiB before, %.1f MiB with them open\n", before / 1024.0, after / 1024.0);
    std::printf("  per connection       %.1f KiB\n",
                fleet.authenticated ? static_cast<double>(after - before) / fleet.authenticated : 0.0);
  }
  std::this_thread::sleep_for(3s);  // the server notices the closes
}

/// Publishes `count` events, `per_second` apart (0 = back to back); returns the time of the first.
std::uint64_t publish(reelhub::ws::LiveHub& hub, const Options& o, int count, int per_second) {
  const std::uint64_t first = now_ns();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    if (per_second > 0) std::this_thread::sleep_until(start + i * std::chrono::nanoseconds(1'000'000'000 / per_second));
    hub.send_to_user(o.user_id, "bench", {{"seq", i}, {"t", now_ns()}});
  }
  return first;
}

void report(const char* name, Fleet& fleet, std::uint64_t expected, std::uint64_t first_publish, bool complete) {
  std::lock_guard lock(fleet.mutex);
  auto& v = fleet.latencies_ns;
  const double seconds = static_cast<double>(fleet.last_receipt_ns - first_publish) / 1e9;
  std::printf("  %-20s %zu of %llu deliveries%s, %.0f deliveries/s, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              name, v.size(), static_cast<unsigned long long>(expected), complete ? "" : " (timed out)",
              seconds > 0 ? static_cast<double>(v.size()) / seconds : 0.0, percentile_ms(v, 0.5), percentile_ms(v, 0.99),
              v.empty() ? 0.0 : static_cast<double>(*std::max_element(v.begin(), v.end())) / 1e6);
}

void broadcast_phase(const Options& o) {
  Fleet fleet;
  Clients clients(o, o.subscribers, fleet);
  if (!wait_for([&] { return fleet.authenticated + fleet.failed >= o.subscribers; }, 120s) || fleet.failed)
    std::printf("warning: %d of %d subscribers failed to connect\n", fleet.failed.load(), o.subscribers);

  reelhub::Config config;
  config.database_url = o.database_url;
  reelhub::metrics::Registry metrics;
  reelhub::db::Pool pool({o.database_url, 2, 2000ms, 10000}, metrics);
  reelhub::ws::LiveHub hub(config, pool, metrics);
  hub.start();
  // Warm up: until one event has reached every subscriber, both LISTEN connections are up.
  for (int i = 0; fleet.events < static_cast<std::uint64_t>(fleet.authenticated.load()); ++i) {
    if (i % 100 == 0) hub.send_to_user(o.user_id, "warmup", {{"i", i}});
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(500ms);

  const auto subscribers = static_cast<std::uint64_t>(fleet.authenticated.load());
  std::printf("\nBroadcast to %llu subscribers of one topic (published by another hub instance via PostgreSQL)\n",
              static_cast<unsigned long long>(subscribers));
  auto run = [&](const char* name, int count, int per_second) {
    {
      std::lock_guard lock(fleet.mutex);
      fleet.latencies_ns.clear();
      fleet.last_receipt_ns = 0;
    }
    fleet.record = true;
    const std::uint64_t expected = subscribers * static_cast<std::uint64_t>(count);
    const std::uint64_t first = publish(hub, o, count, per_second);
    const bool complete = wait_for(
        [&] {
          std::lock_guard lock(fleet.mutex);
          return fleet.latencies_ns.size() >= expected;
        },
        60s);
    fleet.record = false;
    report(name, fleet, expected, first, complete);
  };
  const std::string paced = std::to_string(o.events) + " events @ " + std::to_string(o.rate) + "/s";
  const std::string burst = std::to_string(o.burst) + " events at once";
  run(paced.c_str(), o.events, o.rate);
  run(burst.c_str(), o.burst, 0);
}

Options parse(int argc, char** argv) {
  Options o;
  const reelhub::bench::Args args(argc, argv);
  args.number("--port", o.port);
  args.number("--user-id", o.user_id);
  args.number("--server-pid", o.server_pid);
  args.number("--idle", o.idle);
  args.number("--subscribers", o.subscribers);
  args.number("--events", o.events);
  args.number("--rate", o.rate);
  args.number("--burst", o.burst);
  args.number("--threads", o.threads);
  o.token = args.text("--token");
  o.database_url = args.text("--database-url");
  if (!o.port || o.token.empty() || !o.user_id || !o.server_pid || o.database_url.empty() || o.rate <= 0)
    throw std::invalid_argument(
        "usage: ws_bench --port P --token T --user-id U --server-pid PID --database-url URL "
        "[--idle N] [--subscribers N] [--events N] [--rate N] [--burst N] [--threads N]");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // the hub's start-up line would cut into the figures
  try {
    const Options o = parse(argc, argv);
    if (o.idle > 0) idle_phase(o);
    if (o.subscribers > 0) broadcast_phase(o);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ws_bench: %s\n", e.what());
    return 1;
  }
}
