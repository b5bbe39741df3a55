#pragma once
// The double-entry ledger: every money movement is a set of immutable transfers posted in the
// caller's database transaction. Balances are changed by the same transaction that inserts the
// transfers, after every account involved is row-locked in id order; a debit that would leave a
// user's account negative is refused by the UPDATE itself, not by a read before it.

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model.hpp"
#include "reelhub/metrics/registry.hpp"

namespace reelhub::payments::ledger {

/// The account's id, creating it (zero balance) on first use.
std::int64_t account_id(pqxx::work& tx, const AccountRef& ref);

/// Posts `transfers` (zero amounts skipped) for transaction `transaction_id`. Throws
/// ApiError(payment_required, reason insufficient_funds) when a debit would overdraw an
/// account; the caller's transaction must then roll back (nothing of it may be committed).
void post(pqxx::work& tx, const std::string& transaction_id, const std::vector<Transfer>& transfers);

/// Counts committed transfers by kind and currency (call after the commit).
void count(metrics::Registry& metrics, const std::vector<Transfer>& transfers);

}  // namespace reelhub::payments::ledger
