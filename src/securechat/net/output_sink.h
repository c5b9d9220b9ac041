// OutputSink: the server's log (stderr) and console (stdout) lines, written without ever
// waiting. A pipe nobody reads or a terminal stopped with Ctrl-S must not stop the loop, so
// lines go into a bounded buffer that the loop flushes when select() says the descriptor is
// writable; a line that does not fit is dropped whole and counted, and once the buffer has
// drained the sink says "N log lines dropped". Repeated lines of chosen kinds (the first word:
// "connect", "refuse", "close") are rate limited, with "N connect lines suppressed" after.
#ifndef SECURECHAT_NET_OUTPUT_SINK_H_
#define SECURECHAT_NET_OUTPUT_SINK_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/engine/token_bucket.h"

namespace securechat::net {

// The most bytes of lines a sink holds while its descriptor does not take them: as much as a
// Linux pipe holds, so a reader that comes back finds about two pipes' worth in order.
inline constexpr size_t kOutputSinkBytes = 64 * 1024;

struct OutputSinkOptions {
  size_t capacity = kOutputSinkBytes;  // bytes buffered at most, whole lines only
  std::string noun = "log line";       // as in "N log lines dropped" ("1 log line dropped")
  // Called for every line, also the sink's own notes, when it is queued; its result goes
  // before the line (a time stamp and a space). May be empty.
  std::function<std::string()> prefix;
  // Lines whose first word is one of these are rate limited: `limit_burst` at once, then
  // `limit_rate` per second, for each word on its own; a rate of 0 limits nothing.
  std::vector<std::string> limited_kinds;
  double limit_rate = 4;
  double limit_burst = 32;
  // Monotonic milliseconds for the rate limit; empty: MonotonicMs.
  std::function<uint64_t()> mono_ms;
};

class OutputSink {
 public:
  // OutputSink takes over descriptor `fd` for writes that never wait, without changing how
  // anybody else sharing its open file description writes:
  //   - a socket is written with send(MSG_DONTWAIT), which is non-blocking for this call only;
  //   - a regular file or block device is written as it is (it never waits for a reader);
  //   - a pipe, a FIFO or a terminal is opened again through /proc/self/fd/N with O_NONBLOCK,
  //     and the new open file description replaces `fd` (dup2). Setting O_NONBLOCK on `fd`
  //     itself would set it for the shell and every other process sharing the terminal or
  //     pipe. Only when the reopen fails (no /proc, a pipe of another user, a pseudo-terminal
  //     master) does the sink set O_NONBLOCK on the shared description, and the destructor
  //     restores the old flags; fallback_note() then says so.
  // A descriptor that is not open makes a sink that discards every line. SIGPIPE is ignored
  // from then on (as the server loop does), so a reader that is gone fails a write instead.
  OutputSink(int fd, OutputSinkOptions options);
  ~OutputSink();
  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;

  // Line queues `line` (without its newline) whole, or drops and counts it if the buffer
  // cannot hold it or its kind is over its rate. Nothing is written until Flush.
  void Line(std::string_view line);

  // Flush writes as much of the buffer as the descriptor takes now, never waiting, and queues
  // the "N ... dropped" note once everything queued before it is out. A write error other
  // than "would block" (a pipe whose reader is gone) discards the buffer, counts its lines as
  // dropped, and makes the sink discard everything from then on.
  void Flush();

  // Finish is for the last lines when the server stops: it counts every suppressed line now,
  // whatever the rate, then keeps flushing for at most `timeout_ms`, waiting for the
  // descriptor in poll(). Returns true if everything was written.
  bool Finish(uint64_t timeout_ms);

  // Tick queues "N KIND lines suppressed" for each kind that suppressed lines and whose rate
  // allows a line again. MsUntilTick is how long until Tick would do that (nullopt: nothing
  // is suppressed).
  void Tick();
  std::optional<uint64_t> MsUntilTick();

  // Above prints rows (lines without their newlines) above a line editor's prompt.
  using Above = std::function<void(const std::vector<std::string>& rows)>;
  // SetAbove sends the sink's lines to `above` instead of writing them, while a line editor
  // owns the terminal the descriptor writes to (empty: write them again). Flush hands over the
  // buffered lines a few KiB at a time, and only when the descriptor can take bytes now: a terminal
  // that takes none (stopped with Ctrl-S) fills the buffer as before, and lines are dropped
  // and counted rather than waited for.
  void SetAbove(Above above) { above_ = std::move(above); }

  // The descriptor to watch for writability while WantsWrite() is true.
  int fd() const { return fd_; }
  bool WantsWrite() const { return !broken_ && !buffer_.empty(); }

  // Lines dropped since the last "dropped" note was queued.
  uint64_t dropped() const { return dropped_; }
  // Bytes waiting in the buffer.
  size_t buffered() const { return buffer_.size(); }
  // Non-empty when the sink had to set O_NONBLOCK on a shared description: why.
  const std::string& fallback_note() const { return fallback_note_; }

 private:
  enum class Method { kWrite, kSend, kDiscard };
  enum class Wrote { kAll, kWouldBlock, kFailed };
  struct Limit {
    explicit Limit(double rate, double burst) : bucket(rate, burst) {}
    TokenBucket bucket;
    uint64_t suppressed = 0;
  };

  void Prepare();
  uint64_t Now() const;
  // Queue appends prefix + text + '\n' if it fits, else counts a drop.
  void Queue(std::string_view text);
  void QueueSuppressed(std::string_view kind, Limit& limit);
  // WriteAll writes the buffer until it is empty, the descriptor would block, or a write
  // fails (the buffer's lines are then counted as dropped and discarded).
  Wrote WriteAll();

  int fd_;
  OutputSinkOptions options_;
  Method method_ = Method::kDiscard;
  std::optional<int> restore_flags_;  // the shared flags to put back, in the fallback
  std::string fallback_note_;
  std::string buffer_;
  uint64_t dropped_ = 0;
  bool broken_ = false;
  std::map<std::string, Limit, std::less<>> limits_;
  Above above_;
};

}  // namespace securechat::net

#endif  // SECURECHAT_NET_OUTPUT_SINK_H_
