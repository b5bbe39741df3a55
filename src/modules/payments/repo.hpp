#pragma once
// SQL of the payments module. Only this module reads or writes ledger_accounts, ledger_transfers,
// payment_transactions, idempotency_keys, payment_topups, provider_events and payout_accounts.

#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model.hpp"

namespace reelhub::payments::repo {

// Ledger
std::optional<std::int64_t> find_account(pqxx::work& tx, const AccountRef& ref);
/// nullopt when a concurrent transaction created it first (find_account then sees it).
std::optional<std::int64_t> insert_account(pqxx::work& tx, const AccountRef& ref);
/// Row-locks the accounts in id order, so transactions touching the same accounts never deadlock.
void lock_accounts(pqxx::work& tx, std::vector<std::int64_t> ids);
/// Moves `amount` from the debit account to the credit account and inserts the transfer, unless
/// the debit would leave a non-clearing account negative: false (and nothing changed) then.
bool post_transfer(pqxx::work& tx, const std::string& transaction_id, const std::string& kind,
                   std::int64_t debit_account, std::int64_t credit_account, std::int64_t amount);

// Transactions
/// Inserts it under `t.id` (a fresh uuid when empty); nullopt when that id exists already.
std::optional<Transaction> insert_transaction(pqxx::work& tx, const Transaction& t);
std::optional<Transaction> find_transaction(pqxx::work& tx, const std::string& id);
/// The same, row-locked until the end of the transaction (refunds of one donation queue here).
std::optional<Transaction> lock_transaction(pqxx::work& tx, const std::string& id);
void add_refunded(pqxx::work& tx, const std::string& id, std::int64_t amount);
/// Seconds since the transaction was created.
double age_seconds(pqxx::work& tx, const std::string& id);
/// Keyset position of one of the user's transactions; nullopt when it is not theirs.
std::optional<std::int64_t> position(pqxx::work& tx, std::int64_t user_id, const std::string& id);
/// The user's transactions (paid or received), newest first, older than `before` when given.
std::vector<Transaction> page(pqxx::work& tx, std::int64_t user_id, std::optional<std::int64_t> before,
                              std::int64_t limit);
std::vector<Balance> balances(pqxx::work& tx, std::int64_t user_id);

// Idempotency-Key results
struct StoredResult {
  std::string request_hash{};
  int status = 0;
  std::string response{};
};
/// Inserts the key for this transaction; the stored result when it was there already. Waits
/// for a concurrent transaction holding the same key to finish (lock_timeout bounds the wait).
std::optional<StoredResult> claim_key(pqxx::work& tx, std::int64_t user_id, const std::string& key,
                                      const std::string& request_hash);
void store_result(pqxx::work& tx, std::int64_t user_id, const std::string& key, int status,
                  const std::string& response);
std::size_t purge_keys(pqxx::work& tx, std::chrono::seconds older_than);

// Top-ups and provider events
Topup insert_topup(pqxx::work& tx, std::int64_t user_id, const std::string& provider, const std::string& currency,
                   std::int64_t amount);
void set_checkout(pqxx::work& tx, const std::string& topup_id, const std::string& provider_ref,
                  const std::string& checkout_url);
std::optional<Topup> find_topup(pqxx::work& tx, const std::string& id);
std::optional<Topup> lock_topup(pqxx::work& tx, const std::string& id);
void settle_topup(pqxx::work& tx, const std::string& id, TopupStatus status,
                  const std::optional<std::string>& transaction_id);
/// False when this provider's event was recorded before (a redelivery).
bool record_event(pqxx::work& tx, const std::string& provider, const std::string& event_id, const std::string& type);

// Payout accounts
void store_payout_account(pqxx::work& tx, std::int64_t user_id, const PayoutAccount& account);
std::vector<PayoutAccount> payout_accounts(pqxx::work& tx, std::int64_t user_id);

}  // namespace reelhub::payments::repo
