// LL-HLS viewers benchmark; bench/llhls-viewers/run starts the server and a publisher, then runs it.
//
//   llhls_viewers --port P --stream ID --server-pid PID
//                 [--viewers 1000] [--seconds 30] [--warmup 5] [--threads 2]
//
// Each viewer does what an LL-HLS player does at the live edge, on two keep-alive connections:
//  - playlist: GET /hls/<id>/ll.m3u8 once, then, forever, the blocking reload for the part its
//    last answer hinted (EXT-X-PRELOAD-HINT → `?_HLS_msn=<m>&_HLS_part=<p>`). The moment each
//    answer is read is recorded for every part it lists that this viewer had not seen listed.
//  - parts: as soon as an answer hints a new part, GET of that part; the server streams it
//    (chunked) while it is being written, so the request is outstanding when the part ends.
// Per part listed while measuring: the spread between the first and the last viewer reading a
// playlist that lists it (all viewers are in this process: one clock), and whether every viewer
// read it within 50 ms of the first. A hinted part that is never produced (the server cut the
// segment before it began, so it never appears in any playlist) is answered by the server with a
// cut-off body, as designed; those are counted apart from failures.
// Server CPU (utime + stime of --server-pid from /proc) and this program's own CPU are read over
// the measured window; the server's RSS before the viewers connect and at the end.

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include "support.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);
using reelhub::bench::cpu_seconds;
using reelhub::bench::now_ns;
using reelhub::bench::percentile_ms;
using reelhub::bench::rss_kib;
using reelhub::bench::wait_for;

constexpr std::uint64_t kWithinNs = 50'000'000;  // the target: every viewer within 50 ms

struct Options {
  std::uint16_t port = 0;
  std::string stream;
  int server_pid = 0;
  int viewers = 1000;
  int seconds = 30;
  int warmup = 5;
  int threads = 2;
};

/// A part as one ordered number: media sequence number in the high bits, part index in the low.
using PartKey = std::uint64_t;
PartKey part_key(std::uint64_t msn, std::uint64_t part) { return msn << 16 | part; }

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

/// The part named by `part_<msn>_<part>.m4s`.
std::optional<PartKey> parse_part_uri(std::string_view uri) {
  if (!uri.starts_with("part_") || !uri.ends_with(".m4s")) return std::nullopt;
  uri = uri.substr(5, uri.size() - 9);
  const auto sep = uri.find('_');
  if (sep == std::string_view::npos) return std::nullopt;
  const auto msn = number(uri.substr(0, sep));
  const auto part = number(uri.substr(sep + 1));
  if (!msn || !part) return std::nullopt;
  return part_key(*msn, *part);
}

/// The URI="..." value of the tag line starting at `at`.
std::string_view uri_of_line(std::string_view text, std::size_t at) {
  const auto end = text.find('\n', at);
  const std::string_view line = text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
  const auto start = line.find("URI=\"");
  if (start == std::string_view::npos) return {};
  const auto close = line.find('"', start + 5);
  return close == std::string_view::npos ? std::string_view{} : line.substr(start + 5, close - start - 5);
}

/// What a viewer reads off an LL-HLS playlist: the parts it lists, in order, and the hint.
struct Listing {
  std::vector<PartKey> parts;
  std::optional<PartKey> hint;
  std::string hint_uri;
};
Listing read_listing(std::string_view text) {
  Listing listing;
  for (auto at = text.find("#EXT-X-PART:"); at != std::string_view::npos; at = text.find("#EXT-X-PART:", at + 1))
    if (const auto key = parse_part_uri(uri_of_line(text, at))) listing.parts.push_back(*key);
  if (const auto at = text.find("#EXT-X-PRELOAD-HINT:TYPE=PART"); at != std::string_view::npos) {
    listing.hint_uri = std::string(uri_of_line(text, at));
    listing.hint = parse_part_uri(listing.hint_uri);
  }
  return listing;
}

/// When the viewers read a playlist first listing one part.
struct Receipts {
  std::uint64_t first_ns = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t last_ns = 0;
  int viewers = 0;
  void add(std::uint64_t t) {
    first_ns = std::min(first_ns, t);
    last_ns = std::max(last_ns, t);
    ++viewers;
  }
  void merge(const Receipts& other) {
    first_ns = std::min(first_ns, other.first_ns);
    last_ns = std::max(last_ns, other.last_ns);
    viewers += other.viewers;
  }
};

/// What the viewers of one io thread count; only that thread touches it while the run lasts.
struct Tally {
  std::unordered_map<PartKey, Receipts> receipts;
  std::vector<PartKey> cut_parts;  // part requests answered with a cut-off body
  std::uint64_t playlists = 0;     // blocking reloads answered 200 while measuring
  std::uint64_t parts = 0;         // parts read whole while measuring
  std::uint64_t part_bytes = 0;
  std::uint64_t expired = 0;   // blocking reloads answered 503 (the part did not come in time)
  std::uint64_t failed = 0;    // any other non-200 answer or a connection error
  std::string first_failure;
  void fail(std::string what) {
    ++failed;
    if (first_failure.empty()) first_failure = std::move(what);
  }
};

/// What every viewer shares.
struct Run {
  const tcp::endpoint server;
  const std::string playlist_path;
  const std::string media_prefix;  // "/hls/<id>/"
  std::atomic<int> started{0};     // viewers that read their first playlist
  std::atomic<int> failed_to_start{0};
  std::atomic<int> connecting{0};
  std::atomic<std::uint64_t> measure_from_ns{std::numeric_limits<std::uint64_t>::max()};
  std::atomic<std::uint64_t> measure_until_ns{std::numeric_limits<std::uint64_t>::max()};
  std::atomic<bool> stopping{false};

  bool measuring(std::uint64_t t) const { return t >= measure_from_ns && t < measure_until_ns; }
};

/// One keep-alive HTTP/1.1 connection, (re)opened on demand.
class Connection {
 public:
  explicit Connection(const asio::any_io_executor& executor) : stream_(executor) {}

  /// GETs `target`; the answer is in `res`. On a connection error the connection is closed, so
  /// the next GET opens a new one.
  asio::awaitable<boost::system::error_code> get(const tcp::endpoint& server, const std::string& target,
                                                 http::response<http::string_body>& res) {
    boost::system::error_code ec;
    stream_.expires_after(30s);
    if (!open_) {
      std::tie(ec) = co_await stream_.async_connect(server, as_tuple);
      if (ec) co_return ec;
      open_ = true;
    }
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, "127.0.0.1");
    std::tie(ec, std::ignore) = co_await http::async_write(stream_, req, as_tuple);
    res = {};
    if (!ec) std::tie(ec, std::ignore) = co_await http::async_read(stream_, buffer_, res, as_tuple);
    if (ec || res.need_eof()) {
      boost::system::error_code ignored;
      stream_.socket().close(ignored);
      buffer_.clear();
      open_ = false;
    }
    co_return ec;
  }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool open_ = false;
};

/// One viewer's state, shared by its two loops (both on one io thread).
struct Viewer {
  explicit Viewer(const asio::any_io_executor& executor) : wake_parts(executor) {}
  PartKey newest_listed = 0;
  PartKey hint = 0;
  std::string hint_uri;
  PartKey fetched = 0;
  asio::steady_timer wake_parts;  // cancelled when a new part is hinted
};

/// The parts loop: GETs each newly hinted part (streamed while written).
asio::awaitable<void> fetch_parts(Run& run, Tally& tally, std::shared_ptr<Viewer> viewer) {
  Connection connection(co_await asio::this_coro::executor);
  http::response<http::string_body> res;
  while (!run.stopping) {
    if (viewer->hint == viewer->fetched) {
      viewer->wake_parts.expires_at(asio::steady_timer::time_point::max());
      co_await viewer->wake_parts.async_wait(as_tuple);
      continue;
    }
    const PartKey key = viewer->hint;
    const std::string target = run.media_prefix + viewer->hint_uri;
    viewer->fetched = key;
    const auto ec = co_await connection.get(run.server, target, res);
    if (run.stopping) break;
    const bool measured = run.measuring(now_ns());
    if (ec == http::error::partial_message || ec == asio::error::eof || ec == http::error::end_of_stream) {
      tally.cut_parts.push_back(key);  // a failure unless the part never appears in a playlist
    } else if (ec) {
      if (measured) tally.fail("GET " + target + ": " + ec.message());
    } else if (res.result() != http::status::ok) {
      if (measured) tally.fail("GET " + target + " answered " + std::to_string(res.result_int()));
    } else if (measured) {
      ++tally.parts;
      tally.part_bytes += res.body().size();
    }
  }
}

/// The playlist loop: the first GET, then blocking reloads for the hinted part.
asio::awaitable<void> watch(Run& run, Tally& tally) {
  const auto executor = co_await asio::this_coro::executor;
  auto viewer = std::make_shared<Viewer>(executor);
  Connection connection(executor);
  http::response<http::string_body> res;
  asio::steady_timer pause(executor);
  bool started = false;
  bool parts_started = false;
  while (!run.stopping) {
    std::string target = run.playlist_path;
    if (viewer->hint != 0)
      target += "?_HLS_msn=" + std::to_string(viewer->hint >> 16) + "&_HLS_part=" + std::to_string(viewer->hint & 0xffff);
    const auto ec = co_await connection.get(run.server, target, res);
    const std::uint64_t received = now_ns();
    if (run.stopping) break;
    const bool measured = run.measuring(received);
    if (ec || res.result() != http::status::ok) {
      if (!started) {
        started = true;
        ++run.failed_to_start;
        --run.connecting;
      }
      if (measured) {
        if (!ec && res.result() == http::status::service_unavailable) ++tally.expired;
        else tally.fail("GET " + target + ": " + (ec ? ec.message() : "answered " + std::to_string(res.result_int())));
      }
      viewer->hint = viewer->fetched = 0;  // start over from the plain playlist, as a player does
      pause.expires_after(100ms);
      co_await pause.async_wait(as_tuple);
      continue;
    }
    const Listing listing = read_listing(res.body());
    const bool blocking = viewer->hint != 0;
    for (const PartKey part : listing.parts) {
      if (part <= viewer->newest_listed) continue;
      if (blocking) tally.receipts[part].add(received);  // a first GET's parts were listed long ago
      viewer->newest_listed = part;
    }
    if (blocking && measured) ++tally.playlists;
    if (listing.hint && *listing.hint != viewer->hint) {
      viewer->hint = *listing.hint;
      viewer->hint_uri = listing.hint_uri;
      viewer->wake_parts.cancel();
    } else if (!listing.hint) {
      viewer->hint = 0;  // no hint (the stream ended): poll the plain playlist
      pause.expires_after(100ms);
      co_await pause.async_wait(as_tuple);
    }
    if (!started) {
      started = true;
      ++run.started;
      --run.connecting;
    }
    if (!parts_started) {
      parts_started = true;
      asio::co_spawn(executor, fetch_parts(run, tally, viewer), asio::detached);
    }
  }
}

struct Summary {
  std::size_t parts = 0;            // parts first read while measuring
  std::size_t reached_all = 0;      // ... read by every viewer
  std::size_t all_within = 0;       // ... by every viewer within 50 ms of the first
  std::vector<std::uint64_t> spreads_ns;  // first -> last viewer, parts read by every viewer
  std::size_t cut_listed = 0;       // cut-off part bodies of parts some playlist did list
  std::size_t cut_never_listed = 0;  // cut-off part bodies of hinted parts never produced
};

Summary summarize(const Run& run, std::vector<Tally>& tallies, int viewers) {
  std::unordered_map<PartKey, Receipts> all;
  for (const Tally& t : tallies)
    for (const auto& [key, r] : t.receipts) all[key].merge(r);
  Summary s;
  for (const auto& [key, r] : all) {
    if (!run.measuring(r.first_ns)) continue;
    ++s.parts;
    if (r.viewers < viewers) continue;
    ++s.reached_all;
    s.spreads_ns.push_back(r.last_ns - r.first_ns);
    if (r.last_ns - r.first_ns <= kWithinNs) ++s.all_within;
  }
  for (const Tally& t : tallies)
    for (const PartKey key : t.cut_parts) {
      const auto it = all.find(key);
      if (it == all.end()) ++s.cut_never_listed;
      else if (run.measuring(it->second.first_ns)) ++s.cut_listed;
    }
  return s;
}

void bench(const Options& o) {
  Run run{.server = tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), o.port),
          .playlist_path = "/hls/" + o.stream + "/ll.m3u8",
          .media_prefix = "/hls/" + o.stream + "/"};
  const long rss_before = rss_kib(o.server_pid);
  std::vector<Tally> tallies(static_cast<std::size_t>(o.threads));  // outlives the loops' coroutines
  // One io_context per thread, as the server does: a viewer's two loops share its thread.
  std::vector<std::unique_ptr<asio::io_context>> loops;
  for (int i = 0; i < o.threads; ++i) loops.push_back(std::make_unique<asio::io_context>(1));
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  for (auto& loop : loops) {
    guards.push_back(asio::make_work_guard(*loop));
    threads.emplace_back([&ioc = *loop] { ioc.run(); });
  }
  auto started = std::chrono::steady_clock::now();
  for (int v = 0; v < o.viewers; ++v) {
    while (run.connecting >= 128) std::this_thread::sleep_for(1ms);  // the accept backlog
    ++run.connecting;
    const auto t = static_cast<std::size_t>(v % o.threads);
    asio::co_spawn(*loops[t], watch(run, tallies[t]), asio::detached);
  }
  const bool all = wait_for([&] { return run.started + run.failed_to_start >= o.viewers; }, 120s);
  std::printf("\nSetup: %d of %d viewers read their first playlist (%d failed%s) in %.1f s\n", run.started.load(),
              o.viewers, run.failed_to_start.load(), all ? "" : ", timed out",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  std::this_thread::sleep_for(std::chrono::seconds(o.warmup));  // every viewer at the live edge

  const double server_cpu_before = cpu_seconds(o.server_pid);
  const double client_cpu_before = cpu_seconds(static_cast<int>(getpid()));
  const std::uint64_t from = now_ns();
  run.measure_until_ns = from + static_cast<std::uint64_t>(o.seconds) * 1'000'000'000ULL;
  run.measure_from_ns = from;
  std::this_thread::sleep_for(std::chrono::seconds(o.seconds));
  const double wall = static_cast<double>(now_ns() - from) / 1e9;
  const double server_cpu = cpu_seconds(o.server_pid) - server_cpu_before;
  const double client_cpu = cpu_seconds(static_cast<int>(getpid())) - client_cpu_before;
  const long rss_after = rss_kib(o.server_pid);
  // Parts listed near the end of the window reach the slower viewers after it: let them land.
  std::this_thread::sleep_for(1s);
  run.stopping = true;
  for (auto& loop : loops) loop->stop();
  for (auto& t : threads) t.join();

  Summary s = summarize(run, tallies, o.viewers);
  Tally total;
  for (Tally& t : tallies) {
    total.playlists += t.playlists;
    total.parts += t.parts;
    total.part_bytes += t.part_bytes;
    total.expired += t.expired;
    total.failed += t.failed;
    if (total.first_failure.empty()) total.first_failure = t.first_failure;
  }
  const double max_spread =
      s.spreads_ns.empty() ? 0.0 : static_cast<double>(*std::max_element(s.spreads_ns.begin(), s.spreads_ns.end())) / 1e6;
  std::printf("\nMeasured %.1f s, %d viewers on %d client threads:\n", wall, o.viewers, o.threads);
  std::printf("  blocking reloads answered 200      %llu (%.0f/s)\n", static_cast<unsigned long long>(total.playlists),
              static_cast<double>(total.playlists) / wall);
  std::printf("  parts read whole (streamed)        %llu (%.0f/s, %.1f MiB/s)\n",
              static_cast<unsigned long long>(total.parts), static_cast<double>(total.parts) / wall,
              static_cast<double>(total.part_bytes) / wall / 1048576.0);
  std::printf("  hinted parts never produced        %zu (cut off by the server as designed: segment cut first)\n",
              s.cut_never_listed);
  std::printf("  failed requests                    %llu (+ %llu reloads answered 503, + %zu listed parts cut off)\n",
              static_cast<unsigned long long>(total.failed), static_cast<unsigned long long>(total.expired),
              s.cut_listed);
  if (!total.first_failure.empty()) std::printf("  first failure: %s\n", total.first_failure.c_str());
  std::printf("\nParts listed while measuring: %zu; read by every viewer: %zu\n", s.parts, s.reached_all);
  std::printf("  first -> last viewer reading the playlist that lists it:  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
              percentile_ms(s.spreads_ns, 0.5), percentile_ms(s.spreads_ns, 0.99), max_spread);
  std::printf("  parts that reached every viewer within 50 ms:            %zu of %zu (%.1f %%)\n", s.all_within, s.parts,
              s.parts ? 100.0 * static_cast<double>(s.all_within) / static_cast<double>(s.parts) : 0.0);
  std::printf("\nCPU over the window (%% of one core):  server %.1f %%   this client %.1f %%\n",
              100.0 * server_cpu / wall, 100.0 * client_cpu / wall);
  std::printf("Server RSS: %.1f MiB before the viewers, %.1f MiB at the end (%.1f KiB per viewer)\n",
              static_cast<double>(rss_before) / 1024.0, static_cast<double>(rss_after) / 1024.0,
              static_cast<double>(rss_after - rss_before) / o.viewers);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const reelhub::bench::Args args(argc, argv);
    Options o;
    args.number("--port", o.port);
    o.stream = args.text("--stream");
    args.number("--server-pid", o.server_pid);
    args.number("--viewers", o.viewers);
    args.number("--seconds", o.seconds);
    args.number("--warmup", o.warmup);
    args.number("--threads", o.threads);
    if (o.port == 0 || o.stream.empty() || o.server_pid == 0 || o.viewers < 1 || o.seconds < 1 || o.threads < 1) {
      std::fprintf(stderr,
                   "usage: llhls_viewers --port P --stream ID --server-pid PID [--viewers 1000] [--seconds 30]"
                   " [--warmup 5] [--threads 2]\n");
      return 2;
    }
    bench(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llhls_viewers: %s\n", e.what());
    return 1;
  }
  return 0;
}
