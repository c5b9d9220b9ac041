// Sockets: addresses, listening, connecting, and an owning descriptor. Only src/securechat/net
// makes socket system calls.
#ifndef SECURECHAT_NET_SOCKET_H_
#define SECURECHAT_NET_SOCKET_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace securechat::net {

// Fd owns a file descriptor and closes it once.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(other.Release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset(other.Release());
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct HostPort {
  std::string host;
  std::string port;
};

// ParseHostPort splits "host:port", "1.2.3.4:port" or "[v6addr]:port". The port must be a
// number from 1 to 65535 (0 too when `allow_zero`, meaning "any free port").
absl::StatusOr<HostPort> ParseHostPort(std::string_view text, bool allow_zero = false);

// ParseHostPortList parses one or more addresses as ParseHostPort does, separated by commas
// ("127.0.0.1:5555,[::1]:5555"). Fails on the first bad one, or if there is none.
absl::StatusOr<std::vector<HostPort>> ParseHostPortList(std::string_view text,
                                                        bool allow_zero = false);

// Listen resolves `addr` and listens on the first address that binds (SO_REUSEADDR,
// non-blocking, close-on-exec). *bound gets the address actually bound, as "host:port".
absl::StatusOr<Fd> Listen(const HostPort& addr, std::string* bound);

// The ways a connect can fail that a user needs to tell apart.
enum class ConnectError { kRefused, kUnreachable, kNotFound, kOther };

// kConnectTimeoutMs is how long Connect waits by default for a server to answer.
inline constexpr uint64_t kConnectTimeoutMs = 10'000;

// Connect resolves `addr` and connects to the first address that accepts, waiting at most
// `timeout_ms` for all of them together (name resolution is the system's, and not bounded
// here). On failure *error says which kind (a timeout is kUnreachable) and the status says
// why. The socket is non-blocking.
absl::StatusOr<Fd> Connect(const HostPort& addr, ConnectError* error,
                           uint64_t timeout_ms = kConnectTimeoutMs);

// SetNonBlocking sets O_NONBLOCK (and FD_CLOEXEC). Returns false on failure.
bool SetNonBlocking(int fd);

// PeerName formats a connected socket's peer as "1.2.3.4:port" or "[v6]:port".
std::string PeerName(int fd);
// PeerAddress is the peer's address alone ("1.2.3.4", "::1"): the unit of per-address limits.
std::string PeerAddress(int fd);

// MonotonicMs is a monotonic clock in milliseconds, for timers and rate limits.
uint64_t MonotonicMs();

// DisableCoreDumps keeps the process out of core files (RLIMIT_CORE 0, not dumpable), for a
// process that holds a private key. Best effort: failures are ignored.
void DisableCoreDumps();

// IgnoreSigpipe makes writes to a closed socket fail with EPIPE instead of killing us.
void IgnoreSigpipe();

}  // namespace securechat::net

#endif  // SECURECHAT_NET_SOCKET_H_
