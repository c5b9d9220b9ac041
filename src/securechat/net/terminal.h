// Terminal helpers for the programs: asking for a passphrase without echo, the width of a
// terminal, local time for stamps.
#ifndef SECURECHAT_NET_TERMINAL_H_
#define SECURECHAT_NET_TERMINAL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "securechat/client/display.h"
#include "securechat/crypto/keys.h"

namespace securechat::net {

// AskPassphrase prints `prompt` on the controlling terminal (/dev/tty) and reads a line with
// echo off. Fails if there is no terminal, or if the line is empty or longer than
// kMaxPassphraseLen (rather than cutting it, which would encrypt with another passphrase than
// the one typed). The line is read into a Secret, so the Passphrase is its only copy. With
// StopSignals installed, SIGINT or SIGTERM ends the prompt: the terminal is put back and it
// fails with Cancelled.
absl::StatusOr<Passphrase> AskPassphrase(const std::string& prompt);

// AskLine prints `prompt` on the controlling terminal (/dev/tty) and reads a line, echoed as
// it is typed, without its newline. Fails if there is no terminal, or if the line is longer
// than `max_len` (the rest of it is dropped). With StopSignals installed, SIGINT or SIGTERM
// ends the prompt and it fails with Cancelled.
absl::StatusOr<std::string> AskLine(std::string_view prompt, size_t max_len);

// HaveTerminal is true when the process has a controlling terminal to ask on.
bool HaveTerminal();

// IsTerminal is true if `fd` is a terminal.
bool IsTerminal(int fd);

// SameTerminal is true if `a` and `b` are both the same terminal (as stdout and stderr are
// when neither is redirected).
bool SameTerminal(int a, int b);

// TerminalColumns is the width of the terminal on `fd` in columns (TIOCGWINSZ, read anew on
// every call so that a resized window counts at once), or 0 if `fd` is not a terminal or does
// not say.
size_t TerminalColumns(int fd);

// LocalHourMinute is the hour and minute of `unix_ms` in the local time zone, with its date
// (00:00 and no date if the time cannot be converted).
HourMinute LocalHourMinute(uint64_t unix_ms);

// WallClockMs is the current Unix time in milliseconds.
uint64_t WallClockMs();

}  // namespace securechat::net

#endif  // SECURECHAT_NET_TERMINAL_H_
