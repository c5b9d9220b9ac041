// What the client shows, as structured lines, and the two ways of printing them: the plain,
// scriptable form (pipes and files) and the formatted form for a terminal (timestamps, a colour
// per nick, highlighted private messages and mentions, an optional bell). No system calls:
// the clocks come in as functions.
#ifndef SECURECHAT_CLIENT_DISPLAY_H_
#define SECURECHAT_CLIENT_DISPLAY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace securechat {

// DisplayLine is one line for the user. `from` and `text` are already escaped for display
// (EscapeForDisplay): a formatter may add its own terminal sequences around them but never
// needs to look inside.
struct DisplayLine {
  enum class Kind {
    kChat,         // <from> text: said to the room
    kSentChat,     // <from> text: a line we said (`from` holds our nick), shown once sent
    kPrivate,      // *from* text: a whisper to us
    kSentPrivate,  // -> *to* text: a whisper we sent (`from` holds the recipient)
    kAction,       // * from text: an action line (/me)
    kNotice,       // -!- text: joins, leaves, renames, client notes
    kError,        // !! text: the server's errors and the client's refusals
  };
  Kind kind = Kind::kNotice;
  std::string from;
  std::string text;
  // CHAT and ACTION: the server's time (ms since the Unix epoch); 0: not given.
  uint64_t time_ms = 0;
  bool mention = false;  // kChat and kAction: the text names our own nick
  // kChat and kAction: a line from the server's history, said before we joined (PROTOCOL.md
  // 6.11), shown apart from the lines said now and never a mention.
  bool history = false;
  // kChat, kSentChat and kAction: the room the line was said in (PROTOCOL.md 6.13), escaped,
  // shown before the line; empty: not shown. The session names the room only while more than
  // one room is joined, so that a client in #lobby alone prints what it always printed.
  std::string room;
};

// kHistoryMark starts a history line wherever it is shown without colour.
inline constexpr std::string_view kHistoryMark = "(history) ";

// PlainLine returns the line as the client has always printed it: "<nick> text" (said by
// anyone, ourselves included), "*nick* text", "-> *nick* text" (a whisper sent), "* nick text"
// (an action), "-!- text" or "!! text"; a history line starts with kHistoryMark, so that a
// script can tell it from a line said now. A line with a room starts with it: "#dev <nick>
// text".
std::string PlainLine(const DisplayLine& line);

// MentionsNick is true if `text` contains `nick` as a whole word (ASCII case ignored). A word
// boundary is the start or end of the text or any byte that is not a letter, digit or '_'.
bool MentionsNick(std::string_view text, std::string_view nick);

// UseColor decides whether the terminal formatter colours: the --color flag is set, stdout is
// a terminal and NO_COLOR is unset or empty (https://no-color.org). `no_color_env` is the
// value of NO_COLOR, or nullptr when it is unset.
bool UseColor(bool color_flag, bool stdout_is_terminal, const char* no_color_env);

// HourMinute is a local time of day, with its date for the lines that need it (history lines
// from another day).
struct HourMinute {
  int hour = 0;
  int minute = 0;
  int year = 0;
  int month = 0;  // 1 to 12; 0: unknown
  int day = 0;    // 1 to 31
};

class Formatter {
 public:
  struct Options {
    bool color = false;
    bool timestamps = true;
    bool bell = false;  // append BEL to private messages and mentions
  };
  // LocalTime turns Unix milliseconds into the local hour and minute, and the date.
  using LocalTime = std::function<HourMinute(uint64_t unix_ms)>;
  // WallClock is the current Unix time in milliseconds, for lines without a time of their own.
  using WallClock = std::function<uint64_t()>;

  // The narrowest terminal FormatRows lays out; at fewer columns it returns one row.
  static constexpr size_t kMinColumns = 4;

  Formatter(Options options, LocalTime local_time, WallClock wall_clock);

  // Format returns `line` as one row, without a newline: an "[HH:MM] " prefix when
  // timestamps are on, then the plain form, with SGR colour sequences around its parts when
  // colour is on, and a BEL at the end of private messages and mentions when the bell is on.
  // Without colour, timestamps and bell it is PlainLine. A history line is faint (SGR 2) from
  // end to end with colour, and starts with kHistoryMark without; its time is "[Mon DD HH:MM]"
  // when it is not from today; it never rings.
  std::string Format(const DisplayLine& line) const;

  // FormatRows lays out Format's row for a terminal `columns` wide, so that the terminal never
  // wraps it: each row takes at most `columns` columns (wide characters count two, combining
  // marks none), and every row after the first starts with spaces up to the text column
  // (after "[HH:MM] <nick> ", at most half the width), which no line of the client ever starts
  // with. Rows break after a space of the message text when the next word fits on the next
  // row, elsewhere anywhere. Each row ends its own colours and starts them again. A terminal
  // narrower than kMinColumns (or 0: width unknown) gets the one row of Format. No newlines in the
  // rows.
  std::vector<std::string> FormatRows(const DisplayLine& line, size_t columns) const;

  // Columns returns how many terminal columns the code point `cp` may take, never fewer than
  // any terminal draws: 1 for printable ASCII, 0 for what wcwidth() in the current LC_CTYPE
  // locale (the client sets a UTF-8 one) calls zero-width (combining marks), and 2 for
  // everything else. Terminals disagree about the rest: East Asian Ambiguous characters
  // (é, Greek, Cyrillic, box drawing) are wide in a terminal set up for CJK, Private Use
  // glyphs and emoji are wide in many. Counting too many only shortens a row; counting one
  // too few would let the terminal wrap the row itself, and the overflow, attacker text,
  // would start the next row at column 0.
  static size_t Columns(uint32_t cp);

  // NickColor returns the SGR foreground code (31..36, 91..96) of `nick`: the same nick always
  // gets the same colour, in every client and every session.
  static int NickColor(std::string_view nick);

 private:
  // A piece of a line in one style (an SGR sequence; empty: the terminal's default).
  struct Run {
    std::string style;
    std::string text;
  };
  // Runs returns the pieces of `line` in order and sets *text_column to the columns before
  // the message text.
  std::vector<Run> Runs(const DisplayLine& line, size_t* text_column) const;

  Options options_;
  LocalTime local_time_;
  WallClock wall_clock_;
};

}  // namespace securechat

#endif  // SECURECHAT_CLIENT_DISPLAY_H_
