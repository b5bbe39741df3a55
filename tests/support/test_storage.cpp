#include "test_storage.hpp"

#include <fstream>
#include <stdexcept>

#include "reelhub/storage/local_store.hpp"
#include "reelhub/storage/s3_store.hpp"

namespace reelhub::testing {

TestStorage::TestStorage(StorageBackend backend) : backend_(backend) {
  if (backend == StorageBackend::s3) s3_ = std::make_unique<S3Server>();
}

std::map<std::string, std::string> TestStorage::server_env() const { return s3_ ? s3_->server_env() : std::map<std::string, std::string>{}; }

std::unique_ptr<storage::ObjectStore> TestStorage::store(const std::filesystem::path& media_root) const {
  if (s3_) return std::make_unique<storage::S3Store>(s3_->options());
  // Presigned URLs are not this store's business: any secret does.
  return std::make_unique<storage::LocalStore>(media_root, storage::UrlSigner("test-storage"), "");
}

std::filesystem::path file_of(storage::ObjectStore& store, const std::string& key,
                              const std::filesystem::path& scratch_dir) {
  if (auto local = store.local_file(key)) {
    if (!std::filesystem::exists(*local)) throw std::runtime_error("no object " + key);
    return *local;
  }
  std::string name = key;
  for (char& c : name) c = c == '/' ? '_' : c;
  const std::filesystem::path copy = scratch_dir / name;
  std::filesystem::create_directories(scratch_dir);
  std::ofstream out(copy, std::ios::binary | std::ios::trunc);
  store.get(key, out);  // throws ApiError(not_found) when absent
  return copy;
}

std::vector<std::string> keys_under(storage::ObjectStore& store, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& object : store.list(prefix, 100000)) out.push_back(object.key.substr(prefix.size()));
  return out;
}

}  // namespace reelhub::testing
