#pragma once
// What a payment provider is to the payments module: it opens a checkout for a top-up and turns
// its signed webhook deliveries into events. One file per provider implements this (sandbox.cpp;
// another provider such as Stripe or YooKassa is one more).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "modules/payments/providers/signature.hpp"
#include "reelhub/http/message.hpp"

namespace reelhub::payments {

struct CheckoutRequest {
  std::string topup_id{};  // uuid; providers echo it back in their events
  std::int64_t user_id = 0;
  std::int64_t amount = 0;  // minor units
  std::string currency{};
};

struct Checkout {
  std::string provider_ref{};  // the provider's id of the checkout
  std::string url{};           // where the payer goes to pay
};

/// A verified webhook event. `paid` and `failed` settle the top-up named by `topup_id`; any
/// other type is acknowledged and ignored.
struct ProviderEvent {
  enum class Outcome { paid, failed, other };
  std::string id{};    // the provider's event id: each is processed once
  std::string type{};  // the provider's event type, as sent
  Outcome outcome = Outcome::other;
  std::string topup_id{};
  std::int64_t amount = 0;
  std::string currency{};
};

/// A delivery whose signature or timestamp did not verify, or whose body is not an event.
struct WebhookRefused : std::runtime_error {
  WebhookRefused(SignatureVerdict verdict, const std::string& what) : std::runtime_error(what), verdict(verdict) {}
  SignatureVerdict verdict;
};

class Provider {
 public:
  virtual ~Provider() = default;
  /// The path segment of POST /payments/webhook/{provider}; a bounded metrics label.
  virtual std::string name() const = 0;
  /// GET /payments/providers: what this provider supports.
  virtual nlohmann::json description() const = 0;
  virtual Checkout create_checkout(const CheckoutRequest& request) = 0;
  /// Verifies the delivery (signature, timestamp within tolerance of `now`) and parses it.
  /// Throws WebhookRefused.
  virtual ProviderEvent parse_webhook(const http::Headers& headers, const std::string& body,
                                      std::int64_t now) const = 0;
};

}  // namespace reelhub::payments
