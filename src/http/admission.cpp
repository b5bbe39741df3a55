#include "reelhub/http/admission.hpp"

#include <boost/asio/ip/network_v6.hpp>

namespace reelhub::http {

namespace ip = boost::asio::ip;

PeerConnections::Slot::Slot(Slot&& other) noexcept : owner_(other.owner_), key_(std::move(other.key_)) {
  other.owner_ = nullptr;
}

PeerConnections::Slot& PeerConnections::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    key_ = std::move(other.key_);
    other.owner_ = nullptr;
  }
  return *this;
}

PeerConnections::Slot::~Slot() { release(); }

void PeerConnections::Slot::release() {
  if (owner_) owner_->release(key_);
  owner_ = nullptr;
}

PeerConnections::PeerConnections(int limit_per_peer, const ClientAddress& proxies)
    : limit_(limit_per_peer), proxies_(proxies) {}

std::string PeerConnections::key_of(const ip::address& peer) {
  if (peer.is_v6() && !peer.to_v6().is_v4_mapped())
    return ip::network_v6(peer.to_v6(), 64).canonical().to_string();
  if (peer.is_v6()) return ip::make_address_v4(ip::v4_mapped, peer.to_v6()).to_string();
  return peer.to_string();
}

std::optional<PeerConnections::Slot> PeerConnections::acquire(const ip::address& peer) {
  if (proxies_.is_trusted(peer.to_string())) return Slot{};
  std::string key = key_of(peer);
  std::lock_guard lock(mutex_);
  int& open = open_[key];
  if (open >= limit_) {
    if (open == 0) open_.erase(key);
    return std::nullopt;
  }
  ++open;
  return Slot{this, std::move(key)};
}

int PeerConnections::open(const ip::address& peer) const {
  std::lock_guard lock(mutex_);
  const auto it = open_.find(key_of(peer));
  return it == open_.end() ? 0 : it->second;
}

void PeerConnections::release(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = open_.find(key);
  if (it != open_.end() && --it->second <= 0) open_.erase(it);  // the map holds only peers with connections
}

BodyBudget::Reservation::Reservation(Reservation&& other) noexcept : owner_(other.owner_), bytes_(other.bytes_) {
  other.owner_ = nullptr;
}

BodyBudget::Reservation& BodyBudget::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    bytes_ = other.bytes_;
    other.owner_ = nullptr;
  }
  return *this;
}

BodyBudget::Reservation::~Reservation() { release(); }

void BodyBudget::Reservation::release() {
  if (owner_) owner_->used_ -= bytes_;
  owner_ = nullptr;
}

std::optional<BodyBudget::Reservation> BodyBudget::reserve(std::size_t bytes) {
  std::size_t used = used_.load();
  do {
    if (bytes > capacity_ || used > capacity_ - bytes) return std::nullopt;
  } while (!used_.compare_exchange_weak(used, used + bytes));
  return Reservation{this, bytes};
}

}  // namespace reelhub::http
