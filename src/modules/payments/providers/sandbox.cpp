#include "sandbox.hpp"

namespace reelhub::payments {
namespace {

constexpr const char* kPaid = "checkout.succeeded";
constexpr const char* kFailed = "checkout.failed";

}  // namespace

nlohmann::json SandboxProvider::description() const {
  return {{"name", name()},
          {"display_name", "Sandbox (test money)"},
          {"supports", {{"topup", true}, {"payouts", false}, {"refunds_to_source", false}}},
          {"test_mode", true}};
}

Checkout SandboxProvider::create_checkout(const CheckoutRequest& request) {
  return {.provider_ref = "sbx_" + request.topup_id,
          .url = base_url_ + "/payments/sandbox/checkout/" + request.topup_id};
}

ProviderEvent SandboxProvider::parse_webhook(const http::Headers& headers, const std::string& body,
                                             std::int64_t now) const {
  const auto it = headers.find(kSignatureHeader);
  if (it == headers.end()) throw WebhookRefused(SignatureVerdict::malformed, "missing signature header");
  const auto verdict = verify_webhook(it->second, secret_, body, now, tolerance_);
  if (verdict != SignatureVerdict::valid) throw WebhookRefused(verdict, verdict_name(verdict));
  try {
    const auto event = nlohmann::json::parse(body);
    ProviderEvent out{.id = event.at("id").get<std::string>(), .type = event.at("type").get<std::string>()};
    if (out.type == kPaid || out.type == kFailed) {
      out.outcome = out.type == kPaid ? ProviderEvent::Outcome::paid : ProviderEvent::Outcome::failed;
      const auto& data = event.at("data");
      out.topup_id = data.at("topup_id").get<std::string>();
      out.amount = data.at("amount").get<std::int64_t>();
      out.currency = data.at("currency").get<std::string>();
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw WebhookRefused(SignatureVerdict::malformed, std::string("not a sandbox event: ") + e.what());
  }
}

std::pair<std::string, std::string> SandboxProvider::decision_webhook(const CheckoutRequest& checkout, bool approved,
                                                                      std::int64_t now) const {
  const nlohmann::json event = {
      {"id", "evt_" + checkout.topup_id + (approved ? "_approved" : "_declined")},
      {"type", approved ? kPaid : kFailed},
      {"created", now},
      {"data", {{"topup_id", checkout.topup_id}, {"amount", checkout.amount}, {"currency", checkout.currency}}}};
  std::string body = event.dump();
  std::string signature = sign_webhook(secret_, now, body);
  return {std::move(body), std::move(signature)};
}

}  // namespace reelhub::payments
