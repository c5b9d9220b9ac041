#include "securechat/client/interactive.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "securechat/base/cat.h"

namespace securechat {

PasteGuard::Result PasteGuard::Typed(std::string line, uint64_t now_ms) {
  Result r;
  held_.push_back(std::move(line));
  last_ms_ = now_ms;
  if (asking_) {
    r.ask = held_.size();
  }
  return r;
}

PasteGuard::Result PasteGuard::Key(std::string_view keys) {
  Result r;
  if (!asking_ || keys.size() != 1) {
    return r;
  }
  switch (keys.front()) {
    case 'y':
    case 'Y':
      r.send = std::move(held_);
      break;
    case 'n':
    case 'N':
    case '\r':
    case '\n':
    case '\x1b':  // Escape
      r.dropped = held_.size();
      break;
    default:
      return r;
  }
  held_.clear();
  asking_ = false;
  return r;
}

PasteGuard::Result PasteGuard::Tick(uint64_t now_ms) {
  Result r;
  if (asking_ || held_.empty() || now_ms - last_ms_ < kBurstMs) {
    return r;
  }
  if (held_.size() <= kMaxUnasked) {
    r.send = std::move(held_);
    held_.clear();
  } else {
    asking_ = true;
    r.ask = held_.size();
  }
  return r;
}

std::optional<uint64_t> PasteGuard::MsUntilTick(uint64_t now_ms) const {
  if (asking_ || held_.empty()) {
    return std::nullopt;
  }
  const uint64_t since = now_ms - last_ms_;
  return since >= kBurstMs ? 0 : kBurstMs - since;
}

uint64_t Backoff::NextMs(uint32_t random) {
  const uint64_t d = nominal_ms_;
  nominal_ms_ = std::min(kMaxMs, nominal_ms_ * 2);
  const uint64_t half = d / 2;
  return half + random % (d - half + 1);
}

std::vector<std::string> CompletionCandidates(std::string_view word, size_t word_start,
                                              const std::vector<std::string>& commands,
                                              const std::vector<std::string>& nicks) {
  std::vector<std::string> out;
  const bool command = word_start == 0 && !word.empty() && word.front() == '/';
  // A nick that starts the line is someone spoken to: "bob:", as irssi and WeeChat complete it
  // (the editor adds the space).
  const std::string_view address = word_start == 0 && !command ? ":" : "";
  for (const std::string& c : command ? commands : nicks) {
    if (c.size() >= word.size() && std::string_view(c).substr(0, word.size()) == word) {
      out.push_back(Cat(c, address));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> CompletionCandidates(std::string_view word, size_t word_start,
                                              std::string_view line,
                                              const std::vector<std::string>& commands,
                                              const std::vector<std::string>& nicks,
                                              const std::vector<std::string>& rooms) {
  // The command the word is the argument of: the line's first word, with only spaces after it.
  std::string command;
  if (word_start <= line.size()) {
    const std::string_view before = line.substr(0, word_start);
    const size_t end = before.find(' ');
    if (end != std::string_view::npos &&
        before.find_first_not_of(' ', end) == std::string_view::npos) {
      command = std::string(before.substr(0, end));
      absl::AsciiStrToLower(&command);
    }
  }
  const bool room_argument = command == "/join" || command == "/part" || command == "/switch";
  if (!room_argument && !word.starts_with('#')) {
    return CompletionCandidates(word, word_start, commands, nicks);
  }
  const std::string prefix = word.starts_with('#') ? std::string(word) : Cat("#", word);
  std::vector<std::string> out;
  for (const std::string& room : rooms) {
    if (room.starts_with(prefix)) {
      out.push_back(room);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace securechat
