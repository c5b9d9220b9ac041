// File transfer (PROTOCOL.md 6.14) with the real programs: chat-client offers a file, another
// chat-client accepts it through chat-server, and the bytes that land in --download_dir are the
// bytes sent, for files of 0 bytes to 50 MB; a second file of the same name does not replace
// the first; a declined offer is told to the sender; a transfer cancelled by either side, a
// sender killed halfway and a full disk leave nothing behind.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

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

// Every size the issue names: nothing at all, one byte, one chunk's worth and a byte more (two
// records), and 50 MB (thousands of chunks, through the window many times).
TEST_F(FilesTest, FilesOfEverySizeArriveByteForByte) {
  const std::vector<std::pair<std::string, size_t>> files = {
      {"empty.bin", 0}, {"one.bin", 1}, {"chunk.bin", 16 * 1024 + 1}, {"large.bin", 50'000'000}};
  int n = 0;
  for (const auto& [name, size] : files) {
    ++n;
    const std::string path = dir_.File(name);
    const std::string content = Content(size, 10 + n);
    WriteAll(path, content);
    ASSERT_TRUE(alice_->WriteStdin(Cat("/send bob ", path)));
    ASSERT_TRUE(Saw(*bob_, Cat("): /accept ", n, " or /decline ", n, "\n"))) << name;
    ASSERT_TRUE(bob_->WriteStdin(Cat("/accept ", n)));
    ASSERT_TRUE(Saw(
        *bob_,
        Cat("-!- file ", n, ": ", name, " from alice saved as ", downloads_, "/", name, " ("), 60s))
        << name;
    ASSERT_TRUE(Saw(*alice_, Cat("-!- file ", n, ": bob has ", name, " ("), 60s)) << name;
    const std::string got = ReadAll(Cat(downloads_, "/", name));
    EXPECT_EQ(got.size(), size) << name;
    EXPECT_TRUE(got == content) << name;
  }
}

// Either side cancels halfway: the other is told, and the partial file is removed.
TEST_F(FilesTest, ATransferCancelledHalfwayByEitherSideLeavesNothingBehind) {
  const std::string path = dir_.File("big.bin");
  WriteAll(path, Content(128 << 20, 4));
  ASSERT_TRUE(alice_->WriteStdin(Cat("/send bob ", path)));
  ASSERT_TRUE(Saw(*bob_, "): /accept 1 or /decline 1\n"));
  ASSERT_TRUE(bob_->WriteStdin("/accept 1"));
  ASSERT_TRUE(Saw(*bob_, "-!- file 1: big.bin 10% ("));
  ASSERT_TRUE(alice_->WriteStdin("/cancel 1"));
  ASSERT_TRUE(Saw(*bob_, "!! file 1: alice cancelled big.bin", 30s));
  ASSERT_TRUE(Saw(*alice_, "-!- file 1: cancelled big.bin to bob"));
  EXPECT_TRUE(std::filesystem::is_empty(downloads_)) << "the partial file is removed";

  // The receiver this time, with the sender stopped (SIGSTOP) so that the file is surely
  // halfway when bob cancels.
  ASSERT_TRUE(alice_->WriteStdin(Cat("/send bob ", path)));
  ASSERT_TRUE(Saw(*bob_, "): /accept 2 or /decline 2\n"));
  ASSERT_TRUE(bob_->WriteStdin("/accept 2"));
  ASSERT_TRUE(Saw(*bob_, "-!- file 2: big.bin 10% ("));
  ASSERT_TRUE(alice_->Signal(SIGSTOP));
  ASSERT_TRUE(bob_->WriteStdin("/cancel 2"));
  ASSERT_TRUE(Saw(*bob_, "-!- file 2: cancelled big.bin from alice"));
  ASSERT_TRUE(alice_->Signal(SIGCONT));
  ASSERT_TRUE(Saw(*alice_, "!! file 2: bob stopped big.bin", 30s));
  EXPECT_TRUE(std::filesystem::is_empty(downloads_)) << "the partial file is removed";
}

// A full disk, on a small tmpfs: an offer larger than the free space is refused before anything
// is written, and a disk that fills up while a file comes stops it, keeps nothing of it, and
// tells the sender why.
TEST_F(FilesTest, AFullDiskStopsTheTransferAndKeepsNothing) {
  const std::string small = dir_.File("small");
  ASSERT_EQ(mkdir(small.c_str(), 0700), 0);
  if (mount("tmpfs", small.c_str(), "tmpfs", 0, "size=48m,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << strerror(errno) << "): run as root";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{small};

  const std::string big = dir_.File("big.bin");
  WriteAll(big, Content(64 << 20, 5));
  ASSERT_TRUE(alice_->WriteStdin(Cat("/send bob ", big)));
  ASSERT_TRUE(Saw(*bob_, "): /accept 1 or /decline 1\n"));
  ASSERT_TRUE(bob_->WriteStdin(Cat("/accept 1 ", small)));
  ASSERT_TRUE(Saw(*bob_, "!! not accepted: big.bin needs 67.1 MB and "));
  ASSERT_TRUE(bob_->WriteStdin("/decline 1"));
  ASSERT_TRUE(Saw(*alice_, "-!- file 1: bob declined big.bin\n"));

  // 40 MiB fits the 48 MiB when bob accepts; the sender is held (SIGSTOP) until another file
  // has taken 20 MiB of the disk, so the data surely finds it full.
  const std::string fill = dir_.File("fill.bin");
  WriteAll(fill, Content(40 << 20, 6));
  ASSERT_TRUE(alice_->WriteStdin(Cat("/send bob ", fill)));
  ASSERT_TRUE(Saw(*bob_, "): /accept 2 or /decline 2\n"));
  ASSERT_TRUE(alice_->Signal(SIGSTOP));
  ASSERT_TRUE(bob_->WriteStdin(Cat("/accept 2 ", small)));
  ASSERT_TRUE(Saw(*bob_, "-!- file 2: receiving fill.bin (41.9 MB) from alice into "));
  WriteAll(Cat(small, "/other.bin"), std::string(20 << 20, 'o'));
  ASSERT_TRUE(alice_->Signal(SIGCONT));
  ASSERT_TRUE(Saw(*bob_, "!! file 2: fill.bin from alice not kept: cannot write it", 30s));
  ASSERT_TRUE(Saw(*alice_, "!! file 2: bob stopped fill.bin: the receiver's disk is full", 30s));
  size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(small)) {
    EXPECT_EQ(entry.path().filename(), "other.bin") << "nothing of the file is kept";
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

}  // namespace
}  // namespace securechat::testing
