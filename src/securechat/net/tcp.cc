#include "securechat/net/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace securechat::net {
namespace {

bool WouldBlock(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

class TcpStream final : public ByteStream {
 public:
  explicit TcpStream(Fd socket)
      : socket_(std::move(socket)),
        peer_address_(PeerAddress(socket_.get())),
        peer_name_(PeerName(socket_.get())) {}

  IoResult Read(absl::Span<uint8_t> out) override {
    const ssize_t n = recv(socket_.get(), out.data(), out.size(), 0);
    if (n > 0) {
      return {IoOutcome::kBytes, static_cast<size_t>(n), {}};
    }
    if (n == 0) {
      return {IoOutcome::kClosed, 0, {}};
    }
    if (WouldBlock(errno)) {
      return {};
    }
    return {IoOutcome::kError, 0, strerror(errno)};
  }

  IoResult Write(absl::Span<const uint8_t> bytes) override {
    const ssize_t n = send(socket_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      return {IoOutcome::kBytes, static_cast<size_t>(n), {}};
    }
    if (n < 0 && WouldBlock(errno)) {
      return {};
    }
    return {IoOutcome::kError, 0, n < 0 ? strerror(errno) : "write failed"};
  }

  // Close ends our sending side, then discards input the peer already sent: closing a socket
  // with unread input makes the kernel send a reset, and a reset can make the peer's kernel
  // throw away our last bytes before the peer reads them.
  void Close() override {
    shutdown(socket_.get(), SHUT_WR);
    char sink[4096];
    for (int i = 0; i < 16 && recv(socket_.get(), sink, sizeof(sink), MSG_DONTWAIT) > 0; ++i) {
    }
  }

  int fd() const override { return socket_.get(); }
  const std::string& peer_address() const override { return peer_address_; }
  const std::string& peer_name() const override { return peer_name_; }

 private:
  Fd socket_;
  std::string peer_address_;
  std::string peer_name_;
};

class TcpListener final : public Listener {
 public:
  TcpListener(Fd socket, std::string name) : socket_(std::move(socket)), name_(std::move(name)) {}

  AcceptResult Accept() override {
    const int raw = accept4(socket_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (raw < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        return {AcceptOutcome::kExhausted, nullptr, strerror(errno)};
      }
      return {};  // EAGAIN, ECONNABORTED and the like: nothing to take now
    }
    Fd fd(raw);
    // The loops already batch: one write per connection per round carries everything queued
    // for it. Nagle's algorithm would hold a lone record back until the previous one is
    // acknowledged, which the peer may delay by up to 40 ms.
    const int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return {AcceptOutcome::kStream, MakeTcpStream(std::move(fd)), {}};
  }

  int fd() const override { return socket_.get(); }
  const std::string& name() const override { return name_; }

 private:
  Fd socket_;
  std::string name_;
};

}  // namespace

std::unique_ptr<ByteStream> MakeTcpStream(Fd socket) {
  return std::make_unique<TcpStream>(std::move(socket));
}

absl::StatusOr<std::unique_ptr<Listener>> ListenTcp(const HostPort& addr) {
  std::string bound;
  absl::StatusOr<Fd> socket = Listen(addr, &bound);
  if (!socket.ok()) {
    return socket.status();
  }
  return std::make_unique<TcpListener>(std::move(*socket), std::move(bound));
}

absl::StatusOr<std::vector<std::unique_ptr<Listener>>> ListenTcpAll(
    const std::vector<HostPort>& addrs) {
  std::vector<std::unique_ptr<Listener>> listeners;
  for (const HostPort& addr : addrs) {
    absl::StatusOr<std::unique_ptr<Listener>> listener = ListenTcp(addr);
    if (!listener.ok()) {
      return listener.status();
    }
    listeners.push_back(std::move(*listener));
  }
  return listeners;
}

absl::StatusOr<std::unique_ptr<ByteStream>> DialTcp(const HostPort& addr, ConnectError* error,
                                                    uint64_t timeout_ms) {
  absl::StatusOr<Fd> socket = Connect(addr, error, timeout_ms);
  if (!socket.ok()) {
    return socket.status();
  }
  return MakeTcpStream(std::move(*socket));
}

}  // namespace securechat::net
