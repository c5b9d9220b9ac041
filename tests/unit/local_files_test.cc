// LocalFileSystem (net/local_files.h) in a temporary folder: files to send are regular files
// only, never through a symbolic link; a received file is written to a new private temporary
// file, removed unless published, and published without ever replacing a file.
#include "securechat/net/local_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/wire/protocol.h"
#include "support/test_util.h"

namespace securechat::net {
namespace {

using testing::TempDir;

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void WriteText(const std::string& path, std::string_view text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

absl::Span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(LocalFilesTest, ATempFileIsPrivateAndRemovedUnlessPublished) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  LocalFileSystem fs;
  {
    auto temp = fs.CreateTemp(dir.path());
    ASSERT_TRUE(temp.ok()) << temp.status();
    const std::vector<std::string> names = List(dir.path());
    ASSERT_EQ(names.size(), 1u);
    EXPECT_TRUE(names[0].starts_with(".securechat-")) << names[0];
    struct stat st {};
    ASSERT_EQ(lstat(Cat(dir.path(), "/", names[0]).c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_TRUE((*temp)->Write(Bytes("partial")).ok());
    auto other = fs.CreateTemp(dir.path());
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(List(dir.path()).size(), 2u) << "each its own new file";
  }
  EXPECT_TRUE(List(dir.path()).empty()) << "nothing left behind";
}

TEST(LocalFilesTest, PublishNeverReplacesAFile) {
  TempDir dir;
  LocalFileSystem fs;
  WriteText(Cat(dir.path(), "/a.txt"), "old");
  WriteText(Cat(dir.path(), "/a (1).txt"), "older");
  for (std::string_view content : {"new", "newer"}) {
    auto temp = fs.CreateTemp(dir.path());
    ASSERT_TRUE(temp.ok());
    ASSERT_TRUE((*temp)->Write(Bytes(content)).ok());
    ASSERT_TRUE((*temp)->Sync().ok());
    auto path = (*temp)->Publish("a.txt");
    ASSERT_TRUE(path.ok()) << path.status();
    EXPECT_EQ(testing::ReadFileOrDie(*path), content);
  }
  EXPECT_EQ(testing::ReadFileOrDie(Cat(dir.path(), "/a.txt")), "old");
  EXPECT_EQ(testing::ReadFileOrDie(Cat(dir.path(), "/a (1).txt")), "older");
  EXPECT_EQ(testing::ReadFileOrDie(Cat(dir.path(), "/a (2).txt")), "new");
  EXPECT_EQ(testing::ReadFileOrDie(Cat(dir.path(), "/a (3).txt")), "newer");
  EXPECT_EQ(List(dir.path()),
            (std::vector<std::string>{"a (1).txt", "a (2).txt", "a (3).txt", "a.txt"}))
      << "no temporary file left";
}

TEST(LocalFilesTest, PublishDoesNotFollowASymbolicLinkInTheWay) {
  TempDir dir;
  TempDir elsewhere;
  LocalFileSystem fs;
  const std::string target = Cat(elsewhere.path(), "/victim");
  WriteText(target, "precious");
  ASSERT_EQ(symlink(target.c_str(), Cat(dir.path(), "/x").c_str()), 0);
  auto temp = fs.CreateTemp(dir.path());
  ASSERT_TRUE(temp.ok());
  ASSERT_TRUE((*temp)->Write(Bytes("evil")).ok());
  auto path = (*temp)->Publish("x");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, Cat(dir.path(), "/x (1)"));
  EXPECT_EQ(testing::ReadFileOrDie(target), "precious");
}

TEST(LocalFilesTest, OnlyRegularFilesAreSentAndNeverThroughALink) {
  TempDir dir;
  LocalFileSystem fs;
  const std::string file = Cat(dir.path(), "/f");
  WriteText(file, "0123456789");
  uint64_t size = 0;
  auto reader = fs.OpenForReading(file, &size);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(size, 10u);
  std::array<uint8_t, 4> buf{};
  auto got = (*reader)->ReadAt(8, absl::MakeSpan(buf));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 2u);
  EXPECT_EQ(buf[0], '8');
  got = (*reader)->ReadAt(10, absl::MakeSpan(buf));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 0u);

  ASSERT_EQ(symlink(file.c_str(), Cat(dir.path(), "/link").c_str()), 0);
  EXPECT_FALSE(fs.OpenForReading(Cat(dir.path(), "/link"), &size).ok());
  ASSERT_EQ(mkfifo(Cat(dir.path(), "/fifo").c_str(), 0600), 0);
  auto fifo = fs.OpenForReading(Cat(dir.path(), "/fifo"), &size);
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.status().message().find("is not a regular file"), absl::string_view::npos);
  EXPECT_FALSE(fs.OpenForReading(dir.path(), &size).ok());
  auto missing = fs.OpenForReading(Cat(dir.path(), "/missing"), &size);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/missing"), absl::string_view::npos);
}

TEST(LocalFilesTest, TheDownloadFolderIsMadePrivate) {
  TempDir dir;
  LocalFileSystem fs;
  const std::string downloads = Cat(dir.path(), "/Downloads/securechat");
  auto free = fs.FreeBytes(downloads);
  ASSERT_TRUE(free.ok()) << free.status();
  EXPECT_GT(*free, 0u);
  struct stat st {};
  ASSERT_EQ(stat(downloads.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  WriteText(Cat(dir.path(), "/plain"), "x");
  EXPECT_FALSE(fs.CreateTemp(Cat(dir.path(), "/plain")).ok()) << "not a folder";
}

TEST(LocalFilesTest, NumberedNames) {
  EXPECT_EQ(NumberedName("report.pdf", 0), "report.pdf");
  EXPECT_EQ(NumberedName("report.pdf", 2), "report (2).pdf");
  EXPECT_EQ(NumberedName("notes", 1), "notes (1)");
  EXPECT_EQ(NumberedName("a.tar.gz", 1), "a.tar (1).gz");
  const std::string cut = NumberedName(std::string(255, 'x'), 999);
  EXPECT_EQ(cut, Cat(std::string(249, 'x'), " (999)"));
}

}  // namespace
}  // namespace securechat::net
