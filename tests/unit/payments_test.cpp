// Pure parts of the payments module: webhook signatures in Stripe's t=/v1= scheme, the
// Idempotency-Key request digest, and masking of payout accounts.

#include <gtest/gtest.h>

#include "modules/payments/dto.hpp"
#include "modules/payments/idempotency.hpp"
#include "modules/payments/providers/signature.hpp"

namespace reelhub::payments {
namespace {

constexpr const char* kSecret = "whsec_test";
constexpr std::int64_t kNow = 1'700'000'000;

TEST(WebhookSignature, HmacMatchesRfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookSignature, VerifiesItsOwnSignature) {
  const std::string body = R"({"id":"evt_1"})";
  const std::string header = sign_webhook(kSecret, kNow, body);
  EXPECT_EQ(header.rfind("t=1700000000,v1=", 0), 0u) << header;
  EXPECT_EQ(verify_webhook(header, kSecret, body, kNow, 300), SignatureVerdict::valid);
  EXPECT_EQ(verify_webhook(header, kSecret, body, kNow + 300, 300), SignatureVerdict::valid);
}

TEST(WebhookSignature, RefusesWhatDoesNotVerify) {
  const std::string body = R"({"id":"evt_1"})";
  const std::string header = sign_webhook(kSecret, kNow, body);
  EXPECT_EQ(verify_webhook(header, "other", body, kNow, 300), SignatureVerdict::bad_signature);
  EXPECT_EQ(verify_webhook(header, kSecret, body + " ", kNow, 300), SignatureVerdict::bad_signature);
  EXPECT_EQ(verify_webhook(header, kSecret, body, kNow + 301, 300), SignatureVerdict::stale);
  EXPECT_EQ(verify_webhook(header, kSecret, body, kNow - 301, 300), SignatureVerdict::stale);
  EXPECT_EQ(verify_webhook("", kSecret, body, kNow, 300), SignatureVerdict::malformed);
  EXPECT_EQ(verify_webhook("t=abc,v1=00", kSecret, body, kNow, 300), SignatureVerdict::malformed);
  EXPECT_EQ(verify_webhook("t=1700000000", kSecret, body, kNow, 300), SignatureVerdict::malformed);
}

TEST(WebhookSignature, AnyV1EntryMayMatchWhileASecretRotates) {
  const std::string body = "{}";
  const std::string good = sign_webhook(kSecret, kNow, body);
  const std::string header = "t=1700000000,v1=" + std::string(64, '0') + "," + good.substr(good.find("v1=")) + ",v0=zz";
  EXPECT_EQ(verify_webhook(header, kSecret, body, kNow, 300), SignatureVerdict::valid);
}

TEST(IdempotencyDigest, KeyOrderAndSpacingDoNotMatterButContentDoes) {
  const auto a = nlohmann::json::parse(R"({"amount": 100, "currency": "USD"})");
  const auto b = nlohmann::json::parse(R"({"currency":"USD","amount":100})");
  const auto c = nlohmann::json::parse(R"({"currency":"USD","amount":101})");
  EXPECT_EQ(request_digest("POST", "/live/donate", a), request_digest("POST", "/live/donate", b));
  EXPECT_NE(request_digest("POST", "/live/donate", a), request_digest("POST", "/live/donate", c));
  EXPECT_NE(request_digest("POST", "/live/donate", a), request_digest("POST", "/payments/topup", a));
}

TEST(PayoutAccount, MaskedToItsLastFour) {
  EXPECT_EQ(mask_account("acct_1234567890"), "••••7890");
  EXPECT_EQ(mask_account("1234567"), "••••") << "too short to show any of it";
}

}  // namespace
}  // namespace reelhub::payments
