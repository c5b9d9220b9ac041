#include "securechat/net/output_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "securechat/base/cat.h"
#include "securechat/net/socket.h"

namespace securechat::net {
namespace {

// The most bytes of lines a sink hands to SetAbove's printer at once (at least one line).
constexpr size_t kAboveBytes = 4096;

// OpenAgain opens a new open file description of the pipe or terminal `fd` (whose fstat is
// `st` and status flags `flags`), non-blocking and write-only, through /proc/self/fd: its
// O_NONBLOCK is ours alone. Returns the new descriptor, or -1 with *why set.
int OpenAgain(int fd, const struct stat& st, int flags, std::string* why) {
  int pty_number = 0;
  if (S_ISCHR(st.st_mode) && ioctl(fd, TIOCGPTN, &pty_number) == 0) {
    // Opening a pseudo-terminal master again would make a new terminal, not reach this one.
    *why = "a pseudo-terminal master";
    return -1;
  }
  // O_NOCTTY: a terminal opened again must not become our controlling terminal.
  const std::string path = Cat("/proc/self/fd/", fd);
  const int fresh =
      open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (flags & O_APPEND));
  if (fresh < 0) {
    *why = std::strerror(errno);
    return -1;
  }
  struct stat again {};
  if (fstat(fresh, &again) != 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino ||
      again.st_rdev != st.st_rdev) {
    close(fresh);
    *why = "it opened something else";
    return -1;
  }
  return fresh;
}

}  // namespace

OutputSink::OutputSink(int fd, OutputSinkOptions options) : fd_(fd), options_(std::move(options)) {
  for (const std::string& kind : options_.limited_kinds) {
    limits_.try_emplace(kind, options_.limit_rate, options_.limit_burst);
  }
  buffer_.reserve(options_.capacity);
  // A pipe whose reader is gone must fail a write with EPIPE, not kill the server.
  IgnoreSigpipe();
  Prepare();
}

OutputSink::~OutputSink() {
  if (restore_flags_) {
    fcntl(fd_, F_SETFL, *restore_flags_);
  }
}

void OutputSink::Prepare() {
  struct stat st {};
  if (fd_ < 0 || fstat(fd_, &st) != 0) {
    broken_ = true;
    return;
  }
  if (S_ISSOCK(st.st_mode)) {
    method_ = Method::kSend;
    return;
  }
  method_ = Method::kWrite;
  if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
    return;  // never waits for a reader; O_NONBLOCK would change nothing
  }
  const int flags = fcntl(fd_, F_GETFL);
  const int fd_flags = fcntl(fd_, F_GETFD);
  if (flags < 0 || fd_flags < 0) {
    broken_ = true;
    return;
  }
  if ((flags & O_NONBLOCK) != 0) {
    return;
  }
  std::string why;
  if (const int fresh = OpenAgain(fd_, st, flags, &why); fresh >= 0) {
    const bool moved = dup3(fresh, fd_, (fd_flags & FD_CLOEXEC) != 0 ? O_CLOEXEC : 0) == fd_;
    why = std::strerror(errno);
    close(fresh);
    if (moved) {
      return;
    }
  }
  if (fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0) {
    broken_ = true;
    return;
  }
  restore_flags_ = flags;
  fallback_note_ = Cat("cannot open descriptor ", fd_, " again (", why,
                       "): O_NONBLOCK is set on the description it shares with other processes "
                       "until the server stops");
}

uint64_t OutputSink::Now() const { return options_.mono_ms ? options_.mono_ms() : MonotonicMs(); }

void OutputSink::Queue(std::string_view text) {
  if (broken_) {
    return;
  }
  const std::string prefix = options_.prefix ? options_.prefix() : std::string();
  const size_t size = prefix.size() + text.size() + 1;
  if (options_.capacity - buffer_.size() < size) {
    ++dropped_;
    return;
  }
  buffer_.append(prefix).append(text).push_back('\n');
}

void OutputSink::QueueSuppressed(std::string_view kind, Limit& limit) {
  Queue(
      Cat(limit.suppressed, " ", kind, limit.suppressed == 1 ? " line" : " lines", " suppressed"));
  limit.suppressed = 0;
}

void OutputSink::Line(std::string_view line) {
  const std::string_view kind = line.substr(0, line.find(' '));
  if (auto it = limits_.find(kind); it != limits_.end()) {
    Limit& limit = it->second;
    if (!limit.bucket.Take(Now())) {
      ++limit.suppressed;
      return;
    }
    if (limit.suppressed > 0) {
      QueueSuppressed(kind, limit);
    }
  }
  Queue(line);
}

void OutputSink::Tick() {
  const uint64_t now = Now();
  for (auto& [kind, limit] : limits_) {
    if (limit.suppressed > 0 && limit.bucket.Take(now)) {
      QueueSuppressed(kind, limit);
    }
  }
}

std::optional<uint64_t> OutputSink::MsUntilTick() {
  std::optional<uint64_t> wait;
  const uint64_t now = Now();
  for (auto& [kind, limit] : limits_) {
    if (limit.suppressed > 0) {
      const uint64_t ms = limit.bucket.MsUntilToken(now);
      wait = std::min(wait.value_or(ms), ms);
    }
  }
  return wait;
}

OutputSink::Wrote OutputSink::WriteAll() {
  if (above_ && !buffer_.empty()) {
    pollfd p{fd_, POLLOUT, 0};
    const int ready = poll(&p, 1, 0);
    // A terminal that hung up takes the rows too (and loses them), so that a sink that can
    // never write does not keep the loop awake.
    if (ready <= 0 || (p.revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)) == 0) {
      return Wrote::kWouldBlock;
    }
    // A few KiB at a time, which a terminal that is writable takes at once: the editor writes
    // through stdio, which would lose the rest of a write that does not fit, perhaps in the
    // middle of a row. The rest waits for the next turn of the loop.
    std::vector<std::string> rows;
    size_t start = 0;
    while (start < buffer_.size() && (rows.empty() || start < kAboveBytes)) {
      const size_t end = buffer_.find('\n', start);  // every queued line ends with one
      rows.emplace_back(buffer_, start, end - start);
      start = end + 1;
    }
    buffer_.erase(0, start);
    above_(rows);
    if (!buffer_.empty()) {
      return Wrote::kWouldBlock;
    }
    return Wrote::kAll;
  }
  while (!buffer_.empty()) {
    const ssize_t n = method_ == Method::kSend
                          ? send(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT | MSG_NOSIGNAL)
                          : write(fd_, buffer_.data(), buffer_.size());
    if (n > 0) {
      buffer_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
      return Wrote::kWouldBlock;
    }
    // The lines cannot be written: count them as dropped. A reader that is gone (EPIPE) or a
    // descriptor that cannot be written does not come back: discard from now on, so that the
    // loop never spins on a descriptor that select() always reports writable.
    broken_ = errno == EPIPE || errno == EBADF || errno == EINVAL;
    dropped_ += static_cast<uint64_t>(std::count(buffer_.begin(), buffer_.end(), '\n'));
    buffer_.clear();
    return Wrote::kFailed;
  }
  return Wrote::kAll;
}

void OutputSink::Flush() {
  if (broken_ || WriteAll() != Wrote::kAll || dropped_ == 0) {
    return;
  }
  // Everything queued before the drops is out: say how many lines are missing. A note that
  // cannot be written at once waits in the buffer like any line; one that fails leaves the
  // count as it was, for the next try.
  const uint64_t dropped = dropped_;
  dropped_ = 0;
  Queue(Cat(dropped, " ", options_.noun, dropped == 1 ? "" : "s", " dropped"));
  if (WriteAll() == Wrote::kFailed) {
    dropped_ = dropped;
  }
}

bool OutputSink::Finish(uint64_t timeout_ms) {
  for (auto& [kind, limit] : limits_) {
    if (limit.suppressed > 0) {
      QueueSuppressed(kind, limit);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    Flush();
    if (!WantsWrite()) {
      return buffer_.empty() && dropped_ == 0;
    }
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd p{fd_, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return false;
    }
  }
}

}  // namespace securechat::net
