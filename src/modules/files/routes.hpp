#pragma once

namespace reelhub::modules {
struct Context;
}
namespace reelhub::storage {
class LocalStore;
}

namespace reelhub::files {

class FileService;

/// Registers the files API of seed 001 (/files/...; a token is required). `service` must outlive
/// the router.
void register_routes(const modules::Context& ctx, FileService& service);

/// Registers GET /storage/objects/{key}: the local backend serving its own presigned URLs,
/// public (the signature is the credential). 403 for a bad or expired signature. `store` must
/// outlive the router.
void register_presigned_route(const modules::Context& ctx, const storage::LocalStore& store);

}  // namespace reelhub::files
