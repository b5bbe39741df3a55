#include "reelhub/media/srt_ingest.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <srt/access_control.h>
#include <srt/srt.h>
#include <syslog.h>

#include <algorithm>
#include <cstring>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <utility>

#include "reelhub/core/logging.hpp"
#include "reelhub/core/validation.hpp"
#include "reelhub/media/bitrate_window.hpp"
#include "reelhub/media/ffmpeg.hpp"
#include "reelhub/media/ingest_demux.hpp"
#include "reelhub/media/stream_id.hpp"

namespace reelhub::media {
namespace {

using Clock = std::chrono::steady_clock;

/// How often a blocked read wakes to check for stop/close; also the stop latency.
constexpr int kReadPollMs = 250;
/// Refusals per peer address within kRefusalWindow before further attempts are refused unlogged:
/// a misconfigured encoder retries every few milliseconds.
constexpr int kRefusalsBeforeThrottle = 10;
constexpr auto kRefusalWindow = std::chrono::seconds(10);
constexpr std::size_t kSrtMessageMax = 1500;
/// The bitrate limit compares the average over this window, in 250 ms steps: long enough that a
/// keyframe or a burst after a network hiccup passes, short enough to drop an abuser in seconds.
constexpr auto kBitrateWindow = std::chrono::seconds(4);
constexpr std::size_t kBitrateBins = 16;

/// srt_startup()/srt_cleanup() are reference-counted by libsrt; one pair per server.
struct SrtLibrary {
  SrtLibrary() { srt_startup(); }
  ~SrtLibrary() { srt_cleanup(); }
};

/// An SRT socket id, closed on destruction.
class SrtSocket {
 public:
  explicit SrtSocket(SRTSOCKET s = SRT_INVALID_SOCK) : s_(s) {}
  ~SrtSocket() {
    if (s_ != SRT_INVALID_SOCK) srt_close(s_);
  }
  SrtSocket(const SrtSocket&) = delete;
  SrtSocket& operator=(const SrtSocket&) = delete;
  SRTSOCKET get() const { return s_; }
  SRTSOCKET release() { return std::exchange(s_, SRT_INVALID_SOCK); }

 private:
  SRTSOCKET s_;
};

std::string peer_address(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (sa == nullptr) return buf;
  if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

std::string socket_string_option(SRTSOCKET s, SRT_SOCKOPT option) {
  char buf[600] = {};
  int len = sizeof buf;
  if (srt_getsockflag(s, option, buf, &len) != 0 || len < 0 || len > static_cast<int>(sizeof buf)) return {};
  return std::string(buf, static_cast<std::size_t>(len));
}

int socket_int_option(SRTSOCKET s, SRT_SOCKOPT option) {
  int value = -1;
  int len = sizeof value;
  if (srt_getsockflag(s, option, &value, &len) != 0 || len != sizeof value) return -1;
  return value;
}

/// libsrt reports a wrong or missing passphrase only in its log (srt_accept never returns for
/// such callers), so its log is routed here: the one line per refused handshake
/// ("rsp(REJECT): 1010 - Incorrect passphrase", 1011 for none) is counted, the rest goes to debug.
void on_srt_log(void* opaque, int, const char*, int, const char*, const char* message) {
  const std::string_view text = message;
  const std::string_view line = text.substr(0, text.find('\n'));
  const char* reason = nullptr;
  if (line.find("rsp(REJECT): 1010") != std::string_view::npos) reason = "bad_secret";
  if (line.find("rsp(REJECT): 1011") != std::string_view::npos) reason = "no_secret";
  if (reason != nullptr) {
    static_cast<metrics::Registry*>(opaque)->inc("reelhub_srt_refusals_total", {{"reason", reason}});
    spdlog::warn("srt: refused publisher: {} ({})", reason, line);
  } else {
    spdlog::debug("srt: {}", line);
  }
}

}  // namespace

const char* refusal_name(Refusal r) {
  switch (r) {
    case Refusal::malformed_stream_id: return "malformed_stream_id";
    case Refusal::not_publish_mode: return "not_publish_mode";
    case Refusal::unknown_stream: return "unknown_stream";
    case Refusal::not_started: return "not_started";
    case Refusal::busy: return "busy";
    case Refusal::throttled: return "throttled";
  }
  return "unknown";
}

int refusal_code(Refusal r) {
  switch (r) {
    case Refusal::malformed_stream_id: return SRT_REJX_BAD_REQUEST;
    case Refusal::not_publish_mode: return SRT_REJX_BAD_MODE;
    case Refusal::unknown_stream: return SRT_REJX_NOTFOUND;
    case Refusal::not_started: return SRT_REJX_FORBIDDEN;
    case Refusal::busy: return SRT_REJX_CONFLICT;
    case Refusal::throttled: return SRT_REJX_OVERLOAD;
  }
  return SRT_REJX_FALLBACK;
}

/// One publisher: reads its MPEG-TS, remuxes it into the channel's segments, and reports how it
/// ended. Runs on its own thread; blocking reads wake every kReadPollMs to notice stop/close.
class SrtIngestServer::Session {
 public:
  Session(SrtIngestServer& server, SRTSOCKET socket, std::shared_ptr<LiveChannel> channel, std::string peer)
      : server_(server), socket_(socket), channel_(std::move(channel)), peer_(std::move(peer)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Session() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void stop() { stop_ = true; }
  bool done() const { return done_; }

 private:
  void run();
  void ingest();
  static int read_packet(void* opaque, std::uint8_t* buf, int size);
  int read_some(std::uint8_t* buf, int size);
  void sample_stats();
  /// Ends the session (reason logged and reported) when its last message took it over a limit.
  void drop_for_limit(const char* limit, std::string reason);

  SrtIngestServer& server_;
  SrtSocket socket_;
  std::shared_ptr<LiveChannel> channel_;
  const std::string peer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::string reason_;  // why reading ended, set by read_some
  bool dropped_ = false;  // a limit ended the session (drop_for_limit)
  char staged_[kSrtMessageMax];
  std::size_t staged_len_ = 0, staged_pos_ = 0;
  Clock::time_point last_stats_ = Clock::now();
  WallClock::time_point first_data_{};
  BitrateWindow received_{kBitrateWindow, kBitrateBins, Clock::now()};
  // Bytes that never become audio or video (garbage, an unsupported container) would keep the
  // demuxer reading forever: past this, the session is dropped. Moved on by every packet.
  Clock::time_point media_deadline_;
  std::thread thread_;
};

void SrtIngestServer::Session::run() {
  const std::string& id = channel_->stream_id();
  spdlog::info("live {}: publisher connected from {}", id, peer_);
  server_.metrics_.inc("reelhub_srt_sessions_total");
  server_.observer_.publisher_connected(id);
  try {
    ingest();
  } catch (const std::exception& e) {
    if (reason_.empty()) reason_ = e.what();
  }
  if (reason_.empty()) reason_ = "publisher ended the stream";
  spdlog::info("live {}: publisher from {} gone: {}", id, peer_, reason_);
  channel_->release_publisher();
  server_.observer_.publisher_disconnected(id, reason_);
  done_ = true;
}

void SrtIngestServer::Session::ingest() {
  const int timeout = kReadPollMs;
  srt_setsockflag(socket_.get(), SRTO_RCVTIMEO, &timeout, sizeof timeout);
  media_deadline_ = Clock::now() + kDemuxAnalyzeDuration + server_.options_.stall_timeout;

  IOContextPtr io = make_io_context(64 * 1024, false, this, &Session::read_packet, nullptr, nullptr);
  const DemuxEnd ended = demux_publisher(
      *io, server_.options_.target_duration, server_.options_.max_segment_bytes,
      {.first_data = [this] { return first_data_; },
       .on_segment = [this](CutSegment segment,
                            WallClock::time_point arrival) { channel_->add_segment(std::move(segment), arrival); },
       .on_packet =
           [this] {
             media_deadline_ = Clock::now() + server_.options_.stall_timeout;
             sample_stats();
           },
       .part_target = server_.options_.part_target,
       .on_init = [this](std::string init) { channel_->low_latency().set_init(std::move(init)); },
       .on_chunk = [this](std::string bytes,
                          bool starts_with_keyframe) { channel_->low_latency().append_chunk(bytes, starts_with_keyframe); },
       .on_part =
           [this](double seconds, WallClock::time_point arrival) {
             channel_->low_latency().end_part(seconds);
             server_.metrics_.observe("reelhub_live_part_listing_seconds", {},
                                      std::chrono::duration<double>(WallClock::now() - arrival).count());
           }});
  if (ended.segment_limit) {
    drop_for_limit("segment_bytes", ended.reason);
  } else if (reason_.empty()) {
    // A failed read already said why (stall, disconnect, shutdown); the demuxer's view comes second.
    reason_ = ended.reason;
  }
}

int SrtIngestServer::Session::read_packet(void* opaque, std::uint8_t* buf, int size) {
  return static_cast<Session*>(opaque)->read_some(buf, size);
}

int SrtIngestServer::Session::read_some(std::uint8_t* buf, int size) {
  // libsrt delivers whole messages (up to 1316 bytes in live mode) and fails a read into a
  // smaller buffer, while AVIO may ask for less: stage each message and hand it out piecewise.
  Clock::time_point silent_since = Clock::now();
  while (staged_pos_ == staged_len_) {
    if (dropped_) return AVERROR_EXIT;  // once is enough: the demuxer may ask again while draining
    if (stop_ || server_.stopping_) {
      reason_ = "server shutting down";
      return AVERROR_EXIT;
    }
    if (channel_->closed()) {
      reason_ = "stream stopped";
      return AVERROR_EXIT;
    }
    if (Clock::now() > media_deadline_) {
      reason_ = "no audio or video in the data received for " +
                std::to_string(server_.options_.stall_timeout.count()) + " s (not MPEG-TS with H.264/HEVC?)";
      return AVERROR_INVALIDDATA;
    }
    const int n = srt_recvmsg(socket_.get(), staged_, sizeof staged_);
    if (n > 0) {
      const double kbps = received_.add(static_cast<std::size_t>(n), Clock::now());
      if (kbps > server_.options_.max_bitrate_kbps) {
        drop_for_limit("bitrate", "bitrate limit: " + std::to_string(static_cast<long long>(kbps)) +
                                      " kbit/s over the last " + std::to_string(kBitrateWindow.count()) +
                                      " s, the limit is " + std::to_string(server_.options_.max_bitrate_kbps));
        return AVERROR_EXIT;
      }
      staged_len_ = static_cast<std::size_t>(n);
      staged_pos_ = 0;
      if (first_data_ == WallClock::time_point{}) first_data_ = WallClock::now();
      break;
    }
    const int error = srt_getlasterror(nullptr);
    if (error == SRT_EASYNCRCV || error == SRT_ETIMEOUT) {
      if (Clock::now() - silent_since >= server_.options_.stall_timeout) {
        reason_ = "publisher stalled: no data for " + std::to_string(server_.options_.stall_timeout.count()) + " s";
        return AVERROR(ETIMEDOUT);
      }
      continue;
    }
    reason_ = std::string("publisher disconnected (") + srt_getlasterror_str() + ")";
    return AVERROR_EOF;
  }
  const std::size_t n = std::min(static_cast<std::size_t>(size), staged_len_ - staged_pos_);
  std::memcpy(buf, staged_ + staged_pos_, n);
  staged_pos_ += n;
  return static_cast<int>(n);
}

void SrtIngestServer::Session::drop_for_limit(const char* limit, std::string reason) {
  reason_ = std::move(reason);
  dropped_ = true;
  server_.metrics_.inc("reelhub_live_limit_drops_total", {{"limit", limit}});
}

void SrtIngestServer::Session::sample_stats() {
  const auto now = Clock::now();
  if (now - last_stats_ < std::chrono::seconds(1)) return;
  last_stats_ = now;
  SRT_TRACEBSTATS perf{};
  if (srt_bstats(socket_.get(), &perf, 0) != 0) return;
  IngestStats stats;
  stats.rtt_ms = perf.msRTT;
  stats.receive_mbps = perf.mbpsRecvRate;
  stats.packets_received = perf.pktRecvTotal;
  stats.packets_lost = perf.pktRcvLossTotal;
  stats.packets_retransmitted = perf.pktRcvRetrans;  // never cleared (clear=0 above), so a total;
  stats.packets_dropped = perf.pktRcvDropTotal;
  channel_->set_stats(stats);
}

SrtIngestServer::SrtIngestServer(LiveChannels& channels, IngestObserver& observer, metrics::Registry& metrics,
                                 LiveOptions options)
    : channels_(channels), observer_(observer), metrics_(metrics), options_(options) {
  static SrtLibrary library;  // once per process: srt_cleanup at exit, after every server is gone
  srt_setloghandler(&metrics_, &on_srt_log);
  srt_setloglevel(LOG_WARNING);
  metrics_.describe("reelhub_srt_refusals_total", "counter", "SRT publishers refused at the handshake, by reason");
  metrics_.describe("reelhub_srt_sessions_total", "counter", "SRT publisher sessions accepted");
  metrics_.describe("reelhub_live_part_listing_seconds", "histogram",
                    "LL-HLS: from the demuxer handing over a part's last frame to the part being listed",
                    {0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.1, 0.25, 1});
  metrics_.describe("reelhub_live_limit_drops_total", "counter",
                    "SRT publishers dropped for a limit (bitrate, segment_bytes), by limit");
}

SrtIngestServer::~SrtIngestServer() { stop(); }

void SrtIngestServer::listen(const std::string& host, std::uint16_t port) {
  listener_ = srt_create_socket();
  if (listener_ == SRT_INVALID_SOCK) throw std::runtime_error(std::string("srt socket: ") + srt_getlasterror_str());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) throw std::runtime_error("srt: bad listen host " + host);
  if (srt_bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("srt bind " + host + ":" + std::to_string(port) + ": " + srt_getlasterror_str());
  // After bind, before listen: libsrt's requirement for the callback to see every handshake.
  srt_listen_callback(listener_, &SrtIngestServer::on_listen, this);
  if (srt_listen(listener_, 64) != 0) throw std::runtime_error(std::string("srt listen: ") + srt_getlasterror_str());
  sockaddr_in bound{};
  int len = sizeof bound;
  srt_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.sin_port);
  epoll_ = srt_epoll_create();
  const int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  srt_epoll_add_usock(epoll_, listener_, &events);
  acceptor_ = std::thread([this] { accept_loop(); });
  spdlog::info("srt: listening on {}:{}", host, port_);
}

void SrtIngestServer::stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  std::list<std::unique_ptr<Session>> sessions;
  {
    std::lock_guard lock(sessions_mutex_);
    sessions.swap(sessions_);
  }
  sessions.clear();  // each destructor stops and joins its thread
  if (epoll_ >= 0) srt_epoll_release(epoll_);
  if (listener_ != SRT_INVALID_SOCK && listener_ >= 0) srt_close(listener_);
}

int SrtIngestServer::on_listen(void* opaque, SRTSOCKET socket, int hsversion, const sockaddr* peer,
                               const char* streamid) {
  auto* self = static_cast<SrtIngestServer*>(opaque);
  const std::string address = peer_address(peer);
  const std::string sid = hsversion >= 5 && streamid != nullptr ? streamid : "";
  Decision d;
  try {
    d = self->decide(sid, address);
  } catch (const std::exception&) {
    d.refusal = Refusal::malformed_stream_id;
  }
  if (d.refusal) {
    self->count_refusal(*d.refusal, sid, address);
    srt_setrejectreason(socket, refusal_code(*d.refusal));
    return -1;
  }
  const std::string& pass = d.channel->passphrase();
  srt_setsockflag(socket, SRTO_PASSPHRASE, pass.data(), static_cast<int>(pass.size()));
  return 0;
}

SrtIngestServer::Decision SrtIngestServer::decide(const std::string& streamid, const std::string& peer) const {
  if (throttled(peer)) return {Refusal::throttled, nullptr};
  const ParsedStreamId parsed = parse_stream_id(streamid);
  if (!parsed.target) {
    return {parsed.error == StreamIdError::not_publish ? Refusal::not_publish_mode : Refusal::malformed_stream_id,
            nullptr};
  }
  const std::string& id = parsed.target->resource;
  if (!is_valid_uuid(id)) return {Refusal::unknown_stream, nullptr};
  auto channel = channels_.find(id);
  if (!channel) return {channels_.is_created(id) ? Refusal::not_started : Refusal::unknown_stream, nullptr};
  if (channel->has_publisher()) return {Refusal::busy, nullptr};
  return {std::nullopt, std::move(channel)};
}

bool SrtIngestServer::throttled(const std::string& peer) const {
  std::lock_guard lock(refusals_mutex_);
  const auto it = refusals_.find(peer);
  return it != refusals_.end() && it->second.count >= kRefusalsBeforeThrottle &&
         Clock::now() - it->second.window_start < kRefusalWindow;
}

void SrtIngestServer::count_refusal(Refusal refusal, const std::string& streamid, const std::string& peer) const {
  metrics_.inc("reelhub_srt_refusals_total", {{"reason", refusal_name(refusal)}});
  if (refusal == Refusal::throttled) return;  // already logged enough for this peer
  {
    std::lock_guard lock(refusals_mutex_);
    PeerRefusals& r = refusals_[peer];
    const auto now = Clock::now();
    if (now - r.window_start >= kRefusalWindow) r = PeerRefusals{0, now};
    ++r.count;
    if (refusals_.size() > 10000) std::erase_if(refusals_, [&](const auto& e) { return now - e.second.window_start >= kRefusalWindow; });
  }
  spdlog::warn("srt: refused publisher {} for streamid '{}': {} (reject code {})", peer,
               escape_for_log(streamid.substr(0, 128)),
               refusal_name(refusal), refusal_code(refusal));
}

void SrtIngestServer::accept_loop() {
  while (!stopping_) {
    SRTSOCKET ready[8];
    int n = 8;
    if (srt_epoll_wait(epoll_, ready, &n, nullptr, nullptr, 200, nullptr, nullptr, nullptr, nullptr) > 0) {
      sockaddr_storage addr{};
      int len = sizeof addr;
      const SRTSOCKET s = srt_accept(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
      if (s != SRT_INVALID_SOCK) start_session(s);
    }
    reap_finished_sessions();
  }
}

void SrtIngestServer::start_session(SRTSOCKET s) {
  SrtSocket socket(s);
  const std::string id = socket_string_option(s, SRTO_STREAMID);
  // The listener enforces encryption by default; checked again so a libsrt setting change can
  // never let a publisher in without its stream's secret.
  if (socket_int_option(s, SRTO_KMSTATE) != SRT_KM_S_SECURED) {
    spdlog::warn("srt: refused an unencrypted publisher for streamid '{}'", escape_for_log(id.substr(0, 128)));
    metrics_.inc("reelhub_srt_refusals_total", {{"reason", "unencrypted"}});
    return;
  }
  const ParsedStreamId parsed = parse_stream_id(id);
  auto channel = parsed.target ? channels_.find(parsed.target->resource) : nullptr;
  // Between handshake and accept the stream may have been stopped or taken by a racing publisher.
  if (!channel || !channel->claim_publisher()) {
    spdlog::warn("srt: publisher for '{}' dropped after accept: stream stopped or busy",
                 escape_for_log(id.substr(0, 128)));
    return;
  }
  sockaddr_storage peer{};
  int len = sizeof peer;
  srt_getpeername(s, reinterpret_cast<sockaddr*>(&peer), &len);
  std::lock_guard lock(sessions_mutex_);
  sessions_.push_back(std::make_unique<Session>(*this, socket.release(), std::move(channel),
                                                peer_address(reinterpret_cast<sockaddr*>(&peer))));
}

void SrtIngestServer::reap_finished_sessions() {
  std::list<std::unique_ptr<Session>> finished;
  {
    std::lock_guard lock(sessions_mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if ((*it)->done()) finished.splice(finished.end(), sessions_, it++);
      else ++it;
    }
  }
  // Joined outside the lock (done() means the thread is about to return).
}

}  // namespace reelhub::media
