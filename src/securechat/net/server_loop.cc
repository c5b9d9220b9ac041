#include "securechat/net/server_loop.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "securechat/base/cat.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/protocol.h"

namespace securechat::net {
namespace {

// The self-pipe: the signal handler writes one byte, select() wakes up on it.
int g_signal_pipe[2] = {-1, -1};

void OnSignal(int) {
  const int saved = errno;
  const char byte = 1;
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &byte, 1);
  errno = saved;
}

bool InstallSignalHandlers() {
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    return false;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGINT, &sa, nullptr) == 0 && sigaction(SIGTERM, &sa, nullptr) == 0;
}

// Console collects operator lines from a descriptor.
class Console {
 public:
  explicit Console(int fd) : fd_(fd) {}
  int fd() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  // Read reads what is there and calls `line` for each complete line. Returns false at EOF.
  template <typename F>
  bool Read(F&& line) {
    char buf[4096];
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      return true;
    }
    if (n <= 0) {
      fd_ = -1;
      return false;
    }
    pending_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view l(pending_.data() + start, nl - start);
      if (!l.empty() && l.back() == '\r') {
        l.remove_suffix(1);
      }
      line(l);
    }
    pending_.erase(0, start);
    if (pending_.size() > proto::kMaxTextLen) {
      pending_.clear();  // a line longer than any message: drop it
      line(std::string_view());
    }
    return true;
  }

 private:
  int fd_;
  std::string pending_;
};

// CloseGently ends our sending side, then discards input the peer already sent. Closing a
// socket with unread input makes the kernel send a reset, and a reset can make the peer's
// kernel throw away our last bytes (an ALERT, a fatal ERROR) before the peer reads them.
void CloseGently(int fd) {
  shutdown(fd, SHUT_WR);
  char sink[4096];
  for (int i = 0; i < 16 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; ++i) {
  }
}

class Loop {
 public:
  Loop(ServerCore& core, Fd listener, const ServerLoopOptions& options)
      : core_(core),
        listener_(std::move(listener)),
        options_(options),
        console_(options.console_fd) {}

  int Run();

 private:
  void AcceptAll();
  void ReadFrom(ConnId id, int fd);
  void FlushAll();
  void Note(std::string_view s) {
    if (options_.console_note) {
      options_.console_note(s);
    }
  }

  ServerCore& core_;
  Fd listener_;
  const ServerLoopOptions& options_;
  Console console_;
  static constexpr uint64_t kAcceptBackoffMs = 100;

  std::map<ConnId, Fd> fds_;
  uint64_t accept_paused_until_ = 0;
  std::array<uint8_t, 16 * 1024> read_buf_{};
};

void Loop::AcceptAll() {
  // Bounded: a flood of connections cannot keep the loop from serving everyone else.
  for (int i = 0; i < 64; ++i) {
    int raw = accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (raw < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the pending connection stays in the backlog and
        // select() would report it again at once. Stop watching the listener for a while
        // instead of spinning.
        accept_paused_until_ = MonotonicMs() + kAcceptBackoffMs;
        Note(Cat("accept: ", strerror(errno), "; pausing accepts for ", kAcceptBackoffMs, " ms"));
      }
      return;  // EAGAIN, ECONNABORTED and the like: nothing to do until the next readiness
    }
    Fd fd(raw);
    if (fd.get() >= FD_SETSIZE) {
      // select() cannot watch it: refuse it now, without touching an fd_set.
      std::vector<uint8_t> alert;
      AppendAlert(proto::AlertCode::kServerFull, "server full", &alert);
      [[maybe_unused]] ssize_t n = send(fd.get(), alert.data(), alert.size(), MSG_NOSIGNAL);
      CloseGently(fd.get());
      Note(Cat("refuse ", PeerName(fd.get()), ": descriptor ", fd.get(), " is past FD_SETSIZE"));
      continue;
    }
    // The loop already batches: one send per connection per round carries everything queued
    // for it. Nagle's algorithm would hold a lone record back until the previous one is
    // acknowledged, which the peer may delay by up to 40 ms.
    const int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const ConnId id = core_.Accept(PeerAddress(fd.get()), PeerName(fd.get()));
    fds_.emplace(id, std::move(fd));
  }
}

void Loop::ReadFrom(ConnId id, int fd) {
  ssize_t n = recv(fd, read_buf_.data(), read_buf_.size(), 0);
  if (n > 0) {
    core_.Receive(id, ByteView(read_buf_.data(), static_cast<size_t>(n)));
  } else if (n == 0) {
    core_.PeerClosed(id, "peer closed");
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    core_.PeerClosed(id, strerror(errno));
  }
}

void Loop::FlushAll() {
  for (auto it = fds_.begin(); it != fds_.end();) {
    const ConnId id = it->first;
    for (ByteView out = core_.Pending(id); !out.empty(); out = core_.Pending(id)) {
      ssize_t n = send(it->second.get(), out.data(), out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        core_.Consumed(id, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        break;
      }
      core_.PeerClosed(id, n < 0 ? strerror(errno) : "write failed");
      break;
    }
    if (core_.ShouldClose(id)) {
      core_.Forget(id);
      CloseGently(it->second.get());
      it = fds_.erase(it);  // closes the socket
    } else {
      ++it;
    }
  }
}

int Loop::Run() {
  if (!InstallSignalHandlers()) {
    Note("cannot install signal handlers");
    return 1;
  }
  bool stopping = false;
  auto deadline = std::chrono::steady_clock::time_point::max();
  for (;;) {
    if (stopping && (fds_.empty() || std::chrono::steady_clock::now() >= deadline)) {
      return 0;
    }
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    int max_fd = g_signal_pipe[0];
    FD_SET(g_signal_pipe[0], &rd);
    const bool accepting = !stopping && MonotonicMs() >= accept_paused_until_;
    if (accepting) {
      FD_SET(listener_.get(), &rd);
      max_fd = std::max(max_fd, listener_.get());
    }
    if (!stopping) {
      if (console_.open()) {
        FD_SET(console_.fd(), &rd);
        max_fd = std::max(max_fd, console_.fd());
      }
    }
    for (OutputSink* out : options_.outputs) {
      if (out->WantsWrite() && out->fd() < FD_SETSIZE) {
        FD_SET(out->fd(), &wr);
        max_fd = std::max(max_fd, out->fd());
      }
    }
    for (const auto& [id, fd] : fds_) {
      FD_SET(fd.get(), &rd);
      if (!core_.Pending(id).empty()) {
        FD_SET(fd.get(), &wr);
      }
      max_fd = std::max(max_fd, fd.get());
    }
    // Sleep until the next timer of the core, the end of an accept pause, or (stopping) a
    // short poll for the flush.
    std::optional<uint64_t> wait_ms = core_.MsUntilTick();
    if (!accepting) {
      wait_ms = std::min<uint64_t>(wait_ms.value_or(kAcceptBackoffMs), kAcceptBackoffMs);
    }
    for (OutputSink* out : options_.outputs) {
      if (const std::optional<uint64_t> ms = out->MsUntilTick()) {
        wait_ms = std::min(wait_ms.value_or(*ms), *ms);
      }
    }
    timeval tv{};
    if (wait_ms) {
      tv.tv_sec = static_cast<time_t>(*wait_ms / 1000);
      tv.tv_usec = static_cast<suseconds_t>(*wait_ms % 1000 * 1000);
    }
    int ready = select(max_fd + 1, &rd, &wr, nullptr, wait_ms ? &tv : nullptr);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      Note(Cat("select failed: ", strerror(errno)));
      return 1;
    }
    if (FD_ISSET(g_signal_pipe[0], &rd)) {
      char drain[16];
      while (read(g_signal_pipe[0], drain, sizeof(drain)) > 0) {
      }
      if (!stopping) {
        stopping = true;
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        core_.Shutdown();
      }
    }
    if (accepting && FD_ISSET(listener_.get(), &rd)) {
      AcceptAll();
    }
    if (!stopping && console_.open() && FD_ISSET(console_.fd(), &rd)) {
      bool open = console_.Read([&](std::string_view line) {
        if (line.empty()) {
          return;
        }
        if (!core_.ConsoleLine(line)) {
          Note(
              "not sent: a console line must be 1 to 4096 bytes of UTF-8 without control "
              "characters");
        }
      });
      if (!open) {
        Note("console closed (end of input); the server keeps running");
      }
    }
    for (auto& [id, fd] : fds_) {
      if (FD_ISSET(fd.get(), &rd)) {
        ReadFrom(id, fd.get());
      }
    }
    core_.Tick();
    FlushAll();
    // Whether or not select() said so: a line logged in this round usually fits at once.
    for (OutputSink* out : options_.outputs) {
      out->Tick();
      out->Flush();
    }
  }
}

}  // namespace

int RunServer(ServerCore& core, Fd listener, const ServerLoopOptions& options) {
  IgnoreSigpipe();
  Loop loop(core, std::move(listener), options);
  return loop.Run();
}

}  // namespace securechat::net
