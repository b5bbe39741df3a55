// The storage layer's local backend and its presigned URLs: keys that could leave the root are
// refused, objects are written whole and read by range, and a URL's signature covers its key and
// expiry so that changing any byte of either, or waiting past the expiry, refuses it.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/storage/local_store.hpp"

namespace reelhub::storage {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

TEST(StorageKeys, OnlyPlainSegmentsUnderTheRoot) {
  EXPECT_TRUE(valid_key("files/12/20250906_123456_abc123.txt"));
  EXPECT_TRUE(valid_key("a"));
  for (const char* bad : {"", "/abs", "a//b", "a/", "../x", "a/../b", "a/./b", ".hidden", "a/.tmp", "a\\b", "a b",
                          "a%2Fb", "semi;colon"}) {
    EXPECT_FALSE(valid_key(bad)) << bad;
  }
  EXPECT_FALSE(valid_key(std::string("a\0b", 3)));
  EXPECT_FALSE(valid_key(std::string(513, 'a')));
  EXPECT_THROW(checked_key("../etc/passwd"), ApiError);
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("reelhub-storage-" + random_hex(6));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  LocalStore store() { return LocalStore(dir_ / "root", UrlSigner("secret-of-the-test"), ""); }

  static std::string read(ObjectStore& s, const std::string& key, std::optional<ByteRange> range = std::nullopt) {
    std::ostringstream out;
    s.get(key, out, range);
    return out.str();
  }

  fs::path dir_;
};

TEST_F(LocalStoreTest, PutGetRangeHeadListRemove) {
  LocalStore s = store();
  const ObjectInfo put = s.put_bytes("files/1/a.txt", "hello world");
  EXPECT_EQ(put.size, 11u);
  EXPECT_EQ(put.etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");  // md5("hello world")
  EXPECT_EQ(read(s, "files/1/a.txt"), "hello world");
  EXPECT_EQ(read(s, "files/1/a.txt", ByteRange{.offset = 6, .length = std::nullopt}), "world");
  EXPECT_EQ(read(s, "files/1/a.txt", ByteRange{.offset = 0, .length = 5}), "hello");
  EXPECT_THROW(read(s, "files/1/a.txt", ByteRange{.offset = 11, .length = std::nullopt}), ApiError);

  const fs::path source = dir_ / "source.bin";
  { std::ofstream(source, std::ios::binary) << std::string(200000, 'x'); }
  EXPECT_EQ(s.put_file("files/2/b.txt", source).size, 200000u);
  ASSERT_TRUE(s.head("files/2/b.txt"));
  EXPECT_EQ(s.head("files/2/b.txt")->size, 200000u);
  EXPECT_FALSE(s.head("files/2/none.txt"));

  const auto all = s.list("files/", 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key, "files/1/a.txt");
  EXPECT_EQ(all[1].key, "files/2/b.txt");
  EXPECT_EQ(s.list("files/1", 10).size(), 1u);
  EXPECT_EQ(s.list("files/", 1).size(), 1u);
  EXPECT_TRUE(s.list("other/", 10).empty());

  EXPECT_TRUE(s.remove("files/1/a.txt"));
  EXPECT_FALSE(s.remove("files/1/a.txt"));
  EXPECT_THROW(read(s, "files/1/a.txt"), ApiError);
}

TEST_F(LocalStoreTest, NothingOutsideTheRootEvenThroughASymlink) {
  LocalStore s = store();
  { std::ofstream(dir_ / "secret.txt") << "outside"; }
  EXPECT_THROW(s.path_of("../secret.txt"), ApiError);
  fs::create_directories(dir_ / "root");
  fs::create_directory_symlink(dir_, dir_ / "root" / "escape");
  EXPECT_THROW(s.path_of("escape/secret.txt"), ApiError);
  EXPECT_THROW(read(s, "escape/secret.txt"), ApiError);
  EXPECT_THROW(s.put_bytes("escape/new.txt", "x"), ApiError);
  EXPECT_FALSE(fs::exists(dir_ / "new.txt"));
}

TEST_F(LocalStoreTest, SymlinksThatStayInsideTheRootStillResolve) {
  LocalStore s = store();
  s.put_bytes("videos/a/seg.ts", "inside");
  { std::ofstream(dir_ / "secret.txt") << "outside"; }
  const fs::path videos = dir_ / "root" / "videos";
  fs::create_directory_symlink("a", videos / "relative");     // the kernel's one-call check accepts it
  fs::create_directory_symlink(videos / "a", videos / "absolute");  // it refuses absolute links: the slow check
  fs::create_directory_symlink("../..", videos / "up");        // relative, but out of the root
  EXPECT_EQ(read(s, "videos/relative/seg.ts"), "inside");
  EXPECT_EQ(read(s, "videos/absolute/seg.ts"), "inside");
  EXPECT_THROW(s.path_of("videos/up/secret.txt"), ApiError);
  EXPECT_THROW(read(s, "videos/up/secret.txt"), ApiError);
}

TEST_F(LocalStoreTest, HealthReportsWritableRootAndFreeSpace) {
  LocalStore s = store();
  const StoreHealth h = s.health();
  EXPECT_TRUE(h.reachable) << h.message;
  EXPECT_TRUE(h.free_bytes.has_value());
  EXPECT_TRUE(s.list("", 10).empty()) << "the probe file is gone";
}

/// The query parameter `name` of a signed path.
std::string query_value(const std::string& url, const std::string& name) {
  const auto start = url.find(name + "=") + name.size() + 1;
  return url.substr(start, url.find('&', start) - start);
}

TEST(UrlSigner, SignatureCoversKeyAndExpiryAndExpires) {
  const UrlSigner signer("server-secret");
  const auto now = system_clock::now();
  const auto expires_at = std::chrono::time_point_cast<std::chrono::seconds>(now + std::chrono::seconds(300));
  const std::string url = signer.sign("files/1/a.txt", expires_at);
  EXPECT_TRUE(url.starts_with("/storage/objects/files%2F1%2Fa.txt?expires=")) << url;
  const std::string expires = query_value(url, "expires");
  const std::string signature = query_value(url, "signature");

  EXPECT_EQ(signer.check("files/1/a.txt", expires, signature, now), UrlCheck::valid);
  EXPECT_EQ(signer.check("files/1/a.txt", expires, signature, expires_at), UrlCheck::expired);
  EXPECT_EQ(signer.check("files/1/a.txt", expires, signature, now + std::chrono::hours(1)), UrlCheck::expired);

  for (std::size_t i = 0; i < signature.size(); ++i) {
    std::string changed = signature;
    changed[i] = changed[i] == '0' ? '1' : '0';
    EXPECT_EQ(signer.check("files/1/a.txt", expires, changed, now), UrlCheck::bad_signature) << "byte " << i;
  }
  const std::string key = "files/1/a.txt";
  for (std::size_t i = 0; i < key.size(); ++i) {
    std::string changed = key;
    changed[i] = changed[i] == 'x' ? 'y' : 'x';
    EXPECT_EQ(signer.check(changed, expires, signature, now), UrlCheck::bad_signature) << "byte " << i;
  }
  for (std::size_t i = 0; i < expires.size(); ++i) {
    std::string changed = expires;
    changed[i] = changed[i] == '9' ? '8' : '9';
    EXPECT_EQ(signer.check(key, changed, signature, now), UrlCheck::bad_signature) << "byte " << i;
  }
  EXPECT_EQ(signer.check(key, expires, signature.substr(1), now), UrlCheck::bad_signature);
  EXPECT_EQ(signer.check(key, expires, "", now), UrlCheck::bad_signature);
  EXPECT_EQ(UrlSigner("another-secret").check(key, expires, signature, now), UrlCheck::bad_signature);
}

}  // namespace
}  // namespace reelhub::storage
