#include "idempotency.hpp"

#include <algorithm>

#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/http/message.hpp"
#include "repo.hpp"

namespace reelhub::payments {
namespace {

/// PostgreSQL's lock_not_available: lock_timeout expired.
constexpr const char* kLockNotAvailable = "55P03";

}  // namespace

std::string request_digest(const std::string& method, const std::string& path, const nlohmann::json& body) {
  return sha256_hex(method + " " + path + "\n" + body.dump());
}

Reply run_once(db::Pool& db, std::int64_t user_id, const IdempotencyScope& scope, std::chrono::milliseconds wait,
               const std::function<Outcome(pqxx::work&)>& operation) {
  Outcome outcome;
  db.transact([&](pqxx::work& tx) {
    // The claim blocks on a concurrent transaction holding the same key until it ends; it
    // then sees that one's stored answer (or, if it rolled back, claims the key itself).
    tx.exec0("SET LOCAL lock_timeout = " + std::to_string(std::max<std::int64_t>(1, wait.count())));
    std::optional<repo::StoredResult> stored;
    try {
      stored = repo::claim_key(tx, user_id, scope.key, scope.request_hash);
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() != kLockNotAvailable) throw;
      throw ApiError(ErrorCode::conflict, "A request with this Idempotency-Key is still being processed; retry later")
          .with_reason("idempotency_key_in_use");
    }
    tx.exec0("SET LOCAL lock_timeout = 0");
    if (stored) {
      if (stored->request_hash != scope.request_hash) {
        throw ApiError(ErrorCode::validation_failed, "This Idempotency-Key was used with a different request")
            .with_reason("idempotency_key_reused");
      }
      outcome.reply = {.status = stored->status, .body = nlohmann::json::parse(stored->response), .replayed = true};
      return;
    }
    tx.exec0("SAVEPOINT operation");
    try {
      outcome = operation(tx);
    } catch (const ApiError& e) {
      // A refusal of this request is its answer; a dependency that failed (5xx) is not:
      // nothing is stored, so a retry with the key runs again.
      if (http_status(e.code()) >= 500) throw;
      tx.exec0("ROLLBACK TO SAVEPOINT operation");
      const http::Response refused = http::error_response(e);
      outcome = {.reply = {.status = refused.status, .body = nlohmann::json::parse(refused.body)}};
    }
    repo::store_result(tx, user_id, scope.key, outcome.reply.status, outcome.reply.body.dump());
  });
  if (outcome.after_commit) outcome.after_commit();
  return outcome.reply;
}

}  // namespace reelhub::payments
