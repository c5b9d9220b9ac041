// ServerSinks: what the server engine tells the operator, and its clocks.
#ifndef SECURECHAT_ENGINE_SERVER_SINKS_H_
#define SECURECHAT_ENGINE_SERVER_SINKS_H_

#include <cstdint>
#include <functional>
#include <string_view>

namespace securechat {

// Log lines (never message text) and, for a console that is a terminal, the room as a member
// sees it. Any of them may be empty except now_ms.
struct ServerSinks {
  std::function<void(std::string_view)> log;
  // room shows one room event: a CHAT said by `nick`, or a notice (joins, leaves, renames)
  // when `nick` is empty. `text` is escaped for display; the sink lays it out. May be empty.
  std::function<void(std::string_view nick, std::string_view text)> room;
  std::function<uint64_t()> now_ms;   // server clock, Unix milliseconds (CHAT time)
  std::function<uint64_t()> mono_ms;  // monotonic milliseconds, for limits and timers

  void Log(std::string_view line) const {
    if (log) {
      log(line);
    }
  }
  void ShowRoom(std::string_view nick, std::string_view text) const {
    if (room) {
      room(nick, text);
    }
  }
  uint64_t Mono() const { return mono_ms ? mono_ms() : now_ms(); }
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_SERVER_SINKS_H_
