// Secret<N> and Secret<>, the one wiping type, and the reader that fills a Secret<> from a
// descriptor without leaving copies behind; the constant-time helpers beside the comparator.
//
// This binary replaces the global allocation functions, so that every block released through
// operator delete is looked at before it is freed: while a test arms the watch, a released
// block that still holds the secret's marker is counted as a copy left behind.
#include "securechat/crypto/secret.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "securechat/crypto/constant_time.h"
#include "securechat/crypto/key_files.h"
#include "securechat/crypto/keys.h"
#include "support/test_util.h"

namespace {

// Every block carries its size in a header in front of it, so that a release can look at all
// of it.
constexpr size_t kHeader = alignof(std::max_align_t);

std::atomic<bool> g_watching{false};
std::atomic<size_t> g_released{0};              // blocks released while watching
std::atomic<size_t> g_released_with_secret{0};  // ... that still held the marker
std::array<char, 32> g_marker{};                // what a copy of the secret looks like
size_t g_marker_len = 0;

void* Allocate(size_t n) {
  auto* p = static_cast<unsigned char*>(std::malloc(n + kHeader));
  if (p == nullptr) {
    return nullptr;
  }
  std::memcpy(p, &n, sizeof(n));
  return p + kHeader;
}

void Release(void* block) {
  if (block == nullptr) {
    return;
  }
  auto* p = static_cast<unsigned char*>(block) - kHeader;
  if (g_watching.load()) {
    size_t n;
    std::memcpy(&n, p, sizeof(n));
    g_released.fetch_add(1);
    if (memmem(block, n, g_marker.data(), g_marker_len) != nullptr) {
      g_released_with_secret.fetch_add(1);
    }
  }
  std::free(p);
}

}  // namespace

void* operator new(size_t n) {
  void* p = Allocate(n);
  if (p == nullptr) {
    throw std::bad_alloc();
  }
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return Allocate(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return Allocate(n); }
void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, size_t) noexcept { Release(p); }
void operator delete[](void* p, size_t) noexcept { Release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { Release(p); }

namespace securechat {
namespace {

// Watch arms the release watch for its lifetime, looking for `marker`.
class Watch {
 public:
  explicit Watch(std::string_view marker) {
    g_marker_len = std::min(marker.size(), g_marker.size());
    std::memcpy(g_marker.data(), marker.data(), g_marker_len);
    g_released = 0;
    g_released_with_secret = 0;
    g_watching = true;
  }
  ~Watch() { g_watching = false; }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
};

constexpr std::string_view kMarker = "s3cret-pem-line-";

// The text sent through the pipe: lines that each carry the marker, kept outside the heap so
// that only the reader's blocks can hold a copy.
std::array<char, 6000> g_text;

void FillText() {
  for (size_t i = 0; i < g_text.size(); ++i) {
    const size_t at = i % 64;
    g_text[i] =
        at < kMarker.size() ? kMarker[at] : (at == 63 ? '\n' : 'A' + static_cast<char>(i % 26));
  }
}

// A pipe whose read end is read by the test; the whole text is written before, in small
// writes, and the write end closed, so the reader sees it all and then the end.
class TextPipe {
 public:
  TextPipe() {
    EXPECT_EQ(pipe(fds_), 0);
    static_assert(sizeof(g_text) < 65536, "the text must fit the pipe's buffer");
    for (size_t at = 0; at < g_text.size(); at += 100) {
      const size_t n = std::min<size_t>(100, g_text.size() - at);
      EXPECT_EQ(write(fds_[1], g_text.data() + at, n), static_cast<ssize_t>(n));
    }
    close(fds_[1]);
  }
  ~TextPipe() { close(fds_[0]); }
  int read_end() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
};

// The bug this guards against: reading a private key by appending to a std::string left a copy
// of the PEM in every block the string outgrew. A read that must grow several times (the text
// is six times the first capacity, and the pipe gives no size hint) releases no block that
// still holds any of it.
TEST(SecretTest, ReadingThroughGrowthLeavesNoCopyInFreedMemory) {
  FillText();
  TextPipe pipe;
  Secret<> out;
  {
    Watch watch(kMarker);
    ASSERT_TRUE(ReadAllSecret(pipe.read_end(), kMaxKeyFileLen, 0, &out).ok());
    EXPECT_GE(g_released.load(), 2u) << "the buffer never grew: the test proves nothing";
    EXPECT_EQ(g_released_with_secret.load(), 0u) << "blocks released with the secret still in them";
  }
  EXPECT_EQ(AsChars(out.Expose()), std::string_view(g_text.data(), g_text.size()));
  {
    Watch watch(kMarker);
    out = Secret<>();  // releasing the last block wipes it too
    EXPECT_EQ(g_released.load(), 1u);
    EXPECT_EQ(g_released_with_secret.load(), 0u);
  }
}

TEST(SecretTest, ReadingMoreThanTheLimitFailsAndKeepsNothing) {
  FillText();
  TextPipe pipe;
  Secret<> out;
  Watch watch(kMarker);
  absl::Status s = ReadAllSecret(pipe.read_end(), g_text.size() - 1, 0, &out);
  EXPECT_TRUE(absl::IsOutOfRange(s)) << s;
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(ConstantTimeIsZero(absl::MakeConstSpan(out.Spare())));
  EXPECT_EQ(g_released_with_secret.load(), 0u);
}

TEST(SecretTest, ReadingExactlyTheLimitSucceeds) {
  FillText();
  TextPipe pipe;
  Secret<> out;
  ASSERT_TRUE(ReadAllSecret(pipe.read_end(), g_text.size(), 0, &out).ok());
  EXPECT_EQ(out.size(), g_text.size());
}

// A private key file is read whole and parsed; no block released on the way holds a line of
// its text.
TEST(SecretTest, ReadingAPrivateKeyFileLeavesNoCopyInFreedMemory) {
  const std::string pem =
      testing::ReadFileOrDie(std::string(SECURECHAT_TEST_KEY_DIR) + "/test_rsa2048_private.pem");
  // A line from the middle of the base64 body: only the key's text holds it.
  const size_t line = pem.find('\n', pem.size() / 2) + 1;
  const std::string marker = pem.substr(line, 32);
  char dir[] = "/tmp/securechat-secret-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/server_private.pem";
  ASSERT_TRUE(WriteKeyFile(path, pem, 0600, false).ok());
  {
    Watch watch(marker);
    KeyLoadError why = KeyLoadError::kBadKey;
    auto key = ServerPrivateKey::ReadFile(path, nullptr, &why);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(why, KeyLoadError::kNone);
    EXPECT_GE(g_released.load(), 1u);
    EXPECT_EQ(g_released_with_secret.load(), 0u);
  }
  unlink(path.c_str());
  rmdir(dir);
}

TEST(SecretTest, GrowingKeepsTheBytesAndMovingEmptiesTheSource) {
  Secret<> s(std::string_view("abc"));
  ASSERT_TRUE(s.Reserve(100));
  EXPECT_EQ(AsChars(s.Expose()), "abc");
  EXPECT_GE(s.capacity(), 100u);
  const uint8_t* where = s.Expose().data();
  Secret<> t(std::move(s));
  EXPECT_EQ(t.Expose().data(), where);
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): what is left
  EXPECT_EQ(s.capacity(), 0u);
  t.Wipe();
  EXPECT_TRUE(t.empty());
}

TEST(SecretTest, FixedSecretWipesWhenMovedFrom) {
  std::array<uint8_t, 4> bytes = {1, 2, 3, 4};
  auto a = Secret<4>::FromBytes(bytes);
  Secret<4> b(std::move(a));
  EXPECT_TRUE(ConstantTimeIsZero(a.Expose()));  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(ConstantTimeEqual(b.Expose(), bytes));
}

TEST(ConstantTimeTest, IsZeroLooksAtEveryByte) {
  for (size_t len : {0, 1, 7, 8, 9, 31, 32, 33}) {
    std::string bytes(len, '\0');
    EXPECT_TRUE(ConstantTimeIsZero(
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())));
    for (size_t i = 0; i < len; ++i) {
      bytes.assign(len, '\0');
      bytes[i] = '\x80';
      EXPECT_FALSE(ConstantTimeIsZero(
          absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())))
          << len << " " << i;
    }
  }
}

TEST(ConstantTimeTest, MasksAreAllOnesOrZero) {
  const size_t kOnes = ~size_t{0};
  EXPECT_EQ(ConstantTimeLtMask(1, 2), kOnes);
  EXPECT_EQ(ConstantTimeLtMask(2, 2), 0u);
  EXPECT_EQ(ConstantTimeLtMask(3, 2), 0u);
  EXPECT_EQ(ConstantTimeLtMask(0, 17), kOnes);
  EXPECT_EQ(ConstantTimeEqMask(0, 0), kOnes);
  EXPECT_EQ(ConstantTimeEqMask(16, 16), kOnes);
  EXPECT_EQ(ConstantTimeEqMask(16, 17), 0u);
  EXPECT_EQ(ConstantTimeEqMask(0, kOnes), 0u);
}

}  // namespace
}  // namespace securechat
