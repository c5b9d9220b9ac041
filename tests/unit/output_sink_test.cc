// OutputSink: the server's log and console lines never make it wait. A pipe nobody reads and a
// terminal stopped with Ctrl-S (TCOOFF) only fill a bounded buffer; lines that do not fit are
// dropped whole and counted, and the count is written once the reader is back.
#include "securechat/net/output_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "securechat/base/cat.h"

namespace securechat::net {
namespace {

// A test that blocks in a write is killed after this long (SIGALRM) instead of hanging.
constexpr unsigned kHangSeconds = 20;

// HangGuard arms an alarm for the life of a test: the old, blocking code would sleep in write()
// forever, and the default SIGALRM action ends the process with a failure.
class HangGuard {
 public:
  HangGuard() { alarm(kHangSeconds); }
  ~HangGuard() { alarm(0); }
};

class Pipe {
 public:
  Pipe() {
    EXPECT_EQ(pipe2(fds_, O_CLOEXEC), 0);
    // Our read end is ours alone: non-blocking reads cannot disturb the writer's side.
    fcntl(fds_[0], F_SETFL, O_NONBLOCK);
  }
  ~Pipe() {
    CloseReader();
    close(fds_[1]);
  }
  int reader() const { return fds_[0]; }
  int writer() const { return fds_[1]; }
  void CloseReader() {
    if (fds_[0] >= 0) {
      close(fds_[0]);
      fds_[0] = -1;
    }
  }
  // ReadAll appends what the pipe holds now to *text. Returns the number of bytes read.
  size_t ReadAll(std::string* text) {
    char buf[8192];
    size_t total = 0;
    for (ssize_t n; (n = read(fds_[0], buf, sizeof(buf))) > 0;) {
      text->append(buf, static_cast<size_t>(n));
      total += static_cast<size_t>(n);
    }
    return total;
  }

 private:
  int fds_[2] = {-1, -1};
};

bool SharedIsNonBlocking(int fd) { return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

std::string Numbered(int i) {
  char line[64];
  std::snprintf(line, sizeof(line), "error #%05d: bad frame header, padded to 48 bytes", i);
  return line;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  EXPECT_EQ(lines.back(), "") << "the output ends in half a line";
  lines.pop_back();
  return lines;
}

// Nobody reads the pipe: the writer keeps going, the sink holds at most its capacity, and
// every line it could not hold is dropped whole. Once the pipe is read again, the lines come
// out in order, whole, followed by "N log lines dropped" where N is exactly what is missing.
TEST(OutputSinkTest, PipeNobodyReadsDropsWholeLinesAndCountsThem) {
  HangGuard guard;
  Pipe pipe;
  const int shared = dup(pipe.writer());  // another process's copy of the same pipe
  OutputSinkOptions options;
  options.prefix = [] { return std::string("T "); };
  constexpr int kLines = 5000;  // 5000 * 51 bytes: almost four pipes' worth
  {
    OutputSink sink(pipe.writer(), options);
    EXPECT_EQ(sink.fallback_note(), "");
    for (int i = 0; i < kLines; ++i) {
      sink.Line(Numbered(i));
      sink.Flush();
      ASSERT_LE(sink.buffered(), kOutputSinkBytes);
    }
    EXPECT_TRUE(sink.WantsWrite());
    EXPECT_GT(sink.dropped(), 0u);
    EXPECT_FALSE(SharedIsNonBlocking(shared)) << "O_NONBLOCK leaked to the shared description";

    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (sink.WantsWrite() && std::chrono::steady_clock::now() < deadline) {
      pipe.ReadAll(&text);
      sink.Flush();
    }
    pipe.ReadAll(&text);
    EXPECT_FALSE(sink.WantsWrite());
    EXPECT_EQ(sink.dropped(), 0u);

    const std::vector<std::string> lines = Lines(text);
    ASSERT_GE(lines.size(), 2u);
    const int kept = static_cast<int>(lines.size()) - 1;
    EXPECT_GT(kept, static_cast<int>(64 * 1024 / 51)) << "less than a pipe's worth came out";
    EXPECT_LT(kept, kLines);
    for (int i = 0; i < kept; ++i) {
      ASSERT_EQ(lines[i], Cat("T ", Numbered(i))) << "line " << i;
    }
    EXPECT_EQ(lines.back(), Cat("T ", kLines - kept, " log lines dropped"));

    // Lines after the note go out as usual.
    text.clear();
    sink.Line("join #1 as alice");
    sink.Flush();
    pipe.ReadAll(&text);
    EXPECT_EQ(text, "T join #1 as alice\n");
  }
  EXPECT_FALSE(SharedIsNonBlocking(shared));
  close(shared);
}

// Under a line editor (SetAbove) lines go to the printer as rows, a few KiB at a time, and
// only while the descriptor takes bytes: one that takes none keeps them in the bounded buffer
// and drops and counts the rest, as it would for writes. Nothing reaches the descriptor itself.
TEST(OutputSinkTest, AboveTakesRowsOnlyWhileTheDescriptorIsWritable) {
  HangGuard guard;
  Pipe pipe;
  OutputSinkOptions options;
  options.prefix = [] { return std::string("T "); };
  OutputSink sink(pipe.writer(), options);
  std::vector<std::string> shown;
  size_t printed = 0;
  sink.SetAbove([&](const std::vector<std::string>& rows) {
    ++printed;
    shown.insert(shown.end(), rows.begin(), rows.end());
  });
  sink.Line("join #1 as alice");
  sink.Line("leave #1 alice");
  sink.Flush();
  EXPECT_EQ(shown, (std::vector<std::string>{"T join #1 as alice", "T leave #1 alice"}));
  EXPECT_FALSE(sink.WantsWrite());

  // A pipe nobody reads stands for a terminal that takes nothing.
  const std::string fill(4096, 'x');
  while (write(pipe.writer(), fill.data(), fill.size()) > 0 || errno == EINTR) {
  }
  shown.clear();
  constexpr int kLines = 2000;  // 2000 * 51 bytes: more than the buffer holds
  for (int i = 0; i < kLines; ++i) {
    sink.Line(Numbered(i));
    sink.Flush();
  }
  EXPECT_TRUE(shown.empty());
  EXPECT_TRUE(sink.WantsWrite());
  EXPECT_GT(sink.dropped(), 0u);

  // Drained: the kept lines come out in order, a few KiB per printing, then the count.
  std::string drained;
  pipe.ReadAll(&drained);
  printed = 0;
  while (sink.WantsWrite()) {
    sink.Flush();
  }
  ASSERT_GE(shown.size(), 2u);
  const int kept = static_cast<int>(shown.size()) - 1;
  EXPECT_GT(printed, static_cast<size_t>(kept * 51 / 8192));
  for (int i = 0; i < kept; ++i) {
    ASSERT_EQ(shown[i], Cat("T ", Numbered(i))) << "row " << i;
  }
  EXPECT_EQ(shown.back(), Cat("T ", kLines - kept, " log lines dropped"));
  std::string text;
  pipe.ReadAll(&text);
  EXPECT_EQ(text, "") << "written to the descriptor under the editor";
}

// A terminal stopped with Ctrl-S (output flow off) does not stop the writer; Ctrl-Q lets the
// lines out.
TEST(OutputSinkTest, TerminalStoppedWithCtrlSDoesNotBlock) {
  HangGuard guard;
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  const int terminal = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(terminal, 0);
  termios mode{};
  ASSERT_EQ(tcgetattr(terminal, &mode), 0);
  mode.c_oflag &= ~static_cast<tcflag_t>(OPOST);  // no "\r\n" for "\n"
  ASSERT_EQ(tcsetattr(terminal, TCSANOW, &mode), 0);
  const int fd = dup(terminal);  // the sink's stdout; `terminal` stays the shell's copy

  {
    OutputSink sink(fd, OutputSinkOptions{});
    EXPECT_EQ(sink.fallback_note(), "");
    ASSERT_EQ(tcflow(terminal, TCOOFF), 0);  // Ctrl-S
    sink.Line("<alice> hello");
    sink.Flush();
    EXPECT_TRUE(sink.WantsWrite()) << "a stopped terminal took the line";
    EXPECT_FALSE(SharedIsNonBlocking(terminal)) << "O_NONBLOCK leaked to the shell's terminal";

    ASSERT_EQ(tcflow(terminal, TCOON), 0);  // Ctrl-Q
    EXPECT_TRUE(sink.Finish(5000));
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (text.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{master, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[256];
        const ssize_t n = read(master, buf, sizeof(buf));
        if (n > 0) {
          text.append(buf, static_cast<size_t>(n));
        }
      }
    }
    EXPECT_EQ(text, "<alice> hello\n");
  }
  close(fd);
  close(terminal);
  close(master);
}

// A pipe whose reader is gone fails every write with EPIPE (not SIGPIPE): the lines are
// counted as dropped and the sink stops asking to write, so the loop cannot spin on a
// descriptor that select() always reports writable.
TEST(OutputSinkTest, ReaderGoneStopsWriting) {
  HangGuard guard;
  Pipe pipe;
  pipe.CloseReader();
  OutputSink sink(pipe.writer(), OutputSinkOptions{});
  sink.Line("connect #1 from 127.0.0.1:40000");
  sink.Line("join #1 as alice");
  sink.Flush();
  EXPECT_FALSE(sink.WantsWrite());
  EXPECT_EQ(sink.dropped(), 2u);
  sink.Line("leave #1 alice (peer closed)");
  sink.Flush();
  EXPECT_FALSE(sink.WantsWrite());
}

// A pseudo-terminal master opened again would be a new terminal: the sink falls back to
// O_NONBLOCK on the shared description, says so, and puts the old flags back when it goes.
TEST(OutputSinkTest, FallbackSetsSharedFlagAndRestoresIt) {
  HangGuard guard;
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  const int fd = dup(master);
  {
    OutputSink sink(fd, OutputSinkOptions{});
    EXPECT_NE(sink.fallback_note(), "");
    EXPECT_TRUE(SharedIsNonBlocking(master));
  }
  EXPECT_FALSE(SharedIsNonBlocking(master)) << "the shared flags were not restored";
  close(fd);
  close(master);
}

// Lines of a limited kind pass `burst` at once, then `rate` per second; the others always
// pass. What was suppressed is counted in one line as soon as the rate allows it.
TEST(OutputSinkTest, RepeatedConnectLinesAreRateLimited) {
  Pipe pipe;
  uint64_t now = 0;
  OutputSinkOptions options;
  options.limited_kinds = {"connect", "refuse"};
  options.limit_rate = 1;
  options.limit_burst = 2;
  options.mono_ms = [&now] { return now; };
  OutputSink sink(pipe.writer(), options);

  for (int i = 1; i <= 5; ++i) {
    sink.Line(Cat("connect #", i, " from 127.0.0.1:4000", i));
  }
  sink.Line("refuse #6 from 127.0.0.1:40006: server full");
  sink.Line("connect-like #7 is another kind");
  sink.Line("join #1 as alice");
  sink.Flush();
  std::string text;
  pipe.ReadAll(&text);
  EXPECT_EQ(text,
            "connect #1 from 127.0.0.1:40001\n"
            "connect #2 from 127.0.0.1:40002\n"
            "refuse #6 from 127.0.0.1:40006: server full\n"
            "connect-like #7 is another kind\n"
            "join #1 as alice\n");

  // The bucket refills one line per second: the count comes as soon as it may.
  ASSERT_TRUE(sink.MsUntilTick().has_value());
  EXPECT_EQ(*sink.MsUntilTick(), 1001u);
  now = 500;
  sink.Tick();
  sink.Flush();
  EXPECT_EQ(pipe.ReadAll(&text), 0u);
  now = 1001;
  sink.Tick();
  sink.Flush();
  text.clear();
  pipe.ReadAll(&text);
  EXPECT_EQ(text, "3 connect lines suppressed\n");
  EXPECT_FALSE(sink.MsUntilTick().has_value());

  // One more over the rate, then a line that passes: the count goes first.
  sink.Line("connect #8 from 127.0.0.1:40008");
  now = 2002;
  sink.Line("connect #9 from 127.0.0.1:40009");
  sink.Flush();
  text.clear();
  pipe.ReadAll(&text);
  EXPECT_EQ(text,
            "1 connect line suppressed\n"
            "connect #9 from 127.0.0.1:40009\n");
}

}  // namespace
}  // namespace securechat::net
