#pragma once
// What the server lets in before it spends memory on a client: a bounded number of open
// connections per client address, and a global budget for request bodies held in memory.
// Both are checked before a byte of a body is read, so neither many sockets from one host nor
// many large bodies at once can grow the process without bound.

#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>

#include "reelhub/http/client_address.hpp"

namespace reelhub::http {

/// Open connections per peer. IPv6 peers are counted per /64, the block one subscriber gets,
/// so walking through its 2^64 addresses gains nothing. Our trusted proxies are not counted:
/// every client behind them shares their address.
class PeerConnections {
 public:
  /// Holds one connection's place; gives it back when destroyed.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();

   private:
    friend class PeerConnections;
    Slot(PeerConnections* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    void release();
    PeerConnections* owner_ = nullptr;
    std::string key_;
  };

  PeerConnections(int limit_per_peer, const ClientAddress& proxies);

  /// A slot for one more connection from `peer`, or nothing when it has `limit_per_peer` open.
  std::optional<Slot> acquire(const boost::asio::ip::address& peer);
  /// Connections counted for `peer` now (its /64 for IPv6).
  int open(const boost::asio::ip::address& peer) const;

 private:
  static std::string key_of(const boost::asio::ip::address& peer);
  void release(const std::string& key);

  const int limit_;
  const ClientAddress& proxies_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int> open_;
};

/// Bytes of request bodies being read into memory, across all connections.
class BodyBudget {
 public:
  /// Holds `bytes` of the budget; gives them back when destroyed.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation();

   private:
    friend class BodyBudget;
    Reservation(BodyBudget* owner, std::size_t bytes) : owner_(owner), bytes_(bytes) {}
    void release();
    BodyBudget* owner_ = nullptr;
    std::size_t bytes_ = 0;
  };

  explicit BodyBudget(std::size_t capacity) : capacity_(capacity) {}

  /// `bytes` of the budget, or nothing when that would exceed the capacity.
  std::optional<Reservation> reserve(std::size_t bytes);
  std::size_t in_use() const { return used_.load(); }

 private:
  const std::size_t capacity_;
  std::atomic<std::size_t> used_{0};
};

}  // namespace reelhub::http
