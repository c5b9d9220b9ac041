// File transfer (PROTOCOL.md 6.14) with the real programs: chat-client offers a file, another
// chat-client accepts it through chat-server, and the bytes that land in --download_dir are the
// bytes sent; a second file of the same name does not replace the first; a declined offer is
// told to the sender; a sender killed halfway leaves nothing behind.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "integration/server_fixture.h"
#include "securechat/base/cat.h"

namespace securechat::testing {
namespace {

using std::chrono_literals::operator""s;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// Content is `n` bytes that are not all alike, so that a byte out of place shows.
std::string Content(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

class FilesTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartTestServer());
    downloads_ = dir_.File("downloads/securechat");
    bob_ =
        StartChatClient("bob", public_key_, server_.address, {Cat("--download_dir=", downloads_)});
    ASSERT_NE(bob_, nullptr);
    ASSERT_TRUE(Saw(*bob_, "-!- joined as bob; 1 online\n"));
    alice_ = Join("alice", 2);
    ASSERT_NE(alice_, nullptr);
  }

  std::string downloads_;
  std::unique_ptr<Process> bob_;
  std::unique_ptr<Process> alice_;
};

TEST_F(FilesTest, AMebibyteArrivesWholeAndASecondOneBesideIt) {
  const std::string path = dir_.File("report.bin");
  const std::string first = Content(1 << 20, 1);
  WriteAll(path, first);
  ASSERT_TRUE(alice_->WriteStdin(Cat("/send bob ", path)));
  ASSERT_TRUE(
      Saw(*alice_, "-!- offering report.bin (1.0 MB) to bob: file 1, /cancel 1 stops it\n"));
  ASSERT_TRUE(Saw(*bob_, "-!- alice offers report.bin (1.0 MB, SHA256:"));
  ASSERT_TRUE(Saw(*bob_, "): /accept 1 or /decline 1\n"));
  ASSERT_TRUE(bob_->WriteStdin("/accept 1"));
  ASSERT_TRUE(Saw(*bob_, "-!- file 1: report.bin 10% (")) << "a line every 10% in a pipe";
  ASSERT_TRUE(Saw(*bob_,
                  Cat("-!- file 1: report.bin from alice saved as ", downloads_,
                      "/report.bin (1.0 MB, SHA-256 checked"),
                  30s));
  ASSERT_TRUE(Saw(*alice_, "-!- file 1: bob has report.bin (1.0 MB, SHA-256 checked", 30s));
  EXPECT_EQ(ReadAll(Cat(downloads_, "/report.bin")), first);

  const std::string second = Content(1 << 20, 2);
  WriteAll(path, second);
  ASSERT_TRUE(alice_->WriteStdin(Cat("/send bob ", path)));
  ASSERT_TRUE(Saw(*bob_, "): /accept 2 or /decline 2\n"));
  ASSERT_TRUE(bob_->WriteStdin("/accept 2"));
  ASSERT_TRUE(Saw(*bob_, Cat("saved as ", downloads_, "/report (1).bin"), 30s));
  EXPECT_EQ(ReadAll(Cat(downloads_, "/report.bin")), first) << "never replaced";
  EXPECT_EQ(ReadAll(Cat(downloads_, "/report (1).bin")), second);
}

TEST_F(FilesTest, ADeclinedOfferIsToldToTheSender) {
  const std::string path = dir_.File("notes.txt");
  WriteAll(path, "hello");
  ASSERT_TRUE(alice_->WriteStdin(Cat("/send bob ", path)));
  ASSERT_TRUE(Saw(*bob_, "): /accept 1 or /decline 1\n"));
  ASSERT_TRUE(bob_->WriteStdin("/decline 1"));
  ASSERT_TRUE(Saw(*bob_, "-!- file 1: declined notes.txt from alice\n"));
  ASSERT_TRUE(Saw(*alice_, "-!- file 1: bob declined notes.txt\n"));
}

// A sender killed halfway: the receiver is told that the sender left, and nothing of the file
// stays in the download folder.
TEST_F(FilesTest, ASenderKilledHalfwayLeavesNothingBehind) {
  const std::string path = dir_.File("big.bin");
  WriteAll(path, Content(64 << 20, 3));
  ASSERT_TRUE(alice_->WriteStdin(Cat("/send bob ", path)));
  ASSERT_TRUE(Saw(*bob_, "): /accept 1 or /decline 1\n"));
  ASSERT_TRUE(bob_->WriteStdin("/accept 1"));
  ASSERT_TRUE(Saw(*bob_, "-!- file 1: big.bin 10% ("));
  ASSERT_TRUE(alice_->Signal(SIGKILL));
  ASSERT_TRUE(Saw(*bob_, "!! file 1: big.bin stopped: alice left\n", 30s));
  EXPECT_TRUE(std::filesystem::is_empty(downloads_)) << "the partial file is removed";
}

}  // namespace
}  // namespace securechat::testing
