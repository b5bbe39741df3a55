#pragma once
// Which address a request comes from when proxies stand in front: nginx's set_real_ip_from +
// real_ip_recursive. X-Forwarded-For is believed only as far as the hops that wrote it are
// proxies of ours, so a client cannot pick the address every per-IP limit keys on.

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

namespace reelhub::http {

class ClientAddress {
 public:
  /// `trusted`: addresses or CIDR blocks of our proxies ("10.0.0.0/8", "127.0.0.1", "fd00::/8").
  /// Throws std::invalid_argument naming an entry that is neither.
  explicit ClientAddress(const std::vector<std::string>& trusted);

  /// The client's address: `peer` itself unless it is a trusted proxy; then X-Forwarded-For is
  /// walked from its right end, skipping trusted proxies, and the first other address is the
  /// client. A malformed entry ends the walk at the last address known good.
  std::string of(const std::string& peer, std::string_view forwarded_for) const;
  bool is_trusted(const std::string& address) const;

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace reelhub::http
