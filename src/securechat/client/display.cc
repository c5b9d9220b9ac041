#include "securechat/client/display.h"

#include <wchar.h>

#include <algorithm>
#include <array>
#include <utility>

#include "securechat/base/cat.h"
#include "securechat/wire/text.h"

namespace securechat {
namespace {

// SGR sequences the formatter writes; nothing else it prints is a terminal sequence.
constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kNoticeMark = "\x1b[36m";     // cyan -!-
constexpr std::string_view kErrorMark = "\x1b[1;31m";    // bold red !!
constexpr std::string_view kPrivateMark = "\x1b[1;35m";  // bold magenta *nick* and its text
constexpr std::string_view kMentionText = "\x1b[1;33m";  // bold yellow: a line naming us
constexpr std::string_view kOwnNick = "\x1b[1m";         // bold: our own nick on our lines
constexpr char kBell = '\a';

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Foreground colours for nicks: the six normal and six bright ones, without black and white.
constexpr std::array<int, 12> kNickColors = {31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96};

bool IsWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Sgr(int code) { return Cat("\x1b[", code, "m"); }

std::string TwoDigits(int n) { return n < 10 ? Cat("0", n) : Cat(n); }

// WordColumns counts the columns of `text` from byte `from` to the next space or the end.
size_t WordColumns(std::string_view text, size_t from) {
  size_t n = 0;
  for (size_t pos = from; pos < text.size();) {
    const uint32_t cp = DecodeUtf8(text, &pos);
    if (cp == ' ') {
      break;
    }
    n += cp == kInvalidCodePoint ? 1 : Formatter::Columns(cp);
  }
  return n;
}

// KindForm is the line as its kind shows it, without the history mark and the room.
std::string KindForm(const DisplayLine& line) {
  switch (line.kind) {
    case DisplayLine::Kind::kChat:
    case DisplayLine::Kind::kSentChat:
      return Cat("<", line.from, "> ", line.text);
    case DisplayLine::Kind::kPrivate:
      return Cat("*", line.from, "* ", line.text);
    case DisplayLine::Kind::kSentPrivate:
      return Cat("-> *", line.from, "* ", line.text);
    case DisplayLine::Kind::kAction:
      return Cat("* ", line.from, " ", line.text);
    case DisplayLine::Kind::kNotice:
      return Cat("-!- ", line.text);
    case DisplayLine::Kind::kError:
      return Cat("!! ", line.text);
  }
  return line.text;
}

// PlainForm is PlainLine without the history mark.
std::string PlainForm(const DisplayLine& line) {
  return line.room.empty() ? KindForm(line) : Cat(line.room, " ", KindForm(line));
}

}  // namespace

std::string PlainLine(const DisplayLine& line) {
  return line.history ? Cat(kHistoryMark, PlainForm(line)) : PlainForm(line);
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

size_t Formatter::Columns(uint32_t cp) {
  if (cp >= 0x20 && cp < 0x7F) {
    return 1;
  }
  return wcwidth(static_cast<wchar_t>(cp)) == 0 ? 0 : 2;
}

std::vector<Formatter::Run> Formatter::Runs(const DisplayLine& line, size_t* text_column) const {
  const bool color = options_.color;
  std::vector<Run> runs;
  if (options_.timestamps) {
    const uint64_t ms = line.time_ms != 0 ? line.time_ms : wall_clock_();
    const HourMinute hm = local_time_(ms);
    std::string date;
    if (line.history && hm.month >= 1 && hm.month <= 12) {
      // A line said before we came may be days old: say which day, unless it is today.
      const HourMinute today = local_time_(wall_clock_());
      if (hm.year != today.year || hm.month != today.month || hm.day != today.day) {
        date = Cat(kMonths[hm.month - 1], " ", TwoDigits(hm.day), " ");
      }
    }
    runs.push_back({color ? std::string(kDim) : "",
                    Cat("[", date, TwoDigits(hm.hour), ":", TwoDigits(hm.minute), "]")});
    runs.push_back({"", " "});
  }
  if (line.history && !color) {
    runs.push_back({"", std::string(kHistoryMark)});
  }
  auto style = [color](std::string_view sgr) { return color ? std::string(sgr) : ""; };
  if (!line.room.empty()) {
    runs.push_back({"", Cat(line.room, " ")});
  }
  switch (line.kind) {
    case DisplayLine::Kind::kChat:
      runs.push_back({"", "<"});
      runs.push_back({color ? Sgr(NickColor(line.from)) : "", line.from});
      runs.push_back({"", "> "});
      runs.push_back({line.mention ? style(kMentionText) : "", line.text});
      break;
    case DisplayLine::Kind::kSentChat:
      // Our own nick in bold, as irssi and WeeChat set it apart; never a mention or a bell.
      runs.push_back({"", "<"});
      runs.push_back({style(kOwnNick), line.from});
      runs.push_back({"", "> "});
      runs.push_back({"", line.text});
      break;
    case DisplayLine::Kind::kPrivate:
      runs.push_back({style(kPrivateMark), Cat("*", line.from, "* ")});
      runs.push_back({style(kPrivateMark), line.text});
      break;
    case DisplayLine::Kind::kSentPrivate:
      runs.push_back({style(kPrivateMark), Cat("-> *", line.from, "* ")});
      runs.push_back({"", line.text});
      break;
    case DisplayLine::Kind::kAction:
      runs.push_back({"", "* "});
      runs.push_back({color ? Sgr(NickColor(line.from)) : "", line.from});
      runs.push_back({"", " "});
      runs.push_back({line.mention ? style(kMentionText) : "", line.text});
      break;
    case DisplayLine::Kind::kNotice:
      runs.push_back({style(kNoticeMark), "-!-"});
      runs.push_back({"", " "});
      runs.push_back({"", line.text});
      break;
    case DisplayLine::Kind::kError:
      runs.push_back({style(kErrorMark), "!!"});
      runs.push_back({"", " "});
      runs.push_back({"", line.text});
      break;
  }
  if (line.history && color) {
    // Faint from end to end: nick colours and highlights are for the lines said now.
    for (Run& run : runs) {
      run.style = std::string(kDim);
    }
  }
  // Everything before the message text is ASCII: one column a byte.
  *text_column = 0;
  for (size_t i = 0; i + 1 < runs.size(); ++i) {
    *text_column += runs[i].text.size();
  }
  return runs;
}

std::string Formatter::Format(const DisplayLine& line) const { return FormatRows(line, 0).front(); }

std::vector<std::string> Formatter::FormatRows(const DisplayLine& line, size_t columns) const {
  size_t text_column = 0;
  const std::vector<Run> runs = Runs(line, &text_column);
  const bool wrap = columns >= kMinColumns;
  // Continuation rows start this many spaces in; at least one column and at least two (a
  // wide character) stay for the text.
  const size_t indent = std::min(text_column, columns / 2);
  std::vector<std::string> rows(1);
  std::string_view style;  // the style in force at the end of rows.back()
  size_t column = 0;
  // Where the current row could be broken: just after its last space in the message text.
  size_t break_at = std::string::npos;
  size_t break_column = 0;
  for (const Run& run : runs) {
    if (run.style != style) {
      if (!style.empty()) {
        rows.back() += kReset;
      }
      rows.back() += run.style;
      style = run.style;
    }
    if (!wrap) {
      rows.back() += run.text;
      continue;
    }
    const bool is_text = &run == &runs.back();
    for (size_t pos = 0; pos < run.text.size();) {
      const size_t start = pos;
      const uint32_t cp = DecodeUtf8(run.text, &pos);
      // Escaped text is valid UTF-8; a stray byte would show as one replacement character.
      const size_t width = cp == kInvalidCodePoint ? 1 : Columns(cp);
      if (column + width > columns) {
        // Break after the last space if the word across the edge fits on the next row, else
        // here.
        std::string tail;
        if (break_at != std::string::npos &&
            indent + column - break_column + WordColumns(run.text, start) <= columns) {
          tail = rows.back().substr(break_at);
          rows.back().resize(break_at);
          column = indent + column - break_column;
        } else {
          column = indent;
        }
        if (!style.empty()) {
          rows.back() += kReset;
        }
        rows.push_back(Cat(std::string(indent, ' '), style, tail));
        break_at = std::string::npos;
      }
      rows.back().append(run.text, start, pos - start);
      column += width;
      if (is_text && cp == ' ') {
        break_at = rows.back().size();
        break_column = column;
      }
    }
  }
  if (!style.empty()) {
    rows.back() += kReset;
  }
  // A history line never rings: it was said before we came.
  const bool highlighted =
      !line.history && (line.kind == DisplayLine::Kind::kPrivate ||
                        (line.mention && (line.kind == DisplayLine::Kind::kChat ||
                                          line.kind == DisplayLine::Kind::kAction)));
  if (options_.bell && highlighted) {
    rows.back().push_back(kBell);
  }
  return rows;
}

}  // namespace securechat
