#include "service.hpp"

#include <spdlog/spdlog.h>

#include <limits>
#include <variant>

#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/core/validation.hpp"
#include "modules/kit/ids.hpp"
#include "modules/kit/text.hpp"
#include "reelhub/core/time.hpp"
#include "reelhub/media/live_playlist.hpp"
#include "reelhub/media/ll_playlist.hpp"
#include "repo.hpp"

namespace reelhub::streams {
namespace {

using Clock = std::chrono::steady_clock;

/// How long stop waits for the publisher's session to write its last segment.
constexpr auto kSessionDrain = std::chrono::seconds(5);
/// Retry-After of a start refused because the server is full: live streams last minutes at least.
constexpr int kServerFullRetrySeconds = 60;

[[noreturn]] void stream_not_found() { throw ApiError(ErrorCode::not_found, "Stream not found"); }

bool is_admin(const auth::AuthUser& u) { return u.role == auth::Role::admin; }
bool may_manage(const auth::AuthUser& u, const StreamRow& row) { return is_admin(u) || u.id == row.user_id; }

std::string canonical_id(const std::string& id) { return modules::require_uuid(id, "Stream not found"); }

}  // namespace

StreamService::StreamService(db::Pool& db, ws::Hub& hub, metrics::Registry& metrics, media::LiveChannels& channels,
                             StreamOptions options, RecordingSink on_ended)
    : db_(db),
      hub_(hub),
      channels_(channels),
      options_(std::move(options)),
      on_ended_(std::move(on_ended)),
      accounts_(db) {
  // Per-publisher SRT link figures, labelled by stream, read when /metrics is scraped.
  using Figure = double (*)(const media::IngestStats&);
  const std::pair<const char*, Figure> figures[] = {
      {"reelhub_live_rtt_ms", [](const media::IngestStats& s) { return s.rtt_ms; }},
      {"reelhub_live_receive_mbps", [](const media::IngestStats& s) { return s.receive_mbps; }},
      {"reelhub_live_packets_lost", [](const media::IngestStats& s) { return double(s.packets_lost); }},
      {"reelhub_live_packets_retransmitted", [](const media::IngestStats& s) { return double(s.packets_retransmitted); }},
      {"reelhub_live_packets_dropped", [](const media::IngestStats& s) { return double(s.packets_dropped); }},
      {"reelhub_live_segment_lag_ms", [](const media::IngestStats& s) { return s.last_segment_lag_ms; }},
  };
  for (const auto& [name, figure] : figures) {
    metrics.describe(name, "gauge", "live publisher figure (SRT statistics, segment production lag), by stream");
    // An init-capture: clang before 16 cannot capture a structured binding itself.
    metrics.gauge_callback(name, [this, figure = figure] {
      std::vector<std::pair<metrics::Labels, double>> out;
      for (const auto& channel : channels_.all())
        if (channel->has_publisher()) out.push_back({{{"stream", channel->stream_id()}}, figure(channel->stats())});
      return out;
    });
  }
  metrics.describe("reelhub_live_blocked_reloads", "gauge",
                   "LL-HLS playlist requests waiting for a part or segment (blocking reloads), by stream");
  metrics.gauge_callback("reelhub_live_blocked_reloads", [this] {
    std::vector<std::pair<metrics::Labels, double>> out;
    for (const auto& channel : channels_.all())
      out.push_back({{{"stream", channel->stream_id()}},
                     static_cast<double>(channel->low_latency().listing_changes()->waiting())});
    return out;
  });
  events_thread_ = std::jthread([this](std::stop_token stop) { run_events(stop); });
}

StreamService::~StreamService() { stop(); }

void StreamService::stop() {
  events_thread_.request_stop();  // wakes the thread's wait on events_cv_
  if (events_thread_.joinable()) events_thread_.join();
}

StreamRow StreamService::create(const auth::AuthUser& caller, const NewStream& s) {
  if (caller.role == auth::Role::viewer) throw ApiError(ErrorCode::forbidden, "Only streamers can create streams");
  StreamRow row = db_.transact([&](pqxx::work& tx) {
    return repo::insert(tx, {caller.id, s.name, s.title.empty() ? s.name : s.title, s.description, random_hex(16)});
  });
  channels_.add_created(row.id);
  return row;
}

StreamRow StreamService::owned(pqxx::work& tx, const auth::AuthUser& caller, const std::string& id) {
  auto row = repo::find(tx, canonical_id(id));
  if (!row) stream_not_found();
  if (!may_manage(caller, *row)) throw ApiError(ErrorCode::forbidden, "Only the stream's owner can do this");
  return std::move(*row);
}

StreamView StreamService::start(const auth::AuthUser& caller, const std::string& id) {
  bool started_here = false;
  StreamRow row = db_.transact([&](pqxx::work& tx) {
    StreamRow current = owned(tx, caller, id);
    if (current.status == StreamStatus::stopped)
      throw ApiError(ErrorCode::conflict, "Stream has ended; create a new stream to go live again");
    if (current.status != StreamStatus::created) return current;
    const std::int64_t running = repo::count_started_locked(tx, current.user_id);
    if (running >= options_.max_streams_per_user) {
      spdlog::info("live {}: start refused: owner {} runs {} started stream(s), the limit", current.id,
                   current.user_id, running);
      throw ApiError(ErrorCode::conflict, "The stream's owner already runs " + std::to_string(running) +
                                              " started stream(s), the most allowed at once; stop one to start another");
    }
    started_here = true;
    return *repo::transition(tx, current.id, {StreamStatus::created}, StreamStatus::waiting, std::nullopt);
  });
  if (!channels_.find(row.id)) {
    if (!open_channel(row, options_.max_streams)) {
      // Full: a stream this call started goes back to created, as if start had not been called.
      if (started_here)
        db_.transact([&](pqxx::work& tx) {
          repo::transition(tx, row.id, {StreamStatus::waiting}, StreamStatus::created, std::nullopt);
        });
      spdlog::warn("live {}: start refused: this server runs {} live streams, its limit", row.id, options_.max_streams);
      throw ApiError(ErrorCode::unavailable, "This server runs as many live streams as it may; try again later")
          .with_retry_after(kServerFullRetrySeconds);
    }
    publish_status(row);
  }
  return view_of(std::move(row), &caller);
}

StreamView StreamService::stop(const auth::AuthUser& caller, const std::string& id) {
  std::optional<StreamRow> stopped;
  StreamRow row = db_.transact([&](pqxx::work& tx) {
    StreamRow current = owned(tx, caller, id);
    if (current.status == StreamStatus::created) throw ApiError(ErrorCode::conflict, "Stream was never started");
    if (current.status == StreamStatus::stopped) return current;
    stopped = repo::transition(tx, current.id, {StreamStatus::waiting, StreamStatus::active}, StreamStatus::stopped,
                               std::string("stopped by its owner"));
    return stopped ? *stopped : current;
  });
  if (stopped) finish(*stopped);
  return view_of(std::move(row), &caller);
}

StreamView StreamService::get(const auth::AuthUser& caller, const std::string& id) {
  auto row = db_.transact([&](pqxx::work& tx) { return repo::find(tx, canonical_id(id)); });
  if (!row) stream_not_found();
  return view_of(std::move(*row), &caller);
}

StreamsPage StreamService::list(const auth::AuthUser& caller, const std::optional<StreamStatus>& status, int limit,
                                int offset) {
  repo::ListFilter filter{is_admin(caller) ? std::nullopt : std::optional(caller.id), status, limit, offset};
  auto page = db_.transact([&](pqxx::work& tx) { return repo::list(tx, filter); });
  return {views_of(std::move(page.rows)), page.total, limit, offset};
}

void StreamService::remove(const auth::AuthUser& caller, const std::string& id) {
  const StreamRow row = db_.transact([&](pqxx::work& tx) {
    StreamRow current = owned(tx, caller, id);
    repo::remove(tx, current.id);
    return current;
  });
  channels_.remove_created(row.id);
  if (auto channel = channels_.close(row.id)) channel->wait_until_idle(kSessionDrain);
  // Segments already handed to the recordings module are its to delete; the rest go now.
  if (!row.recording_requested) {
    std::error_code ec;
    std::filesystem::remove_all(media::live_dir(options_.media_root, row.id), ec);
  }
  hub_.publish("stream:" + row.id, "stream_status", {{"stream_id", row.id}, {"status", "deleted"}});
}

StreamsPage StreamService::live(int limit, int offset) {
  auto page = db_.transact([&](pqxx::work& tx) {
    return repo::list(tx, {std::nullopt, StreamStatus::active, limit, offset});
  });
  return {views_of(std::move(page.rows)), page.total, limit, offset};
}

IngestStatus StreamService::status(const std::string& id) {
  auto row = db_.transact([&](pqxx::work& tx) { return repo::find(tx, canonical_id(id)); });
  if (!row) stream_not_found();
  IngestStatus s;
  if (auto channel = channels_.find(row->id)) {
    s.publisher_connected = channel->has_publisher();
    s.hls_files_count = channel->files_written();
    s.viewer_count = channel->viewer_count();
    if (const auto since = channel->publisher_since()) {
      s.uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(media::WallClock::now() - *since).count();
      s.ingest = channel->stats();
    }
  }
  s.row = std::move(*row);
  return s;
}

std::string StreamService::playlist(const std::string& id, const std::string& viewer) {
  const auto channel = channels_.find(canonical_id(id));
  if (!channel) throw ApiError(ErrorCode::not_found, "Stream is not live");
  channel->saw_viewer(viewer);
  auto text = channel->playlist().render();
  // Started but no segment yet: players treat 404 as "not yet" and retry.
  if (!text) throw ApiError(ErrorCode::not_found, "Stream has not produced video yet");
  return std::move(*text);
}

SegmentSource StreamService::segment(const std::string& id, std::uint64_t sequence) {
  const std::string stream_id = canonical_id(id);
  if (const auto channel = channels_.find(stream_id))
    if (auto data = channel->playlist().segment(sequence)) return {std::move(data), {}};
  // Out of the memory window (or the stream ended): the file, while it is kept for the recording.
  return {nullptr, media::live_dir(options_.media_root, stream_id) / media::segment_file_name(sequence)};
}

LowLatencyReload StreamService::low_latency_reload(const std::string& id, const std::string& viewer,
                                                  const std::optional<std::string>& msn,
                                                  const std::optional<std::string>& part,
                                                  const std::optional<std::string>& skip) {
  auto parsed = media::parse_reload_request(msn, part, skip);
  if (const auto* error = std::get_if<media::ReloadRequestError>(&parsed))
    throw ApiError(ErrorCode::bad_request, error->message);
  auto channel = channels_.find(canonical_id(id));
  if (!channel) throw ApiError(ErrorCode::not_found, "Stream is not live");
  channel->saw_viewer(viewer);
  // RFC 8216bis: a client gives up on a blocking reload after three target durations; answering
  // by then lets it retry instead of timing out on its own.
  const auto deadline = std::chrono::steady_clock::now() + 3 * channel->low_latency().target_duration();
  return {std::move(channel), std::get<media::ReloadRequest>(parsed), deadline};
}

std::optional<std::string> StreamService::low_latency_playlist(const LowLatencyReload& reload) {
  const media::LowLatencyPlaylist& window = reload.channel->low_latency();
  switch (window.reload_state(reload.request)) {
    case media::ReloadState::too_far:
      throw ApiError(ErrorCode::bad_request, "_HLS_msn/_HLS_part is too far ahead of the live edge");
    case media::ReloadState::wait:
      return std::nullopt;
    case media::ReloadState::ready:
      break;
  }
  auto text = window.render(reload.request.skip);
  if (text) return text;
  if (reload.request.msn) return std::nullopt;  // blocked until the first part exists
  throw ApiError(ErrorCode::not_found, "Stream has not produced video yet");
}

LowLatencyMedia StreamService::low_latency_media(const std::string& id, const std::string& file_name) {
  const auto name = media::parse_low_latency_name(file_name);
  auto channel = channels_.find(canonical_id(id));
  if (!name || !channel) throw ApiError(ErrorCode::not_found, "Segment not found");
  const media::LowLatencyPlaylist& window = channel->low_latency();
  LowLatencyMedia found{.data = nullptr, .writing = nullptr, .sequence = name->sequence, .part = name->part};
  switch (name->kind) {
    case media::LowLatencyName::Kind::init:
      found.data = window.init(static_cast<std::uint32_t>(name->sequence));
      break;
    case media::LowLatencyName::Kind::segment:
      found.data = window.segment(name->sequence);
      break;
    case media::LowLatencyName::Kind::part:
      found.data = window.part(name->sequence, name->part);
      if (found.data) break;
      if (window.part_is_coming(name->sequence, name->part))
        found.writing = std::move(channel);
      else  // it may have been finished between the two looks
        found.data = window.part(name->sequence, name->part);
      break;
  }
  if (!found.data && !found.writing) throw ApiError(ErrorCode::not_found, "Segment not found");
  return found;
}

bool StreamService::may_subscribe(const auth::AuthUser&, const std::string& id) {
  if (!is_valid_uuid(id)) return false;
  return db_.transact([&](pqxx::work& tx) { return repo::find(tx, id).has_value(); });
}

nlohmann::json StreamService::send_chat(const auth::AuthUser& caller, const std::string& id, const std::string& text) {
  const std::string stream_id = canonical_id(id);
  modules::require_message_text(text, kMaxChatMessage);
  const auto row = db_.transact([&](pqxx::work& tx) { return repo::find(tx, stream_id); });
  if (!row) throw ApiError(ErrorCode::not_found, "Stream not found");
  if (row->status != StreamStatus::waiting && row->status != StreamStatus::active)
    throw ApiError(ErrorCode::conflict, "The stream is not live: its chat is closed");
  const nlohmann::json message = {{"id", random_hex(8)},
                                  {"user_id", caller.id},
                                  {"username", caller.username},
                                  {"text", text},
                                  {"created_at", iso8601_now()}};
  hub_.publish("stream:" + stream_id, "stream.message", {{"stream_id", stream_id}, {"message", message}});
  return message;
}

std::optional<LiveOwner> StreamService::live_owner(const std::string& id) {
  if (!is_valid_uuid(id)) return std::nullopt;
  const auto row = db_.transact([&](pqxx::work& tx) { return repo::find(tx, id); });
  if (!row || row->status != StreamStatus::active) return std::nullopt;
  return LiveOwner{.stream_id = row->id, .user_id = row->user_id};
}

void StreamService::resume() {
  const auto started = db_.transact([&](pqxx::work& tx) {
    for (const StreamRow& row : repo::with_status(tx, {StreamStatus::created})) channels_.add_created(row.id);
    auto rows = repo::with_status(tx, {StreamStatus::waiting, StreamStatus::active});
    for (StreamRow& row : rows) {
      if (row.status == StreamStatus::active)
        row = *repo::transition(tx, row.id, {StreamStatus::active}, StreamStatus::waiting,
                                std::string("server restarted; waiting for the publisher to reconnect"));
    }
    return rows;
  });
  for (const StreamRow& row : started) {
    open_channel(row, std::numeric_limits<std::size_t>::max());  // admitted before the restart
    publish_status(row);
  }
  const auto orphans = db_.transact([](pqxx::work& tx) { return repo::recordings_not_requested(tx); });
  for (const StreamRow& row : orphans) finish(row);
  if (!started.empty() || !orphans.empty())
    spdlog::info("streams: resumed {} started stream(s), {} recording hand-over(s)", started.size(), orphans.size());
}

void StreamService::publisher_connected(const std::string& stream_id) {
  post([this, stream_id] {
    waiting_since_.erase(stream_id);
    const auto row = db_.transact([&](pqxx::work& tx) {
      return repo::transition(tx, stream_id, {StreamStatus::waiting}, StreamStatus::active, std::nullopt);
    });
    if (row) publish_status(*row);
  });
}

void StreamService::publisher_disconnected(const std::string& stream_id, const std::string& reason) {
  post([this, stream_id, reason] {
    const auto channel = channels_.find(stream_id);
    if (!channel || channel->closed()) return;  // stopped or deleted: finish() took care of it
    waiting_since_[stream_id] = Clock::now();
    const auto row = db_.transact([&](pqxx::work& tx) {
      return repo::transition(tx, stream_id, {StreamStatus::active}, StreamStatus::waiting, reason);
    });
    if (row) publish_status(*row);
  });
}

bool StreamService::open_channel(const StreamRow& row, std::size_t capacity) {
  if (!channels_.open(std::make_shared<media::LiveChannel>(row.id, row.passphrase,
                                                           media::live_dir(options_.media_root, row.id), options_.live),
                      capacity))
    return false;
  const std::string id = row.id;
  post([this, id] { waiting_since_[id] = Clock::now(); });
  return true;
}

void StreamService::finish(const StreamRow& row) {
  publish_status(row);
  if (auto channel = channels_.close(row.id)) {
    if (!channel->wait_until_idle(kSessionDrain))
      spdlog::warn("live {}: publisher session still running after {} s", row.id, kSessionDrain.count());
  }
  if (media::next_segment_number(media::live_dir(options_.media_root, row.id)) > 0) {
    auto names = accounts_.usernames({row.user_id});
    on_ended_(EndedStream{row.id, row.user_id, names[row.user_id], row.title});
  }
  // Also marked when there was nothing to record, so start-up does not look at it again.
  db_.transact([&](pqxx::work& tx) { repo::mark_recording_requested(tx, row.id); });
  const std::string id = row.id;
  post([this, id] {
    waiting_since_.erase(id);
    published_viewers_.erase(id);
  });
}

void StreamService::publish_status(const StreamRow& row) {
  nlohmann::json data = {{"stream_id", row.id}, {"status", status_name(row.status)}};
  if (row.status_reason) data["reason"] = *row.status_reason;
  hub_.publish("stream:" + row.id, "stream_status", data);
}

std::string StreamService::srt_url(const StreamRow& row) const {
  std::string url = "srt://";
  url += options_.public_host;
  url += ':';
  url += std::to_string(options_.srt_port);
  url += "?streamid=";
  url += row.id;
  url += "&passphrase=";
  url += row.passphrase;
  return url;
}

StreamView StreamService::view_of(StreamRow row, const auth::AuthUser* caller) {
  StreamView view = std::move(views_of({std::move(row)}).front());
  if (caller != nullptr && may_manage(*caller, view.row) && view.row.status != StreamStatus::created)
    view.srt_url = srt_url(view.row);
  return view;
}

std::vector<StreamView> StreamService::views_of(std::vector<StreamRow> rows) {
  std::vector<std::int64_t> ids;
  for (const StreamRow& r : rows) ids.push_back(r.user_id);
  auto names = accounts_.usernames(std::move(ids));
  std::vector<StreamView> views;
  views.reserve(rows.size());
  for (StreamRow& r : rows) {
    StreamView v;
    v.username = names[r.user_id];
    if (const auto channel = channels_.find(r.id)) v.viewer_count = channel->viewer_count();
    v.row = std::move(r);
    views.push_back(std::move(v));
  }
  return views;
}

void StreamService::post(std::function<void()> task) {
  {
    std::lock_guard lock(events_mutex_);
    events_.push_back(std::move(task));
  }
  events_cv_.notify_one();
}

void StreamService::run_events(std::stop_token stop) {
  // Runs `step` without the lock; a failed step is logged and the loop goes on.
  const auto run_unlocked = [](std::unique_lock<std::mutex>& lock, const char* what, const auto& step) {
    lock.unlock();
    try {
      step();
    } catch (const std::exception& e) {
      spdlog::error("streams: {} failed: {}", what, e.what());
    }
    lock.lock();
  };
  auto next_tick = Clock::now() + std::chrono::seconds(1);
  std::unique_lock lock(events_mutex_);
  while (!stop.stop_requested() || !events_.empty()) {
    events_cv_.wait_until(lock, stop, next_tick, [&] { return !events_.empty(); });
    // Drained even when stopping: the last sessions' "publisher gone" must reach the database.
    while (!events_.empty()) {
      auto task = std::move(events_.front());
      events_.pop_front();
      run_unlocked(lock, "ingest event", task);
    }
    if (Clock::now() >= next_tick && !stop.stop_requested()) {
      run_unlocked(lock, "tick", [this] { tick(); });
      next_tick = Clock::now() + std::chrono::seconds(1);
    }
  }
}

void StreamService::tick() {
  const auto now = Clock::now();
  for (const auto& channel : channels_.all()) {
    const std::string& id = channel->stream_id();
    // Counted every tick for every channel, publisher or not: that is what forgets old viewers.
    const int viewers = channel->viewer_count();
    if (channel->has_publisher()) {
      auto [it, inserted] = published_viewers_.try_emplace(id, -1);
      if (it->second != viewers) {
        it->second = viewers;
        // `count` is what seed 002's client reads (data.count); `viewer_count` is this API's name.
        hub_.publish("stream:" + id, "viewer_count", {{"stream_id", id}, {"viewer_count", viewers}, {"count", viewers}});
      }
      continue;
    }
    const auto waiting = waiting_since_.find(id);
    if (waiting == waiting_since_.end() || now - waiting->second < options_.waiting_timeout) continue;
    const std::string reason = "no publisher for " + std::to_string(options_.waiting_timeout.count()) + " s";
    const auto stopped = db_.transact([&](pqxx::work& tx) {
      return repo::transition(tx, id, {StreamStatus::waiting, StreamStatus::active}, StreamStatus::stopped, reason);
    });
    waiting_since_.erase(id);
    if (stopped) {
      spdlog::info("live {}: stopped: {}", id, reason);
      finish(*stopped);
    }
  }
}

}  // namespace reelhub::streams
