#pragma once

namespace reelhub::modules {
struct Context;
}

namespace reelhub::recordings {

class RecordingService;

/// Registers the /api/v1/recordings endpoints (API.md "Recordings / VOD of streams"). Reads are
/// public like the streams they record (a token is optional); deleting needs the owner or an
/// admin. `service` must outlive the router.
void register_routes(const modules::Context& ctx, RecordingService& service);

}  // namespace reelhub::recordings
