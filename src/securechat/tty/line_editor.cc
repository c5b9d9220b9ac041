#include "securechat/tty/line_editor.h"

// libedit's readline compatibility header wants <stdio.h> first.
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>
// clang-format off
#include <editline/readline.h>
// clang-format on

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iterator>
#include <string>
#include <utility>

#include "securechat/base/cat.h"

namespace securechat::tty {
namespace {

// The one LineEditor (libedit's readline interface is global state).
LineEditor* g_editor = nullptr;

// The terminal's settings before libedit changed them, restored by a fatal signal.
termios g_saved_termios;
bool g_have_saved_termios = false;
volatile sig_atomic_t g_resized = 0;
volatile sig_atomic_t g_continued = 0;

constexpr int kCtrlN = 'N' & 0x1f;
constexpr int kCtrlP = 'P' & 0x1f;

// How many bytes one Read hands libedit at most before going back to the select() loop.
constexpr int kMaxBytesPerRead = 64 * 1024;
constexpr int kHistoryLines = 500;
constexpr int kFatalSignals[] = {SIGQUIT, SIGINT, SIGTERM, SIGHUP};
// How many of kFatalSignals the editor catches: all, or only SIGQUIT when the program catches
// the others itself (LineEditorOptions::catch_stop_signals).
size_t g_fatal_signal_count = 0;

// OnFatalSignal puts the terminal back as it was (tcsetattr is async-signal-safe), then dies of
// the same signal, as it would have without us.
void OnFatalSignal(int sig) {
  if (g_have_saved_termios) {
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  }
  static const char kNewline[] = "\r\n";
  [[maybe_unused]] ssize_t w = write(STDOUT_FILENO, kNewline, sizeof(kNewline) - 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

void OnResize(int) { g_resized = 1; }

// OnStop (Ctrl-Z) gives the shell back the terminal as it was, stops, and on `fg` puts
// libedit's settings back; the loop then redraws the prompt (RedrawAfterSignals). Only
// async-signal-safe calls.
void OnStop(int) {
  const int saved_errno = errno;
  termios editing;
  const bool have_editing = tcgetattr(STDIN_FILENO, &editing) == 0;
  if (g_have_saved_termios) {
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  }
  signal(SIGTSTP, SIG_DFL);
  sigset_t tstp;
  sigemptyset(&tstp);
  sigaddset(&tstp, SIGTSTP);
  sigprocmask(SIG_UNBLOCK, &tstp, nullptr);
  raise(SIGTSTP);  // stopped here until SIGCONT
  signal(SIGTSTP, OnStop);
  if (have_editing) {
    tcsetattr(STDIN_FILENO, TCSANOW, &editing);
  }
  g_continued = 1;
  errno = saved_errno;
}

// Columns counts the terminal columns of UTF-8 text as libedit lays it out, by wcwidth() in
// the UTF-8 locale Start sets: wide characters two, combining marks none, a control character
// two (libedit shows it as ^X), a byte that is no character one. A miscount misplaces a redraw
// or the erasing of an entered line by a row.
size_t Columns(std::string_view s) {
  size_t n = 0;
  mbstate_t state{};
  for (size_t i = 0; i < s.size();) {
    wchar_t wc = 0;
    const size_t len = mbrtowc(&wc, s.data() + i, s.size() - i, &state);
    if (len == 0 || len > s.size() - i) {  // NUL, or (size_t)-1 or -2: no character
      state = mbstate_t{};
      ++n;
      ++i;
      continue;
    }
    const int width = wcwidth(wc);
    n += width < 0 ? 2 : static_cast<size_t>(width);
    i += len;
  }
  return n;
}

// ScreenColumns is the terminal's width as libedit knows it (0: unknown), after taking in a
// resize that happened since the last call.
int ScreenColumns() {
  if (g_resized) {
    g_resized = 0;
    rl_resize_terminal();
  }
  int rows = 0;
  int cols = 0;
  rl_get_screen_size(&rows, &cols);
  return cols;
}

void WriteOut(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

LineEditor::LineEditor(std::string prompt, Completer completer)
    : fd_(STDIN_FILENO), prompt_(std::move(prompt)), completer_(std::move(completer)) {}

std::unique_ptr<LineEditor> LineEditor::Start(std::string prompt, Completer completer,
                                              const LineEditorOptions& options) {
  if (g_editor != nullptr) {
    return nullptr;
  }
  // libedit decodes keystrokes, and counts the columns they take, by the locale's character
  // encoding. A program starts in the "C" locale, where every non-ASCII character typed is
  // dropped; chat text is UTF-8, so a locale that is not UTF-8 falls back to C.UTF-8.
  if (setlocale(LC_CTYPE, "") == nullptr || std::strcmp(nl_langinfo(CODESET), "UTF-8") != 0) {
    setlocale(LC_CTYPE, "C.UTF-8");
  }
  std::unique_ptr<LineEditor> editor(new LineEditor(std::move(prompt), std::move(completer)));
  g_editor = editor.get();
  if (tcgetattr(STDIN_FILENO, &g_saved_termios) == 0) {
    g_have_saved_termios = true;
  }
  // libedit catches signals only while it is inside a call; between calls, while we wait in
  // select(), these handlers give the terminal back before the process dies.
  rl_catch_signals = 0;
  rl_catch_sigwinch = 0;
  g_fatal_signal_count = options.catch_stop_signals ? std::size(kFatalSignals) : 1;
  for (size_t i = 0; i < g_fatal_signal_count; ++i) {
    signal(kFatalSignals[i], OnFatalSignal);
  }
  signal(SIGWINCH, OnResize);
  signal(SIGTSTP, OnStop);
  // For ~/.editrc. libedit keeps the pointer: the string must live as long as the process.
  static std::string program;
  program = options.program;
  rl_readline_name = program.c_str();
  rl_attempted_completion_function = CompleteThunk;
  stifle_history(kHistoryLines);
  // Ctrl-R searches the input history backwards as the typing goes, as in bash (libedit's
  // readline emulation binds it too; said here so that it does not depend on that).
  rl_parse_and_bind("bind ^R em-inc-search-prev");
  rl_callback_handler_install(editor->prompt_.c_str(), OnLineThunk);
  return editor;
}

LineEditor::~LineEditor() {
  rl_callback_handler_remove();
  WriteOut(status_shown_ ? "\r\x1b[A\x1b[J" : "\r\x1b[J");
  if (g_have_saved_termios) {
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  }
  for (size_t i = 0; i < g_fatal_signal_count; ++i) {
    signal(kFatalSignals[i], SIG_DFL);
  }
  signal(SIGWINCH, SIG_DFL);
  signal(SIGTSTP, SIG_DFL);
  g_editor = nullptr;
}

void LineEditor::OnLineThunk(char* line) {
  LineEditor* self = g_editor;
  if (line == nullptr) {
    self->eof_ = true;
    return;
  }
  self->entered_.emplace_back(line);
  std::free(line);
  self->EraseEntered(self->entered_.back());
  self->DrawStatus();
  // libedit leaves its unbuffered (callback) mode when it hands over a line; installing the
  // handler again resumes it and shows a fresh prompt.
  rl_callback_handler_install(self->prompt_.c_str(), OnLineThunk);
}

char** LineEditor::CompleteThunk(const char* text, int start, int) {
  LineEditor* self = g_editor;
  rl_attempted_completion_over = 1;  // never fall back to file names
  self->matches_ = self->completer_(text, start < 0 ? 0 : static_cast<size_t>(start));
  if (self->matches_.empty()) {
    return nullptr;
  }
  return rl_completion_matches(text, NextMatchThunk);
}

char* LineEditor::NextMatchThunk(const char*, int state) {
  static size_t next = 0;
  LineEditor* self = g_editor;
  if (state == 0) {
    next = 0;
  }
  if (next >= self->matches_.size()) {
    return nullptr;
  }
  return strdup(self->matches_[next++].c_str());
}

int LineEditor::HotKeyThunk(int, int key) {
  // Only noted here, inside libedit: RunHotKeys hands it on once libedit has returned.
  LineEditor* self = g_editor;
  if (key >= '1' && key <= '9') {
    self->hot_keys_.push_back(static_cast<HotKey>(key - '0'));
  } else if (key == kCtrlN || key == kCtrlP) {
    self->hot_keys_.push_back(key == kCtrlN ? HotKey::kNext : HotKey::kPrevious);
  }
  return 0;
}

void LineEditor::RunHotKeys() {
  std::vector<HotKey> keys = std::move(hot_keys_);
  hot_keys_.clear();
  for (HotKey key : keys) {
    on_hot_key_(key);
  }
}

void LineEditor::SetHotKeys(std::function<void(HotKey)> on_hot_key) {
  if (on_hot_key_ || !on_hot_key) {
    return;
  }
  on_hot_key_ = std::move(on_hot_key);
  // rl_add_defun binds the key it is given, the digit itself for Alt-n, and hands that key to
  // the function whatever sequence ran it: the digit is bound back to itself, its Alt
  // sequence to the function. libedit keeps the names' pointers: literals.
  static constexpr const char* kAltNames[] = {
      "securechat-alt-1", "securechat-alt-2", "securechat-alt-3",
      "securechat-alt-4", "securechat-alt-5", "securechat-alt-6",
      "securechat-alt-7", "securechat-alt-8", "securechat-alt-9"};
  for (int n = 1; n <= 9; ++n) {
    rl_add_defun(kAltNames[n - 1], HotKeyThunk, '0' + n);
    rl_parse_and_bind(Cat("bind ", n, " ed-insert").c_str());
    // Two backslashes in the text: libedit's tokenizer takes one, and its key parser reads
    // the \e left as Escape (with one, the tokenizer would leave "e1" and bind the letter).
    rl_parse_and_bind(Cat("bind \\\\e", n, " ", kAltNames[n - 1]).c_str());
  }
  rl_add_defun("securechat-next", HotKeyThunk, kCtrlN);
  rl_add_defun("securechat-previous", HotKeyThunk, kCtrlP);
  // Until SetCycleKeys(true): the history, as before.
  rl_parse_and_bind("bind ^N ed-next-history");
  rl_parse_and_bind("bind ^P ed-prev-history");
}

void LineEditor::SetCycleKeys(bool on) {
  if (!on_hot_key_ || on == cycle_keys_) {
    return;
  }
  cycle_keys_ = on;
  rl_parse_and_bind(on ? "bind ^N securechat-next" : "bind ^N ed-next-history");
  rl_parse_and_bind(on ? "bind ^P securechat-previous" : "bind ^P ed-prev-history");
}

std::string_view LineEditor::TypedLine() const {
  if (rl_line_buffer == nullptr) {
    return {};
  }
  return std::string_view(rl_line_buffer, std::min(static_cast<size_t>(std::max(rl_end, 0)),
                                                   std::strlen(rl_line_buffer)));
}

bool LineEditor::Read(const OnLine& on_line) {
  if (asking()) {
    // One read: the keys pressed since the last one, for the question, not for libedit.
    char keys[256];
    const ssize_t n = read(fd_, keys, sizeof(keys));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      return true;
    }
    if (n <= 0) {
      eof_ = true;
      fd_ = -1;
      return false;
    }
    // A copy: the answer may end the question (EndAsk), which drops on_keys_.
    const OnKeys on_keys = on_keys_;
    on_keys(std::string_view(keys, static_cast<size_t>(n)));
    return true;
  }
  for (int i = 0; i < kMaxBytesPerRead && !eof_; ++i) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, 0);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      break;
    }
    if ((p.revents & POLLIN) == 0) {
      eof_ = true;  // hung up or closed
      break;
    }
    rl_callback_read_char();
    if (!hot_keys_.empty()) {
      RunHotKeys();
    }
  }
  std::vector<std::string> lines = std::move(entered_);
  entered_.clear();
  for (const std::string& line : lines) {
    on_line(line);
  }
  if (eof_) {
    fd_ = -1;
    return false;
  }
  return true;
}

// ClearTyped moves the cursor to the start of the prompt's first row (or of the status row
// above it) and clears from there to the end of the screen: the status, the prompt and the
// typed text (or the question) are gone, and the rows above are kept.
void LineEditor::ClearTyped() {
  const int cols = ScreenColumns();
  // How many rows the prompt and the text before the cursor take above the cursor's row.
  size_t typed = 0;
  if (rl_line_buffer != nullptr && rl_point > 0) {
    typed = std::min(static_cast<size_t>(rl_point), std::strlen(rl_line_buffer));
  }
  const size_t before =
      asking()
          ? Columns(question_)
          : Columns(prompt_) + (typed > 0 ? Columns(std::string_view(rl_line_buffer, typed)) : 0);
  size_t up = cols > 0 ? before / static_cast<size_t>(cols) : 0;
  if (status_shown_) {
    ++up;
    status_shown_ = false;
  }
  std::string out = "\r";
  if (up > 0) {
    out += Cat("\x1b[", up, "A");
  }
  out += "\x1b[J";
  WriteOut(out);
}

// EraseEntered: libedit ends an entered line by moving the cursor under its last row (the
// prompt and the line, laid out from the prompt's first column), so the line takes the rows
// from there up.
void LineEditor::EraseEntered(std::string_view line) {
  const int cols = ScreenColumns();
  const size_t columns = Columns(prompt_) + Columns(line);
  const size_t rows =
      (cols > 0 ? columns / static_cast<size_t>(cols) + 1 : 1) + (status_shown_ ? 1 : 0);
  status_shown_ = false;
  WriteOut(Cat("\r\x1b[", rows, "A\x1b[J"));
}

void LineEditor::DrawStatus() {
  if (status_.empty()) {
    return;
  }
  // One column short of the width: a row that reaches the last column would wrap on some
  // terminals and put the prompt a row lower than ClearTyped counts.
  const int cols = ScreenColumns();
  std::string_view row = status_;
  if (cols > 1) {
    while (Columns(row) > static_cast<size_t>(cols - 1)) {
      // The last character, whole: its continuation bytes, then its first byte.
      while (!row.empty() && (static_cast<unsigned char>(row.back()) & 0xC0) == 0x80) {
        row.remove_suffix(1);
      }
      if (!row.empty()) {
        row.remove_suffix(1);
      }
    }
  }
  WriteOut(Cat(row, "\r\n"));
  status_shown_ = true;
}

void LineEditor::SetStatus(std::string row) {
  if (row == status_) {
    return;
  }
  ClearTyped();
  status_ = std::move(row);
  Redraw();
}

void LineEditor::Redraw() {
  DrawStatus();
  if (asking()) {
    WriteOut(question_);
  } else {
    rl_forced_update_display();  // the prompt and the typed text again, cursor in place
  }
}

void LineEditor::RedrawAfterSignals() {
  if (g_continued) {
    g_continued = 0;
    WriteOut("\r\n");
    status_shown_ = false;  // the shell wrote over the screen meanwhile
    Redraw();
  }
}

void LineEditor::PrintAbove(const std::vector<std::string>& rows) {
  ClearTyped();
  std::string out;
  for (const std::string& row : rows) {
    out += Cat(row, "\r\n");
  }
  WriteOut(out);
  Redraw();
}

void LineEditor::SetPrompt(std::string prompt) {
  if (!asking()) {
    ClearTyped();
  }
  prompt_ = std::move(prompt);
  rl_set_prompt(prompt_.c_str());
  if (!asking()) {
    Redraw();
  }
}

void LineEditor::AskKey(std::string question, OnKeys on_keys) {
  ClearTyped();
  // What waits to be read was typed, or pasted, before the question was shown: it is no
  // answer. (libedit keeps what it has already read: the line being edited.)
  tcflush(fd_, TCIFLUSH);
  question_ = std::move(question);
  on_keys_ = std::move(on_keys);
  Redraw();
}

void LineEditor::EndAsk() {
  if (!asking()) {
    return;
  }
  ClearTyped();
  question_.clear();
  on_keys_ = nullptr;
  Redraw();
}

void LineEditor::AddHistory(const std::string& line) { add_history(line.c_str()); }

}  // namespace securechat::tty
