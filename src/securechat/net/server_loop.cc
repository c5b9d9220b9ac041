#include "securechat/net/server_loop.h"

#include <sys/select.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/net/lines.h"
#include "securechat/net/socket.h"
#include "securechat/net/stop_signals.h"

namespace securechat::net {
namespace {

// Watch adds `fd` to `set` and raises *max_fd to it.
void Watch(int fd, fd_set* set, int* max_fd) {
  FD_SET(fd, set);
  *max_fd = std::max(*max_fd, fd);
}

// FdConsole reads console lines from a descriptor (a pipe, a file, or a terminal in its own
// line mode). A line longer than ServerCore::kMaxConsoleLineLen is dropped whole, with
// `overlong` called for it; so is an unfinished last line at the end of input, which may be
// a line cut short.
class FdConsole final : public LineInput {
 public:
  FdConsole(int fd, std::function<void()> overlong) : fd_(fd), overlong_(std::move(overlong)) {}
  int fd() const override { return fd_; }
  bool Read(const OnLine& on_line) override {
    if (ReadLines(fd_, lines_, on_line, overlong_) == ReadStatus::kEnded) {
      fd_ = -1;
      return false;
    }
    return true;
  }

 private:
  int fd_;
  std::function<void()> overlong_;
  LineSplitter lines_{ServerCore::kMaxConsoleLineLen};
};

class Loop {
 public:
  Loop(ServerCore& core, std::vector<std::unique_ptr<Listener>> listeners,
       const ServerLoopOptions& options)
      : core_(core), listeners_(std::move(listeners)), options_(options) {
    console_ = options.console;
    if (console_ == nullptr && options.console_fd >= 0) {
      own_console_ = std::make_unique<FdConsole>(options.console_fd, [this] {
        Note(Cat("not sent: a console line must be 1 to ", ServerCore::kMaxConsoleLineLen,
                 " bytes of UTF-8 without control characters"));
      });
      console_ = own_console_.get();
    }
  }

  int Run();

 private:
  void AcceptFrom(Listener& listener);
  // Refuse sends the core's refusal to a stream the loop cannot watch, without waiting, and
  // closes it.
  void Refuse(ByteStream& stream);
  void ReadFrom(ConnId id, ByteStream& stream);
  void ReadConsole();
  bool ConsoleOpen() const { return console_ != nullptr && console_->fd() >= 0; }
  void FlushAll();
  void Note(std::string_view s) {
    if (options_.console_note) {
      options_.console_note(s);
    }
  }

  ServerCore& core_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  const ServerLoopOptions& options_;
  uint64_t bans_generation_ = core_.bans().generation();  // the list as last handed on
  uint64_t next_bans_save_ms_ = 0;  // monotonic: when the list may be handed on again
  // The list is handed on (written to the --bans file) at most once a second: a member
  // operator's MODERATE is a client message, and must not make the loop write and fsync a
  // large file at the client's rate. The first change is written at once.
  static constexpr uint64_t kBansSaveIntervalMs = 1000;

  // SaveBans hands on the list of bans if it changed, unless it was handed on less than
  // kBansSaveIntervalMs ago (`now`: whatever the pace, when the loop ends).
  void SaveBans(bool now) {
    if (core_.bans().generation() == bans_generation_) {
      return;
    }
    const uint64_t mono = MonotonicMs();
    if (!now && mono < next_bans_save_ms_) {
      return;
    }
    bans_generation_ = core_.bans().generation();
    next_bans_save_ms_ = mono + kBansSaveIntervalMs;
    if (options_.on_bans_changed) {
      options_.on_bans_changed(core_.bans());
    }
  }
  std::unique_ptr<LineInput> own_console_;  // the console read from options.console_fd
  LineInput* console_ = nullptr;  // options.console or own_console_; null once it has ended
  static constexpr uint64_t kAcceptBackoffMs = 100;

  std::map<ConnId, std::unique_ptr<ByteStream>> streams_;
  uint64_t accept_paused_until_ = 0;
  std::array<uint8_t, 16 * 1024> read_buf_{};
};

void Loop::AcceptFrom(Listener& listener) {
  // Bounded: a flood of connections cannot keep the loop from serving everyone else.
  for (int i = 0; i < 64; ++i) {
    AcceptResult accepted = listener.Accept();
    if (accepted.outcome == AcceptOutcome::kExhausted) {
      // Out of descriptors or memory: the pending connection stays in the backlog and
      // select() would report it again at once. Stop watching the listeners for a while
      // instead of spinning.
      accept_paused_until_ = MonotonicMs() + kAcceptBackoffMs;
      Note(Cat("accept on ", listener.name(), ": ", accepted.error, "; pausing accepts for ",
               kAcceptBackoffMs, " ms"));
      return;
    }
    if (accepted.outcome != AcceptOutcome::kStream) {
      return;  // nothing to do until the next readiness
    }
    std::unique_ptr<ByteStream>& stream = accepted.stream;
    if (stream->fd() >= FD_SETSIZE) {
      Refuse(*stream);  // select() cannot watch it: refuse it now, without an fd_set
      continue;
    }
    const ConnId id = core_.Accept(stream->peer_address(), stream->peer_name());
    streams_.emplace(id, std::move(stream));
  }
}

void Loop::Refuse(ByteStream& stream) {
  [[maybe_unused]] IoResult sent = stream.Write(ServerCore::RefusalBytes());
  stream.Close();
  Note(Cat("refuse ", stream.peer_name(), ": descriptor ", stream.fd(), " is past FD_SETSIZE"));
}

void Loop::ReadFrom(ConnId id, ByteStream& stream) {
  const IoResult read = stream.Read(absl::MakeSpan(read_buf_));
  switch (read.outcome) {
    case IoOutcome::kBytes:
      core_.Receive(id, ByteView(read_buf_.data(), read.bytes));
      break;
    case IoOutcome::kClosed:
      core_.PeerClosed(id, "peer closed");
      break;
    case IoOutcome::kError:
      core_.PeerClosed(id, read.error);
      break;
    case IoOutcome::kWouldBlock:
      break;
  }
}

void Loop::ReadConsole() {
  const auto on_line = [this](std::string_view line) {
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!line.empty()) {
      for (const std::string& note : core_.ConsoleLine(line).notes) {
        Note(note);
      }
    }
  };
  if (!console_->Read(on_line)) {
    console_ = nullptr;
    Note("console closed (end of input); the server keeps running");
  }
}

void Loop::FlushAll() {
  for (auto it = streams_.begin(); it != streams_.end();) {
    const ConnId id = it->first;
    ByteStream& stream = *it->second;
    for (ByteView out = core_.Pending(id); !out.empty(); out = core_.Pending(id)) {
      const IoResult written = stream.Write(out);
      if (written.outcome == IoOutcome::kBytes) {
        core_.Consumed(id, written.bytes);
        continue;
      }
      if (written.outcome != IoOutcome::kWouldBlock) {
        core_.PeerClosed(id, written.error.empty() ? "write failed" : written.error);
      }
      break;
    }
    if (core_.ShouldClose(id)) {
      core_.Forget(id);
      stream.Close();
      it = streams_.erase(it);  // releases the descriptor
    } else {
      ++it;
    }
  }
}

int Loop::Run() {
  // Without the program's StopSignals, the loop catches the signals itself while it runs.
  std::unique_ptr<StopSignals> own_stop;
  StopSignals* stop = options_.stop_signals;
  if (stop == nullptr) {
    own_stop = StopSignals::Install();
    stop = own_stop.get();
  }
  if (stop == nullptr) {
    Note("cannot install signal handlers");
    return 1;
  }
  bool stopping = false;
  auto deadline = std::chrono::steady_clock::time_point::max();
  for (;;) {
    if (options_.on_turn) {
      options_.on_turn();
    }
    if (stopping && (streams_.empty() || std::chrono::steady_clock::now() >= deadline)) {
      SaveBans(/*now=*/true);  // a change held back by the pace below is not lost
      return 0;
    }
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    int max_fd = -1;
    Watch(stop->fd(), &rd, &max_fd);
    const bool accepting = !stopping && MonotonicMs() >= accept_paused_until_;
    if (accepting) {
      for (const std::unique_ptr<Listener>& listener : listeners_) {
        Watch(listener->fd(), &rd, &max_fd);
      }
    }
    if (!stopping && ConsoleOpen()) {
      Watch(console_->fd(), &rd, &max_fd);
    }
    for (OutputSink* out : options_.outputs) {
      if (out->WantsWrite() && out->fd() < FD_SETSIZE) {
        Watch(out->fd(), &wr, &max_fd);
      }
    }
    // A connection the core does not want read (flow control: it streams a file to a
    // receiver whose queue is full) is not watched for reading, and its buffered input waits:
    // the receiver it waits for is watched for writing, and its draining ends this wait on a
    // later turn, which asks the core again.
    bool buffered_input = false;
    for (const auto& [id, stream] : streams_) {
      const bool wanted = core_.WantsRead(id);
      if (wanted) {
        Watch(stream->fd(), &rd, &max_fd);
      }
      if (!core_.Pending(id).empty()) {
        Watch(stream->fd(), &wr, &max_fd);
      }
      buffered_input = buffered_input || (wanted && stream->HasBufferedInput());
    }
    // Sleep until the next timer of the core, the end of an accept pause, or (stopping) a
    // short poll for the flush.
    std::optional<uint64_t> wait_ms = core_.MsUntilTick();
    if (!accepting) {
      wait_ms = std::min<uint64_t>(wait_ms.value_or(kAcceptBackoffMs), kAcceptBackoffMs);
    }
    for (OutputSink* out : options_.outputs) {
      if (const std::optional<uint64_t> ms = out->MsUntilTick()) {
        wait_ms = std::min(wait_ms.value_or(*ms), *ms);
      }
    }
    if (core_.bans().generation() != bans_generation_) {  // a save held back by its pace
      const uint64_t now = MonotonicMs();
      const uint64_t ms = next_bans_save_ms_ > now ? next_bans_save_ms_ - now : 0;
      wait_ms = std::min(wait_ms.value_or(ms), ms);
    }
    if (buffered_input) {
      wait_ms = 0;  // a stream holds bytes it already took from its descriptor
    }
    timeval tv{};
    if (wait_ms) {
      tv.tv_sec = static_cast<time_t>(*wait_ms / 1000);
      tv.tv_usec = static_cast<suseconds_t>(*wait_ms % 1000 * 1000);
    }
    int ready = select(max_fd + 1, &rd, &wr, nullptr, wait_ms ? &tv : nullptr);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      Note(Cat("select failed: ", strerror(errno)));
      return 1;
    }
    if (FD_ISSET(stop->fd(), &rd)) {
      stop->Drain();
      if (TakeReloadRequest() && !stopping && options_.on_reload) {
        options_.on_reload();
      }
      if (!stopping && StopRequested()) {
        stopping = true;
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        core_.Shutdown();
      }
    }
    if (accepting) {
      for (const std::unique_ptr<Listener>& listener : listeners_) {
        if (FD_ISSET(listener->fd(), &rd)) {
          AcceptFrom(*listener);
        }
      }
    }
    if (!stopping && ConsoleOpen() && FD_ISSET(console_->fd(), &rd)) {
      ReadConsole();
    }
    for (auto& [id, stream] : streams_) {
      // Asked again: what an earlier connection sent this turn may have filled a receiver.
      if ((FD_ISSET(stream->fd(), &rd) || stream->HasBufferedInput()) && core_.WantsRead(id)) {
        ReadFrom(id, *stream);
      }
    }
    core_.Tick();
    SaveBans(/*now=*/false);
    FlushAll();
    // Whether or not select() said so: a line logged in this round usually fits at once.
    for (OutputSink* out : options_.outputs) {
      out->Tick();
      out->Flush();
    }
  }
}

}  // namespace

int RunServer(ServerCore& core, std::vector<std::unique_ptr<Listener>> listeners,
              const ServerLoopOptions& options) {
  IgnoreSigpipe();
  Loop loop(core, std::move(listeners), options);
  return loop.Run();
}

}  // namespace securechat::net
