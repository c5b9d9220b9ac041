// The pieces of the interactive client that need no terminal: the paste guard, the reconnect
// backoff and completion candidates. Each takes its time and randomness from the caller.
#ifndef SECURECHAT_CLIENT_INTERACTIVE_H_
#define SECURECHAT_CLIENT_INTERACTIVE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace securechat {

// PasteGuard holds typed lines that arrive in a burst (each within kBurstMs of the one
// before) until the burst is over. A burst of at most kMaxUnasked lines is then released; a
// longer one (a paste) is held and the user is asked whether to send it all. The answer is
// one key, never a line: y or Y sends the batch; n, N, Enter or Escape drops it; any other key
// is ignored and the question stays. A read of the terminal that brings more than one byte
// at once is pasted text, keys typed ahead or a key's escape sequence (an arrow), and is no
// answer either, so that the rest of a paste cannot answer for the user.
class PasteGuard {
 public:
  static constexpr size_t kMaxUnasked = 5;
  static constexpr uint64_t kBurstMs = 100;

  // What the caller should do now.
  struct Result {
    std::vector<std::string> send;  // lines to hand to the session, in order
    size_t ask = 0;                 // > 0: ask "send `ask` lines? [y/N]"
    size_t dropped = 0;             // > 0: the user said no to this many lines
  };

  // Typed takes one line the user entered at `now_ms`. A line while asking joins the held
  // batch (it is no answer), and the question is asked again with the new count.
  Result Typed(std::string line, uint64_t now_ms);
  // Key takes what one read of the terminal brought while asking: the answer, or nothing.
  Result Key(std::string_view keys);
  // Tick releases or questions a burst that has ended by `now_ms`.
  Result Tick(uint64_t now_ms);
  // MsUntilTick: how long until Tick has work (nullopt: nothing held, or waiting for an answer).
  std::optional<uint64_t> MsUntilTick(uint64_t now_ms) const;

  bool asking() const { return asking_; }
  size_t held() const { return held_.size(); }

 private:
  std::vector<std::string> held_;
  uint64_t last_ms_ = 0;
  bool asking_ = false;
};

// Backoff: reconnect delays that start at kFirstMs, double on every failure up to kMaxMs, and
// are spread by jitter: each delay is drawn from [d/2, d] for the nominal delay d, so clients
// that lost the same server do not all return at the same moment.
class Backoff {
 public:
  static constexpr uint64_t kFirstMs = 1000;
  static constexpr uint64_t kMaxMs = 30'000;

  // NextMs returns the next delay. `random` is any 32-bit random value.
  uint64_t NextMs(uint32_t random);
  // Reset starts again from kFirstMs (after a connection that worked).
  void Reset() { nominal_ms_ = kFirstMs; }

 private:
  uint64_t nominal_ms_ = kFirstMs;
};

// CompletionCandidates returns the words that could complete `word`, the word being typed,
// which starts at byte `word_start` of the line: command names (with their '/') when it is
// the first word and starts with '/', otherwise the nicks that start with it, each with a ':'
// after it when it starts the line ("bob:", addressing bob). Sorted, without duplicates.
std::vector<std::string> CompletionCandidates(std::string_view word, size_t word_start,
                                              const std::vector<std::string>& commands,
                                              const std::vector<std::string>& nicks);
// The same with rooms (PROTOCOL.md 6.13), for a line `line` (what is typed, `word` at
// `word_start` in it): a word that starts with '#', and the word after /join, /part or
// /switch (in any case) with or without its '#', completes to the rooms that start with it.
std::vector<std::string> CompletionCandidates(std::string_view word, size_t word_start,
                                              std::string_view line,
                                              const std::vector<std::string>& commands,
                                              const std::vector<std::string>& nicks,
                                              const std::vector<std::string>& rooms);

}  // namespace securechat

#endif  // SECURECHAT_CLIENT_INTERACTIVE_H_
