// What the benchmark programs share: one clock, the resident memory and CPU time of a process from
// /proc, waiting for a condition, percentiles, and `--name value` arguments.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace reelhub::bench {

/// The steady clock in nanoseconds: both ends of a latency are taken in one process.
inline std::uint64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// VmRSS of `pid` in KiB.
inline long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

/// utime + stime of `pid` (all its threads) in seconds.
inline double cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3,
  // utime field 14, stime field 15.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("no /proc stat for pid " + std::to_string(pid));
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// Waits until `done()` or `limit` passes; false on timeout.
template <class Fn>
bool wait_for(Fn&& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

/// The p-th (0..1) percentile of nanosecond samples, in milliseconds; reorders `v`.
inline double percentile_ms(std::vector<std::uint64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1e6;
}

/// `--name value` pairs of the command line.
class Args {
 public:
  Args(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; i += 2) values_[argv[i]] = argv[i + 1];
  }

  /// Sets `field` to the number given as `name`, if it was given.
  template <class T>
  void number(const char* name, T& field) const {
    if (auto it = values_.find(name); it != values_.end()) field = static_cast<T>(std::stoll(it->second));
  }

  /// The text given as `name`, or empty.
  std::string text(const char* name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::string() : it->second;
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace reelhub::bench
