#include "files.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace reelhub::videos {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSource = "source";
constexpr const char* kMaster = "master.m3u8";

}  // namespace

VideoFiles::VideoFiles(storage::ObjectStore& store, const fs::path& media_root)
    : store_(store),
      videos_dir_(media_root / "videos"),
      // The local backend's objects are files under the same media_root.
      in_place_(store.local_file("videos").has_value()) {}

std::string VideoFiles::key(const std::string& id, const std::string& name) { return "videos/" + id + "/" + name; }

fs::path VideoFiles::work_dir(const std::string& id) const { return videos_dir_ / id; }

void VideoFiles::keep_source(const std::string& id, const fs::path& upload) {
  if (!in_place_) {
    store_.put_file(key(id, kSource), upload);
    return;
  }
  const fs::path dir = work_dir(id);
  try {
    fs::create_directories(dir);
    fs::rename(upload, dir / kSource);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    throw;
  }
}

bool VideoFiles::fetch_source(const std::string& id) {
  const fs::path source = work_dir(id) / kSource;
  if (fs::exists(source)) return true;
  if (in_place_ || !store_.head(key(id, kSource))) return false;
  fs::create_directories(work_dir(id));
  const fs::path partial = work_dir(id) / ".source.part";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    store_.get(key(id, kSource), out);
    out.flush();
    if (!out) throw std::runtime_error("could not write " + partial.string());
  }
  fs::rename(partial, source);
  return true;
}

void VideoFiles::publish(const std::string& id) {
  if (in_place_) return;
  const fs::path dir = work_dir(id);
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const fs::path relative = entry.path().lexically_relative(dir);
    if (relative != kSource && relative != kMaster) files.push_back(relative);
  }
  // The master last: until it is stored, players find no ladder (as with the local backend).
  files.emplace_back(kMaster);
  for (const fs::path& relative : files) store_.put_file(key(id, relative.generic_string()), dir / relative);
}

void VideoFiles::drop_source(const std::string& id) {
  std::error_code ignored;
  if (in_place_) {
    fs::remove(work_dir(id) / kSource, ignored);
    return;
  }
  fs::remove_all(work_dir(id), ignored);
  try {
    store_.remove(key(id, kSource));
  } catch (const std::exception& e) {
    spdlog::warn("video {}: its stored source could not be removed: {}", id, e.what());
  }
}

void VideoFiles::drop_work(const std::string& id) {
  if (in_place_) return;
  std::error_code ignored;
  fs::remove_all(work_dir(id), ignored);
}

bool VideoFiles::has_master(const std::string& id) const {
  if (const auto file = store_.local_file(key(id, kMaster))) {
    std::error_code ignored;
    return fs::is_regular_file(*file, ignored);
  }
  return store_.head(key(id, kMaster)).has_value();
}

void VideoFiles::remove(const std::string& id) {
  std::error_code ignored;
  fs::remove_all(work_dir(id), ignored);
  if (in_place_) return;
  try {
    storage::remove_prefix(store_, "videos/" + id + "/");
  } catch (const std::exception& e) {
    spdlog::warn("video {}: its stored objects could not be removed: {}", id, e.what());
  }
}

}  // namespace reelhub::videos
