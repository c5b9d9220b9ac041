#include "securechat/tty/line_editor.h"

// libedit's readline compatibility header wants <stdio.h> first.
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
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

// How many bytes one Read hands libedit at most before going back to the select() loop.
constexpr int kMaxBytesPerRead = 64 * 1024;
constexpr int kHistoryLines = 500;
constexpr int kFatalSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

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

// Columns counts the terminal columns of UTF-8 text, one per code point (wide characters are
// rare in a nick or a half-typed line; a miscount only misplaces one redraw).
size_t Columns(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  }
  return n;
}

void WriteOut(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

LineEditor::LineEditor(std::string prompt, Completer completer)
    : fd_(STDIN_FILENO), prompt_(std::move(prompt)), completer_(std::move(completer)) {}

std::unique_ptr<LineEditor> LineEditor::Start(std::string prompt, Completer completer) {
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
  for (int sig : kFatalSignals) {
    signal(sig, OnFatalSignal);
  }
  signal(SIGWINCH, OnResize);
  signal(SIGTSTP, OnStop);
  rl_readline_name = "chat-client";  // for ~/.editrc
  rl_attempted_completion_function = CompleteThunk;
  stifle_history(kHistoryLines);
  rl_callback_handler_install(editor->prompt_.c_str(), OnLineThunk);
  return editor;
}

LineEditor::~LineEditor() {
  rl_callback_handler_remove();
  WriteOut("\r\x1b[J");
  if (g_have_saved_termios) {
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  }
  for (int sig : kFatalSignals) {
    signal(sig, SIG_DFL);
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

bool LineEditor::Read(const OnLine& on_line) {
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

// ClearTyped moves the cursor to the start of the prompt's first row and clears from there to
// the end of the screen: the prompt and the typed text are gone, and the rows above are kept.
void LineEditor::ClearTyped() {
  if (g_resized) {
    g_resized = 0;
    rl_resize_terminal();
  }
  int rows = 0;
  int cols = 0;
  rl_get_screen_size(&rows, &cols);
  // How many rows the prompt and the text before the cursor take above the cursor's row.
  size_t typed = 0;
  if (rl_line_buffer != nullptr && rl_point > 0) {
    typed = std::min(static_cast<size_t>(rl_point), std::strlen(rl_line_buffer));
  }
  const size_t before =
      Columns(prompt_) + (typed > 0 ? Columns(std::string_view(rl_line_buffer, typed)) : 0);
  std::string out = "\r";
  if (cols > 0 && before >= static_cast<size_t>(cols)) {
    out += Cat("\x1b[", before / static_cast<size_t>(cols), "A");
  }
  out += "\x1b[J";
  WriteOut(out);
}

void LineEditor::RedrawAfterSignals() {
  if (g_continued) {
    g_continued = 0;
    WriteOut("\r\n");
    rl_forced_update_display();
  }
}

void LineEditor::PrintAbove(const std::vector<std::string>& rows) {
  ClearTyped();
  std::string out;
  for (const std::string& row : rows) {
    out += Cat(row, "\r\n");
  }
  WriteOut(out);
  rl_forced_update_display();  // the prompt and the typed text again, cursor in place
}

void LineEditor::SetPrompt(std::string prompt) {
  ClearTyped();
  prompt_ = std::move(prompt);
  rl_set_prompt(prompt_.c_str());
  rl_forced_update_display();
}

void LineEditor::AddHistory(const std::string& line) { add_history(line.c_str()); }

}  // namespace securechat::tty
