// The files API of seed 001 end to end over HTTP, on each storage backend (issue 12): the local
// one, and S3 against a real S3-protocol server (npm's s3rver).
// Upload -> list -> info -> download through the presigned URL -> delete -> 404 (acceptance 1);
// a presigned URL refused after its expiry and with any byte of its path or signature changed
// (acceptance 2); path tricks and another user's file answered 404 (acceptance 4); seed 001's
// 400s and their bodies.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "expectations.hpp"
#include "reelhub/storage/sigv4.hpp"
#include "reelhub/storage/url_signer.hpp"
#include "s3_server.hpp"
#include "stack.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

using Clock = std::chrono::system_clock;

const std::string kUrlSecret = "files-test-url-secret-0123456789abcdef";

struct LocalBackend {
  static constexpr bool s3 = false;
};
struct S3Backend {
  static constexpr bool s3 = true;
};

template <class Backend>
class FilesTest : public StackTest {
 protected:
  static void SetUpTestSuite() {
    auto env = relaxed_rate_limits();
    env["REELHUB_STORAGE_URL_SECRET"] = kUrlSecret;
    if constexpr (Backend::s3) {
      s3_ = std::make_unique<S3Server>();
      env.merge(s3_->server_env());
    }
    start_stack(env);
  }
  static void TearDownTestSuite() {
    StackTest::TearDownTestSuite();
    s3_.reset();
  }

  /// GET of a download URL: Reelhub's own (a path) or the S3 server's (http://127.0.0.1:port/...).
  static HttpResponse fetch(const std::string& url, const Headers& headers = {}) {
    if (!url.starts_with("http://127.0.0.1:")) return http().get(url, headers);
    return get_url(url, headers);
  }

  /// Where the signed part of a download URL starts: the object key.
  static std::size_t signed_from(const std::string& url) {
    if constexpr (Backend::s3) {
      return url.find(std::string("/") + S3Server::kBucket + "/") + std::string(S3Server::kBucket).size() + 2;
    }
    return std::string(storage::kPresignedPath).size();
  }

  /// A download URL of `key` signed as the server would sign it, but made at `signed_at` for `ttl`.
  static std::string signed_url(const std::string& key, Clock::time_point signed_at, std::chrono::seconds ttl,
                                const std::string& secret = kUrlSecret) {
    if constexpr (Backend::s3) {
      const std::string host = "127.0.0.1:" + std::to_string(s3_->port());
      const std::string path = "/" + std::string(S3Server::kBucket) + "/" + storage::sigv4::uri_encode(key, false);
      const storage::sigv4::Credentials credentials{"S3RVER", secret == kUrlSecret ? "S3RVER" : secret};
      return "http://" + host + path + "?" +
             storage::sigv4::presigned_query("GET", path, host, credentials, {.region = "us-east-1"}, signed_at, ttl);
    }
    return storage::UrlSigner(secret).sign(key, signed_at + ttl);
  }

  static inline std::unique_ptr<S3Server> s3_;

  static HttpResponse upload(const TestUser& user, const std::string& filename, const std::string& data,
                             const std::string& field = "file") {
    Multipart form;
    form.file(field, filename, "application/octet-stream", data);
    Headers headers = user.auth();
    headers["Content-Type"] = form.content_type();
    return http().request("POST", "/files/upload", form.body(), headers);
  }

  /// Uploads and returns the 201 body; fails the test otherwise.
  static nlohmann::json uploaded(const TestUser& user, const std::string& filename, const std::string& data) {
    auto res = upload(user, filename, data);
    EXPECT_EQ(res.status, 201) << res;
    return res.json();
  }

  /// The object key the files module stores a user's file under.
  static std::string key_of(const TestUser& user, const std::string& name) {
    return "files/" + std::to_string(user.id) + "/" + name;
  }
};

std::set<std::string> keys_of(const nlohmann::json& object) {
  std::set<std::string> out;
  for (auto it = object.begin(); it != object.end(); ++it) out.insert(it.key());
  return out;
}

const std::string kPdf = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

using Backends = ::testing::Types<LocalBackend, S3Backend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::s3 ? "s3" : "local";
  }
};
TYPED_TEST_SUITE(FilesTest, Backends, BackendNames);

// ---- acceptance 1


TYPED_TEST(FilesTest, UploadListInfoDownloadDeleteThen404) {
  const TestUser u = register_and_login(this->http(), "files1");
  std::string content = "Отчёт за квартал\n";
  for (int i = 0; i < 2000; ++i) content += "line " + std::to_string(i) + "\n";

  const nlohmann::json up = this->uploaded(u, "document.txt", content);
  EXPECT_EQ(keys_of(up), (std::set<std::string>{"message", "filename", "original_name", "size", "content_type",
                                                 "download_url", "file_info"}))
      << up;
  EXPECT_EQ(up.at("message"), "Файл успешно загружен");
  EXPECT_EQ(up.at("original_name"), "document.txt");
  EXPECT_EQ(up.at("size"), content.size());
  EXPECT_EQ(up.at("content_type"), "text/plain");
  const std::string name = up.at("filename");
  EXPECT_TRUE(name.ends_with(".txt")) << name;
  const nlohmann::json& fi = up.at("file_info");
  EXPECT_EQ(keys_of(fi), (std::set<std::string>{"name", "size", "last_modified", "content_type", "etag", "metadata"}));
  EXPECT_EQ(fi.at("name"), name);
  EXPECT_EQ(fi.at("etag").get<std::string>().size(), 32u);
  EXPECT_TRUE(is_iso8601_utc(fi.at("last_modified").get<std::string>())) << fi;
  EXPECT_EQ(keys_of(fi.at("metadata")),
            (std::set<std::string>{"original_name", "upload_time", "file_size", "content_type"}));
  EXPECT_EQ(fi.at("metadata").at("file_size"), std::to_string(content.size()));
  EXPECT_TRUE(is_iso8601_utc(fi.at("metadata").at("upload_time").get<std::string>())) << fi;

  auto list = this->http().get("/files", u.auth());
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_EQ(keys_of(list.json()), (std::set<std::string>{"files", "count", "prefix"}));
  ASSERT_EQ(list.json().at("count"), 1);
  EXPECT_EQ(list.json().at("prefix"), "");
  const nlohmann::json entry = list.json().at("files").at(0);
  EXPECT_EQ(keys_of(entry), (std::set<std::string>{"name", "size", "last_modified", "etag", "download_url"}));
  EXPECT_EQ(entry.at("name"), name);
  EXPECT_EQ(this->http().get("/files?prefix=" + name.substr(0, 8), u.auth()).json().at("count"), 1);
  EXPECT_EQ(this->http().get("/files?prefix=zzz", u.auth()).json().at("count"), 0);
  EXPECT_EQ(this->http().get("/files?limit=1001", u.auth()).status, 422);

  auto info = this->http().get("/files/" + name + "/info", u.auth());
  ASSERT_EQ(info.status, 200) << info;
  EXPECT_EQ(keys_of(info.json()), (std::set<std::string>{"name", "size", "last_modified", "content_type", "etag",
                                                         "metadata", "download_url"}));
  EXPECT_EQ(info.json().at("metadata").at("original_name"), "document.txt");

  auto download = this->http().get("/files/" + name + "/download", u.auth());
  ASSERT_EQ(download.status, 200) << download;
  EXPECT_EQ(keys_of(download.json()), (std::set<std::string>{"download_url", "file_info", "expires_in"}));
  EXPECT_EQ(download.json().at("expires_in"), 300);
  EXPECT_EQ(keys_of(download.json().at("file_info")),
            (std::set<std::string>{"name", "size", "last_modified", "content_type", "etag"}));

  // The presigned URL works without a token and gives back the very bytes uploaded.
  const std::string url = download.json().at("download_url");
  auto bytes = this->fetch(url);
  ASSERT_EQ(bytes.status, 200) << bytes;
  EXPECT_EQ(bytes.body, content);
  auto ranged = this->fetch(url, {{"Range", "bytes=0-9"}});
  EXPECT_EQ(ranged.status, 206) << ranged;
  EXPECT_EQ(ranged.body, content.substr(0, 10));

  auto removed = this->http().del("/files/" + name, u.auth());
  ASSERT_EQ(removed.status, 200) << removed;
  EXPECT_EQ(removed.json().at("message"), "Файл успешно удален");
  EXPECT_EQ(removed.json().at("filename"), name);

  auto gone = this->http().get("/files/" + name + "/info", u.auth());
  EXPECT_EQ(gone.status, 404) << gone;
  EXPECT_EQ(gone.json().at("error"), "Файл не найден");
  EXPECT_EQ(this->http().get("/files/" + name + "/download", u.auth()).status, 404);
  EXPECT_EQ(this->http().del("/files/" + name, u.auth()).status, 404);
  EXPECT_EQ(this->fetch(url).status, 404) << "the bytes are gone too";
  EXPECT_EQ(this->http().get("/files", u.auth()).json().at("count"), 0);
}

TYPED_TEST(FilesTest, EveryAllowedTypeIsAcceptedWithItsRealContentType) {
  const TestUser u = register_and_login(this->http(), "files_types");
  const std::map<std::string, std::pair<std::string, std::string>> samples = {
      {"a.pdf", {kPdf, "application/pdf"}},
      {"a.png", {std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "image/png"}},
      {"a.JPG", {"\xFF\xD8\xFF\xE0\0\x10JFIF", "image/jpeg"}},
      {"a.gif", {"GIF89a\x01\0\x01\0", "image/gif"}},
      {"a.doc", {std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0", 10), "application/msword"}},
      {"a.docx",
       {std::string("PK\x03\x04\x14\0\0\0[Content_Types].xml word/document.xml", 45),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}},
  };
  for (const auto& [filename, sample] : samples) {
    auto res = this->upload(u, filename, sample.first);
    ASSERT_EQ(res.status, 201) << filename << ": " << res;
    EXPECT_EQ(res.json().at("content_type"), sample.second) << filename;
    EXPECT_EQ(this->fetch(res.json().at("download_url").template get<std::string>()).body, sample.first) << filename;
  }
}

// ---- seed 001's 400s

TYPED_TEST(FilesTest, MissingWrongTypeRenamedExecutableAndTooBigAre400WithSeedBodies) {
  const TestUser u = register_and_login(this->http(), "files_bad");

  auto missing = this->upload(u, "a.txt", "text", "not_file");
  EXPECT_EQ(missing.status, 400) << missing;
  EXPECT_TRUE(missing.json().at("error").is_string());

  auto wrong = this->upload(u, "tool.exe", "MZ\x90");
  EXPECT_EQ(wrong.status, 400) << wrong;
  EXPECT_EQ(wrong.json().at("error"), "Недопустимый тип файла");
  EXPECT_EQ(wrong.json().at("allowed_extensions"),
            nlohmann::json({"txt", "pdf", "png", "jpg", "jpeg", "gif", "doc", "docx"}));

  const std::string elf("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", 16);
  for (const char* disguise : {"report.pdf", "photo.png", "notes.txt", "letter.docx"}) {
    auto renamed = this->upload(u, disguise, elf);
    EXPECT_EQ(renamed.status, 400) << disguise << ": " << renamed;
    EXPECT_EQ(renamed.json().value("error", ""), "Недопустимый тип файла") << disguise;
  }

  auto big = this->upload(u, "big.txt", std::string((std::size_t{16} << 20) + 1, 'a'));
  EXPECT_EQ(big.status, 400) << big.status << " " << big.body.substr(0, 200);
  EXPECT_EQ(big.json().at("error"), "Файл слишком большой");
  EXPECT_EQ(big.json().at("max_size_mb"), 16);
  EXPECT_EQ(this->upload(u, "max.txt", std::string(std::size_t{16} << 20, 'a')).status, 201) << "16 MB itself is allowed";

  EXPECT_EQ(this->http().get("/files", u.auth()).json().at("count"), 1) << "only the 16 MB file was stored";
  EXPECT_TRUE(is_api_error(this->http().get("/files"), 401));
}

// ---- acceptance 2

TYPED_TEST(FilesTest, PresignedUrlRefusedAfterExpiryAndWithAnyByteChanged) {
  const TestUser u = register_and_login(this->http(), "files2");
  const nlohmann::json up = this->uploaded(u, "doc.pdf", kPdf);
  const std::string url = up.at("download_url");
  ASSERT_EQ(this->fetch(url).status, 200) << url;

  // Local backend (Reelhub checks the URL): every byte of the object key or the signature
  // changed is 403 (400 where the change broke a %XX escape of the key, which no server decodes),
  // any other byte of the path or query changed is not served either.
  // S3 backend: the S3 service checks the URL. s3rver, the test server, checks the expiry but
  // does not implement SigV4 verification (its authentication middleware says so) and answers
  // unsigned requests, so there a changed key must not be served and the expiry must hold; the
  // signer itself is proven against AWS's published vectors in tests/unit/sigv4_test.cpp.
  const std::size_t key_from = this->signed_from(url);
  const std::size_t query_from = url.find('?');
  const std::size_t signature_from = url.find("ignature=") + std::string("ignature=").size();  // [Ss]ignature=
  const std::size_t path_from = url.starts_with("http://") ? url.find('/', std::string("http://").size()) : 0;
  for (std::size_t i = path_from; i < url.size(); ++i) {
    std::string changed = url;
    changed[i] = changed[i] == 'x' ? 'y' : 'x';
    const auto res = this->fetch(changed);
    const bool in_key = i >= key_from && i < query_from;
    if constexpr (TypeParam::s3) {
      if (in_key) {
        EXPECT_NE(res.status, 200) << "byte " << i << ": " << changed;
      }
    } else if (in_key || i >= signature_from) {
      const bool in_escape = (i >= 1 && url[i - 1] == '%') || (i >= 2 && url[i - 2] == '%');
      EXPECT_EQ(res.status, in_escape ? 400 : 403) << "byte " << i << ": " << changed << "\n" << res;
    } else {
      EXPECT_NE(res.status, 200) << "byte " << i << ": " << changed;
    }
  }
  if constexpr (!TypeParam::s3) {
    EXPECT_EQ(this->fetch(url.substr(0, query_from)).status, 403) << "unsigned";
  }

  // Signed as the server signs: valid until its expiry, refused from then on.
  const std::string key = this->key_of(u, up.at("filename"));
  const auto now = Clock::now();
  EXPECT_EQ(this->fetch(this->signed_url(key, now, std::chrono::seconds(60))).status, 200);
  auto expired = this->fetch(this->signed_url(key, now - std::chrono::seconds(301), std::chrono::seconds(300)));
  EXPECT_EQ(expired.status, 403) << expired;
  if constexpr (!TypeParam::s3) {
    EXPECT_EQ(this->fetch(this->signed_url(key, now, std::chrono::seconds(60), "another-secret")).status, 403);
  }
}

// ---- acceptance 4

TYPED_TEST(FilesTest, PathTricksAndOtherUsersFilesAre404) {
  const TestUser owner = register_and_login(this->http(), "files4a");
  const TestUser other = register_and_login(this->http(), "files4b");
  const std::string name = this->uploaded(owner, "secret.txt", "owner's secret\n").at("filename");

  for (const std::string& path : {"/files/" + name + "/info", "/files/" + name + "/download"}) {
    auto res = this->http().get(path, other.auth());
    EXPECT_EQ(res.status, 404) << path << ": " << res;
    EXPECT_EQ(res.json().value("error", ""), "Файл не найден");
  }
  EXPECT_EQ(this->http().del("/files/" + name, other.auth()).status, 404);
  EXPECT_EQ(this->http().get("/files", other.auth()).json().at("count"), 0);
  EXPECT_EQ(this->http().get("/files/" + name + "/info", owner.auth()).status, 200) << "still there for its owner";

  TestUser admin = register_and_login(this->http(), "files4adm");
  this->stack().db.exec("UPDATE users SET role = 'admin' WHERE id = " + std::to_string(admin.id));
  log_in(this->http(), admin);
  EXPECT_EQ(this->http().get("/files/" + name + "/info", admin.auth()).status, 200) << "an admin sees every file";
  EXPECT_GE(this->http().get("/files", admin.auth()).json().at("count"), 1);

  const std::string owner_dir = std::to_string(owner.id);
  for (const std::string& trick :
       {std::string("..%2F..%2Fetc%2Fpasswd"), std::string("%2E%2E"), std::string(".."), std::string("a%00b.txt"),
        owner_dir + "%2F" + name, "..%2F" + owner_dir + "%2F" + name, name + "%00", std::string("%2Fetc%2Fpasswd"),
        std::string("..%5C..%5Cwin.ini")}) {
    for (const std::string& path : {"/files/" + trick + "/info", "/files/" + trick + "/download"}) {
      auto res = this->http().get(path, other.auth());
      EXPECT_EQ(res.status, 404) << path << ": " << res;
    }
    EXPECT_EQ(this->http().del("/files/" + trick, other.auth()).status, 404) << trick;
  }
  EXPECT_EQ(this->http().get("/files/" + name + "/info", owner.auth()).status, 200) << "no trick removed it";

  // Even a correctly signed URL of the local backend cannot name anything outside its root.
  if constexpr (!TypeParam::s3) {
    for (const char* key : {"../../etc/passwd", "files/../../x", "/etc/passwd"}) {
      auto res = this->fetch(this->signed_url(key, Clock::now(), std::chrono::seconds(60)));
      EXPECT_EQ(res.status, 404) << key << ": " << res;
    }
  }
}

TYPED_TEST(FilesTest, StorageHealthNamesTheBackend) {
  auto res = this->http().get("/health/storage");
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.json().at("backend"), TypeParam::s3 ? "s3" : "local");
  EXPECT_EQ(res.json().at("reachable"), true);
  if constexpr (TypeParam::s3) {
    EXPECT_TRUE(res.json().at("free_bytes").is_null()) << res;
  } else {
    EXPECT_TRUE(res.json().at("free_bytes").is_number_unsigned()) << res;
  }
}

}  // namespace
}  // namespace reelhub::testing
