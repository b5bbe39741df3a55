#include "dto.hpp"

namespace reelhub::payments {
namespace {

nlohmann::json optional_json(const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nullptr; }

}  // namespace

nlohmann::json transaction_json(const Transaction& t, std::int64_t viewer_id) {
  return {{"id", t.id},
          {"kind", transaction_kind_name(t.kind)},
          {"direction", t.payee_id == viewer_id ? "in" : "out"},
          {"payer_id", t.payer_id ? nlohmann::json(*t.payer_id) : nullptr},
          {"payee_id", t.payee_id},
          {"amount", t.amount},
          {"fee", t.fee},
          {"currency", t.currency},
          {"stream_id", optional_json(t.stream_id)},
          {"message", optional_json(t.message)},
          {"reverses", optional_json(t.reverses)},
          {"refunded", t.refunded},
          {"created_at", t.created_at}};
}

nlohmann::json page_json(const TransactionsPage& page, std::int64_t viewer_id) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& t : page.transactions) items.push_back(transaction_json(t, viewer_id));
  return {{"transactions", items}, {"next_cursor", optional_json(page.next_cursor)}};
}

nlohmann::json balances_json(const std::vector<Balance>& balances) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& b : balances) {
    items.push_back({{"currency", b.currency}, {"wallet", b.wallet}, {"earnings", b.earnings}});
  }
  return {{"balances", items}};
}

nlohmann::json topup_json(const Topup& topup) {
  return {{"id", topup.id},
          {"provider", topup.provider},
          {"amount", topup.amount},
          {"currency", topup.currency},
          {"status", topup_status_name(topup.status)},
          {"checkout_url", optional_json(topup.checkout_url)},
          {"transaction_id", optional_json(topup.transaction_id)}};
}

std::string mask_account(const std::string& account) {
  constexpr std::size_t kShown = 4;
  // Fewer than twice the shown characters: showing any would reveal too much of it.
  if (account.size() < 2 * kShown) return "••••";
  return "••••" + account.substr(account.size() - kShown);
}

nlohmann::json providers_json(const std::vector<ProviderInfo>& providers) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& p : providers) {
    nlohmann::json item = p.description;
    item["connected_account"] = p.connected_account ? nlohmann::json(mask_account(*p.connected_account)) : nullptr;
    items.push_back(std::move(item));
  }
  return {{"providers", items}};
}

}  // namespace reelhub::payments
