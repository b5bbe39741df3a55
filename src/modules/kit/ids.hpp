#pragma once
// Public ids in paths: streams, videos, chats, rooms and recordings are named by UUIDs, users by
// positive integers.

#include <cstdint>
#include <string>
#include <string_view>

namespace reelhub::modules {

/// `id` in the lower-case form PostgreSQL prints UUIDs in (and events are published under).
/// Anything but a UUID names nothing: ApiError(not_found) with `not_found_message`.
std::string require_uuid(std::string_view id, const char* not_found_message);
/// A user id of a path. Anything but a positive integer names nothing: ApiError(not_found) with
/// `not_found_message`, as for an unknown id.
std::int64_t require_user_id(std::string_view id, const char* not_found_message);

}  // namespace reelhub::modules
