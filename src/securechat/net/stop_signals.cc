#include "securechat/net/stop_signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>

namespace securechat::net {
namespace {

// SIGHUP is caught too, with its own flag: it asks for a reload, not a stop.
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

// What the handler may touch: the write end of the self-pipe (-1 when none is installed) and
// the flag.
volatile sig_atomic_t g_write_fd = -1;
volatile sig_atomic_t g_stop_requested = 0;
volatile sig_atomic_t g_reload_requested = 0;
// The handlers in place before Install, put back by ~StopSignals.
struct sigaction g_previous[std::size(kStopSignals)];

void OnStopSignal(int sig) {
  const int saved = errno;
  if (sig == SIGHUP) {
    g_reload_requested = 1;
  } else {
    g_stop_requested = 1;
  }
  const char byte = 1;
  [[maybe_unused]] ssize_t n = write(g_write_fd, &byte, 1);
  errno = saved;
}

}  // namespace

std::unique_ptr<StopSignals> StopSignals::Install() {
  if (g_write_fd >= 0) {
    return nullptr;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return nullptr;
  }
  g_stop_requested = 0;
  g_reload_requested = 0;
  g_write_fd = fds[1];
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  // No SA_RESTART: a blocking read (the passphrase prompt) returns EINTR and can give up.
  for (size_t i = 0; i < std::size(kStopSignals); ++i) {
    if (sigaction(kStopSignals[i], &sa, &g_previous[i]) != 0) {
      for (size_t j = 0; j < i; ++j) {
        sigaction(kStopSignals[j], &g_previous[j], nullptr);
      }
      g_write_fd = -1;
      close(fds[0]);
      close(fds[1]);
      return nullptr;
    }
  }
  // Signals blocked by whoever started us (the mask is inherited through exec) would never
  // reach the handlers: unblock them. One that is pending is handled here, at once.
  sigset_t stop_set;
  sigemptyset(&stop_set);
  for (int sig : kStopSignals) {
    sigaddset(&stop_set, sig);
  }
  sigset_t previous_mask;
  pthread_sigmask(SIG_UNBLOCK, &stop_set, &previous_mask);
  return std::unique_ptr<StopSignals>(new StopSignals(fds[0], fds[1], previous_mask));
}

StopSignals::~StopSignals() {
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
  for (size_t i = 0; i < std::size(kStopSignals); ++i) {
    sigaction(kStopSignals[i], &g_previous[i], nullptr);
  }
  g_write_fd = -1;
  close(read_fd_);
  close(write_fd_);
}

void StopSignals::Drain() {
  char drain[16];
  while (read(read_fd_, drain, sizeof(drain)) > 0) {
  }
}

bool StopRequested() { return g_stop_requested != 0; }

bool TakeReloadRequest() {
  const bool requested = g_reload_requested != 0;
  g_reload_requested = 0;
  return requested;
}

}  // namespace securechat::net
