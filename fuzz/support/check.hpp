#pragma once
// What a fuzz target asserts beyond "no crash, no sanitizer report": a broken property aborts,
// which libFuzzer reports like a crash and saves the input.

#include <cstdio>
#include <cstdlib>

namespace reelhub::fuzz {

inline void require(bool property, const char* what) {
  if (property) return;
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();
}

}  // namespace reelhub::fuzz
