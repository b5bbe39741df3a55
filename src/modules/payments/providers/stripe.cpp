#include "stripe.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "modules/payments/providers/http_post.hpp"
#include "reelhub/core/error.hpp"

namespace reelhub::payments {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

ApiError stripe_unavailable() {
  return ApiError(ErrorCode::unavailable, "The payment provider is unavailable; try again").with_retry_after(5);
}

}  // namespace

nlohmann::json StripeProvider::description() const {
  return {{"name", name()},
          {"display_name", "Stripe"},
          {"supports", {{"topup", true}, {"payouts", false}, {"refunds_to_source", false}}},
          {"test_mode", options_.secret_key.rfind("sk_test_", 0) == 0}};
}

Checkout StripeProvider::create_checkout(const CheckoutRequest& request) {
  // One line item priced inline; client_reference_id and metadata name the top-up in events.
  const std::vector<std::pair<std::string, std::string>> fields{
      {"mode", "payment"},
      {"success_url", options_.success_url},
      {"cancel_url", options_.cancel_url},
      {"client_reference_id", request.topup_id},
      {"metadata[topup_id]", request.topup_id},
      {"line_items[0][quantity]", "1"},
      {"line_items[0][price_data][currency]", lower(request.currency)},
      {"line_items[0][price_data][unit_amount]", std::to_string(request.amount)},
      {"line_items[0][price_data][product_data][name]", "Reelhub wallet top-up"}};
  std::string body;
  for (const auto& [key, value] : fields) {
    if (!body.empty()) body += '&';
    body += form_encode(key) + "=" + form_encode(value);
  }
  HttpReply reply;
  try {
    reply = http_post(options_.api_base + "/v1/checkout/sessions",
                      {{"Authorization", "Bearer " + options_.secret_key},
                       {"Content-Type", "application/x-www-form-urlencoded"},
                       // The top-up id: a retry of this create (ours or the client's) is the same session.
                       {"Idempotency-Key", "topup-" + request.topup_id}},
                      body, options_.timeout);
  } catch (const std::exception& e) {
    spdlog::warn("payments: stripe checkout session for top-up {} failed: {}", request.topup_id, e.what());
    throw stripe_unavailable();
  }
  try {
    const auto session = nlohmann::json::parse(reply.body);
    if (reply.status == 200) {
      return {.provider_ref = session.at("id").get<std::string>(), .url = session.at("url").get<std::string>()};
    }
    spdlog::warn("payments: stripe refused the checkout session of top-up {}: HTTP {} {}", request.topup_id,
                 reply.status, session.value("error", nlohmann::json::object()).value("message", ""));
  } catch (const nlohmann::json::exception& e) {
    spdlog::warn("payments: stripe answered top-up {} with HTTP {} and no session: {}", request.topup_id,
                 reply.status, e.what());
  }
  throw stripe_unavailable();
}

ProviderEvent StripeProvider::parse_webhook(const http::Headers& headers, const std::string& body,
                                            std::int64_t now) const {
  const auto it = headers.find(kSignatureHeader);
  if (it == headers.end()) throw WebhookRefused(SignatureVerdict::malformed, "missing Stripe-Signature");
  const auto verdict = verify_webhook(it->second, options_.webhook_secret, body, now, options_.tolerance_seconds);
  if (verdict != SignatureVerdict::valid) throw WebhookRefused(verdict, verdict_name(verdict));
  try {
    const auto event = nlohmann::json::parse(body);
    ProviderEvent out{.id = event.at("id").get<std::string>(), .type = event.at("type").get<std::string>()};
    const bool completed = out.type == "checkout.session.completed";
    const bool async_paid = out.type == "checkout.session.async_payment_succeeded";
    const bool failed = out.type == "checkout.session.async_payment_failed" || out.type == "checkout.session.expired";
    if (!completed && !async_paid && !failed) return out;
    const auto& session = event.at("data").at("object");
    // A completed session with a delayed payment method is still "unpaid": its
    // async_payment_succeeded (or _failed) event settles it later.
    if (completed && session.value("payment_status", "") != "paid") return out;
    out.outcome = failed ? ProviderEvent::Outcome::failed : ProviderEvent::Outcome::paid;
    out.topup_id = session.at("client_reference_id").get<std::string>();
    out.amount = session.at("amount_total").get<std::int64_t>();
    out.currency = upper(session.at("currency").get<std::string>());
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw WebhookRefused(SignatureVerdict::malformed, std::string("not a Stripe event: ") + e.what());
  }
}

}  // namespace reelhub::payments
