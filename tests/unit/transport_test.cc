// The transport seam: the TCP listener and stream on 127.0.0.1, the line splitter behind the
// console and piped input, and the server loop serving several listeners and a stream that
// holds bytes its descriptor no longer shows (as a WebSocket will).
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "securechat/engine/client_connection.h"
#include "securechat/net/client_loop.h"
#include "securechat/net/lines.h"
#include "securechat/net/server_loop.h"
#include "securechat/net/socket.h"
#include "securechat/net/tcp.h"
#include "support/in_memory.h"

namespace securechat::net {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kWait = std::chrono::seconds(5);

// WaitReadable waits until `fd` is readable or `deadline` passes. Returns true if readable.
bool WaitReadable(int fd, Clock::time_point deadline) {
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) {
      return false;
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
    timeval tv{static_cast<time_t>(us.count() / 1'000'000),
               static_cast<suseconds_t>(us.count() % 1'000'000)};
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    if (select(fd + 1, &rd, nullptr, nullptr, &tv) > 0) {
      return true;
    }
  }
}

// ReadSome reads from `stream` until it has `want` bytes, the stream ends or fails, or
// kWait passes. Returns the bytes and sets *last to the last outcome.
std::string ReadSome(ByteStream& stream, size_t want, IoOutcome* last) {
  const auto deadline = Clock::now() + kWait;
  std::string got;
  std::array<uint8_t, 4096> buf;
  *last = IoOutcome::kWouldBlock;
  while (got.size() < want) {
    if (!stream.HasBufferedInput() && !WaitReadable(stream.fd(), deadline)) {
      break;
    }
    const IoResult read = stream.Read(absl::MakeSpan(buf));
    *last = read.outcome;
    if (read.outcome == IoOutcome::kBytes) {
      got.append(reinterpret_cast<const char*>(buf.data()), read.bytes);
    } else if (read.outcome != IoOutcome::kWouldBlock) {
      break;
    }
  }
  return got;
}

absl::Span<const uint8_t> Bytes(std::string_view s) {
  return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::unique_ptr<Listener> ListenLoopback() {
  auto listener = ListenTcp({"127.0.0.1", "0"});
  EXPECT_TRUE(listener.ok()) << listener.status();
  return listener.ok() ? std::move(*listener) : nullptr;
}

// Dial connects to `listener`.
std::unique_ptr<ByteStream> Dial(const Listener& listener) {
  auto addr = ParseHostPort(listener.name());
  EXPECT_TRUE(addr.ok()) << addr.status();
  ConnectError error;
  auto stream = DialTcp(*addr, &error);
  EXPECT_TRUE(stream.ok()) << stream.status();
  return stream.ok() ? std::move(*stream) : nullptr;
}

// AcceptOne waits for `listener` to have a stream and takes it.
std::unique_ptr<ByteStream> AcceptOne(Listener& listener) {
  const auto deadline = Clock::now() + kWait;
  while (WaitReadable(listener.fd(), deadline)) {
    AcceptResult accepted = listener.Accept();
    if (accepted.outcome == AcceptOutcome::kStream) {
      return std::move(accepted.stream);
    }
  }
  ADD_FAILURE() << "nothing to accept on " << listener.name();
  return nullptr;
}

// A TCP stream on 127.0.0.1 seen from both ends, and the listener that accepted it.
struct LoopbackPair {
  std::unique_ptr<Listener> listener;
  std::unique_ptr<ByteStream> client;
  std::unique_ptr<ByteStream> server;
};

// ConnectLoopback listens on 127.0.0.1, dials the listener and accepts the stream, into
// *pair; use it under ASSERT_NO_FATAL_FAILURE.
void ConnectLoopback(LoopbackPair* pair) {
  pair->listener = ListenLoopback();
  ASSERT_NE(pair->listener, nullptr);
  pair->client = Dial(*pair->listener);
  ASSERT_NE(pair->client, nullptr);
  pair->server = AcceptOne(*pair->listener);
  ASSERT_NE(pair->server, nullptr);
}

TEST(TcpTransportTest, ListenerNamesItsPortAndHasNothingToAcceptAtFirst) {
  auto listener = ListenLoopback();
  ASSERT_NE(listener, nullptr);
  auto addr = ParseHostPort(listener->name());
  ASSERT_TRUE(addr.ok()) << listener->name();
  EXPECT_EQ(addr->host, "127.0.0.1");
  EXPECT_NE(addr->port, "0");  // the port actually bound
  EXPECT_EQ(listener->Accept().outcome, AcceptOutcome::kNone);
}

TEST(TcpTransportTest, StreamsCarryBytesBothWaysAndSayWhoThePeerIs) {
  LoopbackPair pair;
  ASSERT_NO_FATAL_FAILURE(ConnectLoopback(&pair));
  auto& [listener, client, server] = pair;

  // The server side knows the client's address (the unit of per-address limits) and its
  // address and port (for logs); the client side knows the listener's.
  EXPECT_EQ(server->peer_address(), "127.0.0.1");
  EXPECT_EQ(server->peer_name().rfind("127.0.0.1:", 0), 0u) << server->peer_name();
  EXPECT_NE(server->peer_name(), "127.0.0.1:0");
  EXPECT_EQ(client->peer_name(), listener->name());

  // Nothing sent yet: a read would block, it does not wait.
  std::array<uint8_t, 16> buf;
  EXPECT_EQ(server->Read(absl::MakeSpan(buf)).outcome, IoOutcome::kWouldBlock);

  const IoResult wrote = client->Write(Bytes("hello"));
  ASSERT_EQ(wrote.outcome, IoOutcome::kBytes);
  EXPECT_EQ(wrote.bytes, 5u);
  IoOutcome last;
  EXPECT_EQ(ReadSome(*server, 5, &last), "hello");
  ASSERT_EQ(server->Write(Bytes("world")).outcome, IoOutcome::kBytes);
  EXPECT_EQ(ReadSome(*client, 5, &last), "world");

  // Close sends what was written first, then the end of the stream.
  ASSERT_EQ(server->Write(Bytes("bye")).outcome, IoOutcome::kBytes);
  server->Close();
  EXPECT_EQ(ReadSome(*client, 100, &last), "bye");
  EXPECT_EQ(last, IoOutcome::kClosed);
}

TEST(TcpTransportTest, WritingToAGonePeerFailsInsteadOfKillingTheProcess) {
  LoopbackPair pair;
  ASSERT_NO_FATAL_FAILURE(ConnectLoopback(&pair));
  auto& [listener, client, server] = pair;
  server.reset();  // closes the descriptor: the peer is gone
  IoOutcome last;
  ReadSome(*client, 1, &last);
  EXPECT_EQ(last, IoOutcome::kClosed);
  // The first write may still be taken; the peer answers it with a reset, and a later write
  // fails (EPIPE, without SIGPIPE).
  IoResult wrote;
  const auto deadline = Clock::now() + kWait;
  do {
    wrote = client->Write(Bytes("anyone?"));
  } while (wrote.outcome != IoOutcome::kError && Clock::now() < deadline);
  EXPECT_EQ(wrote.outcome, IoOutcome::kError);
  EXPECT_FALSE(wrote.error.empty());
}

TEST(TcpTransportTest, DialFailsWithRefusedWhenNobodyListens) {
  HostPort addr;
  {
    auto listener = ListenLoopback();
    ASSERT_NE(listener, nullptr);
    addr = *ParseHostPort(listener->name());
  }  // closed: the port is free again
  ConnectError error = ConnectError::kOther;
  auto stream = DialTcp(addr, &error);
  EXPECT_FALSE(stream.ok());
  EXPECT_EQ(error, ConnectError::kRefused);
}

TEST(ParseHostPortListTest, TakesOneOrMoreAddresses) {
  auto one = ParseHostPortList("127.0.0.1:5555");
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].port, "5555");
  auto two = ParseHostPortList("127.0.0.1:0,[::1]:6000", /*allow_zero=*/true);
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].host, "127.0.0.1");
  EXPECT_EQ((*two)[1].host, "::1");
  EXPECT_EQ((*two)[1].port, "6000");
  EXPECT_FALSE(ParseHostPortList("").ok());
  EXPECT_FALSE(ParseHostPortList("127.0.0.1:5555,").ok());
  EXPECT_FALSE(ParseHostPortList("127.0.0.1:5555,nonsense").ok());
  EXPECT_FALSE(ParseHostPortList("127.0.0.1:0").ok());  // port 0 only when allowed
}

// Lines is a LineSplitter of lines up to `max_len` bytes with what it passes on: the lines,
// and how many over-long lines it dropped.
struct Lines {
  explicit Lines(size_t max_len) : splitter(max_len) {}

  // Add gives the splitter `bytes`, as one read would.
  void Add(std::string_view bytes) { splitter.Add(bytes, on_line, on_overlong); }
  // Read gives the splitter what `fd` holds now. Returns what ReadLines returns.
  ReadStatus Read(int fd) { return ReadLines(fd, splitter, on_line, on_overlong); }

  LineSplitter splitter;
  std::vector<std::string> lines;
  int overlong = 0;
  LineSplitter::OnLine on_line = [this](std::string_view l) { lines.emplace_back(l); };
  LineSplitter::OnOverlong on_overlong = [this] { ++overlong; };
};

TEST(LineSplitterTest, JoinsLinesAcrossReads) {
  Lines got(10);
  got.Add("one\ntw");
  got.Add("o\n\nthr");
  EXPECT_EQ(got.lines, (std::vector<std::string>{"one", "two", ""}));
  EXPECT_EQ(got.splitter.TakeRest(), "thr");
  EXPECT_EQ(got.splitter.TakeRest(), "");
  EXPECT_EQ(got.overlong, 0);
}

TEST(LineSplitterTest, PassesOnALineOfExactlyTheBound) {
  Lines got(5);
  got.Add("12345\n1234");
  got.Add("5\n");
  EXPECT_EQ(got.lines, (std::vector<std::string>{"12345", "12345"}));
  EXPECT_EQ(got.overlong, 0);
}

// A line longer than the bound, arriving over several reads, is dropped whole: no piece of
// it, and not its tail after the bound was crossed, is ever passed on as a line of its own.
TEST(LineSplitterTest, DropsAnOverlongLineWholeNotItsTailAsANewLine) {
  Lines got(8);
  got.Add("before\n");
  got.Add("aaaaaa");
  got.Add("aaaaaa");  // past the bound here
  got.Add("tail");
  got.Add("tail\nafter\n");
  EXPECT_EQ(got.lines, (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(got.overlong, 1);

  // Also when the whole over-long line comes in one read, and at the end of input.
  got.Add("123456789\nok\n123456789");
  EXPECT_EQ(got.lines, (std::vector<std::string>{"before", "after", "ok"}));
  EXPECT_EQ(got.overlong, 3);
  EXPECT_EQ(got.splitter.TakeRest(), "");
}

TEST(LineSplitterTest, ReadLinesReadsAPipeUntilItsEnd) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Lines got(100);
  ASSERT_EQ(write(fds[1], "a\nb", 3), 3);
  EXPECT_EQ(got.Read(fds[0]), ReadStatus::kOpen);
  close(fds[1]);
  EXPECT_EQ(got.Read(fds[0]), ReadStatus::kEnded);
  close(fds[0]);
  EXPECT_EQ(got.lines, (std::vector<std::string>{"a"}));
  EXPECT_EQ(got.splitter.TakeRest(), "b");
}

// TrickleStream is a stream like a WebSocket's: it takes everything its descriptor holds at
// once, then hands it out one byte per Read, so most of the time the bytes it holds are not
// shown by its descriptor. A loop that waits only for the descriptor stalls on it.
class TrickleStream final : public ByteStream {
 public:
  explicit TrickleStream(std::unique_ptr<ByteStream> inner) : inner_(std::move(inner)) {}

  IoResult Read(absl::Span<uint8_t> out) override {
    std::array<uint8_t, 4096> buf;
    for (IoResult r = inner_->Read(absl::MakeSpan(buf)); r.outcome == IoOutcome::kBytes;
         r = inner_->Read(absl::MakeSpan(buf))) {
      held_.append(reinterpret_cast<const char*>(buf.data()), r.bytes);
    }
    if (held_.empty() || out.empty()) {
      return inner_->Read(out);
    }
    out[0] = static_cast<uint8_t>(held_[0]);
    held_.erase(0, 1);
    return {IoOutcome::kBytes, 1, {}};
  }
  IoResult Write(absl::Span<const uint8_t> bytes) override { return inner_->Write(bytes); }
  bool HasBufferedInput() const override { return !held_.empty(); }
  void Close() override { inner_->Close(); }
  int fd() const override { return inner_->fd(); }
  const std::string& peer_address() const override { return inner_->peer_address(); }
  const std::string& peer_name() const override { return inner_->peer_name(); }

 private:
  std::unique_ptr<ByteStream> inner_;
  std::string held_;
};

// TrickleListener accepts TCP connections as TrickleStreams.
class TrickleListener final : public Listener {
 public:
  explicit TrickleListener(std::unique_ptr<Listener> inner) : inner_(std::move(inner)) {}
  AcceptResult Accept() override {
    AcceptResult r = inner_->Accept();
    if (r.outcome == AcceptOutcome::kStream) {
      r.stream = std::make_unique<TrickleStream>(std::move(r.stream));
    }
    return r;
  }
  int fd() const override { return inner_->fd(); }
  const std::string& name() const override { return inner_->name(); }

 private:
  std::unique_ptr<Listener> inner_;
};

// The server loop in this process, on the main thread, with clients on another thread that
// stop it with SIGTERM when they are done.
class ServerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.max_per_address = 1;
    sinks_.log = [this](std::string_view line) { log_.emplace_back(line); };
    sinks_.now_ms = [] { return uint64_t{1'700'000'000'000}; };
    sinks_.mono_ms = MonotonicMs;
  }

  // Run serves `listeners` while `clients` runs on its own thread, then stops the server
  // with SIGTERM, sent again until the loop (which installs its handler when it starts)
  // returns. Until then a handler of the test's own keeps SIGTERM from ending the process.
  void Run(std::vector<std::unique_ptr<Listener>> listeners, std::function<void()> clients) {
    struct sigaction ignore {};
    ignore.sa_handler = [](int) {};
    sigemptyset(&ignore.sa_mask);
    ASSERT_EQ(sigaction(SIGTERM, &ignore, nullptr), 0);
    ServerCore core(securechat::testing::TestKey2048(), rng_, options_, sinks_);
    ServerLoopOptions loop;
    loop.console_fd = -1;
    loop.console_note = sinks_.log;
    std::atomic<bool> stopped{false};
    std::thread client_thread([&] {
      clients();
      while (!stopped) {
        kill(getpid(), SIGTERM);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    EXPECT_EQ(RunServer(core, std::move(listeners), loop), 0);
    stopped = true;
    client_thread.join();
  }

  bool Logged(std::string_view part) const {
    for (const std::string& line : log_) {
      if (line.find(part) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  OsRandom rng_;
  ServerOptions options_;
  ServerSinks sinks_;
  std::vector<std::string> log_;
};

// Two listeners feed one core: a second connection from 127.0.0.1 through the other listener
// meets the per-address limit, because the limit asks each stream for its peer's address.
TEST_F(ServerLoopTest, ServesTwoListenersAsOneServer) {
  std::vector<std::unique_ptr<Listener>> listeners;
  listeners.push_back(ListenLoopback());
  listeners.push_back(ListenLoopback());
  ASSERT_NE(listeners[0], nullptr);
  ASSERT_NE(listeners[1], nullptr);
  ASSERT_NE(listeners[0]->name(), listeners[1]->name());
  const Listener& first = *listeners[0];
  const Listener& second = *listeners[1];
  std::string alert;
  IoOutcome last = IoOutcome::kWouldBlock;
  bool first_open = false;
  Run(std::move(listeners), [&] {
    auto held = Dial(first);
    auto refused = Dial(second);
    if (held == nullptr || refused == nullptr) {
      return;
    }
    alert = ReadSome(*refused, 1000, &last);
    std::array<uint8_t, 1> buf;
    first_open = held->Read(absl::MakeSpan(buf)).outcome == IoOutcome::kWouldBlock;
  });
  // ALERT 3: too many connections from your address, then the end of the stream.
  std::vector<uint8_t> expected;
  AppendAlert(proto::AlertCode::kTooManyFromAddress, "too many connections from your address",
              &expected);
  EXPECT_EQ(alert, std::string(expected.begin(), expected.end()));
  EXPECT_EQ(last, IoOutcome::kClosed);
  EXPECT_TRUE(first_open);
  EXPECT_TRUE(Logged("connect #1 from 127.0.0.1:")) << ::testing::PrintToString(log_);
  EXPECT_TRUE(Logged("refuse #2 from 127.0.0.1:")) << ::testing::PrintToString(log_);
}

// A stream that holds bytes its descriptor no longer shows is read without waiting for the
// descriptor: the whole CLIENT_HELLO arrives in one TCP segment, the stream hands it out one
// byte at a time, and the handshake still completes at once.
TEST_F(ServerLoopTest, ReadsBytesAStreamHoldsWithoutWaitingForItsDescriptor) {
  std::vector<std::unique_ptr<Listener>> listeners;
  auto tcp = ListenLoopback();
  ASSERT_NE(tcp, nullptr);
  listeners.push_back(std::make_unique<TrickleListener>(std::move(tcp)));
  const Listener& listener = *listeners[0];
  ClientConnection::Step step = ClientConnection::Step::kNeedMore;
  Run(std::move(listeners), [&] {
    OsRandom rng;
    const ServerPublicKey key = securechat::testing::TestKey2048().PublicKey();
    ClientConnection conn(key, rng);
    auto stream = Dial(listener);
    if (stream == nullptr || !conn.Start()) {
      return;
    }
    while (!conn.output().empty()) {
      const IoResult wrote = stream->Write(conn.output().pending());
      if (wrote.outcome != IoOutcome::kBytes) {
        return;
      }
      conn.output().Consume(wrote.bytes);
    }
    const auto deadline = Clock::now() + kWait;
    std::array<uint8_t, 4096> buf;
    while (step == ClientConnection::Step::kNeedMore && WaitReadable(stream->fd(), deadline)) {
      const IoResult read = stream->Read(absl::MakeSpan(buf));
      if (read.outcome != IoOutcome::kBytes) {
        return;
      }
      ByteView in(buf.data(), read.bytes);
      msg::ServerMessage message;
      step = conn.Next(&in, &message);
    }
  });
  EXPECT_EQ(step, ClientConnection::Step::kEstablished);
}

// The client loop, too, reads what a stream holds without waiting for its descriptor: with
// SERVER_HELLO and WELCOME handed out one byte at a time, the session still joins at once.
TEST_F(ServerLoopTest, ClientLoopReadsBytesAStreamHoldsWithoutWaitingForItsDescriptor) {
  std::vector<std::unique_ptr<Listener>> listeners;
  listeners.push_back(ListenLoopback());
  ASSERT_NE(listeners[0], nullptr);
  const Listener& listener = *listeners[0];
  bool joined = false;
  int rc = -1;
  std::vector<std::string> lines;
  Run(std::move(listeners), [&] {
    OsRandom rng;
    const ServerPublicKey key = securechat::testing::TestKey2048().PublicKey();
    ClientConnection conn(key, rng);
    ClientSession session(
        conn, "alice", ClientSession::Printer([&](std::string_view l) { lines.emplace_back(l); }),
        MonotonicMs);
    ClientLoop::Hooks hooks;
    hooks.timer = [&] {
      if (session.joined() && !joined) {
        joined = true;
        session.InputEof();  // says BYE, and the session ends
      }
    };
    ClientLoop loop(session, nullptr, std::move(hooks));
    auto tcp = Dial(listener);
    if (tcp == nullptr || !conn.Start()) {
      return;
    }
    TrickleStream stream(std::move(tcp));
    rc = loop.RunConnected(conn, stream);
  });
  EXPECT_TRUE(joined) << ::testing::PrintToString(lines);
  EXPECT_EQ(rc, kExitOk) << ::testing::PrintToString(lines);
}

// A server that never answers the TCP handshake is given up after the connect timeout, with a
// message that says so, instead of after the system's two minutes. A listener whose accept
// queue is full plays it: Linux drops the SYNs it cannot queue, so a connect neither succeeds
// nor fails by itself.
TEST(ConnectTest, AServerThatNeverAnswersIsGivenUpAfterTheTimeout) {
  std::string bound;
  auto listener = Listen(HostPort{"127.0.0.1", "0"}, &bound);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_EQ(listen(listener->get(), 0), 0);  // a queue of one, never accepted
  auto addr = ParseHostPort(bound);
  ASSERT_TRUE(addr.ok());
  std::vector<Fd> queued;
  bool timed_out = false;
  for (int i = 0; i < 8 && !timed_out; ++i) {
    ConnectError error;
    auto fd = Connect(*addr, &error, 300);
    if (fd.ok()) {
      queued.push_back(std::move(*fd));  // still room in the queue
      continue;
    }
    timed_out = true;
    EXPECT_EQ(fd.status().code(), absl::StatusCode::kDeadlineExceeded) << fd.status();
    EXPECT_EQ(error, ConnectError::kUnreachable);
    EXPECT_EQ(std::string(fd.status().message()),
              "cannot connect to 127.0.0.1:" + addr->port + ": no answer within 300 ms");
  }
  EXPECT_TRUE(timed_out) << queued.size() << " connections were all accepted into the queue";
}

}  // namespace
}  // namespace securechat::net
