// PeerConnections and BodyBudget: the caps the server checks before it reads a request body.

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "reelhub/http/admission.hpp"

namespace reelhub::http {
namespace {

namespace ip = boost::asio::ip;

TEST(PeerConnections, CapsOpenConnectionsPerAddressAndGivesPlacesBack) {
  const ClientAddress proxies({});
  PeerConnections peers(2, proxies);
  const auto a = ip::make_address("203.0.113.9");
  const auto b = ip::make_address("203.0.113.10");
  std::optional<PeerConnections::Slot> first = peers.acquire(a);
  auto second = peers.acquire(a);
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(peers.acquire(a));
  EXPECT_TRUE(peers.acquire(b)) << "another address has its own places";
  EXPECT_EQ(peers.open(a), 2);

  first.reset();
  EXPECT_EQ(peers.open(a), 1);
  auto again = peers.acquire(a);
  EXPECT_TRUE(again);
  EXPECT_EQ(peers.open(a), 2);
}

TEST(PeerConnections, MovedSlotReleasesOnce) {
  const ClientAddress proxies({});
  PeerConnections peers(1, proxies);
  const auto a = ip::make_address("198.51.100.1");
  {
    auto slot = peers.acquire(a);
    ASSERT_TRUE(slot);
    PeerConnections::Slot moved = std::move(*slot);
    EXPECT_EQ(peers.open(a), 1);
  }
  EXPECT_EQ(peers.open(a), 0);
  EXPECT_TRUE(peers.acquire(a));
}

TEST(PeerConnections, CountsAnIpv6SubscriberPerSlash64) {
  const ClientAddress proxies({});
  PeerConnections peers(2, proxies);
  auto one = peers.acquire(ip::make_address("2001:db8:1:2::1"));
  auto two = peers.acquire(ip::make_address("2001:db8:1:2:ffff::9"));
  ASSERT_TRUE(one && two);
  EXPECT_FALSE(peers.acquire(ip::make_address("2001:db8:1:2:abcd::5"))) << "same /64: same subscriber";
  EXPECT_TRUE(peers.acquire(ip::make_address("2001:db8:1:3::1"))) << "the next /64 is someone else";
}

TEST(PeerConnections, CountsAnIpv4MappedPeerAsItsIpv4Address) {
  const ClientAddress proxies({});
  PeerConnections peers(1, proxies);
  auto mapped = peers.acquire(ip::make_address("::ffff:192.0.2.7"));
  ASSERT_TRUE(mapped);
  EXPECT_FALSE(peers.acquire(ip::make_address("192.0.2.7")));
}

TEST(PeerConnections, OurProxiesAreNotCapped) {
  const ClientAddress proxies({"10.0.0.0/8"});
  PeerConnections peers(1, proxies);
  std::vector<PeerConnections::Slot> held;
  for (int i = 0; i < 10; ++i) {
    auto slot = peers.acquire(ip::make_address("10.1.2.3"));
    ASSERT_TRUE(slot);
    held.push_back(std::move(*slot));
  }
  EXPECT_EQ(peers.open(ip::make_address("10.1.2.3")), 0);
}

TEST(BodyBudget, ReservesUpToItsCapacityAndReleasesOnDestruction) {
  BodyBudget budget(100);
  auto sixty = budget.reserve(60);
  ASSERT_TRUE(sixty);
  EXPECT_FALSE(budget.reserve(41));
  auto forty = budget.reserve(40);
  ASSERT_TRUE(forty);
  EXPECT_EQ(budget.in_use(), 100u);
  EXPECT_FALSE(budget.reserve(1));

  sixty.reset();
  EXPECT_EQ(budget.in_use(), 40u);
  BodyBudget::Reservation moved = std::move(*forty);
  forty.reset();
  EXPECT_EQ(budget.in_use(), 40u) << "a moved-from reservation gives nothing back";
}

TEST(BodyBudget, RefusesMoreThanItsCapacityWithoutWrapping) {
  BodyBudget budget(100);
  EXPECT_FALSE(budget.reserve(101));
  auto some = budget.reserve(10);
  ASSERT_TRUE(some);
  EXPECT_FALSE(budget.reserve(static_cast<std::size_t>(-1)));
  EXPECT_EQ(budget.in_use(), 10u);
}

}  // namespace
}  // namespace reelhub::http
