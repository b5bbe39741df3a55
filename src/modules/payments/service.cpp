#include "service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "dto.hpp"
#include "ledger.hpp"
#include "modules/kit/text.hpp"
#include "modules/payments/providers/sandbox.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"
#include "repo.hpp"

namespace reelhub::payments {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// floor(amount * bps / 10000) without overflow for any int64 amount.
std::int64_t fee_of(std::int64_t amount, int bps) {
  return amount / 10000 * bps + amount % 10000 * bps / 10000;
}

AccountRef wallet(std::int64_t user_id, const std::string& currency) {
  return {.kind = AccountKind::wallet, .owner_id = user_id, .currency = currency};
}
AccountRef earnings(std::int64_t user_id, const std::string& currency) {
  return {.kind = AccountKind::earnings, .owner_id = user_id, .currency = currency};
}
AccountRef platform_fees(const std::string& currency) {
  return {.kind = AccountKind::platform_fees, .currency = currency};
}
AccountRef clearing(const std::string& provider, const std::string& currency) {
  return {.kind = AccountKind::provider_clearing, .provider = provider, .currency = currency};
}

[[noreturn]] void transaction_not_found() { throw ApiError(ErrorCode::not_found, "Transaction not found"); }

bool same_donation(const Transaction& a, const Transaction& b) {
  return a.kind == b.kind && a.payer_id == b.payer_id && a.payee_id == b.payee_id && a.amount == b.amount &&
         a.currency == b.currency && a.stream_id == b.stream_id && a.message == b.message;
}

}  // namespace

const char* webhook_result_name(WebhookResult result) {
  switch (result) {
    case WebhookResult::credited: return "credited";
    case WebhookResult::declined: return "declined";
    case WebhookResult::duplicate: return "duplicate";
    case WebhookResult::ignored: return "ignored";
  }
  return "ignored";
}

PaymentService::PaymentService(db::Pool& db, ws::Hub& hub, metrics::Registry& metrics,
                               streams::StreamService& streams, notifications::NotificationService& notifications,
                               PaymentOptions options, std::vector<std::unique_ptr<Provider>> providers)
    : db_(db),
      hub_(hub),
      metrics_(metrics),
      streams_(streams),
      notifications_(notifications),
      options_(std::move(options)) {
  metrics_.describe("reelhub_payments_transfers_total", "counter", "Ledger transfers posted, by kind and currency");
  metrics_.describe("reelhub_payments_transfer_amount_minor_total", "counter",
                    "Minor units moved by ledger transfers, by kind and currency");
  metrics_.describe("reelhub_payments_idempotent_replays_total", "counter",
                    "Money-moving requests answered from their stored Idempotency-Key result, by operation");
  metrics_.describe("reelhub_payments_webhooks_total", "counter", "Provider webhook deliveries, by provider and verdict");
  for (auto& p : providers) {
    const std::string name = p->name();
    providers_.emplace(name, std::move(p));
  }
}

Provider& PaymentService::provider(const std::string& name) {
  const auto it = providers_.find(name);
  if (it == providers_.end()) {
    throw ApiError(ErrorCode::validation_failed, "Unknown payment provider", {{"provider", {"is not configured"}}});
  }
  return *it->second;
}

Reply PaymentService::counted(const char* operation, Reply reply) {
  if (reply.replayed) metrics_.inc("reelhub_payments_idempotent_replays_total", {{"operation", operation}});
  return reply;
}

void PaymentService::check_money(std::int64_t amount, const std::string& currency) const {
  FieldErrors errors;
  if (amount < 1 || amount > options_.max_amount) {
    errors["amount"].push_back("must be 1.." + std::to_string(options_.max_amount) + " minor units");
  }
  if (std::find(options_.currencies.begin(), options_.currencies.end(), currency) == options_.currencies.end()) {
    errors["currency"].push_back("is not a supported currency");
  }
  if (!errors.empty()) throw ApiError(ErrorCode::validation_failed, "Invalid amount", errors);
}

Reply PaymentService::donate(const auth::AuthUser& caller, const IdempotencyScope& scope,
                             const DonationRequest& request) {
  check_money(request.amount, request.currency);
  if (modules::code_points(request.message).size() > options_.donation_message_max) {
    throw ApiError(ErrorCode::validation_failed, "Invalid donation",
                   {{"message", {"must be at most " + std::to_string(options_.donation_message_max) + " characters"}}});
  }
  if (request.transfer_id && !is_valid_uuid(*request.transfer_id)) {
    throw ApiError(ErrorCode::validation_failed, "Invalid donation", {{"transfer_id", {"must be a UUID"}}});
  }
  // Asked before the transaction (the streams module has its own); only its answer is used inside.
  const auto live = streams_.live_owner(request.stream_id);
  return counted("donate", run_once(db_, caller.id, scope, options_.idempotency_wait, [&](pqxx::work& tx) -> Outcome {
    if (!live) throw ApiError(ErrorCode::conflict, "The stream is not live").with_reason("stream_not_live");
    if (live->user_id == caller.id) throw ApiError(ErrorCode::forbidden, "You cannot donate to your own stream");
    const std::int64_t fee = fee_of(request.amount, options_.platform_fee_bps);
    const Transaction wanted{.id = request.transfer_id.value_or(""),
                             .kind = TransactionKind::donation,
                             .payer_id = caller.id,
                             .payee_id = live->user_id,
                             .currency = request.currency,
                             .amount = request.amount,
                             .fee = fee,
                             .stream_id = live->stream_id,
                             .message = request.message.empty() ? std::nullopt : std::optional(request.message)};
    const auto inserted = repo::insert_transaction(tx, wanted);
    if (!inserted) {
      // The client's transfer_id exists: the same donation retried is answered, not repeated.
      const auto existing = repo::find_transaction(tx, wanted.id);
      if (!existing || !same_donation(*existing, wanted)) {
        throw ApiError(ErrorCode::conflict, "transfer_id is already used by another transaction")
            .with_reason("transfer_id_used");
      }
      return {.reply = {.status = 200, .body = transaction_json(*existing, caller.id)}};
    }
    const std::vector<Transfer> transfers{
        {.kind = "donation", .debit = wallet(caller.id, request.currency),
         .credit = earnings(live->user_id, request.currency), .amount = request.amount - fee},
        {.kind = "fee", .debit = wallet(caller.id, request.currency), .credit = platform_fees(request.currency),
         .amount = fee}};
    ledger::post(tx, inserted->id, transfers);
    const Transaction done = *inserted;
    return {.reply = {.status = 201, .body = transaction_json(done, caller.id)},
            .after_commit = [this, done, transfers, caller] {
              ledger::count(metrics_, transfers);
              const nlohmann::json event = {{"transaction_id", done.id}, {"stream_id", *done.stream_id},
                                            {"donor_id", caller.id},     {"donor_username", caller.username},
                                            {"amount", done.amount},     {"currency", done.currency},
                                            {"message", done.message.value_or("")}};
              hub_.publish("stream:" + *done.stream_id, "donation", event);
              notifications_.notify(done.payee_id, notifications::Type::donation, event);
            }};
  }));
}

Reply PaymentService::refund(const auth::AuthUser& caller, const IdempotencyScope& scope,
                             const RefundRequest& request) {
  if (request.amount && (*request.amount < 1 || *request.amount > options_.max_amount)) {
    throw ApiError(ErrorCode::validation_failed, "Invalid refund",
                   {{"amount", {"must be 1.." + std::to_string(options_.max_amount) + " minor units"}}});
  }
  if (!is_valid_uuid(request.transaction_id)) transaction_not_found();
  return counted("refund", run_once(db_, caller.id, scope, options_.idempotency_wait, [&](pqxx::work& tx) -> Outcome {
    // Locked: concurrent refunds of one donation queue here and see each other's amounts.
    const auto original = repo::lock_transaction(tx, request.transaction_id);
    if (!original || original->kind != TransactionKind::donation) transaction_not_found();
    const bool admin = caller.role == auth::Role::admin;
    if (!admin) {
      if (caller.id != original->payee_id) {
        if (original->payer_id != caller.id) transaction_not_found();
        throw ApiError(ErrorCode::forbidden, "Only the receiving streamer or an admin can refund a donation");
      }
      if (repo::age_seconds(tx, original->id) > static_cast<double>(options_.refund_window.count())) {
        throw ApiError(ErrorCode::forbidden, "The refund window of this donation has passed; ask an admin")
            .with_reason("refund_window_passed");
      }
    }
    const std::int64_t remaining = original->amount - original->refunded;
    const std::int64_t amount = request.amount.value_or(remaining);
    if (remaining == 0 || amount > remaining) {
      throw ApiError(ErrorCode::conflict, "A refund cannot exceed what remains of the donation (" +
                                              std::to_string(remaining) + " minor units)")
          .with_reason("refund_exceeds_remaining");
    }
    // The fee is reversed in proportion, cumulatively, so refunds adding up to the whole
    // donation return exactly its fee.
    const std::int64_t fee_before = original->fee * original->refunded / original->amount;
    const std::int64_t fee_after = original->fee * (original->refunded + amount) / original->amount;
    const std::int64_t fee = fee_after - fee_before;
    const std::int64_t donor = original->payer_id.value();  // donations always have a payer
    const auto refund = repo::insert_transaction(tx, {.kind = TransactionKind::refund,
                                                      .payer_id = original->payee_id,
                                                      .payee_id = donor,
                                                      .currency = original->currency,
                                                      .amount = amount,
                                                      .fee = fee,
                                                      .stream_id = original->stream_id,
                                                      .message = request.reason,
                                                      .reverses = original->id})
                            .value();  // a fresh uuid
    const std::vector<Transfer> transfers{
        {.kind = "refund", .debit = earnings(original->payee_id, original->currency),
         .credit = wallet(donor, original->currency), .amount = amount - fee},
        {.kind = "fee_refund", .debit = platform_fees(original->currency), .credit = wallet(donor, original->currency),
         .amount = fee}};
    ledger::post(tx, refund.id, transfers);
    repo::add_refunded(tx, original->id, amount);
    return {.reply = {.status = 201, .body = transaction_json(refund, caller.id)},
            .after_commit = [this, transfers] { ledger::count(metrics_, transfers); }};
  }));
}

Reply PaymentService::topup(const auth::AuthUser& caller, const IdempotencyScope& scope,
                            const TopupRequest& request) {
  check_money(request.amount, request.currency);
  Provider& via = provider(request.provider);
  return counted("topup", run_once(db_, caller.id, scope, options_.idempotency_wait, [&](pqxx::work& tx) -> Outcome {
    Topup topup = repo::insert_topup(tx, caller.id, via.name(), request.currency, request.amount);
    const Checkout checkout = via.create_checkout(
        {.topup_id = topup.id, .user_id = caller.id, .amount = request.amount, .currency = request.currency});
    repo::set_checkout(tx, topup.id, checkout.provider_ref, checkout.url);
    topup.checkout_url = checkout.url;
    return {.reply = {.status = 201, .body = topup_json(topup)}};
  }));
}

WebhookResult PaymentService::handle_webhook(const std::string& provider_name, const http::Headers& headers,
                                             const std::string& body) {
  const auto it = providers_.find(provider_name);
  if (it == providers_.end()) throw ApiError(ErrorCode::not_found, "Unknown payment provider");
  Provider& via = *it->second;
  ProviderEvent event;
  try {
    event = via.parse_webhook(headers, body, unix_now());
  } catch (const WebhookRefused& e) {
    metrics_.inc("reelhub_payments_webhooks_total", {{"provider", via.name()}, {"verdict", verdict_name(e.verdict)}});
    spdlog::warn("payments: {} webhook refused: {}", via.name(), e.what());
    throw ApiError(ErrorCode::bad_request, "Webhook signature, timestamp or body did not verify");
  }
  std::vector<Transfer> credited;
  const WebhookResult result = db_.transact([&](pqxx::work& tx) {
    if (!repo::record_event(tx, via.name(), event.id, event.type)) return WebhookResult::duplicate;
    if (event.outcome == ProviderEvent::Outcome::other) return WebhookResult::ignored;
    const auto topup = is_valid_uuid(event.topup_id) ? repo::lock_topup(tx, event.topup_id) : std::nullopt;
    if (!topup || topup->provider != via.name() || topup->status != TopupStatus::pending ||
        topup->amount != event.amount || topup->currency != event.currency) {
      spdlog::warn("payments: {} event {} does not settle a pending top-up; ignored", via.name(), event.id);
      return WebhookResult::ignored;
    }
    if (event.outcome == ProviderEvent::Outcome::failed) {
      repo::settle_topup(tx, topup->id, TopupStatus::failed, std::nullopt);
      return WebhookResult::declined;
    }
    const auto transaction = repo::insert_transaction(tx, {.kind = TransactionKind::topup,
                                                           .payee_id = topup->user_id,
                                                           .currency = topup->currency,
                                                           .amount = topup->amount})
                                 .value();
    credited = {{.kind = "topup", .debit = clearing(via.name(), topup->currency),
                 .credit = wallet(topup->user_id, topup->currency), .amount = topup->amount}};
    ledger::post(tx, transaction.id, credited);
    repo::settle_topup(tx, topup->id, TopupStatus::succeeded, transaction.id);
    return WebhookResult::credited;
  });
  ledger::count(metrics_, credited);
  metrics_.inc("reelhub_payments_webhooks_total", {{"provider", via.name()}, {"verdict", webhook_result_name(result)}});
  return result;
}

Topup PaymentService::sandbox_checkout(const std::string& topup_id) {
  auto topup = providers_.count("sandbox") && is_valid_uuid(topup_id)
                   ? db_.transact([&](pqxx::work& tx) { return repo::find_topup(tx, topup_id); })
                   : std::nullopt;
  if (!topup || topup->provider != "sandbox") throw ApiError(ErrorCode::not_found, "Checkout not found");
  return *topup;
}

WebhookResult PaymentService::sandbox_decide(const std::string& topup_id, bool approved) {
  const Topup topup = sandbox_checkout(topup_id);
  auto& sandbox = static_cast<SandboxProvider&>(*providers_.at("sandbox"));
  const auto [body, signature] = sandbox.decision_webhook(
      {.topup_id = topup.id, .user_id = topup.user_id, .amount = topup.amount, .currency = topup.currency}, approved,
      unix_now());
  http::Headers headers{{SandboxProvider::kSignatureHeader, signature}, {"Content-Type", "application/json"}};
  return handle_webhook("sandbox", headers, body);
}

std::vector<Balance> PaymentService::balances(const auth::AuthUser& caller) {
  const auto held = db_.transact([&](pqxx::work& tx) { return repo::balances(tx, caller.id); });
  std::vector<Balance> out;
  for (const auto& currency : options_.currencies) out.push_back({.currency = currency});
  for (const auto& b : held) {
    const auto it = std::find_if(out.begin(), out.end(), [&](const Balance& o) { return o.currency == b.currency; });
    if (it != out.end()) *it = b;
    else out.push_back(b);  // a currency no longer configured still shows what it holds
  }
  return out;
}

TransactionsPage PaymentService::transactions(const auth::AuthUser& caller, const std::optional<std::string>& cursor,
                                              std::int64_t limit) {
  return db_.transact([&](pqxx::work& tx) {
    std::optional<std::int64_t> before;
    if (cursor) {
      if (is_valid_uuid(*cursor)) before = repo::position(tx, caller.id, *cursor);
      if (!before) {
        throw ApiError(ErrorCode::validation_failed, "Invalid cursor", {{"cursor", {"is not a cursor of this list"}}});
      }
    }
    TransactionsPage page{.transactions = repo::page(tx, caller.id, before, limit + 1)};
    if (static_cast<std::int64_t>(page.transactions.size()) > limit) {
      page.transactions.pop_back();
      page.next_cursor = page.transactions.back().id;
    }
    return page;
  });
}

PayoutAccount PaymentService::connect(const auth::AuthUser& caller, const PayoutAccount& account) {
  provider(account.provider);  // 422 unless configured
  db_.transact([&](pqxx::work& tx) { repo::store_payout_account(tx, caller.id, account); });
  return account;
}

std::vector<ProviderInfo> PaymentService::providers(const auth::AuthUser& caller) {
  const auto connected = db_.transact([&](pqxx::work& tx) { return repo::payout_accounts(tx, caller.id); });
  std::vector<ProviderInfo> out;
  for (const auto& [name, p] : providers_) {
    ProviderInfo info{.description = p->description()};
    for (const auto& c : connected)
      if (c.provider == name) info.connected_account = c.account;
    out.push_back(std::move(info));
  }
  return out;
}

std::size_t PaymentService::purge_idempotency_keys(std::chrono::seconds retention) {
  return db_.transact([&](pqxx::work& tx) { return repo::purge_keys(tx, retention); });
}

}  // namespace reelhub::payments
