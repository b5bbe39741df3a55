#pragma once
// SRT ingest: ONE libsrt listener for every stream. The listen callback decides at the
// handshake, from the in-memory LiveChannels table only (it runs on libsrt's receive thread for
// the whole port, so any wait there would stall every other stream): unknown, not started or busy
// streams are refused with their own reject code, and a known stream gets its own passphrase, so
// libsrt itself fails a wrong secret. Each accepted publisher runs in its own IngestSession
// thread: MPEG-TS from the socket → libavformat (custom AVIOContext) → LiveSegmenter → channel.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "reelhub/media/live_channel.hpp"
#include "reelhub/metrics/registry.hpp"

struct sockaddr;

namespace reelhub::media {

/// What the streams module hears from ingest. Called from ingest threads; must not block long.
class IngestObserver {
 public:
  virtual ~IngestObserver() = default;
  virtual void publisher_connected(const std::string& stream_id) = 0;
  /// The session ended: `reason` says why (stall, disconnect, unsupported codec, stopped, ...).
  virtual void publisher_disconnected(const std::string& stream_id, const std::string& reason) = 0;
};

class SrtIngestServer {
 public:
  SrtIngestServer(LiveChannels& channels, IngestObserver& observer, metrics::Registry& metrics,
                  LiveOptions options);
  ~SrtIngestServer();
  SrtIngestServer(const SrtIngestServer&) = delete;
  SrtIngestServer& operator=(const SrtIngestServer&) = delete;

  /// Binds UDP `host:port` (port 0 picks one) and starts accepting. Throws std::runtime_error.
  void listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const { return port_; }
  /// Stops accepting, ends every session (their open segments are written) and joins them.
  void stop();

  /// The libsrt listen callback's decision, public so it can be unit-tested without sockets:
  /// nullopt = go on with `passphrase` set; otherwise the refusal.
  struct Decision {
    std::optional<Refusal> refusal;
    std::shared_ptr<LiveChannel> channel;
  };
  Decision decide(const std::string& streamid, const std::string& peer) const;

 private:
  class Session;
  static int on_listen(void* opaque, int socket, int hsversion, const struct sockaddr* peer, const char* streamid);
  void accept_loop();
  void start_session(int socket);
  void reap_finished_sessions();
  bool throttled(const std::string& peer) const;
  void count_refusal(Refusal refusal, const std::string& streamid, const std::string& peer) const;

  LiveChannels& channels_;
  IngestObserver& observer_;
  metrics::Registry& metrics_;
  const LiveOptions options_;
  int listener_ = -1;
  int epoll_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex sessions_mutex_;
  std::list<std::unique_ptr<Session>> sessions_;
  struct PeerRefusals {
    int count = 0;
    std::chrono::steady_clock::time_point window_start;
  };
  mutable std::mutex refusals_mutex_;
  mutable std::unordered_map<std::string, PeerRefusals> refusals_;
};

const char* refusal_name(Refusal refusal);
/// The SRT reject code (>= 1000, from <srt/access_control.h>) a caller sees for a refusal.
int refusal_code(Refusal refusal);

}  // namespace reelhub::media
