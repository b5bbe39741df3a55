#include "service.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <system_error>

#include "modules/kit/cursor.hpp"
#include "modules/kit/ids.hpp"
#include "modules/kit/text.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"
#include "reelhub/jobs/janitor.hpp"
#include "reelhub/media/live_playlist.hpp"
#include "reelhub/media/transcode.hpp"
#include "repo.hpp"

namespace reelhub::videos {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxSegmentDigits = 9;

[[noreturn]] void video_not_found() { throw ApiError(ErrorCode::not_found, "Video not found"); }

[[noreturn]] void invalid(const std::string& field, std::string message, std::string detail) {
  throw ApiError(ErrorCode::validation_failed, std::move(message), {{field, {std::move(detail)}}});
}

/// `id` canonical; anything but a UUID names no video.
std::string video_ref(const std::string& id) { return modules::require_uuid(id, "Video not found"); }

/// Valid UTF-8 of at most `max` code points without stray control characters; `required`
/// also refuses blank text.
void check_text(FieldErrors& errors, const std::string& field, const std::string& text, std::size_t max,
                bool multiline, bool required) {
  if (!is_valid_utf8(text)) errors[field].push_back("must be valid UTF-8");
  else if (required && modules::is_blank(text)) errors[field].push_back("must not be empty");
  else if (utf8_length(text) > max) errors[field].push_back("must be at most " + std::to_string(max) + " characters");
  else if (modules::has_control_characters(text, multiline)) errors[field].push_back("must not contain control characters");
}

std::optional<repo::Position> parse_cursor(const std::optional<std::string>& cursor) {
  if (!cursor) return std::nullopt;
  const auto position = modules::parse_keyset_cursor(*cursor);
  if (!position) invalid("cursor", "Invalid cursor", "is not a cursor this list returned");
  return repo::Position{position->micros, position->id};
}

template <class Item>
std::optional<std::string> next_cursor(const std::vector<Item>& items, std::int64_t limit) {
  if (items.empty() || static_cast<std::int64_t>(items.size()) < limit) return std::nullopt;
  return items.back().position;
}

bool may_manage(const auth::AuthUser& caller, std::int64_t owner_id) {
  return caller.id == owner_id || caller.role == auth::Role::admin;
}

/// The video, when it exists and is ready; 404 / 409 otherwise.
Video require_ready(pqxx::work& tx, const std::string& id, std::optional<std::int64_t> viewer_id) {
  auto video = repo::find_video(tx, id, viewer_id);
  if (!video) video_not_found();
  if (video->status != VideoStatus::ready) throw ApiError(ErrorCode::conflict, "Video is not ready");
  return *video;
}

/// `rung` names a rendition: digits followed by 'p' ("360p", "1080p").
bool is_rung_name(const std::string& rung) {
  return rung.size() >= 2 && rung.size() <= 6 && rung.back() == 'p' &&
         std::all_of(rung.begin(), rung.end() - 1, [](unsigned char c) { return std::isdigit(c) != 0; });
}

/// A rendition segment as the transcoder names them (the live naming), of at most
/// kMaxSegmentDigits digits.
bool is_segment_name(const std::string& name) {
  return media::segment_number(name) && name.size() <= media::segment_file_name(0).size() - 1 + kMaxSegmentDigits;
}

/// "4:00:00" for 14400 seconds.
std::string clock_time(double seconds) {
  const auto whole = static_cast<std::int64_t>(seconds);
  char text[32];
  std::snprintf(text, sizeof text, "%lld:%02d:%02d", static_cast<long long>(whole / 3600),
                static_cast<int>(whole / 60 % 60), static_cast<int>(whole % 60));
  return text;
}

/// 422 for a source longer or larger than one upload may be.
void check_source(const media::VideoProbe& probe, const UploadLimits& limits) {
  if (probe.duration_seconds > limits.max_duration_seconds) {
    throw ApiError(ErrorCode::validation_failed, "The video is too long",
                   {{"file", {"is " + clock_time(probe.duration_seconds) + " long; at most " +
                                  clock_time(limits.max_duration_seconds) + " is allowed"}}})
        .with_reason("duration_exceeded");
  }
  if (std::int64_t{probe.width} * probe.height > limits.max_pixels) {
    throw ApiError(ErrorCode::validation_failed, "The video's resolution is too high",
                   {{"file", {"is " + std::to_string(probe.width) + "x" + std::to_string(probe.height) +
                                  "; at most " + std::to_string(limits.max_pixels) + " pixels are allowed"}}})
        .with_reason("resolution_exceeded");
  }
}

std::optional<std::int64_t> id_of(const std::optional<auth::AuthUser>& caller) {
  if (!caller) return std::nullopt;
  return caller->id;
}

}  // namespace

UploadLimits upload_limits(const Config& config) {
  return {.quota_bytes = config.upload_quota_bytes,
          .max_duration_seconds = config.upload_max_duration_seconds,
          .max_pixels = config.upload_max_pixels};
}

VideoService::VideoService(db::Pool& db, VideoFiles& files, UploadLimits limits, std::function<void()> on_uploaded)
    : db_(db),
      files_(files),
      limits_(limits),
      on_uploaded_(std::move(on_uploaded)),
      accounts_(db) {}

std::size_t VideoService::remove_abandoned_dirs(std::chrono::seconds min_age) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(files_.videos_dir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (canonical_uuid(name) == name) ids.push_back(name);  // anything else here is not ours to judge
  }
  if (ids.empty()) return 0;
  const auto known = db_.transact([&](pqxx::work& tx) { return repo::existing_videos(tx, ids); });
  std::set<std::string> abandoned(ids.begin(), ids.end());
  for (const auto& id : known) abandoned.erase(id);
  // Only what was listed before the query: a directory made since may belong to an upload whose
  // row is about to commit (and is younger than min_age anyway).
  return jobs::remove_stale_entries(files_.videos_dir(), min_age,
                                    [&](const std::string& name) { return abandoned.count(name) > 0; });
}

Video VideoService::with_owner_name(Video video) {
  std::vector<Video> one{std::move(video)};
  accounts_.fill_usernames(one, &Video::owner_id, &Video::owner_username);
  return std::move(one.front());
}

Video VideoService::upload(const auth::AuthUser& caller, const NewVideo& video) {
  FieldErrors errors;
  check_text(errors, "title", video.title, kMaxTitle, false, true);
  check_text(errors, "description", video.description, kMaxDescription, true, false);
  if (!errors.empty()) throw ApiError(ErrorCode::validation_failed, "Invalid input data", errors);
  const media::VideoProbe probe = media::probe_video(video.source);  // 415 for anything but a video
  check_source(probe, limits_);
  const auto bytes = static_cast<std::int64_t>(fs::file_size(video.source));

  const std::string id = db_.transact([&](pqxx::work& tx) {
    const std::int64_t used = repo::lock_storage_used(tx, caller.id);
    if (static_cast<std::uint64_t>(used) + static_cast<std::uint64_t>(bytes) > limits_.quota_bytes) {
      throw ApiError(ErrorCode::payload_too_large,
                     "Storage quota exceeded: " + std::to_string(used) + " of " + std::to_string(limits_.quota_bytes) +
                         " bytes used, this upload is " + std::to_string(bytes))
          .with_reason("storage_quota_exceeded");
    }
    const std::string new_id = repo::insert_video(tx, caller.id, video.title, video.description,
                                                  probe.duration_seconds, probe.width, probe.height, bytes);
    // Inside the transaction: if the source cannot be stored, no row points at nothing.
    files_.keep_source(new_id, video.source);
    return new_id;
  });
  if (on_uploaded_) on_uploaded_();
  return get(caller, id);
}

Video VideoService::get(const std::optional<auth::AuthUser>& caller, const std::string& id) {
  return with_owner_name(visible_video(caller, id));
}

Video VideoService::visible_video(const std::optional<auth::AuthUser>& caller, const std::string& id) {
  const std::string ref = video_ref(id);
  auto video = db_.transact([&](pqxx::work& tx) { return repo::find_video(tx, ref, id_of(caller)); });
  if (!video) video_not_found();
  if (video->status != VideoStatus::ready && !(caller && may_manage(*caller, video->owner_id))) video_not_found();
  return std::move(*video);
}

void VideoService::remove(const auth::AuthUser& caller, const std::string& id) {
  const std::string ref = video_ref(id);
  db_.transact([&](pqxx::work& tx) {
    const auto video = repo::find_video(tx, ref, std::nullopt);
    if (!video) video_not_found();
    if (!may_manage(caller, video->owner_id)) throw ApiError(ErrorCode::forbidden, "Only the owner may delete a video");
    repo::delete_video(tx, ref);
  });
  // After the commit: a transcode still running on it loses its lease and stops by itself.
  files_.remove(ref);
}

VideoPage VideoService::feed(const std::optional<auth::AuthUser>& caller, const std::optional<std::string>& cursor,
                             std::int64_t limit) {
  const auto after = parse_cursor(cursor);
  std::vector<std::int64_t> hidden;
  if (caller) hidden = accounts_.blocked_ids(caller->id);
  auto videos = db_.transact([&](pqxx::work& tx) { return repo::feed(tx, id_of(caller), hidden, after, limit); });
  accounts_.fill_usernames(videos, &Video::owner_id, &Video::owner_username);
  VideoPage page{.videos = std::move(videos), .next_cursor = {}};
  page.next_cursor = next_cursor(page.videos, limit);
  return page;
}

LikeState VideoService::like(const auth::AuthUser& caller, const std::string& id) {
  const std::string ref = video_ref(id);
  return db_.transact([&](pqxx::work& tx) {
    require_ready(tx, ref, std::nullopt);
    return LikeState{ref, true, repo::like(tx, ref, caller.id)};
  });
}

LikeState VideoService::unlike(const auth::AuthUser& caller, const std::string& id) {
  const std::string ref = video_ref(id);
  return db_.transact([&](pqxx::work& tx) {
    require_ready(tx, ref, std::nullopt);
    return LikeState{ref, false, repo::unlike(tx, ref, caller.id)};
  });
}

Comment VideoService::add_comment(const auth::AuthUser& caller, const std::string& id, const std::string& text) {
  const std::string ref = video_ref(id);
  FieldErrors errors;
  check_text(errors, "text", text, kMaxComment, true, true);
  if (!errors.empty()) throw ApiError(ErrorCode::validation_failed, "Invalid comment", errors);
  Comment comment = db_.transact([&](pqxx::work& tx) {
    require_ready(tx, ref, std::nullopt);
    return repo::insert_comment(tx, ref, caller.id, text);
  });
  comment.username = caller.username;
  return comment;
}

CommentPage VideoService::comments(const std::string& id, const std::optional<std::string>& cursor,
                                   std::int64_t limit) {
  const std::string ref = video_ref(id);
  const auto after = parse_cursor(cursor);
  auto comments = db_.transact([&](pqxx::work& tx) {
    require_ready(tx, ref, std::nullopt);
    return repo::comments(tx, ref, after, limit);
  });
  accounts_.fill_usernames(comments, &Comment::user_id, &Comment::username);
  CommentPage page{.comments = std::move(comments), .next_cursor = {}};
  page.next_cursor = next_cursor(page.comments, limit);
  return page;
}

void VideoService::delete_comment(const auth::AuthUser& caller, const std::string& id, const std::string& comment_id) {
  const std::string ref = video_ref(id);
  if (!is_valid_uuid(comment_id)) throw ApiError(ErrorCode::not_found, "Comment not found");
  db_.transact([&](pqxx::work& tx) {
    const Video video = require_ready(tx, ref, std::nullopt);
    const auto author = repo::comment_author(tx, ref, comment_id);
    if (!author) throw ApiError(ErrorCode::not_found, "Comment not found");
    if (*author != caller.id && !may_manage(caller, video.owner_id)) {
      throw ApiError(ErrorCode::forbidden, "You may delete only your own comments");
    }
    repo::delete_comment(tx, ref, comment_id);
  });
}

ViewCount VideoService::view(const std::optional<auth::AuthUser>& caller, const std::string& remote_ip,
                             const std::string& id) {
  const std::string ref = video_ref(id);
  std::string viewer = caller ? "u:" : "ip:";
  viewer += caller ? std::to_string(caller->id) : remote_ip;
  return db_.transact([&](pqxx::work& tx) {
    require_ready(tx, ref, std::nullopt);
    const auto [count, counted] = repo::count_view(tx, ref, viewer);
    return ViewCount{ref, counted, count};
  });
}

Video VideoService::status(const std::optional<auth::AuthUser>& caller, const std::string& id) {
  Video video = visible_video(caller, id);
  if (video.status == VideoStatus::processing) {
    video.queue_position = db_.transact([&](pqxx::work& tx) { return repo::queue_position(tx, video.id); });
  }
  return video;
}

std::string VideoService::hls_key(const std::string& id, HlsFile file, const std::string& variant,
                                  const std::string& name) const {
  const std::string ref = video_ref(id);
  if (files_.in_place() && !files_.has_master(ref)) throw ApiError(ErrorCode::not_found, "File not found");
  switch (file) {
    case HlsFile::master: return VideoFiles::key(ref, "master.m3u8");
    case HlsFile::best_playlist: return VideoFiles::key(ref, "playlist.m3u8");
    case HlsFile::thumbnail: return VideoFiles::key(ref, "thumbnail.jpg");
    case HlsFile::preview: return VideoFiles::key(ref, "preview.mp4");
    case HlsFile::in_variant: break;
  }
  if (!is_rung_name(variant) || (name != "index.m3u8" && !is_segment_name(name))) {
    throw ApiError(ErrorCode::not_found, "File not found");
  }
  return VideoFiles::key(ref, variant + "/" + name);
}

}  // namespace reelhub::videos
