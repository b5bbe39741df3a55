// ClientAddress: X-Forwarded-For is believed only from our own proxies (nginx real_ip_recursive).

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "reelhub/http/client_address.hpp"

namespace reelhub::http {
namespace {

TEST(ClientAddress, ForwardedForIsBelievedOnlyAsFarAsOurProxiesWroteIt) {
  const ClientAddress client({"10.0.0.0/8", "127.0.0.1", "fd00::/8"});
  const struct {
    const char* peer;
    const char* forwarded_for;
    const char* expected;
  } cases[] = {
      // A client connecting directly cannot pick its address.
      {"203.0.113.9", "1.2.3.4", "203.0.113.9"},
      {"203.0.113.9", "", "203.0.113.9"},
      // From our proxy: the address the proxy saw, not what the client wrote before it.
      {"127.0.0.1", "1.2.3.4", "1.2.3.4"},
      {"127.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"},
      {"10.1.2.3", "6.6.6.6, 1.2.3.4, 10.9.9.9", "1.2.3.4"},  // two proxies of ours in a row
      {"10.1.2.3", " 1.2.3.4 ,10.9.9.9 ", "1.2.3.4"},
      // Only proxies all the way: the leftmost is the best we know.
      {"10.1.2.3", "10.0.0.1, 10.0.0.2", "10.0.0.1"},
      // A malformed hop ends the walk at the last good address.
      {"127.0.0.1", "1.2.3.4, garbage", "127.0.0.1"},
      {"10.1.2.3", "1.2.3.4, nonsense, 10.9.9.9", "10.9.9.9"},
      {"127.0.0.1", "", "127.0.0.1"},
      // IPv6 and IPv4-mapped peers.
      {"fd00::1", "2001:db8::7", "2001:db8::7"},
      {"::ffff:10.0.0.5", "1.2.3.4", "1.2.3.4"},
      {"2001:db8::1", "1.2.3.4", "2001:db8::1"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(client.of(c.peer, c.forwarded_for), c.expected) << c.peer << " / " << c.forwarded_for;
  }
}

TEST(ClientAddress, NoTrustedProxiesMeansThePeerAlways) {
  const ClientAddress client({});
  EXPECT_EQ(client.of("127.0.0.1", "1.2.3.4"), "127.0.0.1");
  EXPECT_FALSE(client.is_trusted("127.0.0.1"));
}

TEST(ClientAddress, BadEntriesAreRefusedByName) {
  for (const std::string bad : {"10.0.0.0/33", "10.0.0.0/", "nonsense", "fd00::/129", "10.0.0.0/8x"}) {
    try {
      ClientAddress client(std::vector<std::string>{bad});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace reelhub::http
