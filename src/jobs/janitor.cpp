#include "reelhub/jobs/janitor.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

namespace reelhub::jobs {

namespace fs = std::filesystem;

namespace {

bool older_than(const fs::directory_entry& entry, std::chrono::seconds max_age) {
  std::error_code ec;
  const auto modified = entry.last_write_time(ec);
  return !ec && fs::file_time_type::clock::now() - modified > max_age;
}

bool remove_entry(const fs::directory_entry& entry) {
  std::error_code ec;
  fs::remove_all(entry.path(), ec);
  if (ec) spdlog::warn("janitor: cannot remove {}: {}", entry.path().string(), ec.message());
  return !ec;
}

}  // namespace

Janitor::Janitor(std::chrono::seconds interval, std::vector<Sweep> sweeps)
    : sweeps_(std::move(sweeps)),
      threads_(RunnerOptions{.name = "janitor", .workers = 1, .nice = 19, .poll_interval = interval},
               [this](const std::stop_token&) {
                 sweep_all();
                 return false;  // then wait for the interval
               },
               {}) {}

std::size_t Janitor::sweep_all() {
  std::size_t total = 0;
  for (const Sweep& sweep : sweeps_) {
    try {
      const std::size_t removed = sweep.run();
      if (removed > 0) spdlog::info("janitor: {}: removed {}", sweep.name, removed);
      total += removed;
    } catch (const std::exception& e) {
      // The database is down or a disk is unreadable: the next round tries again.
      spdlog::warn("janitor: {}: {}", sweep.name, e.what());
    }
  }
  return total;
}

std::size_t remove_stale_entries(const fs::path& dir, std::chrono::seconds max_age,
                                 const std::function<bool(const std::string& name)>& abandoned) {
  std::size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (older_than(entry, max_age) && abandoned(entry.path().filename().string()) && remove_entry(entry)) ++removed;
  }
  return removed;
}

std::size_t remove_stale_temp_files(const fs::path& root, std::chrono::seconds max_age) {
  std::size_t removed = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // ".<name>.<8 random hex digits>", never anything a module names itself.
    const bool temp = name.size() >= 11 && name.front() == '.' && name[name.size() - 9] == '.' &&
                      name.find_first_not_of("0123456789abcdef", name.size() - 8) == std::string::npos;
    if (temp && it->is_regular_file(ec) && older_than(*it, max_age) && remove_entry(*it)) ++removed;
  }
  return removed;
}

}  // namespace reelhub::jobs
