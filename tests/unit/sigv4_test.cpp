// The SigV4 signer against AWS's published vectors: cases of the Signature Version 4 test suite
// (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, region us-east-1, service "service") and the
// S3 examples of "Authenticating Requests (AWS Signature Version 4)" (a header-signed GET Object
// with a Range, and the presigned GET of examplebucket/test.txt).

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "reelhub/storage/sigv4.hpp"

namespace reelhub::storage::sigv4 {
namespace {

using std::chrono::system_clock;

const system_clock::time_point kSuiteTime = system_clock::from_time_t(1440938160);  // 20150830T123600Z
const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
const Scope kSuiteScope{"us-east-1", "service"};
const std::string kSuiteCredential = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

Request suite_request(std::string method) {
  return Request{.method = std::move(method),
                 .path = "/",
                 .query = {},
                 .headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                 .payload_hash = std::string(kEmptyPayloadHash)};
}

TEST(SigV4Suite, GetVanilla) {
  const Request r = suite_request("GET");
  EXPECT_EQ(amz_date(kSuiteTime), "20150830T123600Z");
  EXPECT_EQ(canonical_request(r),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex(canonical_request(r)), "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(authorization(r, kSuite, kSuiteScope, kSuiteTime),
            kSuiteCredential +
                "SignedHeaders=host;x-amz-date, "
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Suite, GetVanillaQueryOrderKeyCase) {
  Request r = suite_request("GET");
  r.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  EXPECT_EQ(sha256_hex(canonical_request(r)), "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  EXPECT_EQ(authorization(r, kSuite, kSuiteScope, kSuiteTime),
            kSuiteCredential +
                "SignedHeaders=host;x-amz-date, "
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Suite, PostVanilla) {
  EXPECT_EQ(authorization(suite_request("POST"), kSuite, kSuiteScope, kSuiteTime),
            kSuiteCredential +
                "SignedHeaders=host;x-amz-date, "
                "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4Suite, PostHeaderValueCase) {
  Request r = suite_request("POST");
  r.headers.emplace_back("My-Header1", "VALUE1");
  EXPECT_EQ(authorization(r, kSuite, kSuiteScope, kSuiteTime),
            kSuiteCredential +
                "SignedHeaders=host;my-header1;x-amz-date, "
                "Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d");
}

TEST(SigV4Suite, GetHeaderKeyDuplicate) {
  Request r = suite_request("GET");
  r.headers.emplace_back("My-Header1", "value2");
  r.headers.emplace_back("My-Header1", "value2");
  r.headers.emplace_back("My-Header1", "value1");
  EXPECT_EQ(authorization(r, kSuite, kSuiteScope, kSuiteTime),
            kSuiteCredential +
                "SignedHeaders=host;my-header1;x-amz-date, "
                "Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");
}

const system_clock::time_point kS3Time = system_clock::from_time_t(1369353600);  // 20130524T000000Z
const Credentials kS3{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
const Scope kS3Scope{"us-east-1", "s3"};

TEST(SigV4S3, GetObjectWithRange) {
  const Request r{.method = "GET",
                  .path = "/test.txt",
                  .query = {},
                  .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                              {"Range", "bytes=0-9"},
                              {"x-amz-content-sha256", std::string(kEmptyPayloadHash)},
                              {"x-amz-date", "20130524T000000Z"}},
                  .payload_hash = std::string(kEmptyPayloadHash)};
  EXPECT_EQ(authorization(r, kS3, kS3Scope, kS3Time),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3, PresignedGetObject) {
  EXPECT_EQ(presigned_query("GET", "/test.txt", "examplebucket.s3.amazonaws.com", kS3, kS3Scope, kS3Time,
                            std::chrono::seconds(86400)),
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
            "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, UriEncodeKeepsOnlyUnreservedAndOptionallySlash) {
  EXPECT_EQ(uri_encode("a b/ü~._-", false), "a%20b/%C3%BC~._-");
  EXPECT_EQ(uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(uri_encode("$+=&", true), "%24%2B%3D%26");
}

}  // namespace
}  // namespace reelhub::storage::sigv4
