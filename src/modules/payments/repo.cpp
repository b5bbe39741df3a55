#include "repo.hpp"

#include "reelhub/core/time.hpp"
#include "reelhub/db/statements.hpp"

namespace reelhub::payments::repo {
namespace {

// Ledger
// Two lookups because IS NOT DISTINCT FROM is no index condition: a user's account is found
// through the unique index by (kind, owner_id, provider IS NULL, currency) — a scan of every
// wallet otherwise; the platform's accounts (owner NULL) are few per kind.
const db::Statement kFindUserAccount{"payments.find_user_account", R"sql(
SELECT id FROM ledger_accounts WHERE kind = $1 AND owner_id = $2 AND provider IS NULL AND currency = $3
)sql"};

const db::Statement kFindPlatformAccount{"payments.find_platform_account", R"sql(
SELECT id FROM ledger_accounts
WHERE kind = $1 AND owner_id IS NULL AND provider IS NOT DISTINCT FROM $2 AND currency = $3
)sql"};

const db::Statement kInsertAccount{"payments.insert_account", R"sql(
INSERT INTO ledger_accounts (kind, owner_id, provider, currency) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING RETURNING id
)sql"};

const db::Statement kLockAccounts{"payments.lock_accounts",
                                  "SELECT id FROM ledger_accounts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE"};

// One transfer in one statement (one round trip while the accounts are locked): the debit, whose
// condition is the guard — the balance is tested and changed by one statement on the locked row —
// then the credit and the posting, both only when the debit happened.
const db::Statement kPostTransfer{"payments.post_transfer", R"sql(
WITH debited AS (
  UPDATE ledger_accounts SET balance = balance - $5
  WHERE id = $3 AND (kind = 'provider_clearing' OR balance >= $5) RETURNING id
), credited AS (
  UPDATE ledger_accounts SET balance = balance + $5 WHERE id = $4 AND EXISTS (SELECT FROM debited) RETURNING id
)
INSERT INTO ledger_transfers (transaction_id, kind, debit_account, credit_account, amount)
SELECT $1::uuid, $2, debited.id, credited.id, $5 FROM debited, credited
)sql"};

// Transactions
constexpr const char* kTransactionColumns =
    "id::text, kind, payer_id, payee_id, currency, amount, fee, stream_id::text, message, reverses::text, refunded, "
    "created_at";

const db::Statement kInsertTransaction{"payments.insert_transaction", std::string(R"sql(
INSERT INTO payment_transactions (id, kind, payer_id, payee_id, currency, amount, fee, stream_id, message, reverses)
VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8::uuid, $9, $10::uuid)
ON CONFLICT (id) DO NOTHING RETURNING )sql") + kTransactionColumns};

const db::Statement kFindTransaction{"payments.find_transaction", std::string("SELECT ") + kTransactionColumns +
                                                                      " FROM payment_transactions WHERE id = $1::uuid"};

const db::Statement kLockTransaction{"payments.lock_transaction",
                                     std::string("SELECT ") + kTransactionColumns +
                                         " FROM payment_transactions WHERE id = $1::uuid FOR UPDATE"};

const db::Statement kAddRefunded{"payments.add_refunded",
                                 "UPDATE payment_transactions SET refunded = refunded + $2 WHERE id = $1::uuid"};

const db::Statement kAgeSeconds{"payments.age_seconds", R"sql(
SELECT extract(epoch FROM now() - created_at)::float8 FROM payment_transactions WHERE id = $1::uuid
)sql"};

const db::Statement kPosition{"payments.position", R"sql(
SELECT n FROM payment_transactions WHERE id = $1::uuid AND (payer_id = $2 OR payee_id = $2)
)sql"};

// Two index scans merged, rather than one OR over both columns.
const db::Statement kPage{"payments.page", std::string("SELECT ") + kTransactionColumns + R"sql( FROM (
  (SELECT * FROM payment_transactions WHERE payer_id = $1 AND ($2::bigint IS NULL OR n < $2) ORDER BY n DESC LIMIT $3)
  UNION
  (SELECT * FROM payment_transactions WHERE payee_id = $1 AND ($2::bigint IS NULL OR n < $2) ORDER BY n DESC LIMIT $3)
) mine ORDER BY n DESC LIMIT $3)sql"};

const db::Statement kBalances{"payments.balances", R"sql(
SELECT currency,
       COALESCE(sum(balance) FILTER (WHERE kind = 'wallet'), 0)::bigint,
       COALESCE(sum(balance) FILTER (WHERE kind = 'earnings'), 0)::bigint
FROM ledger_accounts WHERE owner_id = $1 GROUP BY currency ORDER BY currency
)sql"};

// Idempotency-Key results
const db::Statement kClaimKey{"payments.claim_key", R"sql(
INSERT INTO idempotency_keys (user_id, key, request_hash, status, response) VALUES ($1, $2, $3, 0, '')
ON CONFLICT (user_id, key) DO NOTHING
)sql"};

const db::Statement kStoredResult{"payments.stored_result",
                                  "SELECT request_hash, status, response FROM idempotency_keys WHERE user_id = $1 AND key = $2"};

const db::Statement kStoreResult{"payments.store_result",
                                 "UPDATE idempotency_keys SET status = $3, response = $4 WHERE user_id = $1 AND key = $2"};

const db::Statement kPurgeKeys{"payments.purge_keys",
                               "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)"};

// Top-ups and provider events
constexpr const char* kTopupColumns =
    "id::text, user_id, provider, currency, amount, status, checkout_url, transaction_id::text";

const db::Statement kInsertTopup{"payments.insert_topup", std::string(R"sql(
INSERT INTO payment_topups (user_id, provider, currency, amount) VALUES ($1, $2, $3, $4) RETURNING )sql") +
                                                            kTopupColumns};

const db::Statement kSetCheckout{"payments.set_checkout", R"sql(
UPDATE payment_topups SET provider_ref = $2, checkout_url = $3, updated_at = now() WHERE id = $1::uuid
)sql"};

const db::Statement kFindTopup{"payments.find_topup",
                               std::string("SELECT ") + kTopupColumns + " FROM payment_topups WHERE id = $1::uuid"};

const db::Statement kLockTopup{"payments.lock_topup", std::string("SELECT ") + kTopupColumns +
                                                          " FROM payment_topups WHERE id = $1::uuid FOR UPDATE"};

const db::Statement kSettleTopup{"payments.settle_topup", R"sql(
UPDATE payment_topups SET status = $2, transaction_id = $3::uuid, updated_at = now() WHERE id = $1::uuid
)sql"};

const db::Statement kRecordEvent{"payments.record_event", R"sql(
INSERT INTO provider_events (provider, event_id, type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
)sql"};

// Payout accounts
const db::Statement kStorePayout{"payments.store_payout", R"sql(
INSERT INTO payout_accounts (user_id, provider, account) VALUES ($1, $2, $3)
ON CONFLICT (user_id, provider) DO UPDATE SET account = EXCLUDED.account, updated_at = now()
)sql"};

const db::Statement kPayouts{"payments.payouts",
                             "SELECT provider, account FROM payout_accounts WHERE user_id = $1 ORDER BY provider"};

Transaction transaction_row(const pqxx::row& r) {
  return Transaction{.id = r["id"].as<std::string>(),
                     .kind = parse_transaction_kind(r["kind"].as<std::string>()).value(),  // CHECK-constrained
                     .payer_id = r["payer_id"].get<std::int64_t>(),
                     .payee_id = r["payee_id"].as<std::int64_t>(),
                     .currency = r["currency"].as<std::string>(),
                     .amount = r["amount"].as<std::int64_t>(),
                     .fee = r["fee"].as<std::int64_t>(),
                     .stream_id = r["stream_id"].get<std::string>(),
                     .message = r["message"].get<std::string>(),
                     .reverses = r["reverses"].get<std::string>(),
                     .refunded = r["refunded"].as<std::int64_t>(),
                     .created_at = iso8601_from_pg(r["created_at"].as<std::string>())};
}

std::optional<Transaction> first_transaction(const pqxx::result& result) {
  if (result.empty()) return std::nullopt;
  return transaction_row(result[0]);
}

TopupStatus parse_topup_status(const std::string& s) {
  if (s == "succeeded") return TopupStatus::succeeded;
  if (s == "failed") return TopupStatus::failed;
  return TopupStatus::pending;
}

std::optional<Topup> first_topup(const pqxx::result& result) {
  if (result.empty()) return std::nullopt;
  const auto& r = result[0];
  return Topup{.id = r["id"].as<std::string>(),
               .user_id = r["user_id"].as<std::int64_t>(),
               .provider = r["provider"].as<std::string>(),
               .currency = r["currency"].as<std::string>(),
               .amount = r["amount"].as<std::int64_t>(),
               .status = parse_topup_status(r["status"].as<std::string>()),
               .checkout_url = r["checkout_url"].get<std::string>(),
               .transaction_id = r["transaction_id"].get<std::string>()};
}

/// `{1,2,3}`: a bigint[] literal.
std::string array_literal(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "}";
}

}  // namespace

std::optional<std::int64_t> find_account(pqxx::work& tx, const AccountRef& ref) {
  const std::string kind(account_kind_name(ref.kind));
  const auto r = ref.owner_id ? tx.exec_prepared(kFindUserAccount.name(), kind, *ref.owner_id, ref.currency)
                              : tx.exec_prepared(kFindPlatformAccount.name(), kind, ref.provider, ref.currency);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

std::optional<std::int64_t> insert_account(pqxx::work& tx, const AccountRef& ref) {
  const auto r = tx.exec_prepared(kInsertAccount.name(), std::string(account_kind_name(ref.kind)), ref.owner_id,
                                  ref.provider, ref.currency);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

void lock_accounts(pqxx::work& tx, std::vector<std::int64_t> ids) {
  tx.exec_prepared(kLockAccounts.name(), array_literal(ids));
}

bool post_transfer(pqxx::work& tx, const std::string& transaction_id, const std::string& kind,
                   std::int64_t debit_account, std::int64_t credit_account, std::int64_t amount) {
  return tx.exec_prepared0(kPostTransfer.name(), transaction_id, kind, debit_account, credit_account, amount)
             .affected_rows() == 1;
}

std::optional<Transaction> insert_transaction(pqxx::work& tx, const Transaction& t) {
  const std::optional<std::string> id = t.id.empty() ? std::nullopt : std::optional(t.id);
  return first_transaction(tx.exec_prepared(kInsertTransaction.name(), id,
                                            std::string(transaction_kind_name(t.kind)), t.payer_id, t.payee_id,
                                            t.currency, t.amount, t.fee, t.stream_id, t.message, t.reverses));
}

std::optional<Transaction> find_transaction(pqxx::work& tx, const std::string& id) {
  return first_transaction(tx.exec_prepared(kFindTransaction.name(), id));
}

std::optional<Transaction> lock_transaction(pqxx::work& tx, const std::string& id) {
  return first_transaction(tx.exec_prepared(kLockTransaction.name(), id));
}

void add_refunded(pqxx::work& tx, const std::string& id, std::int64_t amount) {
  tx.exec_prepared0(kAddRefunded.name(), id, amount);
}

double age_seconds(pqxx::work& tx, const std::string& id) {
  return tx.exec_prepared1(kAgeSeconds.name(), id)[0].as<double>();
}

std::optional<std::int64_t> position(pqxx::work& tx, std::int64_t user_id, const std::string& id) {
  const auto r = tx.exec_prepared(kPosition.name(), id, user_id);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

std::vector<Transaction> page(pqxx::work& tx, std::int64_t user_id, std::optional<std::int64_t> before,
                              std::int64_t limit) {
  std::vector<Transaction> out;
  for (const auto& r : tx.exec_prepared(kPage.name(), user_id, before, limit)) out.push_back(transaction_row(r));
  return out;
}

std::vector<Balance> balances(pqxx::work& tx, std::int64_t user_id) {
  std::vector<Balance> out;
  for (const auto& r : tx.exec_prepared(kBalances.name(), user_id)) {
    out.push_back({.currency = r[0].as<std::string>(), .wallet = r[1].as<std::int64_t>(),
                   .earnings = r[2].as<std::int64_t>()});
  }
  return out;
}

std::optional<StoredResult> claim_key(pqxx::work& tx, std::int64_t user_id, const std::string& key,
                                      const std::string& request_hash) {
  if (tx.exec_prepared0(kClaimKey.name(), user_id, key, request_hash).affected_rows() == 1) return std::nullopt;
  const auto r = tx.exec_prepared1(kStoredResult.name(), user_id, key);
  return StoredResult{.request_hash = r[0].as<std::string>(), .status = r[1].as<int>(),
                      .response = r[2].as<std::string>()};
}

void store_result(pqxx::work& tx, std::int64_t user_id, const std::string& key, int status,
                  const std::string& response) {
  tx.exec_prepared0(kStoreResult.name(), user_id, key, status, response);
}

std::size_t purge_keys(pqxx::work& tx, std::chrono::seconds older_than) {
  return tx.exec_prepared0(kPurgeKeys.name(), static_cast<double>(older_than.count())).affected_rows();
}

Topup insert_topup(pqxx::work& tx, std::int64_t user_id, const std::string& provider, const std::string& currency,
                   std::int64_t amount) {
  return first_topup(tx.exec_prepared(kInsertTopup.name(), user_id, provider, currency, amount)).value();
}

void set_checkout(pqxx::work& tx, const std::string& topup_id, const std::string& provider_ref,
                  const std::string& checkout_url) {
  tx.exec_prepared0(kSetCheckout.name(), topup_id, provider_ref, checkout_url);
}

std::optional<Topup> find_topup(pqxx::work& tx, const std::string& id) {
  return first_topup(tx.exec_prepared(kFindTopup.name(), id));
}

std::optional<Topup> lock_topup(pqxx::work& tx, const std::string& id) {
  return first_topup(tx.exec_prepared(kLockTopup.name(), id));
}

void settle_topup(pqxx::work& tx, const std::string& id, TopupStatus status,
                  const std::optional<std::string>& transaction_id) {
  tx.exec_prepared0(kSettleTopup.name(), id, std::string(topup_status_name(status)), transaction_id);
}

bool record_event(pqxx::work& tx, const std::string& provider, const std::string& event_id, const std::string& type) {
  return tx.exec_prepared0(kRecordEvent.name(), provider, event_id, type).affected_rows() == 1;
}

void store_payout_account(pqxx::work& tx, std::int64_t user_id, const PayoutAccount& account) {
  tx.exec_prepared0(kStorePayout.name(), user_id, account.provider, account.account);
}

std::vector<PayoutAccount> payout_accounts(pqxx::work& tx, std::int64_t user_id) {
  std::vector<PayoutAccount> out;
  for (const auto& r : tx.exec_prepared(kPayouts.name(), user_id)) {
    out.push_back({.provider = r[0].as<std::string>(), .account = r[1].as<std::string>()});
  }
  return out;
}

}  // namespace reelhub::payments::repo
