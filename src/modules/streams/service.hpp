#pragma once
// The rules of live streams: who may create, start, stop, see and delete them; the status
// machine (stored in PostgreSQL and published as `stream_status` on `stream:<id>`); the
// in-memory channel table the SRT listener reads; and what ingest reports back. No HTTP or SQL here.

#include <chrono>
#include <condition_variable>
#include <stop_token>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "model.hpp"
#include "modules/users/accounts.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/auth/identity.hpp"
#include "reelhub/media/live_channel.hpp"
#include "reelhub/media/srt_ingest.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/hub.hpp"

namespace reelhub::streams {

struct StreamOptions {
  media::LiveOptions live;
  std::chrono::seconds waiting_timeout{600};  // started but no publisher this long: stopped
  std::filesystem::path media_root;           // segments go to <media_root>/live/<id>/
  std::string public_host = "localhost";      // the host in srt_url
  std::uint16_t srt_port = 9000;              // the port in srt_url
  // Started (waiting or active) streams: per owner across the database, per server in memory.
  int max_streams_per_user = 2;
  std::size_t max_streams = 50;
};

/// A stream that ended with media on disk: the recordings module turns it into a VOD.
struct EndedStream {
  std::string stream_id;
  std::int64_t user_id = 0;
  std::string username;
  std::string title;
};
using RecordingSink = std::function<void(const EndedStream&)>;

struct LiveOwner {
  std::string stream_id;  // canonical UUID, as `stream:<id>` events are published under
  std::int64_t user_id = 0;
};

struct NewStream {
  std::string name, title, description;
};

/// A live segment from memory, or the file when it slid out of the in-memory window.
struct SegmentSource {
  std::shared_ptr<const std::string> data;
  std::filesystem::path file;
};

/// An LL-HLS playlist request, held while it waits for the part or segment it asked for.
struct LowLatencyReload {
  std::shared_ptr<media::LiveChannel> channel;  // keeps the window alive while the request waits
  media::ReloadRequest request;
  std::chrono::steady_clock::time_point deadline;  // past it the request is answered 503
};

/// An LL-HLS media file (init, segment or part): its bytes, or the channel writing it now.
struct LowLatencyMedia {
  std::shared_ptr<const std::string> data;      // finished: send these
  std::shared_ptr<media::LiveChannel> writing;  // the part being written (or hinted): stream it
  std::uint64_t sequence = 0;
  std::size_t part = 0;
};

class StreamService : public media::IngestObserver {
 public:
  static constexpr std::size_t kMaxName = 100, kMaxTitle = 200, kMaxDescription = 5000;
  static constexpr std::size_t kMaxChatMessage = 500;  // code points of a live chat message

  StreamService(db::Pool& db, ws::Hub& hub, metrics::Registry& metrics, media::LiveChannels& channels,
                StreamOptions options, RecordingSink on_ended);
  ~StreamService() override;
  /// Runs the events still queued, then ends the events thread. Call after ingest has stopped.
  void stop();

  /// Streamers and admins (the route checks the role; the service checks it again).
  StreamRow create(const auth::AuthUser& caller, const NewStream& stream);
  /// Owner or admin: created → waiting and the channel opens for the publisher. Starting a
  /// started stream returns the same answer; a stopped stream cannot start again (409). 409 when
  /// the owner already runs max_streams_per_user started streams, 503 when this server runs
  /// max_streams (a publisher needs an open channel, so these also bound SRT sessions).
  StreamView start(const auth::AuthUser& caller, const std::string& id);
  /// Owner or admin: ends the publisher, hands the segments to the recordings module. Stopping
  /// a stopped stream returns it unchanged; a stream never started cannot stop (409).
  StreamView stop(const auth::AuthUser& caller, const std::string& id);
  /// Any signed-in user; the SRT URL (it carries the secret) only for the owner or an admin.
  StreamView get(const auth::AuthUser& caller, const std::string& id);
  /// The caller's own streams; an admin's list has everyone's.
  StreamsPage list(const auth::AuthUser& caller, const std::optional<StreamStatus>& status, int limit, int offset);
  /// Owner or admin. The recording, when there is one, stays (it has its own DELETE).
  void remove(const auth::AuthUser& caller, const std::string& id);
  /// Public: streams that are live right now, newest first.
  StreamsPage live(int limit, int offset);
  IngestStatus status(const std::string& id);

  /// The live playlist; `viewer` tells viewers apart for viewer_count. 404 when not live yet.
  std::string playlist(const std::string& id, const std::string& viewer);
  SegmentSource segment(const std::string& id, std::uint64_t sequence);

  /// An LL-HLS playlist request (`_HLS_msn`, `_HLS_part`, `_HLS_skip` as given). 404 when the
  /// stream is not live, 400 for values the spec does not allow or a part too far ahead.
  LowLatencyReload low_latency_reload(const std::string& id, const std::string& viewer,
                                      const std::optional<std::string>& msn, const std::optional<std::string>& part,
                                      const std::optional<std::string>& skip);
  /// The playlist once what `reload` waits for is listed (at once without _HLS_msn), nullopt
  /// while it is not. 400 when it asks too far ahead, 404 before the first part.
  std::optional<std::string> low_latency_playlist(const LowLatencyReload& reload);
  /// An init segment, fMP4 segment or part by its file name; 404 when there is no such thing.
  LowLatencyMedia low_latency_media(const std::string& id, const std::string& file_name);

  /// The owner and canonical id of stream `id` while it is live (media arriving), nullopt
  /// otherwise or when `id` names no stream: what the payments module may donate to.
  std::optional<LiveOwner> live_owner(const std::string& id);

  /// `stream:<id>` is public to signed-in users, like the stream itself.
  bool may_subscribe(const auth::AuthUser& user, const std::string& id);
  /// Live chat: publishes `stream.message` on `stream:<id>` and returns the message
  /// ({id, user_id, username, text, created_at}). Not stored: the topic's history is the
  /// backlog a reconnecting viewer recovers. 404 for no such stream, 409 when it is not started.
  nlohmann::json send_chat(const auth::AuthUser& caller, const std::string& id, const std::string& text);

  /// Start-up: reopens streams a previous process left started (as waiting, so the publisher may
  /// reconnect and the idle timeout still ends them), remembers created ones for the listener,
  /// and hands over recordings a crash kept from being requested.
  void resume();

  // media::IngestObserver
  void publisher_connected(const std::string& stream_id) override;
  void publisher_disconnected(const std::string& stream_id, const std::string& reason) override;

 private:
  StreamRow owned(pqxx::work& tx, const auth::AuthUser& caller, const std::string& id);
  StreamView view_of(StreamRow row, const auth::AuthUser* caller);
  std::vector<StreamView> views_of(std::vector<StreamRow> rows);
  /// False (nothing opened) when `capacity` channels are open already.
  bool open_channel(const StreamRow& row, std::size_t capacity);
  /// Closes the channel, waits for its session to write its last segment, requests the recording.
  void finish(const StreamRow& stopped);
  void publish_status(const StreamRow& row);
  std::string srt_url(const StreamRow& row) const;
  void post(std::function<void()> task);
  void run_events(std::stop_token stop);
  void tick();

  db::Pool& db_;
  ws::Hub& hub_;
  media::LiveChannels& channels_;
  const StreamOptions options_;
  RecordingSink on_ended_;
  users::Accounts accounts_;

  // Ingest events and the once-a-second tick run on one thread, in order, off the ingest threads
  // (which must keep reading) and off the HTTP workers.
  std::mutex events_mutex_;
  std::condition_variable_any events_cv_;  // waits on the events thread's stop token too
  std::deque<std::function<void()>> events_;
  std::map<std::string, std::chrono::steady_clock::time_point> waiting_since_;  // events thread only
  std::map<std::string, int> published_viewers_;                                // events thread only
  std::jthread events_thread_;  // last: it uses everything above
};

}  // namespace reelhub::streams
