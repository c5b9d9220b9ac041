// The server never waits for its own output: a log (stderr) nobody reads does not stop it, the
// lines it could not write are counted once the reader is back, and a flood of connections is
// rate limited in the log.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "securechat/base/cat.h"

namespace securechat::testing {
namespace {

using Clock = std::chrono::steady_clock;

// What the server logs for these tests: a connect line per connection, limited by the
// default --log_rate=4 to 32 at once, then 4 a second.
constexpr int kLoggedConnectBurst = 32;
constexpr int kLoggedConnectsPerSecond = 4;

// ConnectAndClose connects to 127.0.0.1:`port`, sends `bytes`, then (with `wait_for_close`)
// reads until the server closes the connection, and closes it. Every step waits at most
// `timeout`. Returns false if a step failed or timed out.
bool ConnectAndClose(int port, std::string_view bytes, bool wait_for_close, Duration timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  // Linux bounds a blocking connect() by SO_SNDTIMEO and recv() by SO_RCVTIMEO.
  bool ok = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = ok && connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0;
  ok = ok && (bytes.empty() || send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                                   static_cast<ssize_t>(bytes.size()));
  if (ok && wait_for_close) {
    char buf[256];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
    }
    ok = n == 0 || errno == ECONNRESET;  // EAGAIN: the server did not close in time
  }
  close(fd);
  return ok;
}

// SumOf adds up N over every "N <what>" at the start of a log line's text.
int64_t SumOf(const std::string& log, const std::string& what) {
  const std::regex re(Cat("Z ([0-9]+) ", what, "\n"));
  int64_t sum = 0;
  for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it) {
    int64_t n = 0;
    EXPECT_TRUE(absl::SimpleAtoi((*it)[1].str(), &n));
    sum += n;
  }
  return sum;
}

class ServerOutputTest : public ::testing::Test {
 protected:
  void StartTestServer() {
    absl::StatusOr<std::string> private_key = CopyTestServerKey(dir_);
    ASSERT_TRUE(private_key.ok()) << private_key.status();
    absl::StatusOr<ServerProcess> server = StartServer(*private_key, {}, kWait);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    started_ = Clock::now();
  }
  Process& server() { return *server_.process; }
  std::unique_ptr<Process> Join(const std::string& nick, int online) {
    return JoinChat(nick, TestKeyPath("test_rsa2048_public.pem"), server_.address, online);
  }

  TempDir dir_;
  ServerProcess server_;
  Clock::time_point started_;
};

// Issue #10: with stderr on a pipe nobody read, connect/close cycles filled it and the
// server stopped answering. Now 5000 connections that each send garbage ("connect" and
// "error" lines, almost four 64 KiB pipes' worth) are all served while nobody reads the log,
// alice's message still reaches bob, and once the log is read again it holds whole lines only,
// ending with how many were dropped.
TEST_F(ServerOutputTest, LogPipeNobodyReadsDoesNotStopTheServer) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  std::unique_ptr<Process> alice = Join("alice", 1);
  ASSERT_NE(alice, nullptr);
  std::unique_ptr<Process> bob = Join("bob", 2);
  ASSERT_NE(bob, nullptr);
  server().HoldStderr(true);

  constexpr int kCycles = 5000;
  const std::string garbage("\xde\xad\xbe\xef not a hello at all, just noise\n");
  const Clock::time_point flood_start = Clock::now();
  int served = 0;
  while (served < kCycles &&
         ConnectAndClose(server_.port, garbage, /*wait_for_close=*/true, std::chrono::seconds(1))) {
    ++served;
  }
  const auto flood_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - flood_start).count();
  EXPECT_EQ(served, kCycles) << "the server stopped closing connections";
  std::printf("[ REPORT   ] %d garbage connections served in %lld ms with the log unread\n", served,
              static_cast<long long>(flood_ms));

  ASSERT_TRUE(alice->WriteStdin("still here"));
  EXPECT_TRUE(Saw(*bob, "<alice> still here\n")) << "after " << served << " connections";

  // The reader is back: the buffered lines come out, then the count of those that did not fit.
  server().HoldStderr(false);
  ASSERT_TRUE(SawOnStderr(server(), " log lines dropped\n"));
  const std::string& log = server().err();
  static const std::regex kWholeLine(
      "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z "
      "(limits: .*|rooms: .*|files: .*|connect #[0-9]+ from 127\\.0\\.0\\.1:[0-9]+|error #[0-9]+: "
      "bad frame "
      "header|"
      "join #[0-9]+ as (alice|bob)|[0-9]+ connect lines? suppressed|[0-9]+ log lines? dropped)");
  std::vector<std::string> lines = absl::StrSplit(log, '\n');
  ASSERT_EQ(lines.back(), "") << "the log ends in half a line";
  lines.pop_back();
  for (const std::string& line : lines) {
    ASSERT_TRUE(std::regex_match(line.begin(), line.end(), kWholeLine))
        << "not a whole log line: " << Quoted(line);
  }
  const int64_t errors = static_cast<int64_t>(CountOf(log, ": bad frame header\n"));
  const int64_t dropped = SumOf(log, "log lines? dropped");
  std::printf("[ REPORT   ] log: %lld error lines kept, %lld lines dropped, %lld bytes\n",
              static_cast<long long>(errors), static_cast<long long>(dropped),
              static_cast<long long>(log.size()));
  EXPECT_GT(errors, 64 * 1024 / 50) << "less than a pipe's worth of lines came through";
  EXPECT_LT(errors, served);
  EXPECT_GE(errors + dropped, served) << "lines went missing without being counted";
}

// A flood of connections logs a burst of connect lines, then a few a second, and says how
// many it left out; at the end nothing is unaccounted for.
TEST_F(ServerOutputTest, ConnectFloodIsRateLimitedInTheLog) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  constexpr int kConnections = 300;
  for (int i = 0; i < kConnections; ++i) {
    ASSERT_TRUE(ConnectAndClose(server_.port, "", /*wait_for_close=*/false, kWait));
    server().ReadAvailable();
  }
  EXPECT_TRUE(SawOnStderr(server(), " connect lines suppressed\n"));
  ASSERT_TRUE(server().Signal(SIGTERM));
  ASSERT_TRUE(Exits(server(), 0));
  const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();

  const std::string& log = server().err();
  const int64_t logged =
      static_cast<int64_t>(CountOf(log, "Z connect #") + CountOf(log, "Z refuse #"));
  const int64_t suppressed = SumOf(log, "(connect|refuse) lines? suppressed");
  std::printf("[ REPORT   ] %d connections in %.2f s: %lld logged, %lld suppressed\n", kConnections,
              seconds, static_cast<long long>(logged), static_cast<long long>(suppressed));
  EXPECT_LE(logged, 2 * kLoggedConnectBurst +
                        2 * kLoggedConnectsPerSecond * static_cast<int64_t>(std::ceil(seconds)))
      << Describe(server());
  EXPECT_EQ(logged + suppressed, kConnections) << Describe(server());
}

}  // namespace
}  // namespace securechat::testing
