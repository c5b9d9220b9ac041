// The interactive client's terminal: line editing, history and completion through libedit's
// readline-compatible callback interface, driven by the client's own select() loop, and
// printing above the prompt without disturbing a half-typed line. Only chat-client links this
// layer; it and src/securechat/net are the only code that makes terminal system calls.
#ifndef SECURECHAT_TTY_LINE_EDITOR_H_
#define SECURECHAT_TTY_LINE_EDITOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/client/display.h"
#include "securechat/net/line_input.h"

namespace securechat::tty {

// A key the program takes for itself instead of editing with it (LineEditor::SetHotKeys).
enum class HotKey : uint8_t {
  kAlt1 = 1,  // Alt-1 to Alt-9 (Escape, then the digit): kAlt1 + n - 1 is Alt-n
  kAlt9 = 9,
  kNext,      // Ctrl-N, while SetCycleKeys(true)
  kPrevious,  // Ctrl-P, while SetCycleKeys(true)
};

struct LineEditorOptions {
  std::string program = "chat-client";  // the name ~/.editrc knows the program by
  // True: the editor catches SIGINT, SIGTERM and SIGHUP, to give the terminal back before the
  // process dies of them. False: the program catches them itself (chat-server stops cleanly on
  // SIGINT and SIGTERM, and re-reads its members file on SIGHUP) and destroys the editor
  // before it exits. SIGQUIT is the editor's either way.
  bool catch_stop_signals = true;
};

// LineEditor owns the terminal on stdin and stdout while it exists. libedit keeps global
// state, so there is at most one. A line the user enters is taken off the screen (prompt and
// all) when it is handed over: what it did is for the caller to show, as irssi shows a said
// line once, as a line of the chat, rather than leaving the prompt's echo.
class LineEditor : public net::LineInput {
 public:
  // OnKeys receives the bytes of one read of the terminal while a question is asked.
  using OnKeys = std::function<void(std::string_view keys)>;

  // Completer returns the candidates for `word`, which starts at byte `word_start` of the line.
  using Completer =
      std::function<std::vector<std::string>(std::string_view word, size_t word_start)>;

  // Start installs libedit's callback interface with `prompt` and shows the prompt. Returns
  // nullptr if a LineEditor already exists.
  static std::unique_ptr<LineEditor> Start(std::string prompt, Completer completer,
                                           const LineEditorOptions& options = {});
  // The destructor clears the prompt line and gives the terminal back in its old mode.
  ~LineEditor() override;
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  int fd() const override { return fd_; }
  // Read feeds every byte waiting on the terminal to libedit and passes on the lines the user
  // entered; while a question is asked (AskKey), it reads once and passes the bytes to the
  // question's OnKeys instead. Returns false at end of input: Ctrl-D on an empty line, or the
  // terminal hung up.
  bool Read(const OnLine& on_line) override;

  // AskKey shows `question` (one row, no terminal sequences) in place of the prompt and the
  // typed text, which libedit keeps as they were, and from now on hands every read of the
  // terminal to `on_keys`, raw, until EndAsk. Input that arrived before the question is
  // discarded first, so that keys typed ahead, or the rest of a paste, never answer it. A
  // second AskKey replaces the question.
  void AskKey(std::string question, OnKeys on_keys);
  // EndAsk takes the question off the screen and shows the prompt and the typed text again;
  // typed lines go to Read's OnLine again. Nothing if no question is asked.
  void EndAsk();
  bool asking() const { return on_keys_ != nullptr; }

  // PrintAbove prints `rows` (no newlines; they must hold no terminal sequences but the
  // caller's own formatting, and each must fit the terminal's width) one under the other
  // above the prompt, then redraws the prompt and whatever was typed so far with the cursor
  // where it was (or the question being asked).
  void PrintAbove(const std::vector<std::string>& rows);
  // RedrawAfterSignals shows the prompt and the typed text again if the process was stopped
  // (Ctrl-Z) and continued since the last call. Call it on every turn of the loop.
  void RedrawAfterSignals();
  // SetPrompt changes the prompt and redraws it.
  void SetPrompt(std::string prompt);
  // SetStatus shows `row` (no newlines, no terminal sequences) on a row of its own right above
  // the prompt, cut to the terminal's width, and redraws it in place when it changes; the
  // line being typed stays as it was, and lines printed above go above it. Empty: no status
  // row.
  void SetStatus(std::string row);
  // AddHistory adds `line` to the history that the arrow keys recall.
  void AddHistory(const std::string& line);
  // SetHotKeys hands Alt-1 to Alt-9 (and Ctrl-N and Ctrl-P while SetCycleKeys(true)) to
  // `on_hot_key`, from Read once libedit is done with the key, so that it may print and change
  // the prompt; the line being edited stays as it was. Without it every key keeps libedit's
  // meaning. Once only.
  void SetHotKeys(std::function<void(HotKey)> on_hot_key);
  // SetCycleKeys with `on` hands Ctrl-N and Ctrl-P to the hot key function; off (the default),
  // they keep libedit's meaning, the next and the previous line of the history. Nothing
  // without SetHotKeys.
  void SetCycleKeys(bool on);
  // TypedLine is the line being edited, as typed so far.
  std::string_view TypedLine() const;

 private:
  LineEditor(std::string prompt, Completer completer);
  static void OnLineThunk(char* line);
  static char** CompleteThunk(const char* text, int start, int end);
  static char* NextMatchThunk(const char* text, int state);
  static int HotKeyThunk(int count, int key);
  // RunHotKeys hands the hot keys pressed since the last call to on_hot_key_.
  void RunHotKeys();
  void ClearTyped();
  // Redraw shows the status row, if any, then the question being asked, or else the prompt
  // and the typed text.
  void Redraw();
  // DrawStatus writes the status row and moves to the start of the row under it, where the
  // prompt goes.
  void DrawStatus();
  // EraseEntered takes the line just entered off the screen; libedit has left the cursor at
  // the start of the row under it.
  void EraseEntered(std::string_view line);

  int fd_;
  std::string prompt_;
  Completer completer_;
  std::vector<std::string> entered_;  // lines libedit handed over during one Read
  std::vector<std::string> matches_;  // candidates of the completion in progress
  std::string question_;              // shown instead of the prompt while asking
  std::string status_;                // SetStatus's row
  bool status_shown_ = false;         // the status row is on the screen above the prompt
  OnKeys on_keys_;                    // set while a question is asked
  std::function<void(HotKey)> on_hot_key_;
  std::vector<HotKey> hot_keys_;  // pressed, not yet handed to on_hot_key_
  bool cycle_keys_ = false;
  bool eof_ = false;
};

}  // namespace securechat::tty

#endif  // SECURECHAT_TTY_LINE_EDITOR_H_
