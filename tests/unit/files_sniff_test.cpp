// The files API's type check (seed 001): an extension is accepted only when the content really
// is of that type, so a renamed executable is refused; names it never generated name nothing.

#include <gtest/gtest.h>

#include <string>

#include "modules/files/service.hpp"

namespace reelhub::files {
namespace {

const std::string kElf("\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00", 12);
const std::string kWindowsExe("MZ\x90\x00\x03\x00\x00\x00", 8);

TEST(FilesSniff, EachAllowedTypeByItsMagicBytes) {
  EXPECT_EQ(sniffed_content_type("txt", "plain text, и по-русски\n"), "text/plain");
  EXPECT_EQ(sniffed_content_type("pdf", "%PDF-1.7\n..."), "application/pdf");
  EXPECT_EQ(sniffed_content_type("png", "\x89PNG\r\n\x1a\n...."), "image/png");
  EXPECT_EQ(sniffed_content_type("jpg", "\xFF\xD8\xFF\xE0...."), "image/jpeg");
  EXPECT_EQ(sniffed_content_type("jpeg", "\xFF\xD8\xFF\xE1...."), "image/jpeg");
  EXPECT_EQ(sniffed_content_type("gif", "GIF89a...."), "image/gif");
  EXPECT_EQ(sniffed_content_type("doc", std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1....", 12)), "application/msword");
  EXPECT_EQ(sniffed_content_type("docx", std::string("PK\x03\x04....[Content_Types].xml....word/document.xml", 48)),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
}

TEST(FilesSniff, RenamedExecutablesAndMismatchesAreRefused) {
  for (const char* ext : {"txt", "pdf", "png", "jpg", "jpeg", "gif", "doc", "docx"}) {
    EXPECT_FALSE(sniffed_content_type(ext, kElf)) << ext;
    EXPECT_FALSE(sniffed_content_type(ext, kWindowsExe)) << ext;
  }
  EXPECT_FALSE(sniffed_content_type("png", "GIF89a...."));
  EXPECT_FALSE(sniffed_content_type("txt", "\xFF\xFE not utf-8"));
  EXPECT_FALSE(sniffed_content_type("txt", std::string("a\0b", 3)));
  EXPECT_FALSE(sniffed_content_type("docx", "PK\x03\x04 just some zip"));
  EXPECT_FALSE(sniffed_content_type("exe", kWindowsExe));
}

TEST(FilesNames, PathTricksNameNoFile) {
  EXPECT_TRUE(plausible_file_name("20250906_123456_abc123def456.txt"));
  for (const char* bad : {"", "..", ".", "../x.txt", "a/b.txt", "a\\b.txt", ".hidden", "a%2Fb.txt", "a b.txt"}) {
    EXPECT_FALSE(plausible_file_name(bad)) << bad;
  }
  EXPECT_FALSE(plausible_file_name(std::string("a\0.txt", 6)));
}

}  // namespace
}  // namespace reelhub::files
