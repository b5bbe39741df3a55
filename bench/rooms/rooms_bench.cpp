// Watch-together rooms benchmark; bench/rooms/run registers the users, uploads the video and runs it.
//
//   rooms_bench --port P --tokens T0,T1,... --video-id V --server-pid PID [--postgres-pid PID]
//               [--rooms 1000] [--rate 200] [--seconds 20] [--threads 2]
//
// 1. Setup over REST (keep-alive, 4 connections): the first token's user creates --rooms rooms on
//    the video (POST /api/rooms), every other token's user joins each of them (POST .../join), so
//    each room has as many members as there are tokens (the host included).
// 2. One WebSocket per member and room (rooms x members sockets, authenticated by ?access_token=),
//    each subscribed to room:<id>.
// 3. Control: the host socket of each room sends seek, play, pause, seek, ... in turn; all rooms
//    together send --rate controls per second for --seconds seconds, room after room (control j
//    goes to room j % rooms). A host sends its next control only after the answer to its previous
//    one, so one room's changes reach the server in order. For every control the bench records the
//    time from writing it to each member socket reading the resulting `playback` event (cause =
//    the action), and to the last of the room's members reading it. Heartbeat `playback` events
//    (cause "heartbeat", once a second per playing room) are counted, not timed. Sender and
//    receivers are in this process: one clock.
// Server CPU (utime + stime of --server-pid), PostgreSQL's (the postmaster --postgres-pid and its
// children) and the bench's own CPU are read from /proc over the control phase, from just before
// the first control to the last event read.

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);
using reelhub::bench::cpu_seconds;
using reelhub::bench::now_ns;
using reelhub::bench::percentile_ms;
using reelhub::bench::rss_kib;
using reelhub::bench::wait_for;

constexpr const char* kActions[] = {"seek", "play", "pause"};  // control j of a room: kActions[j % 3]

struct Options {
  std::uint16_t port = 0;
  std::vector<std::string> tokens;  // [0] hosts every room; the others join every room
  std::string video_id;
  int server_pid = 0;
  int postgres_pid = 0;  // the postmaster; 0: PostgreSQL's CPU is not shown
  int rooms = 1000;
  int rate = 200;
  int seconds = 20;
  int threads = 2;
};

/// CPU seconds of the PostgreSQL cluster: the postmaster and its children now running (backends,
/// checkpointer, WAL writer...). The server's pooled connections live through the whole phase.
double cluster_cpu_seconds(int postmaster) {
  double sum = cpu_seconds(postmaster);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;  // gone meanwhile
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    int parent = 0;
    if (rest >> state >> parent && parent == postmaster) {
      try {
        sum += cpu_seconds(std::stoi(name));
      } catch (const std::exception&) {  // exited between the two reads
      }
    }
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Setup over REST

/// One keep-alive HTTP connection to the server.
class RestClient {
 public:
  explicit RestClient(std::uint16_t port) : stream_(ioc_) {
    stream_.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
  }

  /// POSTs `body` (JSON) with the bearer token; returns the parsed answer, throws unless `expected`.
  nlohmann::json post(const std::string& target, const std::string& token, const nlohmann::json& body,
                      unsigned expected) {
    http::request<http::string_body> req(http::verb::post, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer " + token);
    req.set(http::field::content_type, "application/json");
    req.body() = body.dump();
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    if (res.result_int() != expected)
      throw std::runtime_error(std::string("POST ") + target + " answered " + std::to_string(res.result_int()) + ": " +
                               res.body());
    return nlohmann::json::parse(res.body());
  }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

/// Runs fn(client, i) for i in [0, count) on `workers` threads, each with its own connection.
template <class Fn>
void for_each_parallel(std::uint16_t port, int count, int workers, Fn fn) {
  std::atomic<int> next{0};
  std::mutex mutex;
  std::string error;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      try {
        RestClient client(port);
        for (int i = next++; i < count; i = next++) fn(client, i);
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        error = e.what();
        next = count;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!error.empty()) throw std::runtime_error(error);
}

std::vector<std::string> create_rooms(const Options& o) {
  std::vector<std::string> ids(static_cast<std::size_t>(o.rooms));
  for_each_parallel(o.port, o.rooms, 4, [&](RestClient& client, int r) {
    const nlohmann::json body{{"video_id", o.video_id}, {"title", std::string("Bench room ") + std::to_string(r)}};
    const auto room = client.post("/api/rooms", o.tokens[0], body, 201);
    ids[static_cast<std::size_t>(r)] = room.at("id").get<std::string>();
  });
  const int joiners = static_cast<int>(o.tokens.size()) - 1;
  for_each_parallel(o.port, o.rooms * joiners, 4, [&](RestClient& client, int i) {
    client.post(std::string("/api/rooms/") + ids[static_cast<std::size_t>(i / joiners)] + "/join",
                o.tokens[static_cast<std::size_t>(1 + i % joiners)], nlohmann::json::object(), 200);
  });
  return ids;
}

// ---------------------------------------------------------------------------------------------
// The sockets and the control phase

/// What every socket and sender shares. Control j (room j % rooms, that room's control j / rooms).
struct Run {
  Run(const Options& o, std::vector<std::string> room_ids)
      : rooms(o.rooms),
        members(static_cast<int>(o.tokens.size())),
        controls(o.rate * o.seconds),
        ids(std::move(room_ids)),
        sent_ns(static_cast<std::size_t>(controls)),
        last_receipt_ns(static_cast<std::size_t>(controls)),
        receipts(static_cast<std::size_t>(controls)) {}

  const int rooms;
  const int members;
  const int controls;
  const std::vector<std::string> ids;
  std::atomic<int> subscribed{0};
  std::atomic<int> failed{0};
  std::atomic<int> connecting{0};
  std::atomic<bool> go{false};
  std::uint64_t start_ns = 0;  // set before `go`
  std::uint64_t rate = 0;      // controls per second
  std::vector<std::atomic<std::uint64_t>> sent_ns;
  std::vector<std::atomic<std::uint64_t>> last_receipt_ns;
  std::vector<std::atomic<int>> receipts;
  std::atomic<std::uint64_t> heartbeats{0};
  std::atomic<std::uint64_t> unexpected{0};  // playback events of the wrong cause, or more than sent
  std::atomic<std::uint64_t> errors{0};      // error answers to controls
  std::mutex mutex;
  std::vector<std::uint64_t> latencies_ns;  // send -> one member's receipt
  std::string first_error;
};

/// The value of "key":"..." in a compact JSON text, or empty.
std::string_view string_field(std::string_view text, std::string_view quoted_key) {
  const auto pos = text.find(quoted_key);
  if (pos == std::string_view::npos) return {};
  const auto start = pos + quoted_key.size();
  const auto end = text.find('"', start);
  return end == std::string_view::npos ? std::string_view{} : text.substr(start, end - start);
}

/// Sends the room's controls at their times; waits for each answer before the next.
asio::awaitable<void> send_controls(websocket::stream<beast::tcp_stream>& ws, Run& run, int room,
                                    const std::atomic<int>& answers) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  int k = 0;
  for (int j = room; j < run.controls; j += run.rooms, ++k) {
    const std::uint64_t due = run.start_ns + static_cast<std::uint64_t>(j) * 1'000'000'000ULL / run.rate;
    timer.expires_after(std::chrono::nanoseconds(due > now_ns() ? due - now_ns() : 0));
    co_await timer.async_wait(as_tuple);
    while (answers < k) {  // the previous control is still unanswered
      timer.expires_after(1ms);
      co_await timer.async_wait(as_tuple);
    }
    nlohmann::json control{{"type", kActions[k % 3]}, {"id", j}, {"room_id", run.ids[static_cast<std::size_t>(room)]}};
    if (k % 3 == 0) control["position"] = 10 + k;  // seek
    const std::string text = control.dump();
    run.sent_ns[static_cast<std::size_t>(j)] = now_ns();
    auto [ec, n] = co_await ws.async_write(asio::buffer(text), as_tuple);
    if (ec) co_return;
  }
}

/// Member `member` of room `room`: connect, authenticate, subscribe, then read and time events.
asio::awaitable<void> member_socket(tcp::endpoint ep, std::string token, Run& run, int room, int member) {
  websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
  beast::flat_buffer buffer;
  const auto text = [&] { return std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()); };
  std::string target = "/ws?access_token=";  // a named local: GCC 12 mishandles temporaries in co_await
  target += token;
  auto [cec] = co_await beast::get_lowest_layer(ws).async_connect(ep, as_tuple);
  if (!cec) std::tie(cec) = co_await ws.async_handshake("127.0.0.1", target, as_tuple);
  if (!cec) std::tie(cec, std::ignore) = co_await ws.async_read(buffer, as_tuple);  // "authenticated"
  if (!cec) {
    buffer.consume(buffer.size());
    const std::string topic = std::string("room:") + run.ids[static_cast<std::size_t>(room)];
    const std::string subscribe = nlohmann::json{{"type", "subscribe"}, {"id", "sub"}, {"topic", topic}}.dump();
    std::tie(cec, std::ignore) = co_await ws.async_write(asio::buffer(subscribe), as_tuple);
  }
  // Until the answer to the subscribe: events of the user's own topic may come first.
  const auto type_of = [&] { return string_field(text(), "\"type\":\""); };
  while (!cec && type_of() != "subscribed" && type_of() != "error") {
    buffer.consume(buffer.size());
    std::tie(cec, std::ignore) = co_await ws.async_read(buffer, as_tuple);
  }
  if (cec || type_of() != "subscribed") {
    std::lock_guard lock(run.mutex);
    if (run.first_error.empty()) run.first_error = cec ? cec.message() : std::string(text());
    ++run.failed;
    --run.connecting;
    co_return;
  }
  buffer.consume(buffer.size());
  ++run.subscribed;
  --run.connecting;

  std::atomic<int> answers{0};  // host: answers to its controls
  if (member == 0) {
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor);
    while (!run.go) {
      timer.expires_after(5ms);
      co_await timer.async_wait(as_tuple);
    }
    asio::co_spawn(executor, send_controls(ws, run, room, answers), asio::detached);
  }
  int k = 0;  // the room's control events read so far
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, as_tuple);
    if (ec) break;
    const std::uint64_t received = now_ns();
    const std::string_view frame = text();
    const std::string_view type = string_field(frame, "\"type\":\"");
    if (type == "playback") {
      const std::string_view cause = string_field(frame, "\"cause\":\"");
      if (cause == "heartbeat") {
        ++run.heartbeats;
      } else {
        const int j = room + k * run.rooms;
        if (j < run.controls && cause == kActions[k % 3] && run.sent_ns[static_cast<std::size_t>(j)] != 0) {
          auto& last = run.last_receipt_ns[static_cast<std::size_t>(j)];
          for (std::uint64_t seen = last; seen < received && !last.compare_exchange_weak(seen, received);) {
          }
          {
            std::lock_guard lock(run.mutex);
            run.latencies_ns.push_back(received - run.sent_ns[static_cast<std::size_t>(j)]);
          }
          ++run.receipts[static_cast<std::size_t>(j)];
        } else {
          ++run.unexpected;
        }
        ++k;
      }
    } else if (type == "error") {
      ++run.errors;
      ++answers;
      std::lock_guard lock(run.mutex);
      if (run.first_error.empty()) run.first_error = std::string(frame);
    } else if (member == 0 && (type == "seek" || type == "play" || type == "pause")) {
      ++answers;
    }
    buffer.consume(buffer.size());
  }
}

void print_latencies(const char* name, std::vector<std::uint64_t>& v) {
  const double max = v.empty() ? 0.0 : static_cast<double>(*std::max_element(v.begin(), v.end())) / 1e6;
  std::printf("  %-34s %10zu %9.2f %9.2f %9.2f %9.2f\n", name, v.size(), percentile_ms(v, 0.5), percentile_ms(v, 0.9),
              percentile_ms(v, 0.99), max);
}

void bench(const Options& o) {
  std::printf("\nSetup: %d rooms, %zu members each (1 host + %zu joined over REST)\n", o.rooms, o.tokens.size(),
              o.tokens.size() - 1);
  auto started = std::chrono::steady_clock::now();
  Run run(o, create_rooms(o));
  std::printf("  rooms created and joined in %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  const int sockets = run.rooms * run.members;
  asio::io_context ioc(o.threads);
  auto guard = asio::make_work_guard(ioc);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.threads; ++i) threads.emplace_back([&] { ioc.run(); });
  const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), o.port);
  started = std::chrono::steady_clock::now();
  for (int room = 0; room < run.rooms; ++room) {
    for (int member = 0; member < run.members; ++member) {
      while (run.connecting >= 256) std::this_thread::sleep_for(1ms);  // the accept backlog
      ++run.connecting;
      // One strand per socket: its reader and (host) sender never run at once.
      asio::co_spawn(asio::make_strand(ioc),
                     member_socket(ep, o.tokens[static_cast<std::size_t>(member)], run, room, member), asio::detached);
    }
  }
  const bool all = wait_for([&] { return run.subscribed + run.failed >= sockets; }, 300s);
  std::printf("  %d of %d sockets subscribed (%d failed%s) in %.1f s; server RSS %.1f MiB\n", run.subscribed.load(),
              sockets, run.failed.load(), all ? "" : ", timed out",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
              static_cast<double>(rss_kib(o.server_pid)) / 1024.0);
  if (run.failed) std::printf("  first failure: %s\n", run.first_error.c_str());
  std::this_thread::sleep_for(2s);  // let the server settle (presence flush)

  const double server_cpu_before = cpu_seconds(o.server_pid);
  const double client_cpu_before = cpu_seconds(static_cast<int>(getpid()));
  const double postgres_cpu_before = o.postgres_pid ? cluster_cpu_seconds(o.postgres_pid) : 0;
  const std::uint64_t cpu_window_start = now_ns();
  run.rate = static_cast<std::uint64_t>(o.rate);
  run.start_ns = now_ns() + 100'000'000;  // every host is waiting by then
  run.go = true;
  const auto expected = static_cast<std::uint64_t>(run.controls) * static_cast<std::uint64_t>(run.members);
  const auto delivered = [&] {
    std::uint64_t sum = 0;
    for (const auto& r : run.receipts) sum += static_cast<std::uint64_t>(r.load());
    return sum;
  };
  const bool complete = wait_for([&] { return delivered() >= expected; }, std::chrono::seconds(o.seconds + 60));
  std::uint64_t last = 0;
  for (const auto& t : run.last_receipt_ns) last = std::max(last, t.load());
  const double wall = static_cast<double>(std::max(last, run.start_ns) - run.start_ns) / 1e9;
  const double server_cpu = cpu_seconds(o.server_pid) - server_cpu_before;
  const double client_cpu = cpu_seconds(static_cast<int>(getpid())) - client_cpu_before;
  const double postgres_cpu = o.postgres_pid ? cluster_cpu_seconds(o.postgres_pid) - postgres_cpu_before : 0;
  const double cpu_window = static_cast<double>(now_ns() - cpu_window_start) / 1e9;
  const long server_rss = rss_kib(o.server_pid);

  std::vector<std::uint64_t> to_all;  // per control delivered to every member: send -> last receipt
  for (int j = 0; j < run.controls; ++j) {
    if (run.receipts[static_cast<std::size_t>(j)] == run.members)
      to_all.push_back(run.last_receipt_ns[static_cast<std::size_t>(j)] - run.sent_ns[static_cast<std::size_t>(j)]);
  }
  std::vector<std::uint64_t> each;
  {
    std::lock_guard lock(run.mutex);
    each = run.latencies_ns;
  }
  const std::uint64_t got = delivered();

  std::printf("\nControl: %d controls (seek, play, pause in turn per room) at %d/s for %d s, from each room's host\n",
              run.controls, o.rate, o.seconds);
  std::printf("  delivered                          %llu of %llu control events%s in %.2f s: %.0f deliveries/s\n",
              static_cast<unsigned long long>(got), static_cast<unsigned long long>(expected),
              complete ? "" : " (timed out)", wall, wall > 0 ? static_cast<double>(got) / wall : 0.0);
  std::printf("  heartbeat events (not timed)       %llu (%.0f/s)\n",
              static_cast<unsigned long long>(run.heartbeats.load()),
              wall > 0 ? static_cast<double>(run.heartbeats.load()) / wall : 0.0);
  std::printf("  errors / unexpected events         %llu / %llu\n", static_cast<unsigned long long>(run.errors.load()),
              static_cast<unsigned long long>(run.unexpected.load()));
  if (!run.first_error.empty()) std::printf("  first error: %s\n", run.first_error.c_str());
  std::printf("\n  %-34s %10s %9s %9s %9s %9s\n", "latency (ms)", "count", "p50", "p90", "p99", "max");
  print_latencies("send -> one member's receipt", each);
  print_latencies("send -> all members of the room", to_all);
  std::printf("\n  %-34s %9.1f %% of one core (%.2f CPU-s), RSS %.1f MiB\n", "server CPU over the phase",
              100 * server_cpu / cpu_window, server_cpu, static_cast<double>(server_rss) / 1024.0);
  if (o.postgres_pid)
    std::printf("  %-34s %9.1f %% of one core (%.2f CPU-s)\n", "PostgreSQL CPU over the phase",
                100 * postgres_cpu / cpu_window, postgres_cpu);
  std::printf("  %-34s %9.1f %% of one core (%.2f CPU-s), %d threads\n", "bench client CPU over the phase",
              100 * client_cpu / cpu_window, client_cpu, o.threads);

  ioc.stop();
  for (auto& t : threads) t.join();
}

Options parse(int argc, char** argv) {
  Options o;
  const reelhub::bench::Args args(argc, argv);
  args.number("--port", o.port);
  args.number("--server-pid", o.server_pid);
  args.number("--postgres-pid", o.postgres_pid);
  args.number("--rooms", o.rooms);
  args.number("--rate", o.rate);
  args.number("--seconds", o.seconds);
  args.number("--threads", o.threads);
  std::istringstream tokens(args.text("--tokens"));
  for (std::string t; std::getline(tokens, t, ',');) o.tokens.push_back(t);
  o.video_id = args.text("--video-id");
  if (!o.port || o.tokens.size() < 2 || o.video_id.empty() || !o.server_pid || o.rooms < 1 || o.rate < 1 ||
      o.seconds < 1 || o.threads < 1)
    throw std::invalid_argument(
        "usage: rooms_bench --port P --tokens HOST,MEMBER,... --video-id V --server-pid PID "
        "[--postgres-pid PID] [--rooms N] [--rate N] [--seconds N] [--threads N]");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench(parse(argc, argv));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rooms_bench: %s\n", e.what());
    return 1;
  }
}
