#pragma once
// Idempotency-Key with Stripe's semantics, per user: the first request with a key runs and its
// status and body are stored; the same key with the same request gets that stored answer again
// (replayed = true) and nothing runs; the same key with another request is 422; a repeat
// arriving while the first still runs waits for it (bounded), then 409. The key, the money
// movement and the stored answer commit in ONE database transaction, so a crash leaves either
// all three or none: no key ever points at a half-done operation, and a retry after a crash
// simply runs again.

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

#include "reelhub/db/pool.hpp"

namespace reelhub::payments {

/// What the client sent: the key and a digest of the request it came with.
struct IdempotencyScope {
  std::string key{};
  std::string request_hash{};  // request_digest() of method, path and body
};

/// An answer to a money-moving request, as it is stored and replayed.
struct Reply {
  int status = 200;
  nlohmann::json body{};
  bool replayed = false;
};

/// SHA-256 hex of the method, the path and the body's canonical JSON (keys sorted, no spaces),
/// so the same request is recognised however its JSON was spaced or ordered.
std::string request_digest(const std::string& method, const std::string& path, const nlohmann::json& body);

/// The operation's answer plus what to do once it is committed (publish, notify, count).
struct Outcome {
  Reply reply{};
  std::function<void()> after_commit{};
};

/// Runs `operation` at most once per (user, key). An ApiError it throws with a 4xx status is an
/// answer too: its writes are rolled back to a savepoint and the error response is stored (and
/// replayed); a 5xx one (a provider or the database unavailable) rolls everything back, key included.
/// Validation refusals must be thrown before calling this, so they are never stored.
Reply run_once(db::Pool& db, std::int64_t user_id, const IdempotencyScope& scope, std::chrono::milliseconds wait,
               const std::function<Outcome(pqxx::work&)>& operation);

}  // namespace reelhub::payments
