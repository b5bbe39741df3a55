#include "reelhub/http/client_address.hpp"

#include <boost/asio/ip/address.hpp>
#include <stdexcept>

namespace reelhub::http {
namespace {

namespace ip = boost::asio::ip;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

ClientAddress::ClientAddress(const std::vector<std::string>& trusted) {
  for (const std::string& entry : trusted) {
    boost::system::error_code ec;
    const auto slash = entry.find('/');
    const std::string host = entry.substr(0, slash);
    const ip::address address = ip::make_address(host, ec);
    int prefix = address.is_v4() ? 32 : 128;
    if (!ec && slash != std::string::npos) {
      const std::string bits = entry.substr(slash + 1);
      if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos) {
        throw std::invalid_argument("not an address or CIDR block: " + entry);
      }
      prefix = std::stoi(bits);
    }
    if (ec || prefix > (address.is_v4() ? 32 : 128)) throw std::invalid_argument("not an address or CIDR block: " + entry);
    if (address.is_v4()) v4_.push_back(ip::network_v4(address.to_v4(), static_cast<unsigned short>(prefix)).canonical());
    else v6_.push_back(ip::network_v6(address.to_v6(), static_cast<unsigned short>(prefix)).canonical());
  }
}

bool ClientAddress::is_trusted(const std::string& text) const {
  boost::system::error_code ec;
  ip::address address = ip::make_address(text, ec);
  if (ec) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) address = ip::make_address_v4(ip::v4_mapped, address.to_v6());
  if (address.is_v4()) {
    for (const auto& net : v4_)
      if (ip::network_v4(address.to_v4(), net.prefix_length()).canonical() == net) return true;
  } else {
    for (const auto& net : v6_)
      if (ip::network_v6(address.to_v6(), net.prefix_length()).canonical() == net) return true;
  }
  return false;
}

std::string ClientAddress::of(const std::string& peer, std::string_view forwarded_for) const {
  if (!is_trusted(peer)) return peer;
  std::string client = peer;
  while (!forwarded_for.empty()) {
    const auto comma = forwarded_for.rfind(',');
    const std::string_view hop = trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for = comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    boost::system::error_code ec;
    ip::make_address(std::string(hop), ec);
    if (ec) break;
    client = std::string(hop);
    if (!is_trusted(client)) break;
  }
  return client;
}

}  // namespace reelhub::http
