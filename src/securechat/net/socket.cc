#include "securechat/net/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "securechat/base/cat.h"
#include "securechat/base/ip_text.h"

namespace securechat::net {
namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

absl::StatusOr<AddrInfoPtr> Resolve(const HostPort& addr, bool passive, ConnectError* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : AI_ADDRCONFIG);
  addrinfo* res = nullptr;
  int rc =
      getaddrinfo(addr.host.empty() ? nullptr : addr.host.c_str(), addr.port.c_str(), &hints, &res);
  if (rc != 0) {
    if (error != nullptr) {
      *error = ConnectError::kNotFound;
    }
    return absl::NotFoundError(Cat("cannot resolve ", addr.host, ": ", gai_strerror(rc)));
  }
  return AddrInfoPtr(res);
}

std::string FormatHost(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    return FormatIp(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
  }
  if (sa->sa_family == AF_INET6) {
    return FormatIp(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
  }
  return "?";
}

std::string FormatAddress(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return Cat(FormatIp(AF_INET, &in->sin_addr), ":", ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    const std::string host = FormatIp(AF_INET6, &in6->sin6_addr);
    // An IPv4-mapped peer is named by its IPv4 address, as FormatHost names it.
    return host.find(':') == std::string::npos ? Cat(host, ":", ntohs(in6->sin6_port))
                                               : Cat("[", host, "]:", ntohs(in6->sin6_port));
  }
  return "unknown";
}

}  // namespace

void Fd::Reset(int fd) {
  if (fd_ >= 0) {
    close(fd_);
  }
  fd_ = fd;
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text, bool allow_zero) {
  HostPort out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(Cat("bad address '", text, "': expected [IPv6]:PORT"));
    }
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return absl::InvalidArgumentError(
          Cat("bad address '", text, "': expected HOST:PORT (write IPv6 as [::1]:PORT)"));
    }
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  uint32_t number = 0;
  if (!absl::SimpleAtoi(absl::string_view(port.data(), port.size()), &number) || number > 65535 ||
      (number == 0 && !allow_zero) || port.empty() || port[0] == '+' || port[0] == '-') {
    return absl::InvalidArgumentError(Cat("bad port in '", text, "'"));
  }
  out.port = std::to_string(number);
  return out;
}

absl::StatusOr<std::vector<HostPort>> ParseHostPortList(std::string_view text, bool allow_zero) {
  std::vector<HostPort> out;
  for (const absl::string_view part :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    auto addr = ParseHostPort(std::string_view(part.data(), part.size()), allow_zero);
    if (!addr.ok()) {
      return addr.status();
    }
    out.push_back(std::move(*addr));
  }
  return out;
}

bool SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 &&
         fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

absl::StatusOr<Fd> Listen(const HostPort& addr, std::string* bound) {
  auto res = Resolve(addr, /*passive=*/true, nullptr);
  if (!res.ok()) {
    return res.status();
  }
  int last_errno = 0;
  for (addrinfo* ai = res->get(); ai != nullptr; ai = ai->ai_next) {
    Fd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) {
      last_errno = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd.get(), SOMAXCONN) != 0 ||
        !SetNonBlocking(fd.get())) {
      last_errno = errno;
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    *bound = FormatAddress(reinterpret_cast<sockaddr*>(&ss));
    return fd;
  }
  return absl::ErrnoToStatus(last_errno, Cat("cannot listen on ", addr.host, ":", addr.port));
}

namespace {

// ConnectWithin connects non-blocking `fd` to `ai`, waiting until `deadline` (monotonic ms) at
// most. Returns 0, or the errno of the failure (ETIMEDOUT when the deadline passed).
int ConnectWithin(int fd, const addrinfo* ai, uint64_t deadline) {
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
    return 0;
  }
  if (errno != EINPROGRESS && errno != EINTR) {
    return errno;
  }
  for (;;) {
    const uint64_t now = MonotonicMs();
    if (now >= deadline) {
      return ETIMEDOUT;
    }
    pollfd p{fd, POLLOUT, 0};
    const uint64_t wait = std::min<uint64_t>(deadline - now, 60'000);
    const int ready = poll(&p, 1, static_cast<int>(wait));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready < 0) {
      return errno;
    }
    if (ready > 0) {
      int err = 0;
      socklen_t len = sizeof(err);
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        return errno;
      }
      return err;
    }
  }
}

}  // namespace

absl::StatusOr<Fd> Connect(const HostPort& addr, ConnectError* error, uint64_t timeout_ms) {
  *error = ConnectError::kOther;
  const uint64_t deadline = MonotonicMs() + timeout_ms;
  auto res = Resolve(addr, /*passive=*/false, error);
  if (!res.ok()) {
    return res.status();
  }
  int last_errno = 0;
  for (addrinfo* ai = res->get(); ai != nullptr; ai = ai->ai_next) {
    Fd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid() || !SetNonBlocking(fd.get())) {
      last_errno = errno;
      continue;
    }
    if (const int err = ConnectWithin(fd.get(), ai, deadline); err != 0) {
      last_errno = err;
      continue;
    }
    int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
  }
  if (last_errno == ECONNREFUSED) {
    *error = ConnectError::kRefused;
  } else if (last_errno == ENETUNREACH || last_errno == EHOSTUNREACH || last_errno == ETIMEDOUT) {
    *error = ConnectError::kUnreachable;
  }
  if (last_errno == ETIMEDOUT) {
    return absl::DeadlineExceededError(
        Cat("cannot connect to ", addr.host, ":", addr.port, ": no answer within ",
            timeout_ms % 1000 == 0 ? Cat(timeout_ms / 1000, " s") : Cat(timeout_ms, " ms")));
  }
  return absl::ErrnoToStatus(last_errno, Cat("cannot connect to ", addr.host, ":", addr.port));
}

std::string PeerName(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return "unknown";
  }
  return FormatAddress(reinterpret_cast<sockaddr*>(&ss));
}

std::string PeerAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return "unknown";
  }
  return FormatHost(reinterpret_cast<sockaddr*>(&ss));
}

uint64_t MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
}

void DisableCoreDumps() {
  const rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void IgnoreSigpipe() { signal(SIGPIPE, SIG_IGN); }

}  // namespace securechat::net
