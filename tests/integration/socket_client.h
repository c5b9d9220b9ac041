// Helpers for the integration tests that attack the real chat-server over loopback:
// SocketClient, a protocol-level client on a real TCP socket built from the project's own
// handshake, record and frame code, which sends exactly the bytes a test asks for and reads
// what the server answers; and the measurements those tests take (the server's memory, timings).
#ifndef SECURECHAT_TESTS_INTEGRATION_SOCKET_CLIENT_H_
#define SECURECHAT_TESTS_INTEGRATION_SOCKET_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "integration/server_fixture.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/handshake.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/random.h"
#include "securechat/crypto/record.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/message.h"
#include "securechat/wire/protocol.h"
#include "support/seen.h"

namespace securechat::testing {

using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer the server's memory is shadowed and freed blocks are quarantined, so
// its RSS says little about what it holds: the memory bounds are reported, not asserted.
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// Report prints a measurement so that it shows in the test log.
template <typename... Args>
inline void Report(const Args&... args) {
  const std::string line = Cat("[ measured ] ", args...);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

inline int64_t Ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

inline int RemainingMs(Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) {
    return 0;
  }
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

// StillChatting: each of `a` and `b` says a line tagged `tag` and the other one prints it.
inline ::testing::AssertionResult StillChatting(Process& a, std::string_view a_nick, Process& b,
                                                std::string_view b_nick, std::string_view tag) {
  const std::string from_a = Cat(tag, " from ", a_nick);
  const std::string from_b = Cat(tag, " from ", b_nick);
  if (!a.WriteStdin(from_a)) {
    return ::testing::AssertionFailure() << a_nick << " no longer reads its input" << Describe(a);
  }
  if (::testing::AssertionResult r = Saw(b, Cat("<", a_nick, "> ", from_a, "\n")); !r) {
    return r;
  }
  if (!b.WriteStdin(from_b)) {
    return ::testing::AssertionFailure() << b_nick << " no longer reads its input" << Describe(b);
  }
  return Saw(a, Cat("<", b_nick, "> ", from_b, "\n"));
}

// RssKb returns the resident set size of process `pid` in KiB (VmRSS), or 0 if unknown.
inline int64_t RssKb(pid_t pid) {
  std::ifstream in(Cat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      int64_t kb = 0;
      fields >> kb;
      return kb;
    }
  }
  return 0;
}

inline sockaddr_in Ipv4(const char* address, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address, &a.sin_addr);
  return a;
}

// A record received by a SocketClient, opened.
struct Record {
  std::vector<uint8_t> frame;      // the RECORD frame as it came from the server
  std::vector<uint8_t> plaintext;  // its content

  // Message decodes the plaintext; the views of the result point into `plaintext`.
  std::optional<msg::ServerMessage> Message() const {
    msg::ServerMessage m;
    if (msg::DecodeServerMessage(ByteView(plaintext.data(), plaintext.size()), &m) !=
        msg::DecodeStatus::kOk) {
      return std::nullopt;
    }
    return m;
  }
};

inline bool IsChat(const Record& r, std::string_view from, std::string_view text) {
  const std::optional<msg::ServerMessage> m = r.Message();
  const auto* chat = m.has_value() ? std::get_if<msg::Chat>(&*m) : nullptr;
  return chat != nullptr && chat->from == from && chat->text == text;
}

// A protocol-level client on a real TCP socket to the server, made of the project's handshake,
// record and frame code, that sends exactly the bytes a test asks for.
class SocketClient {
 public:
  struct Options {
    const char* source = nullptr;  // local address to bind (another 127.x.y.z), or the default
    int rcvbuf = 0;                // SO_RCVBUF set before connecting, 0 for the default
  };

  // Connect connects to 127.0.0.1:`port`. Returns an error naming the step that failed.
  static absl::StatusOr<std::unique_ptr<SocketClient>> Connect(int port, Options options) {
    std::unique_ptr<SocketClient> c(new SocketClient());
    c->fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd_ < 0) {
      return absl::ErrnoToStatus(errno, "socket");
    }
    // Each send goes out at once: a close measured after it times the server, not Nagle's
    // algorithm waiting for the server's delayed ACK of the previous record.
    const int one = 1;
    if (setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
      return absl::ErrnoToStatus(errno, "TCP_NODELAY");
    }
    if (options.rcvbuf > 0 &&
        setsockopt(c->fd_, SOL_SOCKET, SO_RCVBUF, &options.rcvbuf, sizeof(options.rcvbuf)) != 0) {
      return absl::ErrnoToStatus(errno, "SO_RCVBUF");
    }
    if (options.source != nullptr) {
      sockaddr_in from = Ipv4(options.source, 0);
      if (bind(c->fd_, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0) {
        return absl::ErrnoToStatus(errno, Cat("bind ", options.source));
      }
    }
    sockaddr_in to = Ipv4("127.0.0.1", port);
    if (connect(c->fd_, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
      return absl::ErrnoToStatus(errno, "connect");
    }
    sockaddr_in local{};
    socklen_t len = sizeof(local);
    if (getsockname(c->fd_, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
      return absl::ErrnoToStatus(errno, "getsockname");
    }
    c->local_port_ = ntohs(local.sin_port);
    return c;
  }

  ~SocketClient() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  SocketClient(const SocketClient&) = delete;
  SocketClient& operator=(const SocketClient&) = delete;

  int fd() const { return fd_; }
  int local_port() const { return local_port_; }
  // Bytes received from the server so far, whatever they were.
  size_t bytes_received() const { return bytes_received_; }
  bool closed() const { return closed_; }

  // SendBytes writes all of `bytes`. Returns false if the connection failed first.
  bool SendBytes(ByteView bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool SendBytes(std::string_view bytes) {
    return SendBytes(ByteView(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }

  // Handshake sends a CLIENT_HELLO for `key`, checks the SERVER_HELLO and keys the records.
  absl::Status Handshake(const ServerPublicKey& key) {
    ClientHandshake handshake;
    std::vector<uint8_t> hello;
    if (!handshake.Start(key, rng_, &hello)) {
      return absl::InternalError("cannot build a CLIENT_HELLO");
    }
    if (!SendBytes(hello)) {
      return absl::ErrnoToStatus(errno, "send CLIENT_HELLO");
    }
    std::optional<std::vector<uint8_t>> reply = ReadFrame(FrameExpect::kServerHello, kWait);
    if (!reply.has_value() || (*reply)[0] != static_cast<uint8_t>(proto::FrameType::kServerHello)) {
      return absl::UnavailableError(
          Cat("no SERVER_HELLO (", closed_ ? "closed" : "an ALERT, a bad frame or a timeout", ")"));
    }
    if (handshake.Finish(*reply, &keys_) != ClientHandshake::Result::kOk) {
      return absl::PermissionDeniedError("server key confirmation failed");
    }
    if (!sealer_.Init(keys_.c2s_enc, keys_.c2s_mac) ||
        !opener_.Init(keys_.s2c_enc, keys_.s2c_mac)) {
      return absl::InternalError("cannot key the records");
    }
    return absl::OkStatus();
  }

  // Join sends JOIN and waits for the WELCOME.
  absl::Status Join(std::string_view nick) {
    if (!Send(msg::Join{nick})) {
      return absl::ErrnoToStatus(errno, "send JOIN");
    }
    for (;;) {
      std::optional<Record> r = ReadRecord(kWait);
      if (!r.has_value()) {
        return absl::UnavailableError("no WELCOME");
      }
      const std::optional<msg::ServerMessage> m = r->Message();
      if (m.has_value() && std::holds_alternative<msg::Welcome>(*m)) {
        return absl::OkStatus();
      }
      if (m.has_value() && std::holds_alternative<msg::Error>(*m)) {
        return absl::PermissionDeniedError(Cat("JOIN refused: ", std::get<msg::Error>(*m).text));
      }
    }
  }

  // Seal returns a RECORD frame carrying `m` under the next client-to-server sequence number.
  std::vector<uint8_t> Seal(const msg::ClientMessage& m) {
    std::vector<uint8_t> plaintext;
    msg::EncodeMessage(m, &plaintext);
    std::vector<uint8_t> frame;
    if (!sealer_.Seal(ByteView(plaintext.data(), plaintext.size()), rng_, &frame)) {
      ADD_FAILURE() << "cannot seal a record";
    }
    return frame;
  }
  bool Send(const msg::ClientMessage& m) {
    const std::vector<uint8_t> frame = Seal(m);
    return SendBytes(ByteView(frame.data(), frame.size()));
  }

  // ReadFrame returns the next whole frame that `expect` allows. Returns nullopt at the
  // deadline, when the server closes or resets the connection (closed() is then true), or on
  // a frame `expect` does not allow.
  std::optional<std::vector<uint8_t>> ReadFrame(FrameExpect expect, Duration timeout) {
    const Clock::time_point deadline = Clock::now() + timeout;
    for (;;) {
      if (in_pos_ < in_.size()) {
        ByteView in(in_.data() + in_pos_, in_.size() - in_pos_);
        const FrameResult result = frames_.Take(FramePolicy{expect, 0}, &in);
        in_pos_ = in_.size() - in.size();
        if (result == FrameResult::kFrame) {
          const ByteView frame = frames_.frame();
          return std::vector<uint8_t>(frame.begin(), frame.end());
        }
        if (result == FrameResult::kError) {
          ADD_FAILURE() << "the server sent a frame header that is not allowed here";
          return std::nullopt;
        }
      }
      in_.clear();
      in_pos_ = 0;
      if (!Fill(deadline)) {
        return std::nullopt;
      }
    }
  }

  // ReadRecord reads and opens the next record. Returns nullopt like ReadFrame; a record that
  // does not open fails the test.
  std::optional<Record> ReadRecord(Duration timeout) {
    std::optional<std::vector<uint8_t>> frame = ReadFrame(FrameExpect::kRecord, timeout);
    if (!frame.has_value()) {
      return std::nullopt;
    }
    Record r;
    r.frame = std::move(*frame);
    if (!opener_.Open(ByteView(r.frame.data(), r.frame.size()), &r.plaintext)) {
      ADD_FAILURE() << "a record from the server did not open";
      return std::nullopt;
    }
    return r;
  }

  // ReadChat reads records until a CHAT `text` from `from`. Returns it, or nullopt.
  std::optional<Record> ReadChat(std::string_view from, std::string_view text,
                                 Duration timeout = kWait) {
    const Clock::time_point deadline = Clock::now() + timeout;
    for (;;) {
      std::optional<Record> r = ReadRecord(std::chrono::ceil<Duration>(deadline - Clock::now()));
      if (!r.has_value() || IsChat(*r, from, text)) {
        return r;
      }
    }
  }

  // WaitForClose reads and discards whatever comes until the server closes or resets the
  // connection. Returns how long that took, or nullopt if it is still open after `timeout`.
  std::optional<Duration> WaitForClose(Duration timeout) {
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + timeout;
    while (!closed_) {
      in_.clear();
      in_pos_ = 0;
      if (!Fill(deadline) && !closed_) {
        return std::nullopt;
      }
    }
    return std::chrono::duration_cast<Duration>(Clock::now() - start);
  }

  // ReadSeen reads and opens the next record and copies its message out. Returns nullopt like
  // ReadRecord, and for a record whose message does not decode (which fails the test).
  std::optional<Seen> ReadSeen(Duration timeout) {
    const std::optional<Record> r = ReadRecord(timeout);
    if (!r.has_value()) {
      return std::nullopt;
    }
    const std::optional<msg::ServerMessage> m = r->Message();
    if (!m.has_value()) {
      ADD_FAILURE() << "the server sent a message this client cannot decode";
      return std::nullopt;
    }
    return ToSeen(*m);
  }

  // Await reads messages until one for which `match` holds and returns it; the ones before it
  // are appended to *skipped (when not null). Returns nullopt at the deadline or the close.
  template <typename Match>
  std::optional<Seen> Await(Match&& match, Duration timeout = kWait,
                            std::vector<Seen>* skipped = nullptr) {
    const Clock::time_point deadline = Clock::now() + timeout;
    for (;;) {
      std::optional<Seen> s = ReadSeen(std::chrono::ceil<Duration>(deadline - Clock::now()));
      if (!s.has_value() || match(*s)) {
        return s;
      }
      if (skipped != nullptr) {
        skipped->push_back(std::move(*s));
      }
    }
  }

  const SessionKeys& keys() const { return keys_; }
  uint64_t send_sequence() const { return sealer_.sequence(); }
  RandomSource& rng() { return rng_; }

 private:
  SocketClient() = default;

  // Fill waits until `deadline` for bytes and appends them to in_. Returns false at the
  // deadline or when the connection ends (then closed_ is set).
  bool Fill(Clock::time_point deadline) {
    while (!closed_) {
      pollfd p{fd_, POLLIN, 0};
      const int ready = poll(&p, 1, RemainingMs(deadline));
      if (ready < 0 && errno == EINTR) {
        continue;
      }
      if (ready <= 0) {
        return false;
      }
      uint8_t buf[16 * 1024];
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        in_.insert(in_.end(), buf, buf + n);
        bytes_received_ += static_cast<size_t>(n);
        return true;
      }
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      }
      closed_ = true;  // end of stream, or a reset
    }
    return false;
  }

  int fd_ = -1;
  int local_port_ = 0;
  OsRandom rng_;
  SessionKeys keys_;
  RecordSealer sealer_;
  RecordOpener opener_;
  FrameAssembler frames_;
  std::vector<uint8_t> in_;
  size_t in_pos_ = 0;
  size_t bytes_received_ = 0;
  bool closed_ = false;
};

// JoinOverSocket connects a SocketClient to 127.0.0.1:`port`, runs the handshake with `key`
// and joins as `nick`. Returns an error naming the step that failed.
inline absl::StatusOr<std::unique_ptr<SocketClient>> JoinOverSocket(
    int port, const ServerPublicKey& key, std::string_view nick,
    SocketClient::Options options = {}) {
  auto c = SocketClient::Connect(port, options);
  if (!c.ok()) {
    return c.status();
  }
  if (absl::Status s = (*c)->Handshake(key); !s.ok()) {
    return s;
  }
  if (absl::Status s = (*c)->Join(nick); !s.ok()) {
    return s;
  }
  return c;
}

// AttackFixture is ServerFixture for tests that attack the server with SocketClients: it loads
// the server's public key for their handshakes, and every test ends with a server that still
// shuts down cleanly when told to (SIGTERM, exit 0), so that an attack is seen not to have
// broken it; under the sanitizers this is also where leaks and errors at exit are reported.
class AttackFixture : public ServerFixture {
 protected:
  // The server gives clients 2 s to take its shutdown notice; it must be gone soon after.
  static constexpr Duration kShutdownWait = std::chrono::seconds(4);

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServerFixture::SetUp());
    auto key = ServerPublicKey::ReadFile(public_key_);
    ASSERT_TRUE(key.ok()) << key.status();
    key_.emplace(std::move(*key));
  }

  void TearDown() override {
    if (server_.process == nullptr || server().Wait(Duration::zero()).has_value()) {
      return;  // never started, or the test ended it
    }
    ASSERT_TRUE(server().Signal(SIGTERM));
    EXPECT_TRUE(Exits(server(), 0, kShutdownWait));
  }

  const ServerPublicKey& key() const { return *key_; }

  // RawJoin connects, runs the handshake and joins as `nick`.
  absl::StatusOr<std::unique_ptr<SocketClient>> RawJoin(std::string_view nick,
                                                        SocketClient::Options options = {}) {
    return JoinOverSocket(server_.port, key(), nick, options);
  }

  std::optional<ServerPublicKey> key_;
};

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_INTEGRATION_SOCKET_CLIENT_H_
