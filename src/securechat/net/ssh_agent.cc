#include "securechat/net/ssh_agent.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/crypto/primitives.h"
#include "securechat/net/socket.h"
#include "securechat/wire/text.h"

namespace securechat::net {
namespace {

using ssh_agent::Identity;
using ssh_agent::Reply;

// kMaxListedKeys bounds how many of the agent's keys an error message lists.
constexpr size_t kMaxListedKeys = 10;

// Exchange is one request and its reply on a fresh connection to the agent, all before one
// deadline.
class Exchange {
 public:
  Exchange(const std::string& socket, int timeout_ms)
      : socket_(socket),
        timeout_ms_(std::max(timeout_ms, 1)),
        deadline_(MonotonicMs() + static_cast<uint64_t>(timeout_ms_)) {}

  // Run connects, sends `request` and sets *body to the reply's body (without its length).
  absl::Status Run(ByteView request, std::vector<uint8_t>* body) {
    if (absl::Status s = Connect(); !s.ok()) {
      return s;
    }
    if (absl::Status s = WriteAll(request); !s.ok()) {
      return s;
    }
    ssh_agent::LengthHeader header;
    if (absl::Status s = ReadExact(header.data(), header.size()); !s.ok()) {
      return s;
    }
    uint32_t len;
    if (!ssh_agent::ReplyLength(header, &len)) {
      return Malformed();
    }
    std::vector<uint8_t> reply(len);
    if (absl::Status s = ReadExact(reply.data(), reply.size()); !s.ok()) {
      return s;
    }
    *body = std::move(reply);
    return absl::OkStatus();
  }

  absl::Status Malformed() const {
    return absl::DataLossError(Cat("ssh-agent at ", Where(), " sent a malformed reply"));
  }
  std::string Where() const { return EscapeForDisplay(socket_); }

 private:
  absl::Status Connect() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_.size() >= sizeof(addr.sun_path)) {
      return absl::InvalidArgumentError(Cat("the ssh-agent socket path is longer than ",
                                            sizeof(addr.sun_path) - 1, " bytes: ", Where()));
    }
    std::memcpy(addr.sun_path, socket_.data(), socket_.size());
    fd_ = Fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_.valid()) {
      return absl::InternalError(Cat("cannot make a unix socket: ", strerror(errno)));
    }
    if (connect(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
      return absl::OkStatus();
    }
    if (errno != EINPROGRESS && errno != EINTR) {
      return CannotConnect(errno);
    }
    // The connection completes in the background: wait for it, then ask how it went.
    if (absl::Status s = Wait(POLLOUT); !s.ok()) {
      return s;
    }
    int error = 0;
    socklen_t error_len = sizeof(error);
    if (getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &error_len) != 0) {
      error = errno;
    }
    return error == 0 ? absl::OkStatus() : CannotConnect(error);
  }

  absl::Status CannotConnect(int error) const {
    return absl::UnavailableError(
        Cat("cannot connect to ssh-agent at ", Where(), ": ", strerror(error)));
  }

  // Wait waits until the socket is ready for `events` or has failed (then the next call
  // says how), or the deadline passes.
  absl::Status Wait(short events) {
    for (;;) {
      const uint64_t now = MonotonicMs();
      if (now >= deadline_) {
        return absl::DeadlineExceededError(
            Cat("ssh-agent at ", Where(), " did not answer within ", timeout_ms_, " ms"));
      }
      pollfd p{fd_.get(), events, 0};
      const int n = poll(&p, 1, static_cast<int>(deadline_ - now));
      if (n > 0) {
        return absl::OkStatus();
      }
      if (n < 0 && errno != EINTR) {
        return absl::InternalError(Cat("poll on the ssh-agent socket: ", strerror(errno)));
      }
    }
  }

  absl::Status WriteAll(ByteView data) {
    while (!data.empty()) {
      const ssize_t n = send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (absl::Status s = Wait(POLLOUT); !s.ok()) {
          return s;
        }
        continue;
      }
      return absl::UnavailableError(Cat("cannot send to ssh-agent at ", Where(), ": ",
                                        n < 0 ? strerror(errno) : "nothing sent"));
    }
    return absl::OkStatus();
  }

  absl::Status ReadExact(uint8_t* out, size_t len) {
    size_t got = 0;
    while (got < len) {
      const ssize_t n = recv(fd_.get(), out + got, len - got, 0);
      if (n > 0) {
        got += static_cast<size_t>(n);
        continue;
      }
      if (n == 0) {
        return absl::UnavailableError(
            Cat("ssh-agent at ", Where(), " closed the connection before it answered"));
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (absl::Status s = Wait(POLLIN); !s.ok()) {
          return s;
        }
        continue;
      }
      return absl::UnavailableError(
          Cat("cannot read from ssh-agent at ", Where(), ": ", strerror(errno)));
    }
    return absl::OkStatus();
  }

  const std::string socket_;
  const int timeout_ms_;
  const uint64_t deadline_;
  Fd fd_;
};

std::string DescribeIdentity(const Identity& id) {
  std::string text = Ed25519Fingerprint(id.key);
  if (!id.comment.empty()) {
    text += Cat(" (", EscapeForDisplay(id.comment), ")");
  }
  return text;
}

// ListKeys is the agent's keys, for an error message: at most kMaxListedKeys of them.
std::string ListKeys(const std::vector<Identity>& keys) {
  std::string text;
  for (size_t i = 0; i < keys.size() && i < kMaxListedKeys; ++i) {
    text += Cat(i == 0 ? "" : ", ", DescribeIdentity(keys[i]));
  }
  if (keys.size() > kMaxListedKeys) {
    text += Cat(" and ", keys.size() - kMaxListedKeys, " more");
  }
  return text;
}

// Choose picks from the agent's Ed25519 keys as `fingerprint` says (empty: the first).
absl::StatusOr<Identity> Choose(const Exchange& agent, const std::vector<Identity>& keys,
                                size_t other_keys, const std::string& fingerprint) {
  if (keys.empty()) {
    if (other_keys == 0) {
      return absl::NotFoundError(
          Cat("ssh-agent at ", agent.Where(), " holds no keys: add one with ssh-add"));
    }
    return absl::NotFoundError(Cat("ssh-agent at ", agent.Where(), " holds ", other_keys,
                                   " key(s) but no Ed25519 key: make one with ssh-keygen -t "
                                   "ed25519 and add it with ssh-add"));
  }
  if (fingerprint.empty()) {
    return keys.front();
  }
  const std::optional<Sha256Digest> wanted = ParseFingerprintText(fingerprint);
  if (!wanted) {
    return absl::InvalidArgumentError(
        Cat("not a key fingerprint: ", EscapeForDisplay(fingerprint),
            " (expected SHA256: and base64, as ssh-keygen -l prints it)"));
  }
  const std::string canonical = FingerprintText(*wanted);
  for (const Identity& id : keys) {
    if (Ed25519Fingerprint(id.key) == canonical) {
      return id;
    }
  }
  return absl::NotFoundError(Cat("ssh-agent at ", agent.Where(), " holds no Ed25519 key ",
                                 canonical, "; its Ed25519 keys: ", ListKeys(keys)));
}

std::string SocketFromEnvironment() {
  const char* path = getenv(kAgentSocketEnv);
  return path == nullptr ? std::string() : std::string(path);
}

}  // namespace

absl::StatusOr<AgentSigner> AgentSigner::Open(const AgentOptions& options) {
  std::string socket = options.socket.empty() ? SocketFromEnvironment() : options.socket;
  if (socket.empty()) {
    return absl::FailedPreconditionError(Cat("no ssh-agent: ", kAgentSocketEnv, " is not set"));
  }
  Exchange agent(socket, options.timeout_ms);
  std::vector<uint8_t> body;
  if (absl::Status s = agent.Run(ssh_agent::EncodeRequestIdentities(), &body); !s.ok()) {
    return s;
  }
  std::vector<Identity> keys;
  size_t other_keys = 0;
  switch (ssh_agent::ParseIdentitiesAnswer(body, &keys, &other_keys)) {
    case Reply::kOk:
      break;
    case Reply::kRefused:
      return absl::PermissionDeniedError(
          Cat("ssh-agent at ", agent.Where(), " refused to list its keys"));
    case Reply::kMalformed:
      return agent.Malformed();
  }
  absl::StatusOr<Identity> chosen = Choose(agent, keys, other_keys, options.fingerprint);
  if (!chosen.ok()) {
    return chosen.status();
  }
  return AgentSigner(std::move(socket), options.timeout_ms, std::move(*chosen));
}

std::string AgentSigner::Describe() const { return DescribeIdentity(identity_); }

absl::Status AgentSigner::Sign(ByteView data, Ed25519Signature* sig) const {
  std::vector<uint8_t> request;
  if (!ssh_agent::EncodeSignRequest(identity_.key, data, &request)) {
    return absl::InvalidArgumentError(
        Cat("cannot ask ssh-agent to sign more than ", ssh_agent::kMaxSignDataLen, " bytes"));
  }
  Exchange agent(socket_, timeout_ms_);
  std::vector<uint8_t> body;
  if (absl::Status s = agent.Run(request, &body); !s.ok()) {
    return s;
  }
  Ed25519Signature got;
  switch (ssh_agent::ParseSignResponse(body, &got)) {
    case Reply::kOk:
      break;
    case Reply::kRefused:
      return absl::PermissionDeniedError(
          Cat("ssh-agent refused to sign with ", Describe(),
              " (a key added with ssh-add -c must be confirmed; is the agent locked, or the key "
              "removed?)"));
    case Reply::kMalformed:
      return agent.Malformed();
  }
  if (!Ed25519Verify(identity_.key, data, got)) {
    return absl::DataLossError(Cat("ssh-agent returned a signature that does not verify with ",
                                   Describe(), "; not using it"));
  }
  *sig = got;
  return absl::OkStatus();
}

}  // namespace securechat::net
