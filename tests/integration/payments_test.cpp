// Payments end to end over HTTP against real PostgreSQL (issue 11): the double-entry ledger,
// Idempotency-Key, donations, sandbox top-ups through signed webhooks, refunds, and a server
// killed with SIGKILL in the middle of a donation burst. After every scenario the ledger is
// checked: each balance equals its postings, and per currency everything sums to zero.

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "expectations.hpp"
#include "modules/payments/providers/signature.hpp"
#include "reelhub/core/random.hpp"
#include "stack.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

constexpr const char* kSandboxSecret = "sandbox-webhook-secret-for-tests-0123456789";
constexpr const char* kStripeKey = "sk_test_reelhub";
constexpr const char* kStripeWebhookSecret = "whsec_reelhub_test";
constexpr int kFeeBps = 1000;  // 10 %

/// A local stand-in for Stripe's API that answers POST /v1/checkout/sessions as Stripe's
/// documented API does: 401 without the right Bearer key, otherwise a Checkout Session object.
/// Idempotency as Stripe documents it for API v1: a repeated Idempotency-Key with the same
/// parameters gets the saved status and body again (500s included) with `Idempotent-Replayed:
/// true`; with other parameters, 400 `idempotency_error`. `fail_next()` makes the next new
/// request a 500 `api_error`. It records what it was sent.
class StripeStandIn {
 public:
  struct Seen {
    std::string authorization, idempotency_key, content_type, body;
  };

  StripeStandIn() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~StripeStandIn() {
    stopping_ = true;
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);  // wakes the blocking accept
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void fail_next() { fail_next_ = true; }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  void serve() {
    namespace http = boost::beast::http;
    while (!stopping_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) continue;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) continue;
      Seen seen{std::string(request[http::field::authorization]), std::string(request["Idempotency-Key"]),
                std::string(request[http::field::content_type]), request.body()};
      http::response<http::string_body> response{http::status::ok, 11};
      response.set(http::field::content_type, "application/json");
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(seen);
        if (seen.authorization != std::string("Bearer ") + kStripeKey) {
          response.result(http::status::unauthorized);
          response.body() = R"({"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}})";
        } else if (auto it = answers_.find(seen.idempotency_key); it != answers_.end()) {
          if (it->second.request != seen.body) {
            response.result(http::status::bad_request);
            response.body() = R"({"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}})";
          } else {
            response.result(it->second.status);
            response.body() = it->second.response;
            response.set("Idempotent-Replayed", "true");
          }
        } else {
          if (fail_next_.exchange(false)) {
            response.result(http::status::internal_server_error);
            response.body() = R"({"error":{"type":"api_error","message":"An unknown error occurred"}})";
          } else {
            const std::string id = "cs_test_" + std::to_string(++sessions_);
            response.body() = nlohmann::json{{"id", id},
                                             {"object", "checkout.session"},
                                             {"mode", "payment"},
                                             {"status", "open"},
                                             {"payment_status", "unpaid"},
                                             {"url", "https://checkout.stripe.com/c/pay/" + id}}
                                  .dump();
          }
          if (!seen.idempotency_key.empty()) {
            answers_[seen.idempotency_key] = {seen.body, response.result(), response.body()};
          }
        }
      }
      response.prepare_payload();
      http::write(socket, response, ec);
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  struct Saved {
    std::string request;
    boost::beast::http::status status;
    std::string response;
  };
  std::atomic<bool> fail_next_{false};
  int sessions_ = 0;
  std::vector<Seen> seen_;
  std::map<std::string, Saved> answers_;  // by Idempotency-Key
  std::thread thread_;
};

std::map<std::string, std::string> payments_env(const StripeStandIn* stripe = nullptr) {
  auto env = relaxed_rate_limits();
  if (stripe) {
    env["REELHUB_PAYMENTS_STRIPE_SECRET_KEY"] = kStripeKey;
    env["REELHUB_PAYMENTS_STRIPE_WEBHOOK_SECRET"] = kStripeWebhookSecret;
    env["REELHUB_PAYMENTS_STRIPE_API_BASE"] = "http://127.0.0.1:" + std::to_string(stripe->port());
  }
  env["REELHUB_PAYMENTS_SANDBOX_ENABLED"] = "true";
  env["REELHUB_PAYMENTS_SANDBOX_WEBHOOK_SECRET"] = kSandboxSecret;
  env["REELHUB_PAYMENTS_PLATFORM_FEE_BPS"] = std::to_string(kFeeBps);
  // Bursts of concurrent money moves queue for workers and for the wallet's row lock.
  env["REELHUB_DB_WAIT_MS"] = "60000";
  return env;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Headers with_key(const TestUser& user, const std::string& key) {
  Headers h = user.auth();
  h["Idempotency-Key"] = key;
  return h;
}

std::string new_key() { return "key-" + random_hex(12); }

/// The ledger invariants, as SQL counting violations; every one must be "0".
void expect_ledger_consistent(const TestDatabase& db) {
  // Every balance is the sum of its committed postings.
  EXPECT_EQ(db.scalar(R"sql(
SELECT count(*) FROM ledger_accounts a WHERE a.balance <>
  COALESCE((SELECT sum(amount) FROM ledger_transfers WHERE credit_account = a.id), 0) -
  COALESCE((SELECT sum(amount) FROM ledger_transfers WHERE debit_account = a.id), 0))sql"),
            "0")
      << "an account balance differs from the sum of its postings";
  // Per currency, the postings (debit -amount, credit +amount) sum to zero.
  EXPECT_EQ(db.scalar(R"sql(
SELECT count(*) FROM (
  SELECT a.currency FROM (SELECT debit_account AS account, -amount AS delta FROM ledger_transfers
                          UNION ALL SELECT credit_account, amount FROM ledger_transfers) p
  JOIN ledger_accounts a ON a.id = p.account GROUP BY a.currency HAVING sum(p.delta) <> 0) unbalanced)sql"),
            "0")
      << "postings of some currency do not sum to zero";
  EXPECT_EQ(db.scalar(R"sql(
SELECT count(*) FROM ledger_transfers t JOIN ledger_accounts d ON d.id = t.debit_account
JOIN ledger_accounts c ON c.id = t.credit_account WHERE d.currency <> c.currency)sql"),
            "0")
      << "a transfer crosses currencies";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM ledger_accounts WHERE kind <> 'provider_clearing' AND balance < 0"), "0");
  // Every transaction is posted whole: its transfers add up to its amount.
  EXPECT_EQ(db.scalar(R"sql(
SELECT count(*) FROM payment_transactions t
WHERE t.amount <> COALESCE((SELECT sum(amount) FROM ledger_transfers WHERE transaction_id = t.id), 0))sql"),
            "0")
      << "a transaction's transfers do not add up to its amount";
  // No key points at a half-done operation: a stored key always has its final answer, and a
  // stored success names a transaction that exists.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM idempotency_keys WHERE status = 0"), "0");
  EXPECT_EQ(db.scalar(R"sql(
SELECT count(*) FROM idempotency_keys k WHERE k.status = 201 AND (k.response::jsonb ? 'kind')
AND NOT EXISTS (SELECT 1 FROM payment_transactions t WHERE t.id = (k.response::jsonb ->> 'id')::uuid))sql"),
            "0");
}

class PaymentsTest : public StackTest {
 protected:
  static void SetUpTestSuite() {
    stripe_ = std::make_unique<StripeStandIn>();
    start_stack(payments_env(stripe_.get()));
  }
  static void TearDownTestSuite() {
    StackTest::TearDownTestSuite();
    stripe_.reset();
  }
  void TearDown() override { expect_ledger_consistent(stack().db); }

  static inline std::unique_ptr<StripeStandIn> stripe_;

  static HttpClient slow_http() { return stack().server.http(std::chrono::seconds(120)); }

  /// Tops the user's wallet up through the sandbox: checkout, then the tester's approval,
  /// which arrives as a signed webhook.
  static void fund(const TestUser& user, std::int64_t amount, const std::string& currency = "USD") {
    auto topup = http().post_json("/payments/topup", {{"amount", amount}, {"currency", currency}, {"provider", "sandbox"}},
                                  with_key(user, new_key()));
    ASSERT_EQ(topup.status, 201) << topup;
    const std::string id = topup.json().at("id");
    auto page = http().get("/payments/sandbox/checkout/" + id);
    ASSERT_EQ(page.status, 200) << page;
    auto approved = http().post_json("/payments/sandbox/checkout/" + id + "/approve", nlohmann::json::object());
    ASSERT_EQ(approved.status, 200) << approved;
    ASSERT_EQ(approved.json().at("result"), "credited") << approved;
  }

  static std::int64_t balance(const TestUser& user, const char* which = "wallet", const std::string& currency = "USD") {
    auto res = http().get("/payments/balance", user.auth());
    EXPECT_EQ(res.status, 200) << res;
    const auto body = res.json();
    for (const auto& b : body.at("balances"))
      if (b.at("currency") == currency) return b.at(which).get<std::int64_t>();
    ADD_FAILURE() << "no " << currency << " balance in " << res;
    return -1;
  }

  static std::int64_t platform_fees() {
    const auto v = stack().db.scalar("SELECT COALESCE(sum(balance), 0) FROM ledger_accounts WHERE kind = 'platform_fees'");
    return std::stoll(v);
  }

  /// A streamer with a stream that is live. Standing in for an SRT publisher (the media tests
  /// cover ingest), the test marks it active in the database.
  static std::pair<TestUser, std::string> live_streamer() {
    TestUser streamer = register_and_login(http(), "pay_streamer", "streamer");
    auto created = http().post_json("/api/streams", {{"name", "donations"}}, streamer.auth());
    EXPECT_EQ(created.status, 201) << created;
    const std::string id = created.json().at("stream_id");
    stack().db.exec("UPDATE streams SET status = 'active' WHERE id = '" + id + "'");
    return {streamer, id};
  }

  /// A Stripe event about the Checkout Session of a top-up, as Stripe's webhook sends it.
  static std::string stripe_event(const std::string& id, const std::string& type, const std::string& topup_id,
                                  std::int64_t amount, const std::string& payment_status) {
    return nlohmann::json{{"id", id},
                          {"object", "event"},
                          {"type", type},
                          {"data",
                           {{"object",
                             {{"id", "cs_test_" + topup_id},
                              {"object", "checkout.session"},
                              {"client_reference_id", topup_id},
                              {"amount_total", amount},
                              {"currency", "eur"},
                              {"payment_status", payment_status}}}}}}
        .dump();
  }

  static HttpResponse deliver_stripe(const std::string& event, const std::string& signature) {
    return http().request("POST", "/payments/webhook/stripe", event,
                          {{"Content-Type", "application/json"}, {"Stripe-Signature", signature}});
  }

  static nlohmann::json donation(const std::string& stream_id, std::int64_t amount, const std::string& message = "gg") {
    return {{"stream_id", stream_id}, {"amount", amount}, {"currency", "USD"}, {"message", message}};
  }
};

// Acceptance 1: 200 concurrent donations of 1.00 from a wallet holding 50.00.
TEST_F(PaymentsTest, ConcurrentDonationsNeverOverdraw) {
  const auto [streamer, stream_id] = live_streamer();
  const TestUser fan = register_and_login(http(), "pay_fan");
  fund(fan, 5000);
  const std::int64_t fees_before = platform_fees();

  constexpr int kDonations = 200;
  std::atomic<int> succeeded{0}, refused{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::latch start(kDonations);
  std::vector<std::thread> threads;
  for (int i = 0; i < kDonations; ++i) {
    threads.emplace_back([&, i] {
      const auto client = slow_http();
      start.arrive_and_wait();
      try {
        auto res = client.post_json("/live/donate", donation(stream_id, 100), with_key(fan, "burst-" + std::to_string(i)));
        if (res.status == 201) {
          ++succeeded;
        } else if ((res.status == 402 || res.status == 409) && res.json().value("reason", "") == "insufficient_funds") {
          ++refused;
        } else {
          std::lock_guard lock(failures_mutex);
          failures.push_back(std::to_string(res.status) + " " + res.body);
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(failures_mutex);
        failures.push_back(e.what());
      }
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_TRUE(failures.empty()) << failures.size() << " unexpected answers, first: " << failures.front();
  EXPECT_EQ(succeeded.load(), 50);
  EXPECT_EQ(refused.load(), kDonations - 50);
  EXPECT_EQ(balance(fan), 0);
  EXPECT_EQ(balance(streamer, "earnings"), 50 * (100 - 100 * kFeeBps / 10000));
  EXPECT_EQ(platform_fees() - fees_before, 50 * (100 * kFeeBps / 10000));
}

// Acceptance 2: one donation POSTed 5 times with one key, sequentially, then concurrently.
TEST_F(PaymentsTest, OneKeyMovesMoneyOnce) {
  const auto [streamer, stream_id] = live_streamer();
  const TestUser fan = register_and_login(http(), "pay_fan");
  fund(fan, 10000);

  const std::string key = new_key();
  std::vector<HttpResponse> answers;
  for (int i = 0; i < 5; ++i) answers.push_back(http().post_json("/live/donate", donation(stream_id, 700), with_key(fan, key)));
  ASSERT_EQ(answers[0].status, 201) << answers[0];
  EXPECT_FALSE(answers[0].has_header("Idempotent-Replayed"));
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(answers[i].status, 201) << answers[i];
    EXPECT_EQ(answers[i].json(), answers[0].json());
    EXPECT_EQ(answers[i].header("Idempotent-Replayed"), "true");
  }
  EXPECT_EQ(balance(fan), 10000 - 700);

  // Same key, other body: refused, and nothing moves.
  auto other = http().post_json("/live/donate", donation(stream_id, 701), with_key(fan, key));
  EXPECT_EQ(other.status, 422) << other;
  EXPECT_EQ(other.json().value("reason", ""), "idempotency_key_reused") << other;
  // The same key is the user's own: another user may use it for their own request.
  const TestUser other_fan = register_and_login(http(), "pay_fan");
  fund(other_fan, 1000);
  EXPECT_EQ(http().post_json("/live/donate", donation(stream_id, 700), with_key(other_fan, key)).status, 201);

  // Concurrently: five at once with a fresh key.
  const std::string concurrent_key = new_key();
  std::vector<HttpResponse> together(5);
  std::latch start(5);
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&, i] {
      const auto client = slow_http();
      start.arrive_and_wait();
      together[i] = client.post_json("/live/donate", donation(stream_id, 300), with_key(fan, concurrent_key));
    });
  }
  for (auto& t : threads) t.join();
  int originals = 0;
  for (const auto& res : together) {
    ASSERT_EQ(res.status, 201) << res;
    EXPECT_EQ(res.json(), together[0].json());
    if (!res.has_header("Idempotent-Replayed")) ++originals;
    else EXPECT_EQ(res.header("Idempotent-Replayed"), "true");
  }
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(balance(fan), 10000 - 700 - 300);
  EXPECT_EQ(stack().db.scalar("SELECT count(*) FROM payment_transactions WHERE kind = 'donation' AND payer_id = " +
                              std::to_string(fan.id)),
            "2");

  // A refusal by validation is not stored: the key stays free for the corrected request.
  const std::string fixed_key = new_key();
  EXPECT_EQ(http().post_json("/live/donate", donation(stream_id, -5), with_key(fan, fixed_key)).status, 422);
  EXPECT_EQ(http().post_json("/live/donate", donation(stream_id, 5), with_key(fan, fixed_key)).status, 201);
  // Without a key nothing runs.
  EXPECT_EQ(http().post_json("/live/donate", donation(stream_id, 5), fan.auth()).status, 400);
}

// While the first request with a key is still running, another with the same key waits for it
// (payments_idempotency_wait_ms, 5 s by default), then gets 409 and moves nothing; once the first
// is gone without an answer, the key runs.
TEST_F(PaymentsTest, KeyStillRunningIsA409) {
  const auto [streamer, stream_id] = live_streamer();
  const TestUser fan = register_and_login(http(), "pay_fan");
  fund(fan, 1000);
  const std::string key = new_key();
  {
    // Stands in for a first attempt in flight: its key row inserted, not committed.
    pqxx::connection first(stack().db.url());
    pqxx::work in_flight(first);
    in_flight.exec0("INSERT INTO idempotency_keys (user_id, key, request_hash, status, response) VALUES (" +
                    std::to_string(fan.id) + ", " + in_flight.quote(key) + ", 'in-flight', 0, '')");
    auto busy = slow_http().post_json("/live/donate", donation(stream_id, 100), with_key(fan, key));
    EXPECT_EQ(busy.status, 409) << busy;
    EXPECT_EQ(busy.json().value("reason", ""), "idempotency_key_in_use") << busy;
    EXPECT_EQ(balance(fan), 1000);
  }  // rolled back: the first attempt died without an answer
  auto ran = http().post_json("/live/donate", donation(stream_id, 100), with_key(fan, key));
  EXPECT_EQ(ran.status, 201) << ran;
  EXPECT_EQ(balance(fan), 900);
}

// A client-chosen transfer_id recognises a retry even under a new key.
TEST_F(PaymentsTest, TransferIdRecognisesRetries) {
  const auto [streamer, stream_id] = live_streamer();
  const TestUser fan = register_and_login(http(), "pay_fan");
  fund(fan, 1000);
  auto body = donation(stream_id, 100);
  body["transfer_id"] = "6f1c1c8e-2b7a-4c55-9d43-5a0b9f0e1a11";
  auto first = http().post_json("/live/donate", body, with_key(fan, new_key()));
  ASSERT_EQ(first.status, 201) << first;
  auto again = http().post_json("/live/donate", body, with_key(fan, new_key()));
  EXPECT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.json().at("id"), first.json().at("id"));
  EXPECT_EQ(balance(fan), 900);
}

TEST_F(PaymentsTest, DonationRules) {
  const auto [streamer, stream_id] = live_streamer();
  const TestUser fan = register_and_login(http(), "pay_fan");
  fund(fan, 1000);
  fund(streamer, 1000);
  auto own = http().post_json("/live/donate", donation(stream_id, 100), with_key(streamer, new_key()));
  EXPECT_EQ(own.status, 403) << own;
  auto long_message = http().post_json("/live/donate", donation(stream_id, 100, std::string(201, 'x')),
                                       with_key(fan, new_key()));
  EXPECT_EQ(long_message.status, 422) << long_message;
  auto fractional = donation(stream_id, 1);
  fractional["amount"] = 1.5;
  auto fraction = http().post_json("/live/donate", fractional, with_key(fan, new_key()));
  EXPECT_EQ(fraction.status, 422) << fraction;
  stack().db.exec("UPDATE streams SET status = 'stopped' WHERE id = '" + stream_id + "'");
  auto stopped = http().post_json("/live/donate", donation(stream_id, 100), with_key(fan, new_key()));
  EXPECT_EQ(stopped.status, 409) << stopped;
  EXPECT_EQ(stopped.json().value("reason", ""), "stream_not_live");
  EXPECT_EQ(balance(fan), 1000);

  // The donation reached the streamer's notifications and the history of both.
  stack().db.exec("UPDATE streams SET status = 'active' WHERE id = '" + stream_id + "'");
  auto done = http().post_json("/live/donate", donation(stream_id, 250, "hello"), with_key(fan, new_key()));
  ASSERT_EQ(done.status, 201) << done;
  auto notes = http().get("/notifications", streamer.auth());
  bool notified = false;
  const auto notes_body = notes.json();
  for (const auto& n : notes_body.at("notifications"))
    if (n.at("type") == "donation" && n.at("data").at("transaction_id") == done.json().at("id")) notified = true;
  EXPECT_TRUE(notified) << notes;
  auto history = http().get("/payments/transactions?limit=1", fan.auth());
  ASSERT_EQ(history.status, 200) << history;
  const auto history_body = history.json();
  const auto& newest = history_body.at("transactions").at(0);
  EXPECT_EQ(newest.at("id"), done.json().at("id"));
  EXPECT_EQ(newest.at("direction"), "out");
  const std::string cursor = history_body.at("next_cursor");
  auto older = http().get("/payments/transactions?limit=1&cursor=" + cursor, fan.auth());
  ASSERT_EQ(older.status, 200) << older;
  EXPECT_EQ(older.json().at("transactions").at(0).at("kind"), "topup");
}

// Acceptance 3: a signed webhook credits once however often it is delivered; a bad signature,
// a stale timestamp or a replayed capture changes nothing.
TEST_F(PaymentsTest, WebhooksCreditOnce) {
  const TestUser fan = register_and_login(http(), "pay_fan");
  auto topup = http().post_json("/payments/topup", {{"amount", 1234}, {"currency", "USD"}, {"provider", "sandbox"}},
                                with_key(fan, new_key()));
  ASSERT_EQ(topup.status, 201) << topup;
  EXPECT_EQ(topup.json().at("status"), "pending");
  EXPECT_NE(topup.json().at("checkout_url").get<std::string>().find("/payments/sandbox/checkout/"), std::string::npos);
  EXPECT_EQ(balance(fan), 0) << "nothing is credited before the provider confirms";

  const std::string topup_id = topup.json().at("id");
  const std::string body = nlohmann::json{{"id", "evt_test_" + topup_id},
                                          {"type", "checkout.succeeded"},
                                          {"data", {{"topup_id", topup_id}, {"amount", 1234}, {"currency", "USD"}}}}
                               .dump();
  auto deliver = [&](const std::string& signature, const std::string& payload) {
    return http().request("POST", "/payments/webhook/sandbox", payload,
                          {{"Content-Type", "application/json"}, {"Reelhub-Sandbox-Signature", signature}});
  };
  const std::int64_t now = unix_now();
  // Refused deliveries first: none may credit.
  EXPECT_EQ(deliver(payments::sign_webhook("not-the-secret", now, body), body).status, 400);
  EXPECT_EQ(deliver(payments::sign_webhook(kSandboxSecret, now - 3600, body), body).status, 400) << "stale";
  EXPECT_EQ(deliver("t=" + std::to_string(now), body).status, 400) << "no v1";
  std::string tampered = body;
  tampered.replace(tampered.find("1234"), 4, "9999");
  EXPECT_EQ(deliver(payments::sign_webhook(kSandboxSecret, now, body), tampered).status, 400) << "body changed";
  EXPECT_EQ(balance(fan), 0);

  const std::string signature = payments::sign_webhook(kSandboxSecret, now, body);
  for (int i = 0; i < 3; ++i) {
    auto res = deliver(signature, body);
    ASSERT_EQ(res.status, 200) << res;
    EXPECT_EQ(res.json().at("result"), i == 0 ? "credited" : "duplicate") << res;
  }
  EXPECT_EQ(balance(fan), 1234);
  // The tester's own approval afterwards is another event, but the top-up is settled already.
  auto late = http().post_json("/payments/sandbox/checkout/" + topup_id + "/approve", nlohmann::json::object());
  EXPECT_EQ(late.json().at("result"), "ignored") << late;
  EXPECT_EQ(balance(fan), 1234);

  // Unknown events are acknowledged and ignored.
  const std::string unknown = R"({"id":"evt_unknown_1","type":"customer.created","data":{}})";
  auto ignored = deliver(payments::sign_webhook(kSandboxSecret, now, unknown), unknown);
  EXPECT_EQ(ignored.status, 200) << ignored;
  EXPECT_EQ(ignored.json().at("result"), "ignored");
  EXPECT_EQ(http().request("POST", "/payments/webhook/nope", body, {}).status, 404);

  // A declined checkout credits nothing.
  auto declined_topup = http().post_json("/payments/topup", {{"amount", 500}, {"currency", "USD"}, {"provider", "sandbox"}},
                                         with_key(fan, new_key()));
  ASSERT_EQ(declined_topup.status, 201) << declined_topup;
  auto declined = http().post_json(
      "/payments/sandbox/checkout/" + declined_topup.json().at("id").get<std::string>() + "/decline", nlohmann::json::object());
  EXPECT_EQ(declined.json().at("result"), "declined") << declined;
  EXPECT_EQ(balance(fan), 1234);
}

// Acceptance 5: a refund reverses the earnings and the fee; more than the original is refused.
TEST_F(PaymentsTest, RefundsReverseEarningsAndFee) {
  const auto [streamer, stream_id] = live_streamer();
  const TestUser fan = register_and_login(http(), "pay_fan");
  fund(fan, 1000);
  const std::int64_t fees_before = platform_fees();
  auto donated = http().post_json("/live/donate", donation(stream_id, 1000), with_key(fan, new_key()));
  ASSERT_EQ(donated.status, 201) << donated;
  const std::string id = donated.json().at("id");
  EXPECT_EQ(donated.json().at("fee"), 100);
  EXPECT_EQ(balance(streamer, "earnings"), 900);
  EXPECT_EQ(platform_fees() - fees_before, 100);

  // The donor may not refund; a stranger does not even see it.
  EXPECT_EQ(http().post_json("/payments/refund", {{"transaction_id", id}, {"reason", "mine"}}, with_key(fan, new_key())).status,
            403);
  const TestUser stranger = register_and_login(http(), "pay_str");
  EXPECT_EQ(http()
                .post_json("/payments/refund", {{"transaction_id", id}, {"reason", "x"}}, with_key(stranger, new_key()))
                .status,
            404);

  auto partial = http().post_json("/payments/refund", {{"transaction_id", id}, {"amount", 400}, {"reason", "oops"}},
                                  with_key(streamer, new_key()));
  ASSERT_EQ(partial.status, 201) << partial;
  EXPECT_EQ(partial.json().at("reverses"), id);
  EXPECT_EQ(partial.json().at("fee"), 40);
  EXPECT_EQ(balance(fan), 400);
  EXPECT_EQ(balance(streamer, "earnings"), 540);
  EXPECT_EQ(platform_fees() - fees_before, 60);

  auto over = http().post_json("/payments/refund", {{"transaction_id", id}, {"amount", 601}, {"reason", "too much"}},
                               with_key(streamer, new_key()));
  EXPECT_EQ(over.status, 409) << over;
  EXPECT_EQ(over.json().value("reason", ""), "refund_exceeds_remaining");

  // An admin refunds the rest (no amount = the remainder), at any age.
  TestUser admin = register_and_login(http(), "pay_admin");
  stack().db.exec("UPDATE users SET role = 'admin' WHERE id = " + std::to_string(admin.id));
  log_in(http(), admin);
  stack().db.exec("UPDATE payment_transactions SET created_at = now() - interval '30 days' WHERE id = '" + id + "'");
  EXPECT_EQ(http().post_json("/payments/refund", {{"transaction_id", id}, {"reason", "late"}}, with_key(streamer, new_key()))
                .status,
            403)
      << "the streamer's window has passed";
  auto rest = http().post_json("/payments/refund", {{"transaction_id", id}, {"reason", "chargeback"}}, with_key(admin, new_key()));
  ASSERT_EQ(rest.status, 201) << rest;
  EXPECT_EQ(rest.json().at("amount"), 600);
  EXPECT_EQ(balance(fan), 1000);
  EXPECT_EQ(balance(streamer, "earnings"), 0);
  EXPECT_EQ(platform_fees(), fees_before);
  EXPECT_EQ(http().post_json("/payments/refund", {{"transaction_id", id}, {"amount", 1}, {"reason", "again"}},
                             with_key(admin, new_key()))
                .status,
            409);
}

// The Stripe adapter against the stand-in: a Checkout Session created with Stripe's parameters
// and its own Idempotency-Key; the top-up is credited by a `checkout.session.completed` event
// signed in the Stripe-Signature scheme, once.
TEST_F(PaymentsTest, StripeCheckoutAndWebhook) {
  const TestUser fan = register_and_login(http(), "pay_fan");
  const std::string key = new_key();
  const nlohmann::json request = {{"amount", 1500}, {"currency", "EUR"}, {"provider", "stripe"}};
  auto topup = http().post_json("/payments/topup", request, with_key(fan, key));
  ASSERT_EQ(topup.status, 201) << topup;
  const std::string topup_id = topup.json().at("id");
  EXPECT_EQ(topup.json().at("checkout_url"), "https://checkout.stripe.com/c/pay/cs_test_1");
  EXPECT_EQ(http().post_json("/payments/topup", request, with_key(fan, key)).header("Idempotent-Replayed"), "true");

  const auto seen = stripe_->seen();
  ASSERT_EQ(seen.size(), 1u) << "a replayed top-up does not call Stripe again";
  EXPECT_EQ(seen[0].idempotency_key, "topup-" + topup_id);
  EXPECT_EQ(seen[0].content_type, "application/x-www-form-urlencoded");
  for (const std::string& field : std::vector<std::string>{"mode=payment", "client_reference_id=" + topup_id,
                                  "line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=eur",
                                  "line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=1500",
                                  "line_items%5B0%5D%5Bquantity%5D=1"}) {
    EXPECT_NE(seen[0].body.find(field), std::string::npos) << field << " in " << seen[0].body;
  }

  const std::string event = stripe_event("evt_stripe_" + topup_id, "checkout.session.completed", topup_id, 1500, "paid");
  auto deliver = [&](const std::string& signature) { return deliver_stripe(event, signature); };
  const std::int64_t now = unix_now();
  EXPECT_EQ(deliver(payments::sign_webhook(kStripeWebhookSecret, now - 301, event)).status, 400) << "stale";
  EXPECT_EQ(deliver(payments::sign_webhook(kSandboxSecret, now, event)).status, 400) << "another secret";
  EXPECT_EQ(balance(fan, "wallet", "EUR"), 0);
  for (int i = 0; i < 3; ++i) {
    auto res = deliver(payments::sign_webhook(kStripeWebhookSecret, now, event));
    ASSERT_EQ(res.status, 200) << res;
    EXPECT_EQ(res.json().at("result"), i == 0 ? "credited" : "duplicate");
  }
  EXPECT_EQ(balance(fan, "wallet", "EUR"), 1500);
}

// Stripe failing to create the session (a 500, which Stripe saves under its idempotency key) is
// a 503 that leaves nothing behind: no top-up, no stored answer, so the client's retry with the
// same key opens a new top-up under a new Stripe idempotency key.
TEST_F(PaymentsTest, StripeOutageLeavesNoTopup) {
  const TestUser fan = register_and_login(http(), "pay_fan");
  const std::string key = new_key();
  const nlohmann::json request = {{"amount", 800}, {"currency", "EUR"}, {"provider", "stripe"}};
  const std::size_t calls_before = stripe_->seen().size();
  stripe_->fail_next();
  auto failed = http().post_json("/payments/topup", request, with_key(fan, key));
  EXPECT_TRUE(is_api_error(failed, 503)) << failed;
  EXPECT_FALSE(failed.header("Retry-After").empty()) << failed;
  const std::string topups = "SELECT count(*) FROM payment_topups WHERE user_id = " + std::to_string(fan.id);
  EXPECT_EQ(stack().db.scalar(topups), "0");

  auto retried = http().post_json("/payments/topup", request, with_key(fan, key));
  ASSERT_EQ(retried.status, 201) << retried;
  EXPECT_FALSE(retried.has_header("Idempotent-Replayed"));
  EXPECT_EQ(stack().db.scalar(topups), "1");
  const auto seen = stripe_->seen();
  ASSERT_EQ(seen.size(), calls_before + 2);
  EXPECT_EQ(seen.back().idempotency_key, "topup-" + retried.json().at("id").get<std::string>());
  EXPECT_NE(seen[calls_before].idempotency_key, seen.back().idempotency_key);
}

// A session completed with a delayed payment method is not paid yet: it credits nothing until
// `checkout.session.async_payment_succeeded`; an expired session fails its top-up.
TEST_F(PaymentsTest, StripeDelayedPaymentCreditsOnItsAsyncEvent) {
  const TestUser fan = register_and_login(http(), "pay_fan");
  auto open_topup = [&](std::int64_t amount) {
    auto topup = http().post_json("/payments/topup", {{"amount", amount}, {"currency", "EUR"}, {"provider", "stripe"}},
                                  with_key(fan, new_key()));
    EXPECT_EQ(topup.status, 201) << topup;
    return topup.json().at("id").get<std::string>();
  };
  const std::string delayed = open_topup(2000);
  const std::int64_t now = unix_now();
  auto deliver = [&](const std::string& event) {
    auto res = deliver_stripe(event, payments::sign_webhook(kStripeWebhookSecret, now, event));
    EXPECT_EQ(res.status, 200) << res;
    return res.json().value("result", "");
  };
  EXPECT_EQ(deliver(stripe_event("evt_c_" + delayed, "checkout.session.completed", delayed, 2000, "unpaid")), "ignored");
  EXPECT_EQ(balance(fan, "wallet", "EUR"), 0);
  const std::string paid = stripe_event("evt_a_" + delayed, "checkout.session.async_payment_succeeded", delayed, 2000, "paid");
  EXPECT_EQ(deliver(paid), "credited");
  EXPECT_EQ(deliver(paid), "duplicate");
  EXPECT_EQ(balance(fan, "wallet", "EUR"), 2000);

  const std::string expired = open_topup(700);
  EXPECT_EQ(deliver(stripe_event("evt_e_" + expired, "checkout.session.expired", expired, 700, "unpaid")), "declined");
  EXPECT_EQ(stack().db.scalar("SELECT status FROM payment_topups WHERE id = '" + expired + "'"), "failed");
  // A paid event for a failed top-up is ignored: it was settled already.
  EXPECT_EQ(deliver(stripe_event("evt_late_" + expired, "checkout.session.async_payment_succeeded", expired, 700, "paid")),
            "ignored");
  EXPECT_EQ(balance(fan, "wallet", "EUR"), 2000);
}

// The payments metrics on /metrics: a donation counts its transfers and amounts by kind and
// currency, a replayed key counts as an idempotent replay, a refused webhook by its verdict.
TEST_F(PaymentsTest, MetricsCountTransfersReplaysAndWebhookVerdicts) {
  const auto [streamer, stream_id] = live_streamer();
  const TestUser fan = register_and_login(http(), "pay_fan");
  fund(fan, 1000);
  const auto metric = [](const std::string& name, const std::vector<std::string>& labels) {
    return std::max(0.0, metric_sample(http().get("/metrics").body, name, labels));
  };
  const std::vector<std::string> donation_usd{"kind=\"donation\"", "currency=\"USD\""};
  const std::vector<std::string> fee_usd{"kind=\"fee\"", "currency=\"USD\""};
  const std::vector<std::string> replays{"operation=\"donate\""};
  const std::vector<std::string> bad_signature{"provider=\"sandbox\"", "verdict=\"bad_signature\""};
  const double donations = metric("reelhub_payments_transfers_total", donation_usd);
  const double donated = metric("reelhub_payments_transfer_amount_minor_total", donation_usd);
  const double fees = metric("reelhub_payments_transfers_total", fee_usd);
  const double fee_amount = metric("reelhub_payments_transfer_amount_minor_total", fee_usd);
  const double replayed = metric("reelhub_payments_idempotent_replays_total", replays);
  const double refused = metric("reelhub_payments_webhooks_total", bad_signature);
  const std::string page = http().get("/metrics").body;
  for (const char* name : {"reelhub_payments_transfers_total", "reelhub_payments_transfer_amount_minor_total",
                           "reelhub_payments_idempotent_replays_total", "reelhub_payments_webhooks_total"}) {
    EXPECT_NE(page.find(std::string("# TYPE ") + name + " counter"), std::string::npos) << name << " in " << page;
  }

  const std::string key = new_key();
  ASSERT_EQ(http().post_json("/live/donate", donation(stream_id, 500), with_key(fan, key)).status, 201);
  EXPECT_EQ(metric("reelhub_payments_transfers_total", donation_usd), donations + 1);
  EXPECT_EQ(metric("reelhub_payments_transfer_amount_minor_total", donation_usd), donated + 450);
  EXPECT_EQ(metric("reelhub_payments_transfers_total", fee_usd), fees + 1);
  EXPECT_EQ(metric("reelhub_payments_transfer_amount_minor_total", fee_usd), fee_amount + 50);

  auto replay = http().post_json("/live/donate", donation(stream_id, 500), with_key(fan, key));
  ASSERT_EQ(replay.header("Idempotent-Replayed"), "true") << replay;
  EXPECT_EQ(metric("reelhub_payments_idempotent_replays_total", replays), replayed + 1);
  EXPECT_EQ(metric("reelhub_payments_transfers_total", donation_usd), donations + 1) << "a replay moves nothing";

  const std::string event = R"({"id":"evt_metrics","type":"checkout.succeeded","data":{}})";
  auto rejected = http().request("POST", "/payments/webhook/sandbox", event,
                                 {{"Content-Type", "application/json"},
                                  {"Reelhub-Sandbox-Signature", payments::sign_webhook("wrong", unix_now(), event)}});
  ASSERT_EQ(rejected.status, 400) << rejected;
  EXPECT_EQ(metric("reelhub_payments_webhooks_total", bad_signature), refused + 1);
}

TEST_F(PaymentsTest, ProvidersAndMaskedPayoutAccount) {
  const TestUser streamer = register_and_login(http(), "pay_streamer", "streamer");
  auto connected = http().post_json("/payments/connect", {{"provider", "sandbox"}, {"account", "acct_1234567890"}},
                                    streamer.auth());
  ASSERT_EQ(connected.status, 200) << connected;
  EXPECT_EQ(connected.json().at("account"), "••••7890");
  auto providers = http().get("/payments/providers", streamer.auth());
  ASSERT_EQ(providers.status, 200) << providers;
  const auto providers_body = providers.json();
  const auto& sandbox = providers_body.at("providers").at(0);  // sorted by name: sandbox, stripe
  EXPECT_EQ(sandbox.at("name"), "sandbox");
  EXPECT_EQ(sandbox.at("connected_account"), "••••7890");
  EXPECT_EQ(providers.body.find("1234567890"), std::string::npos) << "the account is never shown whole";
  const TestUser viewer = register_and_login(http(), "pay_view");
  EXPECT_EQ(http().post_json("/payments/connect", {{"provider", "sandbox"}, {"account", "acct_1"}}, viewer.auth()).status, 403);
  EXPECT_EQ(http()
                .post_json("/payments/connect", {{"provider", "paypal"}, {"account", "acct_12345"}}, streamer.auth())
                .status,
            422);
}

// Acceptance 4: SIGKILL during a donation burst. After the restart every balance equals its
// committed postings, no key points at a half-done operation, and retrying every key whose
// answer was lost moves each donation exactly once.
TEST(PaymentsCrashTest, KillDuringDonationBurst) {
  TestDatabase db;
  const auto env = payments_env();
  std::vector<std::string> keys;
  TestUser fan;
  std::string stream_id;
  {
    ServerProcess first(ServerOptions{db.url(), env, std::chrono::seconds(60), std::nullopt});
    const auto http = first.http(std::chrono::seconds(30));
    const TestUser streamer = register_and_login(http, "crash_streamer", "streamer");
    auto created = http.post_json("/api/streams", {{"name", "crash"}}, streamer.auth());
    ASSERT_EQ(created.status, 201) << created;
    stream_id = created.json().at("stream_id");
    db.exec("UPDATE streams SET status = 'active' WHERE id = '" + stream_id + "'");
    fan = register_and_login(http, "crash_fan");
    auto topup = http.post_json("/payments/topup", {{"amount", 100000}, {"currency", "USD"}, {"provider", "sandbox"}},
                                with_key(fan, new_key()));
    ASSERT_EQ(topup.status, 201) << topup;
    ASSERT_EQ(http.post_json("/payments/sandbox/checkout/" + topup.json().at("id").get<std::string>() + "/approve",
                             nlohmann::json::object())
                  .status,
              200);

    constexpr int kClients = 8, kPerClient = 40;
    for (int i = 0; i < kClients * kPerClient; ++i) keys.push_back("crash-" + std::to_string(i));
    std::atomic<int> answered{0}, finished{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        for (int i = 0; i < kPerClient; ++i) {
          try {
            auto res = http.post_json("/live/donate", {{"stream_id", stream_id}, {"amount", 10}, {"currency", "USD"}},
                                      with_key(fan, keys[c * kPerClient + i]));
            if (res.status == 201) ++answered;
          } catch (const std::exception&) {
            break;  // the server is gone
          }
        }
        ++finished;
      });
    }
    // Kill once the burst is well under way: some donations done, many in flight.
    while (answered.load() < 40 && finished.load() < kClients) std::this_thread::yield();
    first.send_signal(SIGKILL);
    for (auto& t : clients) t.join();
    ASSERT_GE(answered.load(), 40) << "the burst ended before the kill";
    EXPECT_EQ(first.wait_exit(std::chrono::seconds(10)), -SIGKILL);
  }
  expect_ledger_consistent(db);
  EXPECT_LT(std::stoul(db.scalar("SELECT count(*) FROM idempotency_keys WHERE key LIKE 'crash-%'")), keys.size())
      << "every donation of the burst committed: the kill did not interrupt it";

  ServerProcess second(ServerOptions{db.url(), env, std::chrono::seconds(60), std::nullopt});
  const auto http = second.http(std::chrono::seconds(30));
  log_in(http, fan);  // each test server signs tokens with its own secret
  // The restart put the publisher-less stream back to waiting; the stand-in publisher returns.
  db.exec("UPDATE streams SET status = 'active' WHERE id = '" + stream_id + "'");
  // Every key retried: a committed one replays, a lost one runs now. Each moves money once.
  for (const auto& key : keys) {
    auto res = http.post_json("/live/donate", {{"stream_id", stream_id}, {"amount", 10}, {"currency", "USD"}},
                              with_key(fan, key));
    ASSERT_EQ(res.status, 201) << res;
  }
  expect_ledger_consistent(db);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM payment_transactions WHERE kind = 'donation'"), std::to_string(keys.size()));
  EXPECT_EQ(db.scalar("SELECT balance FROM ledger_accounts WHERE kind = 'wallet' AND owner_id = " + std::to_string(fan.id)),
            std::to_string(100000 - 10 * static_cast<std::int64_t>(keys.size())));
}

}  // namespace
}  // namespace reelhub::testing
