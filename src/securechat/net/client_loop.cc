#include "securechat/net/client_loop.h"

#include <sys/select.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <string>
#include <utility>

namespace securechat::net {
namespace {

// FlushStream writes what the connection has queued. Returns false if the stream failed.
bool FlushStream(ClientConnection& conn, ByteStream& stream) {
  for (ByteView out = conn.output().pending(); !out.empty(); out = conn.output().pending()) {
    const IoResult written = stream.Write(out);
    if (written.outcome == IoOutcome::kWouldBlock) {
      return true;
    }
    if (written.outcome != IoOutcome::kBytes) {
      return false;
    }
    conn.output().Consume(written.bytes);
  }
  return true;
}

// Earliest returns the sooner of two optional waits.
std::optional<uint64_t> Earliest(std::optional<uint64_t> a, std::optional<uint64_t> b) {
  if (!a) {
    return b;
  }
  if (!b) {
    return a;
  }
  return std::min(*a, *b);
}

timeval ToTimeval(uint64_t ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>(ms % 1000 * 1000);
  return tv;
}

}  // namespace

bool FdLineInput::Read(const OnLine& on_line) {
  if (ReadLines(fd_, lines_, on_line, nullptr) == ReadStatus::kOpen) {
    return true;
  }
  if (const std::string rest = lines_.TakeRest(); !rest.empty()) {
    on_line(rest);
  }
  fd_ = -1;
  return false;
}

ClientLoop::ClientLoop(ClientSession& session, LineInput* input, Hooks hooks)
    : session_(session),
      input_(input),
      hooks_(std::move(hooks)),
      input_open_(input != nullptr && input->fd() >= 0) {}

void ClientLoop::ReadInput(const fd_set& ready) {
  if (!input_open_ || !FD_ISSET(input_->fd(), &ready)) {
    return;
  }
  if (!input_->Read(hooks_.line)) {
    input_open_ = false;
    hooks_.eof();
  }
}

int ClientLoop::RunConnected(ClientConnection& conn, ByteStream& stream) {
  IgnoreSigpipe();
  std::array<uint8_t, 16 * 1024> buf;
  const int sock = stream.fd();
  session_.Connected();
  while (!session_.finished()) {
    if (hooks_.timer) {
      hooks_.timer();
    }
    session_.Tick();
    if (!FlushStream(conn, stream)) {
      session_.ServerClosed();
      break;
    }
    if (session_.finished()) {  // Tick ended it (the handshake deadline): nothing to wait for
      break;
    }
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(sock, &rd);
    int max_fd = sock;
    if (!conn.output().empty()) {
      FD_SET(sock, &wr);
    }
    if (input_open_ && session_.WantsInput()) {  // else the queued lines go first
      FD_SET(input_->fd(), &rd);
      max_fd = std::max(max_fd, input_->fd());
    }
    std::optional<uint64_t> wait_ms = session_.MsUntilTick();
    if (hooks_.ms_until_timer) {
      wait_ms = Earliest(wait_ms, hooks_.ms_until_timer());
    }
    if (stream.HasBufferedInput()) {
      wait_ms = 0;  // the stream holds bytes it already took from its descriptor
    }
    timeval tv = ToTimeval(wait_ms.value_or(0));
    if (select(max_fd + 1, &rd, &wr, nullptr, wait_ms ? &tv : nullptr) < 0) {
      if (errno == EINTR) {
        continue;
      }
      session_.ServerClosed();
      break;
    }
    if (session_.finished()) {
      break;
    }
    if (FD_ISSET(sock, &rd) || stream.HasBufferedInput()) {
      const IoResult read = stream.Read(absl::MakeSpan(buf));
      if (read.outcome == IoOutcome::kBytes) {
        session_.Received(ByteView(buf.data(), read.bytes));
      } else if (read.outcome != IoOutcome::kWouldBlock) {
        session_.ServerClosed();
      }
    }
    if (!session_.finished()) {
      ReadInput(rd);
    }
  }
  FlushStream(conn, stream);
  return session_.exit_code();
}

bool ClientLoop::RunOffline(uint64_t ms) {
  const uint64_t deadline = MonotonicMs() + ms;
  for (;;) {
    if (hooks_.timer) {
      hooks_.timer();
    }
    if (!input_open_ || (hooks_.stop && hooks_.stop())) {
      return false;
    }
    const uint64_t now = MonotonicMs();
    if (now >= deadline) {
      return true;
    }
    std::optional<uint64_t> wait_ms = deadline - now;
    if (hooks_.ms_until_timer) {
      wait_ms = Earliest(wait_ms, hooks_.ms_until_timer());
    }
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(input_->fd(), &rd);
    timeval tv = ToTimeval(*wait_ms);
    if (select(input_->fd() + 1, &rd, nullptr, nullptr, &tv) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    ReadInput(rd);
  }
}

}  // namespace securechat::net
