#include "routes.hpp"

#include <algorithm>

#include "dto.hpp"
#include "modules/kit/context.hpp"
#include "modules/kit/text.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"
#include "service.hpp"

namespace reelhub::payments {
namespace {

using http::Request;
using http::Response;

constexpr std::size_t kMaxIdempotencyKey = 255;  // Stripe's limit
constexpr std::size_t kMaxReason = 500;
constexpr std::size_t kMaxAccount = 64;  // IBANs are at most 34; provider account ids are shorter

/// The Idempotency-Key of a money-moving POST and the digest of the request it came with.
/// 400 without one: these endpoints never run without a key.
IdempotencyScope idempotency_scope(const Request& req, const nlohmann::json& body) {
  const std::string key = req.header("Idempotency-Key");
  if (key.empty()) {
    throw ApiError(ErrorCode::bad_request, "This request moves money: send an Idempotency-Key header")
        .with_reason("idempotency_key_required");
  }
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (key.size() > kMaxIdempotencyKey || !printable) {
    throw ApiError(ErrorCode::bad_request, "Idempotency-Key must be 1-255 printable ASCII characters");
  }
  return {.key = key, .request_hash = request_digest(req.method, req.path, body)};
}

Response reply_response(const Reply& reply) {
  Response res = Response::json(reply.status, reply.body);
  if (reply.replayed) res.headers["Idempotent-Replayed"] = "true";
  return res;
}

/// A required integer amount in minor units (a JSON number without fraction).
std::int64_t amount_of(Validator& v, const nlohmann::json& body, const char* field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    v.fail(field, "is required");
    return 0;
  }
  if (!it->is_number_integer()) {
    v.fail(field, "must be an integer number of minor units (e.g. 100 for 1.00)");
    return 0;
  }
  return it->get<std::int64_t>();
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

Response html(int status, std::string body) {
  Response res;
  res.status = status;
  res.body = std::move(body);
  res.headers["Content-Type"] = "text/html; charset=utf-8";
  res.headers["Cache-Control"] = "no-store";
  return res;
}

class Handlers {
 public:
  explicit Handlers(PaymentService& service) : service_(service) {}

  Response donate(Request& req);
  Response balance(Request& req);
  Response transactions(Request& req);
  Response refund(Request& req);
  Response topup(Request& req);
  Response connect(Request& req);
  Response providers(Request& req);
  Response webhook(Request& req);
  Response checkout_page(Request& req);
  Response approve(Request& req) { return decide(req, true); }
  Response decline(Request& req) { return decide(req, false); }

 private:
  Response decide(Request& req, bool approved);
  PaymentService& service_;
};

}  // namespace

void register_routes(const modules::Context& ctx, PaymentService& service) {
  auto bind = http::bind_members(std::make_shared<Handlers>(service));
  const http::RouteOptions user{.access = http::Access::user};
  const http::RouteOptions streamer{.access = http::Access::user, .min_role = auth::Role::streamer};
  const http::RouteOptions open{.access = http::Access::public_};

  http::Router& r = ctx.router;
  r.add("POST", "/live/donate", bind(&Handlers::donate), user);
  r.add("GET", "/payments/balance", bind(&Handlers::balance), user);
  r.add("GET", "/payments/transactions", bind(&Handlers::transactions), user);
  r.add("POST", "/payments/refund", bind(&Handlers::refund), user);
  r.add("POST", "/payments/topup", bind(&Handlers::topup), user);
  r.add("POST", "/payments/connect", bind(&Handlers::connect), streamer);
  r.add("GET", "/payments/providers", bind(&Handlers::providers), user);
  // Providers call these; the signature is the authentication.
  r.add("POST", "/payments/webhook/{provider}", bind(&Handlers::webhook), open);
  // The sandbox checkout: the unguessable top-up id is the capability, as a provider's page URL is.
  r.add("GET", "/payments/sandbox/checkout/{id}", bind(&Handlers::checkout_page), open);
  r.add("POST", "/payments/sandbox/checkout/{id}/approve", bind(&Handlers::approve), open);
  r.add("POST", "/payments/sandbox/checkout/{id}/decline", bind(&Handlers::decline), open);
}

namespace {

Response Handlers::donate(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  DonationRequest d;
  d.stream_id = v.required_string("stream_id", 1, 64);
  d.amount = amount_of(v, body, "amount");
  d.currency = v.required_string("currency", 3, 3);
  // Length against the configured limit is the service's; this only bounds what is parsed.
  d.message = v.optional_string("message", 0, 4 * service_.options().donation_message_max + 4).value_or("");
  d.transfer_id = v.optional_string("transfer_id", 36, 36);
  if (!is_valid_utf8(d.message) || modules::has_control_characters(d.message, false)) {
    v.fail("message", "must be text without control characters");
  }
  v.throw_if_failed("Invalid donation");
  const auto scope = idempotency_scope(req, body);
  return reply_response(service_.donate(req.auth(), scope, d));
}

Response Handlers::balance(Request& req) {
  return Response::json(200, balances_json(service_.balances(req.auth())));
}

Response Handlers::transactions(Request& req) {
  const auto page = service_.transactions(req.auth(), req.query_param("cursor"), http::query_int(req, "limit", 50, 1, 100));
  return Response::json(200, page_json(page, req.auth().id));
}

Response Handlers::refund(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  RefundRequest r;
  r.transaction_id = v.required_string("transaction_id", 1, 64);
  if (body.contains("amount") && !body["amount"].is_null()) r.amount = amount_of(v, body, "amount");
  r.reason = v.required_string("reason", 1, kMaxReason);
  if (!is_valid_utf8(r.reason) || modules::has_control_characters(r.reason, true)) {
    v.fail("reason", "must be text without control characters");
  }
  v.throw_if_failed("Invalid refund");
  const auto scope = idempotency_scope(req, body);
  return reply_response(service_.refund(req.auth(), scope, r));
}

Response Handlers::topup(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  TopupRequest t;
  t.amount = amount_of(v, body, "amount");
  t.currency = v.required_string("currency", 3, 3);
  t.provider = v.required_string("provider", 1, 32);
  v.throw_if_failed("Invalid top-up");
  const auto scope = idempotency_scope(req, body);
  return reply_response(service_.topup(req.auth(), scope, t));
}

Response Handlers::connect(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  PayoutAccount account;
  account.provider = v.required_string("provider", 1, 32);
  account.account = v.required_string("account", 4, kMaxAccount);
  const bool printable =
      std::all_of(account.account.begin(), account.account.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (!printable) v.fail("account", "must be printable ASCII");
  v.throw_if_failed("Invalid payout account");
  const PayoutAccount stored = service_.connect(req.auth(), account);
  return Response::json(200, {{"provider", stored.provider}, {"account", mask_account(stored.account)}});
}

Response Handlers::providers(Request& req) {
  return Response::json(200, providers_json(service_.providers(req.auth())));
}

Response Handlers::webhook(Request& req) {
  const WebhookResult result = service_.handle_webhook(req.param("provider"), req.headers, req.body);
  return Response::json(200, {{"received", true}, {"result", webhook_result_name(result)}});
}

Response Handlers::checkout_page(Request& req) {
  const Topup topup = service_.sandbox_checkout(req.param("id"));
  const std::string base = "/payments/sandbox/checkout/" + topup.id;
  std::string page = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sandbox checkout</title></head><body>"
                     "<h1>Sandbox checkout (test money)</h1><p>Top-up of <b>" +
                     std::to_string(topup.amount) + "</b> minor units of <b>" + html_escape(topup.currency) +
                     "</b>: <b>" + topup_status_name(topup.status) + "</b></p>";
  if (topup.status == TopupStatus::pending) {
    page += "<form method=\"post\" action=\"" + base + "/approve\"><button>Approve</button></form>"
            "<form method=\"post\" action=\"" + base + "/decline\"><button>Decline</button></form>";
  }
  return html(200, page + "</body></html>");
}

Response Handlers::decide(Request& req, bool approved) {
  const WebhookResult result = service_.sandbox_decide(req.param("id"), approved);
  return Response::json(200, {{"result", webhook_result_name(result)}});
}

}  // namespace
}  // namespace reelhub::payments
