#pragma once
// Sweeps what crashes and failed cleanups leave behind: upload bodies of a killed process, files
// half-written when it died, directories whose row was never committed or was deleted while their
// removal failed, sessions long expired. Each owner of such leftovers (a module, the app) hands
// the janitor a sweep; the janitor runs them all on one low-priority thread at an interval.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "reelhub/jobs/runner.hpp"

namespace reelhub::jobs {

/// One kind of leftover: `run` removes what it finds and says how many things it removed.
struct Sweep {
  std::string name;
  std::function<std::size_t()> run;
};

class Janitor {
 public:
  Janitor(std::chrono::seconds interval, std::vector<Sweep> sweeps);

  /// Sweeps once at once, then every interval, until stop().
  void start() { threads_.start(); }
  void stop() { threads_.stop(); }
  /// Runs every sweep once on the calling thread; a sweep that throws is logged and skipped.
  /// Returns how many things were removed in all.
  std::size_t sweep_all();

 private:
  std::vector<Sweep> sweeps_;
  WorkerThreads threads_;  // last: its thread stops before the sweeps it calls are destroyed
};

/// Removes the entries of `dir` (files, or whole directories) last modified more than `max_age`
/// ago for which `abandoned(name)` holds; a missing `dir` has none. Returns how many it removed.
std::size_t remove_stale_entries(const std::filesystem::path& dir, std::chrono::seconds max_age,
                                 const std::function<bool(const std::string& name)>& abandoned);

/// Removes, anywhere under `root`, the hidden temporary files of write_file_atomically()
/// (".<name>.<random>") older than `max_age`: a process died between writing and renaming them.
std::size_t remove_stale_temp_files(const std::filesystem::path& root, std::chrono::seconds max_age);

}  // namespace reelhub::jobs
