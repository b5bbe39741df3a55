#pragma once
// Stripe, written to its public API: a top-up is a Checkout Session
// (POST /v1/checkout/sessions, form-encoded, Bearer secret key, with its own Idempotency-Key so
// a retried create never makes a second session), settled by the `checkout.session.*` events
// its webhook endpoint receives, signed in the `Stripe-Signature: t=..,v1=..` scheme.

#include <chrono>
#include <cstdint>
#include <string>

#include "modules/payments/providers/provider.hpp"

namespace reelhub::payments {

struct StripeOptions {
  std::string api_base = "https://api.stripe.com";  // a local stand-in in tests
  std::string secret_key{};                           // sk_live_... / sk_test_...
  std::string webhook_secret{};                       // whsec_... of the webhook endpoint
  std::string success_url{};                          // where Checkout sends the payer afterwards
  std::string cancel_url{};
  std::int64_t tolerance_seconds = 300;
  std::chrono::milliseconds timeout{10000};
};

class StripeProvider : public Provider {
 public:
  static constexpr const char* kSignatureHeader = "Stripe-Signature";

  explicit StripeProvider(StripeOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "stripe"; }
  nlohmann::json description() const override;
  /// Throws ApiError(unavailable) when Stripe cannot be reached or refuses the session.
  Checkout create_checkout(const CheckoutRequest& request) override;
  ProviderEvent parse_webhook(const http::Headers& headers, const std::string& body,
                              std::int64_t now) const override;

 private:
  StripeOptions options_;
};

}  // namespace reelhub::payments
