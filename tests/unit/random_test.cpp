// unique_hex: request ids drawn without a system call must still be well-formed and distinct,
// within a thread and between threads (each thread's generator has its own seed).

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "reelhub/core/random.hpp"

namespace reelhub {
namespace {

bool is_lower_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

TEST(UniqueHex, HasTwoDigitsPerByteForAnyLength) {
  for (std::size_t bytes : {1u, 7u, 8u, 9u, 16u}) {
    const std::string id = unique_hex(bytes);
    EXPECT_EQ(id.size(), bytes * 2) << bytes;
    EXPECT_TRUE(is_lower_hex(id)) << id;
  }
}

TEST(UniqueHex, NoRepeatsWithinOrAcrossThreads) {
  constexpr int kPerThread = 10000;
  std::vector<std::vector<std::string>> drawn(4);
  std::vector<std::thread> threads;
  for (auto& ids : drawn)
    threads.emplace_back([&ids] {
      for (int i = 0; i < kPerThread; ++i) ids.push_back(unique_hex(8));
    });
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& ids : drawn) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), drawn.size() * kPerThread);
}

}  // namespace
}  // namespace reelhub
