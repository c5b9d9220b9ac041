#include "securechat/client/display.h"

#include <array>
#include <utility>

#include "securechat/base/cat.h"

namespace securechat {
namespace {

// SGR sequences the formatter writes; nothing else it prints is a terminal sequence.
constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kNoticeMark = "\x1b[36m";     // cyan -!-
constexpr std::string_view kErrorMark = "\x1b[1;31m";    // bold red !!
constexpr std::string_view kPrivateMark = "\x1b[1;35m";  // bold magenta *nick* and its text
constexpr std::string_view kMentionText = "\x1b[1;33m";  // bold yellow: a line naming us
constexpr char kBell = '\a';

// Foreground colours for nicks: the six normal and six bright ones, without black and white.
constexpr std::array<int, 12> kNickColors = {31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96};

bool IsWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Sgr(int code) { return Cat("\x1b[", code, "m"); }

std::string TwoDigits(int n) { return n < 10 ? Cat("0", n) : Cat(n); }

}  // namespace

std::string PlainLine(const DisplayLine& line) {
  switch (line.kind) {
    case DisplayLine::Kind::kChat:
      return Cat("<", line.from, "> ", line.text);
    case DisplayLine::Kind::kPrivate:
      return Cat("*", line.from, "* ", line.text);
    case DisplayLine::Kind::kNotice:
      return Cat("-!- ", line.text);
    case DisplayLine::Kind::kError:
      return Cat("!! ", line.text);
  }
  return line.text;
}

bool MentionsNick(std::string_view text, std::string_view nick) {
  if (nick.empty() || text.size() < nick.size()) {
    return false;
  }
  for (size_t at = 0; at + nick.size() <= text.size(); ++at) {
    if (at > 0 && IsWordByte(text[at - 1])) {
      continue;
    }
    const size_t end = at + nick.size();
    if (end < text.size() && IsWordByte(text[end])) {
      continue;
    }
    bool same = true;
    for (size_t i = 0; i < nick.size() && same; ++i) {
      same = AsciiLower(text[at + i]) == AsciiLower(nick[i]);
    }
    if (same) {
      return true;
    }
  }
  return false;
}

bool UseColor(bool color_flag, bool stdout_is_terminal, const char* no_color_env) {
  const bool no_color = no_color_env != nullptr && no_color_env[0] != '\0';
  return color_flag && stdout_is_terminal && !no_color;
}

Formatter::Formatter(Options options, LocalTime local_time, WallClock wall_clock)
    : options_(options), local_time_(std::move(local_time)), wall_clock_(std::move(wall_clock)) {}

int Formatter::NickColor(std::string_view nick) {
  // FNV-1a: small, stable across runs and machines, and good enough to spread nicks.
  uint32_t h = 2166136261u;
  for (char c : nick) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return kNickColors[h % kNickColors.size()];
}

std::string Formatter::Format(const DisplayLine& line) const {
  const bool color = options_.color;
  std::string out;
  if (options_.timestamps) {
    const uint64_t ms = line.time_ms != 0 ? line.time_ms : wall_clock_();
    const HourMinute hm = local_time_(ms);
    const std::string stamp = Cat("[", TwoDigits(hm.hour), ":", TwoDigits(hm.minute), "]");
    out = color ? Cat(kDim, stamp, kReset, " ") : Cat(stamp, " ");
  }
  const bool highlighted = line.kind == DisplayLine::Kind::kPrivate ||
                           (line.kind == DisplayLine::Kind::kChat && line.mention);
  if (!color) {
    out += PlainLine(line);
  } else {
    switch (line.kind) {
      case DisplayLine::Kind::kChat:
        out += Cat("<", Sgr(NickColor(line.from)), line.from, kReset, "> ");
        out += line.mention ? Cat(kMentionText, line.text, kReset) : line.text;
        break;
      case DisplayLine::Kind::kPrivate:
        out += Cat(kPrivateMark, "*", line.from, "* ", line.text, kReset);
        break;
      case DisplayLine::Kind::kNotice:
        out += Cat(kNoticeMark, "-!-", kReset, " ", line.text);
        break;
      case DisplayLine::Kind::kError:
        out += Cat(kErrorMark, "!!", kReset, " ", line.text);
        break;
    }
  }
  if (options_.bell && highlighted) {
    out.push_back(kBell);
  }
  return out;
}

}  // namespace securechat
