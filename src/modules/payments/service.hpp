#pragma once
// Rules of payments: wallets and earnings on the double-entry ledger, donations to live streams,
// refunds, top-ups through providers and their webhooks, payout accounts. No HTTP or SQL here.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "idempotency.hpp"
#include "model.hpp"
#include "modules/notifications/service.hpp"
#include "modules/payments/providers/provider.hpp"
#include "modules/streams/service.hpp"
#include "reelhub/auth/identity.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/hub.hpp"

namespace reelhub::payments {

struct PaymentOptions {
  std::vector<std::string> currencies{"USD"};
  int platform_fee_bps = 1000;
  std::int64_t max_amount = 1000000;
  std::size_t donation_message_max = 200;  // code points
  std::chrono::seconds refund_window{7 * 24 * 3600};
  std::chrono::milliseconds idempotency_wait{5000};
};

struct DonationRequest {
  std::string stream_id{};
  std::int64_t amount = 0;
  std::string currency{};
  std::string message{};
  std::optional<std::string> transfer_id{};  // client-chosen transaction id (uuid)
};

struct RefundRequest {
  std::string transaction_id{};
  std::optional<std::int64_t> amount{};  // the whole remainder when absent
  std::string reason{};
};

struct TopupRequest {
  std::int64_t amount = 0;
  std::string currency{};
  std::string provider{};
};

/// What became of one webhook delivery: a bounded metrics label and the response's `result`.
enum class WebhookResult { credited, declined, duplicate, ignored };
const char* webhook_result_name(WebhookResult result);

class PaymentService {
 public:
  PaymentService(db::Pool& db, ws::Hub& hub, metrics::Registry& metrics, streams::StreamService& streams,
                 notifications::NotificationService& notifications, PaymentOptions options,
                 std::vector<std::unique_ptr<Provider>> providers);

  /// Moves `amount` from the caller's wallet to the live stream owner's earnings, less the
  /// platform fee; publishes `donation` on `stream:<id>` and notifies the owner. 402 when the
  /// wallet does not cover it, 409 when the stream is not live, 403 for one's own stream.
  Reply donate(const auth::AuthUser& caller, const IdempotencyScope& scope, const DonationRequest& request);
  /// Reverses (part of) a donation: earnings and fee back to the donor's wallet. Admins always;
  /// the receiving streamer within the refund window. 409 past what remains unrefunded.
  Reply refund(const auth::AuthUser& caller, const IdempotencyScope& scope, const RefundRequest& request);
  /// A pending top-up and the provider's checkout URL; the wallet is credited by the webhook.
  Reply topup(const auth::AuthUser& caller, const IdempotencyScope& scope, const TopupRequest& request);

  /// Verifies and processes one webhook delivery of `provider` (404 unknown provider, 400 when
  /// the signature, timestamp or body do not verify). Each event is processed once.
  WebhookResult handle_webhook(const std::string& provider, const http::Headers& headers, const std::string& body);

  /// The sandbox checkout of a pending top-up (404 unless sandbox is on and it is one).
  Topup sandbox_checkout(const std::string& topup_id);
  /// The tester's decision: delivered as a signed webhook through handle_webhook().
  WebhookResult sandbox_decide(const std::string& topup_id, bool approved);

  /// Every configured currency, zero where the caller has no account.
  std::vector<Balance> balances(const auth::AuthUser& caller);
  /// Newest first; 422 when the cursor is not one of the caller's transactions.
  TransactionsPage transactions(const auth::AuthUser& caller, const std::optional<std::string>& cursor,
                                std::int64_t limit);
  /// Stores the caller's payout account at a configured provider (422 for an unknown one).
  PayoutAccount connect(const auth::AuthUser& caller, const PayoutAccount& account);
  std::vector<ProviderInfo> providers(const auth::AuthUser& caller);

  /// Janitor sweep: Idempotency-Key results older than `retention`.
  std::size_t purge_idempotency_keys(std::chrono::seconds retention);

  const PaymentOptions& options() const { return options_; }

 private:
  Provider& provider(const std::string& name);
  void check_money(std::int64_t amount, const std::string& currency) const;
  /// Counts a replayed answer (`operation` is a fixed label).
  Reply counted(const char* operation, Reply reply);

  db::Pool& db_;
  ws::Hub& hub_;
  metrics::Registry& metrics_;
  streams::StreamService& streams_;
  notifications::NotificationService& notifications_;
  PaymentOptions options_;
  std::map<std::string, std::unique_ptr<Provider>> providers_;
};

}  // namespace reelhub::payments
