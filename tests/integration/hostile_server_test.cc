// The real chat-client against hostile servers on 127.0.0.1: a listener in the test that
// accepts and then never answers, trickles bytes, or completes the genuine handshake (the
// project's ServerConnection with the test key) and sends a WHO answer that never ends. Every
// wait has a deadline.
#include <fcntl.h>
#include <netinet/in.h>
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
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "securechat/base/cat.h"
#include "securechat/client/session.h"
#include "support/scripted_server.h"

namespace securechat::testing {
namespace {

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;
using Clock = std::chrono::steady_clock;

// Report prints a measurement so that it shows in the test log.
template <typename... Args>
void Report(const Args&... args) {
  const std::string line = Cat("[ measured ] ", args...);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// StatusKb returns a field of /proc/PID/status in KiB ("VmHWM", "VmRSS"), or 0 if unknown.
int64_t StatusKb(pid_t pid, std::string_view field) {
  std::ifstream in(Cat("/proc/", pid, "/status"));
  const std::string prefix = Cat(field, ":");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) {
      std::istringstream fields(line.substr(prefix.size()));
      int64_t kb = 0;
      fields >> kb;
      return kb;
    }
  }
  return 0;
}

// Listener is a listening socket on 127.0.0.1, any free port.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(fd_, 8) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    address_ = Cat("127.0.0.1:", ntohs(addr.sin_port));
  }
  ~Listener() {
    for (int fd : accepted_) {
      close(fd);
    }
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  const std::string& address() const { return address_; }

  // Accept waits up to `timeout` for a connection and returns it (owned by the listener,
  // non-blocking), or -1.
  int Accept(Duration timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      return -1;
    }
    const int fd = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      accepted_.push_back(fd);
    }
    return fd;
  }

 private:
  int fd_ = -1;
  std::string address_;
  std::vector<int> accepted_;
};

// Serve moves bytes between socket `fd` and `server` until `done()` holds, the client closes,
// or `timeout` passes; returns done(). It writes only what the client reads, so a client that
// stops reading holds it back, and it collects the client's output meanwhile.
template <typename Done>
bool Serve(int fd, ScriptedServer& server, Process& client, Done&& done, Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<uint8_t> buf(16 * 1024);
  while (!done()) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) {
      return false;
    }
    client.ReadAvailable();
    const bool want_write = !server.output().pending().empty();
    pollfd p{fd, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 50) < 0) {
      return false;
    }
    if (p.revents & POLLOUT) {
      const ByteView out = server.output().pending();
      const ssize_t n = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) {
        return done();
      }
      if (n > 0) {
        server.output().Consume(static_cast<size_t>(n));
      }
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN)) {
        return done();
      }
      if (n > 0 && !server.Receive(ByteView(buf.data(), static_cast<size_t>(n)))) {
        return done();
      }
    }
  }
  return true;
}

class HostileServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Process> StartClient(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--nick",       "alice",
                                     "--connect",    listener_.address(),
                                     "--server_key", TestKeyPath("test_rsa2048_public.pem")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto client = Process::Start(ProgramPath("chat-client"), args);
    if (!client.ok()) {
      ADD_FAILURE() << client.status();
      return nullptr;
    }
    return std::move(*client);
  }

  Listener listener_;
};

// A server that accepts and never says a word: the client gives up at --handshake_timeout
// with exit 6 and says why.
TEST_F(HostileServerTest, SilentServerIsLeftAtTheHandshakeDeadline) {
  auto client = StartClient({"--handshake_timeout=1s"});
  ASSERT_NE(client, nullptr);
  const auto start = Clock::now();
  ASSERT_GE(listener_.Accept(kWait), 0);
  EXPECT_TRUE(Exits(*client, 6));
  const auto took = std::chrono::duration_cast<Duration>(Clock::now() - start);
  Report("silent server: the client left after ", took.count(), " ms (deadline 1000 ms)");
  EXPECT_GE(took, 900ms);
  EXPECT_EQ(client->err(),
            "chat-client: connection lost: the server did not complete the handshake within "
            "1 s\n");
}

// A server that trickles a SERVER_HELLO one byte every 100 ms does not move the deadline.
TEST_F(HostileServerTest, TricklingServerIsLeftAtTheHandshakeDeadline) {
  auto client = StartClient({"--handshake_timeout=1s"});
  ASSERT_NE(client, nullptr);
  const auto start = Clock::now();
  const int fd = listener_.Accept(kWait);
  ASSERT_GE(fd, 0);
  const uint8_t header[] = {static_cast<uint8_t>(proto::FrameType::kServerHello), 0, 0,
                            static_cast<uint8_t>(proto::kServerHelloBodyLen)};
  size_t sent = 0;
  std::optional<int> code;
  while (!(code = client->Wait(100ms)) && Clock::now() - start < kWait) {
    const uint8_t b = sent < sizeof(header) ? header[sent] : 0x5A;
    if (send(fd, &b, 1, MSG_NOSIGNAL) == 1) {
      ++sent;
    }
  }
  const auto took = std::chrono::duration_cast<Duration>(Clock::now() - start);
  Report("trickling server: ", sent, " bytes sent; the client left after ", took.count(), " ms");
  EXPECT_EQ(code, 6) << Describe(*client);
  EXPECT_LT(sent, proto::kFrameHeaderLen + proto::kServerHelloBodyLen);
  EXPECT_NE(client->err().find("did not complete the handshake within 1 s"), std::string::npos)
      << Describe(*client);
}

// While the client is still connecting (the server has not answered its hello), /quit leaves
// at once with 0, and SIGINT (Ctrl-C) ends it too: neither waits for the handshake deadline,
// here a minute away. (A /quit after lines piped in before the WELCOME waits its turn:
// chat_test's QueuedInputIsSentAfterJoinAndQuitEndsIt.)
TEST_F(HostileServerTest, QuitAndInterruptWorkWhileConnecting) {
  auto client = StartClient({"--handshake_timeout=60s"});
  ASSERT_NE(client, nullptr);
  ASSERT_GE(listener_.Accept(kWait), 0);
  ASSERT_TRUE(client->WriteStdin("/quit\n"));
  EXPECT_TRUE(Exits(*client, 0));
  EXPECT_EQ(client->err(), "") << Describe(*client);

  auto interrupted = StartClient({"--handshake_timeout=60s"});
  ASSERT_NE(interrupted, nullptr);
  ASSERT_GE(listener_.Accept(kWait), 0);
  ASSERT_TRUE(interrupted->Signal(SIGINT));
  EXPECT_EQ(interrupted->Wait(kWait), 128 + SIGINT) << Describe(*interrupted);
}

// With --reconnect, an attempt stuck in the handshake counts as a failed one: the client says
// so and connects again.
TEST_F(HostileServerTest, StuckAttemptIsRetriedWithReconnect) {
  auto client = StartClient({"--handshake_timeout=1s", "--reconnect"});
  ASSERT_NE(client, nullptr);
  ASSERT_GE(listener_.Accept(kWait), 0);
  EXPECT_TRUE(Saw(*client,
                  "!! connection lost: the server did not complete the handshake within 1 s; "
                  "reconnecting in "));
  EXPECT_GE(listener_.Accept(kWait), 0) << "no second attempt" << Describe(*client);
  const std::regex twice("(handshake within 1 s; reconnecting in [^\\n]*\\n[\\s\\S]*){2}");
  EXPECT_TRUE(client->WaitForStdoutMatch(twice, kWait, nullptr))
      << "the second attempt did not time out too" << Describe(*client);
}

// A server that completes the handshake and answers WHO with pages marked "more" for ever
// (26 MB of them used to take the client to 489 MB): the client keeps at most 65535 nicks,
// then exits 6 saying why. Its peak memory is reported.
TEST_F(HostileServerTest, EndlessWhoAnswerEndsTheClientAtTheBound) {
  auto client = StartClient({});
  ASSERT_NE(client, nullptr);
  const int fd = listener_.Accept(kWait);
  ASSERT_GE(fd, 0);
  ScriptedServer server;
  ASSERT_TRUE(Serve(
      fd, server, *client, [&] { return !server.joined_nick().empty() && server.output().empty(); },
      kWait))
      << Describe(*client);
  ASSERT_TRUE(Saw(*client, "-!- joined as alice; 1 online\n"));
  const int64_t joined_kb = StatusKb(client->pid(), "VmHWM");

  std::vector<std::string> names;
  for (int i = 0; i < 256; ++i) {
    names.push_back(Cat("user_with_a_nick_of_32_bytes", 1000 + i));
  }
  const std::vector<std::string_view> page(names.begin(), names.end());
  // 255 full pages stay under the bound (65280 nicks); the client shows a NOTICE after them
  // once it has taken them all.
  const size_t under = ClientSession::kMaxWhoNicks / page.size();
  for (size_t i = 0; i < under; ++i) {
    ASSERT_TRUE(server.Send(msg::Users{1, page}));
    ASSERT_TRUE(Serve(
        fd, server, *client, [&] { return server.output().empty(); }, kWait));
  }
  ASSERT_TRUE(server.Send(msg::Notice{"all pages sent"}));
  ASSERT_TRUE(Serve(
      fd, server, *client, [&] { return server.output().empty(); }, kWait));
  ASSERT_TRUE(Saw(*client, "-!- all pages sent\n"));
  const int64_t full_kb = StatusKb(client->pid(), "VmHWM");
  Report("client peak memory (VmHWM): ", joined_kb, " KiB after joining, ", full_kb,
         " KiB holding ", under * page.size(), " nicks of 32 bytes (",
         under * (4 + page.size() * 34) / 1024, " KiB of pages)");

  // Pages past the bound: the client closes the connection and exits 6.
  for (int i = 0; i < 8 && client->Wait(0ms) == std::nullopt; ++i) {
    ASSERT_TRUE(server.Send(msg::Users{1, page}));
    Serve(
        fd, server, *client, [&] { return server.output().empty(); }, kWait);
  }
  EXPECT_TRUE(Exits(*client, 6));
  EXPECT_EQ(client->err(),
            "chat-client: connection closed: the server sent more than 65535 nicks in one WHO "
            "answer\n");
  EXPECT_EQ(client->out().find("online ("), std::string::npos);
}

}  // namespace
}  // namespace securechat::testing
