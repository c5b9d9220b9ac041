// RoomHistory: the room's lines, numbered, and the last of them kept in memory within two
// limits, for a client that joins or comes back (PROTOCOL.md 6.11). It never touches the
// network or the disk: the Room adds what is said and asks what a client has not seen.
#ifndef SECURECHAT_ENGINE_HISTORY_H_
#define SECURECHAT_ENGINE_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>

#include "securechat/wire/protocol.h"

namespace securechat {

struct HistoryLimits {
  size_t max_lines = 50;          // --history; 0 keeps nothing
  size_t max_bytes = 256 * 1024;  // --history_bytes, counting each line's text and nick
};

// The most a line of history adds to a joining client's output beyond its kept bytes (nick and
// text): ROOM_LINE's other fields, the longest room name, and the record's framing, IV, tag
// and largest padding.
inline constexpr size_t kHistoryLineWireOverhead = 1 + (2 + proto::kMaxRoomLen) + 8 + 8 + 2 + 1 +
                                                   1 + 2 + proto::kFrameHeaderLen +
                                                   proto::kRecordOverhead + proto::kAesBlockLen;

// HistoryWireBytes bounds what a full history queues for a joining client, so that a server
// can check it fits that client's output queue (chat-server keeps it within half).
constexpr size_t HistoryWireBytes(const HistoryLimits& limits) {
  return limits.max_bytes + limits.max_lines * kHistoryLineWireOverhead;
}

// What a kept line costs the server in memory beyond its nick and text: the Line itself in
// the deque, and an allocator's header for each of its two strings. A bound, not a
// measurement: chat-server uses it to refuse limits whose histories could outgrow memory.
inline constexpr size_t kHistoryLineMemoryOverhead = 160;

// HistoryMemoryBytes bounds what one full history holds in memory.
constexpr size_t HistoryMemoryBytes(const HistoryLimits& limits) {
  return limits.max_bytes + limits.max_lines * kHistoryLineMemoryOverhead;
}

class RoomHistory {
 public:
  struct Line {
    uint64_t seq;
    uint64_t time_ms;
    std::string from;
    bool action;
    std::string text;
  };

  // `epoch` names this history among the server's runs: random and not 0 (PROTOCOL.md 6.11).
  RoomHistory(HistoryLimits limits, uint64_t epoch) : limits_(limits), epoch_(epoch) {}
  // Lines are wiped (OPENSSL_cleanse) as they are forgotten, and all of them with the history.
  ~RoomHistory();
  RoomHistory(const RoomHistory&) = delete;
  RoomHistory& operator=(const RoomHistory&) = delete;

  // Add numbers a line said in the room and keeps it, forgetting the oldest lines until both
  // limits hold. A line larger than max_bytes alone is numbered and not kept, and every older
  // line is forgotten with it: the lines kept are always the last ones said, without a gap.
  // Returns its number.
  uint64_t Add(uint64_t time_ms, std::string_view from, bool action, std::string_view text);

  // What a client that has seen lines up to `after` of history `epoch` is owed: Unseen's
  // lines, oldest first, and Missed, how many lines after `after` are no longer kept. A
  // client of another epoch (0 included) is owed every line kept, and missed nothing that
  // can be counted.
  template <typename F>
  void ForEachUnseen(uint64_t epoch, uint64_t after, F f) const {
    ForEachUnseenWithin(epoch, after, std::numeric_limits<size_t>::max(), f);
  }
  uint64_t Missed(uint64_t epoch, uint64_t after) const;
  // ForEachUnseenWithin is ForEachUnseen for a client whose output queue has `budget` bytes to
  // spare: only the newest unseen lines whose wire size (kHistoryLineWireOverhead each, beside
  // nick and text) fits the budget, oldest first. Returns how many older unseen lines it left
  // out, which the client is told it missed. A client that rejoins ten rooms at once after a
  // reconnection would otherwise be sent ten full histories in one turn, past its queue limit,
  // and closed as a client that does not read, again at every try.
  template <typename F>
  uint64_t ForEachUnseenWithin(uint64_t epoch, uint64_t after, size_t budget, F f) const {
    const bool same = epoch == epoch_;
    // Lines are kept in number order, so the unseen ones are the last: walk back from the
    // newest while each fits what is left of the budget.
    size_t first = lines_.size();
    size_t used = 0;
    while (first > 0) {
      const Line& line = lines_[first - 1];
      const size_t cost = Cost(line) + kHistoryLineWireOverhead;
      if ((same && line.seq <= after) || cost > budget - used) {
        break;
      }
      used += cost;
      --first;
    }
    uint64_t left_out = 0;
    for (size_t i = 0; i < first; ++i) {
      left_out += !same || lines_[i].seq > after ? 1 : 0;
    }
    for (size_t i = first; i < lines_.size(); ++i) {
      f(lines_[i]);
    }
    return left_out;
  }

  uint64_t epoch() const { return epoch_; }
  uint64_t last_seq() const { return last_seq_; }
  size_t size() const { return lines_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  static size_t Cost(const Line& line) { return line.from.size() + line.text.size(); }
  // Clear wipes and forgets every line.
  void Clear();

  const HistoryLimits limits_;
  const uint64_t epoch_;
  uint64_t last_seq_ = 0;
  size_t bytes_ = 0;
  std::deque<Line> lines_;
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_HISTORY_H_
