#pragma once
// Every module's services, built once and wired onto a modules::Context: the routes (GET /ws
// included) and hub topics. Nothing starts here (App::serve starts and stops the background
// parts in order), so the fuzz targets build the very same router without threads, sockets or
// a reachable database.

#include <functional>
#include <memory>
#include <string>

#include "modules/auth/service.hpp"
#include "modules/chats/service.hpp"
#include "modules/files/service.hpp"
#include "modules/kit/context.hpp"
#include "modules/notifications/service.hpp"
#include "modules/payments/service.hpp"
#include "modules/ops/health.hpp"
#include "modules/recordings/service.hpp"
#include "modules/rooms/service.hpp"
#include "modules/streams/service.hpp"
#include "modules/users/service.hpp"
#include "modules/kit/media_delivery.hpp"
#include "modules/videos/service.hpp"
#include "modules/videos/worker.hpp"
#include "modules/web/site.hpp"
#include "reelhub/media/live_channel.hpp"
#include "reelhub/storage/object_store.hpp"

namespace reelhub::app {

/// Declared in construction order: a service is built after the ones it is handed.
struct Modules {
  /// `on_session_ended`: a session the auth module ended (logout, reuse, deactivation), for the
  /// hub to drop from every instance's session cache and to close its WebSockets.
  Modules(const modules::Context& ctx, std::function<void(const std::string& session_id)> on_session_ended);
  Modules(const Modules&) = delete;
  Modules& operator=(const Modules&) = delete;

  /// The live settings of the streams module and the SRT listener, from the configuration.
  static streams::StreamOptions stream_options(const Config& c, const std::filesystem::path& media_root);
  /// The object store the configuration names (storage_backend).
  static std::unique_ptr<storage::ObjectStore> object_store(const Config& c, const std::filesystem::path& media_root);
  /// The payments rules and the configured providers, from the configuration.
  static payments::PaymentOptions payment_options(const Config& c);
  static std::vector<std::unique_ptr<payments::Provider>> payment_providers(const Config& c);

  std::unique_ptr<storage::ObjectStore> store;
  modules::MediaDelivery delivery;
  videos::VideoFiles video_files;
  ops::HealthService health;
  auth::AuthService accounts;
  notifications::NotificationService notifications;
  users::UsersService users;
  chats::ChatService chats;
  recordings::RecordingService recordings;
  media::LiveChannels channels;
  streams::StreamService streams;
  videos::TranscodeWorkers transcoder;
  videos::VideoService videos;
  rooms::RoomService rooms;
  files::FileService files;
  payments::PaymentService payments;
  /// Built once every other route is registered (it must know their prefixes).
  std::unique_ptr<web::StaticSite> site;
};

}  // namespace reelhub::app
