#pragma once
// Blocking work (PostgreSQL, password hashing, media probing) leaves the io threads for a worker
// pool; a caller that waited too long for a worker is answered "busy" rather than run late,
// when its client has most likely given up.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <type_traits>

#include "reelhub/core/error.hpp"

namespace reelhub {

/// Runs `fn()` on `workers` and resumes the caller with its result (or exception). Throws
/// server_busy() without running `fn` when no worker took it up within `wait_limit`.
template <class Fn>
boost::asio::awaitable<std::invoke_result_t<Fn&>> run_blocking(boost::asio::any_io_executor workers,
                                                               std::chrono::milliseconds wait_limit, Fn& fn) {
  using Result = std::invoke_result_t<Fn&>;
  const auto queued = std::chrono::steady_clock::now();
  // Captures by reference only: this frame outlives the call, and GCC 12 double-destroys a
  // co_spawn lambda's by-value captures when it throws.
  co_return co_await boost::asio::co_spawn(
      workers,
      [&]() -> boost::asio::awaitable<Result> {
        if (std::chrono::steady_clock::now() - queued > wait_limit) throw server_busy();
        co_return fn();
      },
      boost::asio::use_awaitable);
}

}  // namespace reelhub
