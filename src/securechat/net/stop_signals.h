// StopSignals: SIGINT and SIGTERM, caught from the moment a program starts, so that one that
// comes during a slow start-up (reading and decrypting the key, measuring the handshake
// budget) is kept for the server loop, which then stops cleanly, instead of killing the
// process. SIGHUP is caught with them and kept apart: it asks the server to re-read its
// members file (TakeReloadRequest), and never stops it.
#ifndef SECURECHAT_NET_STOP_SIGNALS_H_
#define SECURECHAT_NET_STOP_SIGNALS_H_

#include <signal.h>

#include <memory>

namespace securechat::net {

class StopSignals {
 public:
  // Install catches SIGINT and SIGTERM: each one sets the flag of StopRequested (cleared
  // here) and writes a byte to a self-pipe. It unblocks them, since a mask inherited from
  // whoever started the program would keep them away; one that was pending is taken at once.
  // Returns null if the pipe or a handler cannot be set up, or if another StopSignals exists.
  // Destroying it puts back the handlers and the signal mask that were there before.
  static std::unique_ptr<StopSignals> Install();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // fd is readable once a signal has come, until Drain.
  int fd() const { return read_fd_; }
  // Drain empties the self-pipe; the flag of StopRequested stays set.
  void Drain();

 private:
  StopSignals(int read_fd, int write_fd, const sigset_t& previous_mask)
      : read_fd_(read_fd), write_fd_(write_fd), previous_mask_(previous_mask) {}

  int read_fd_;
  int write_fd_;
  sigset_t previous_mask_;  // the signal mask before Install
};

// StopRequested is true once SIGINT or SIGTERM has come since the last StopSignals::Install.
// Safe to call anywhere, for example after a read that failed with EINTR.
bool StopRequested();

// TakeReloadRequest is true once if SIGHUP has come since the last call (or Install).
bool TakeReloadRequest();

}  // namespace securechat::net

#endif  // SECURECHAT_NET_STOP_SIGNALS_H_
