#pragma once

namespace reelhub::modules {
struct Context;
class MediaDelivery;
}

namespace reelhub::recordings {

class RecordingService;

/// Registers the /api/v1/recordings endpoints (API.md "Recordings / VOD of streams"). Reads are
/// public like the streams they record (a token is optional); deleting needs the owner or an
/// admin. Files are answered through `delivery` (sendfile, redirect or proxy). Both must outlive
/// the router.
void register_routes(const modules::Context& ctx, RecordingService& service, const modules::MediaDelivery& delivery);

}  // namespace reelhub::recordings
