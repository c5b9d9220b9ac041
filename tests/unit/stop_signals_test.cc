// StopSignals: SIGINT and SIGTERM caught into a self-pipe from the moment they are installed,
// taken even if they were blocked and pending, and the old handling put back afterwards.
#include "securechat/net/stop_signals.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

#include <memory>

namespace securechat::net {
namespace {

int g_test_handler_calls = 0;
void TestHandler(int) { ++g_test_handler_calls; }

// Readable is true if `fd` has bytes to read now.
bool Readable(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return poll(&pfd, 1, 0) == 1;
}

// A signal that was sent while blocked (as a program may inherit its mask) is taken when the
// handlers are installed; the pipe wakes the loop until drained; only one StopSignals at a
// time; the handler and mask from before come back when it is destroyed.
TEST(StopSignalsTest, TakesAPendingSignalAndRestoresTheOldHandling) {
  struct sigaction test_handler {};
  test_handler.sa_handler = TestHandler;
  sigemptyset(&test_handler.sa_mask);
  ASSERT_EQ(sigaction(SIGTERM, &test_handler, nullptr), 0);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, nullptr), 0);
  ASSERT_EQ(raise(SIGTERM), 0);  // pending, not delivered

  {
    std::unique_ptr<StopSignals> stop = StopSignals::Install();
    ASSERT_NE(stop, nullptr);
    EXPECT_EQ(StopSignals::Install(), nullptr) << "two at once";
    EXPECT_TRUE(StopRequested());
    EXPECT_TRUE(Readable(stop->fd()));
    stop->Drain();
    EXPECT_FALSE(Readable(stop->fd()));
    EXPECT_TRUE(StopRequested()) << "draining keeps the flag";
    ASSERT_EQ(raise(SIGINT), 0);
    EXPECT_TRUE(Readable(stop->fd()));
  }
  EXPECT_EQ(g_test_handler_calls, 0);
  sigset_t mask;
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, nullptr, &mask), 0);
  EXPECT_EQ(sigismember(&mask, SIGTERM), 1) << "the old mask is back";
  ASSERT_EQ(pthread_sigmask(SIG_UNBLOCK, &term, nullptr), 0);
  ASSERT_EQ(raise(SIGTERM), 0);
  EXPECT_EQ(g_test_handler_calls, 1) << "the old handler is back";

  // A new StopSignals starts with the flag cleared.
  std::unique_ptr<StopSignals> again = StopSignals::Install();
  ASSERT_NE(again, nullptr);
  EXPECT_FALSE(StopRequested());
  EXPECT_FALSE(Readable(again->fd()));
}

}  // namespace
}  // namespace securechat::net
