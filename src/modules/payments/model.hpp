#pragma once
// What the payments module stores: ledger accounts, transactions (donations, top-ups, refunds)
// with their transfers, top-ups awaiting their provider, payout accounts. Amounts are integer
// minor units of their currency (cents for USD), never floating point.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reelhub::payments {

enum class AccountKind { wallet, earnings, platform_fees, provider_clearing };
const char* account_kind_name(AccountKind kind);

/// Names one ledger account; created on first use with a zero balance.
struct AccountRef {
  AccountKind kind = AccountKind::wallet;
  std::optional<std::int64_t> owner_id{};  // wallets and earnings
  std::optional<std::string> provider{};   // provider clearing
  std::string currency{};
};

/// One immutable posting: `amount` leaves `debit` and enters `credit`.
struct Transfer {
  std::string kind{};  // donation, fee, topup, refund, fee_refund: a bounded metrics label too
  AccountRef debit{};
  AccountRef credit{};
  std::int64_t amount = 0;
};

enum class TransactionKind { donation, topup, refund };
const char* transaction_kind_name(TransactionKind kind);
std::optional<TransactionKind> parse_transaction_kind(std::string_view name);

struct Transaction {
  std::string id{};  // uuid, client-visible
  TransactionKind kind = TransactionKind::donation;
  std::optional<std::int64_t> payer_id{};  // none for a top-up
  std::int64_t payee_id = 0;
  std::string currency{};
  std::int64_t amount = 0;
  std::int64_t fee = 0;       // the platform's part of `amount`
  std::optional<std::string> stream_id{};
  std::optional<std::string> message{};
  std::optional<std::string> reverses{};  // a refund: the donation it reverses
  std::int64_t refunded = 0;  // a donation: how much of it has been refunded
  std::string created_at{};     // ISO 8601 Z
};

struct TransactionsPage {
  std::vector<Transaction> transactions{};  // newest first
  std::optional<std::string> next_cursor{};
};

struct Balance {
  std::string currency{};
  std::int64_t wallet = 0;
  std::int64_t earnings = 0;
};

enum class TopupStatus { pending, succeeded, failed };
const char* topup_status_name(TopupStatus status);

struct Topup {
  std::string id{};  // uuid
  std::int64_t user_id = 0;
  std::string provider{};
  std::string currency{};
  std::int64_t amount = 0;
  TopupStatus status = TopupStatus::pending;
  std::optional<std::string> checkout_url{};
  std::optional<std::string> transaction_id{};
};

struct PayoutAccount {
  std::string provider{};
  std::string account{};  // as stored; dto masks it
};

struct ProviderInfo {
  nlohmann::json description{};                      // the provider's own account of what it supports
  std::optional<std::string> connected_account{};  // the caller's payout account there, unmasked
};

}  // namespace reelhub::payments
