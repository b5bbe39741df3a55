#include "model.hpp"

namespace reelhub::payments {

const char* account_kind_name(AccountKind kind) {
  switch (kind) {
    case AccountKind::wallet: return "wallet";
    case AccountKind::earnings: return "earnings";
    case AccountKind::platform_fees: return "platform_fees";
    case AccountKind::provider_clearing: return "provider_clearing";
  }
  return "wallet";
}

const char* transaction_kind_name(TransactionKind kind) {
  switch (kind) {
    case TransactionKind::donation: return "donation";
    case TransactionKind::topup: return "topup";
    case TransactionKind::refund: return "refund";
  }
  return "donation";
}

std::optional<TransactionKind> parse_transaction_kind(std::string_view name) {
  if (name == "donation") return TransactionKind::donation;
  if (name == "topup") return TransactionKind::topup;
  if (name == "refund") return TransactionKind::refund;
  return std::nullopt;
}

const char* topup_status_name(TopupStatus status) {
  switch (status) {
    case TopupStatus::pending: return "pending";
    case TopupStatus::succeeded: return "succeeded";
    case TopupStatus::failed: return "failed";
  }
  return "pending";
}

}  // namespace reelhub::payments
