#pragma once
// The sandbox provider: test money for development and tests. Its checkout is a page Reelhub
// serves (GET /payments/sandbox/checkout/{id}) where a tester approves or declines; the decision
// becomes a webhook signed like Stripe's (`Reelhub-Sandbox-Signature: t=..,v1=..`) that enters
// through the same verification and processing as any provider's.

#include <cstdint>
#include <string>
#include <utility>

#include "modules/payments/providers/provider.hpp"

namespace reelhub::payments {

class SandboxProvider : public Provider {
 public:
  static constexpr const char* kSignatureHeader = "Reelhub-Sandbox-Signature";

  /// `base_url`: where clients reach this server (http://host:port), for checkout URLs.
  SandboxProvider(std::string base_url, std::string webhook_secret, std::int64_t tolerance_seconds)
      : base_url_(std::move(base_url)), secret_(std::move(webhook_secret)), tolerance_(tolerance_seconds) {}

  std::string name() const override { return "sandbox"; }
  nlohmann::json description() const override;
  Checkout create_checkout(const CheckoutRequest& request) override;
  ProviderEvent parse_webhook(const http::Headers& headers, const std::string& body,
                              std::int64_t now) const override;

  /// The webhook delivery of a tester's decision on a checkout: its body and signature header.
  /// The event id is derived from the top-up and the decision, so pressing twice is one event.
  std::pair<std::string, std::string> decision_webhook(const CheckoutRequest& checkout, bool approved,
                                                       std::int64_t now) const;

 private:
  std::string base_url_;
  std::string secret_;
  std::int64_t tolerance_;
};

}  // namespace reelhub::payments
