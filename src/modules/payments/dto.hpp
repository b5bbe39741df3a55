#pragma once
// JSON shapes of the payments endpoints. Amounts are integers in minor units of `currency`.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model.hpp"

namespace reelhub::payments {

/// `direction` is "in" or "out" as seen by `viewer_id`.
nlohmann::json transaction_json(const Transaction& t, std::int64_t viewer_id);
nlohmann::json page_json(const TransactionsPage& page, std::int64_t viewer_id);
nlohmann::json balances_json(const std::vector<Balance>& balances);
nlohmann::json topup_json(const Topup& topup);
/// Shows only the last four characters of a payout account: `••••1234`.
std::string mask_account(const std::string& account);
nlohmann::json providers_json(const std::vector<ProviderInfo>& providers);

}  // namespace reelhub::payments
