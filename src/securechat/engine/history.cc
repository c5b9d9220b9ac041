#include "securechat/engine/history.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace securechat {

namespace {

// Wipe overwrites a line's nick and text before it is freed: history is the one place the
// server keeps plaintext beyond the event that brought it (SECURITY.md section 3).
void Wipe(RoomHistory::Line& line) {
  OPENSSL_cleanse(line.from.data(), line.from.size());
  OPENSSL_cleanse(line.text.data(), line.text.size());
}

}  // namespace

RoomHistory::~RoomHistory() { Clear(); }

void RoomHistory::Clear() {
  for (Line& line : lines_) {
    Wipe(line);
  }
  lines_.clear();
  bytes_ = 0;
}

uint64_t RoomHistory::Add(uint64_t time_ms, std::string_view from, bool action,
                          std::string_view text) {
  const uint64_t seq = ++last_seq_;
  const size_t cost = from.size() + text.size();
  if (limits_.max_lines == 0 || cost > limits_.max_bytes) {
    // A line that cannot be kept goes, and the older ones with it: what is kept stays one run
    // of consecutive numbers, so that Missed counts every line a client will not get.
    Clear();
    return seq;
  }
  Line line{seq, time_ms, std::string(from), action, std::string(text)};
  while (!lines_.empty() &&
         (lines_.size() >= limits_.max_lines || bytes_ + cost > limits_.max_bytes)) {
    bytes_ -= Cost(lines_.front());
    Wipe(lines_.front());
    lines_.pop_front();
  }
  bytes_ += cost;
  lines_.push_back(std::move(line));
  return seq;
}

uint64_t RoomHistory::Missed(uint64_t epoch, uint64_t after) const {
  if (epoch != epoch_) {
    return 0;
  }
  // The lines after `after` that are gone: up to just before the oldest kept (or, with none
  // kept, up to the newest said).
  const uint64_t oldest = lines_.empty() ? last_seq_ + 1 : lines_.front().seq;
  return after < oldest ? oldest - after - 1 : 0;
}

}  // namespace securechat
