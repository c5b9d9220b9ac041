#include "securechat/net/client_loop.h"

#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <string>

#include "securechat/wire/protocol.h"

namespace securechat::net {
namespace {

// FlushSocket writes what the connection has queued. Returns false if the socket failed.
bool FlushSocket(ClientConnection& conn, int fd) {
  for (ByteView out = conn.output().pending(); !out.empty(); out = conn.output().pending()) {
    ssize_t n = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      conn.output().Consume(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return true;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int RunClient(ClientConnection& conn, ClientSession& session, Fd socket, int input_fd) {
  IgnoreSigpipe();
  std::array<uint8_t, 16 * 1024> buf;
  std::string typed;  // input not yet ended by a newline
  bool input_open = input_fd >= 0;
  const int sock = socket.get();
  while (!session.finished()) {
    session.Tick();
    if (!FlushSocket(conn, sock)) {
      session.ServerClosed();
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
    if (input_open) {
      FD_SET(input_fd, &rd);
      max_fd = std::max(max_fd, input_fd);
    }
    const std::optional<uint64_t> wait_ms = session.MsUntilTick();
    timeval tv{};
    if (wait_ms) {
      tv.tv_sec = static_cast<time_t>(*wait_ms / 1000);
      tv.tv_usec = static_cast<suseconds_t>(*wait_ms % 1000 * 1000);
    }
    if (select(max_fd + 1, &rd, &wr, nullptr, wait_ms ? &tv : nullptr) < 0) {
      if (errno == EINTR) {
        continue;
      }
      session.ServerClosed();
      break;
    }
    if (session.finished()) {
      break;
    }
    if (FD_ISSET(sock, &rd)) {
      ssize_t n = recv(sock, buf.data(), buf.size(), 0);
      if (n > 0) {
        session.Received(ByteView(buf.data(), static_cast<size_t>(n)));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        session.ServerClosed();
      }
    }
    if (input_open && FD_ISSET(input_fd, &rd) && !session.finished()) {
      ssize_t n = read(input_fd, buf.data(), buf.size());
      if (n > 0) {
        typed.append(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(n));
        size_t start = 0;
        for (size_t nl; (nl = typed.find('\n', start)) != std::string::npos; start = nl + 1) {
          session.InputLine(std::string_view(typed).substr(start, nl - start));
        }
        typed.erase(0, start);
        if (typed.size() > 4 * proto::kMaxTextLen) {
          typed.clear();  // a runaway line without a newline; the session rejects long text anyway
        }
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        if (!typed.empty()) {
          session.InputLine(typed);
          typed.clear();
        }
        input_open = false;
        session.InputEof();
      }
    }
  }
  FlushSocket(conn, sock);
  return session.exit_code();
}

}  // namespace securechat::net
