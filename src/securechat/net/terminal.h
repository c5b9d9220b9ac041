// Terminal helpers for the programs: asking for a passphrase without echo.
#ifndef SECURECHAT_NET_TERMINAL_H_
#define SECURECHAT_NET_TERMINAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "securechat/crypto/keys.h"

namespace securechat::net {

// AskPassphrase prints `prompt` on the controlling terminal (/dev/tty) and reads a line with
// echo off. Fails if there is no terminal, or if the line is empty or longer than
// kMaxPassphraseLen (rather than cutting it, which would encrypt with another passphrase than
// the one typed).
absl::StatusOr<Passphrase> AskPassphrase(const std::string& prompt);

// HaveTerminal is true when the process has a controlling terminal to ask on.
bool HaveTerminal();

}  // namespace securechat::net

#endif  // SECURECHAT_NET_TERMINAL_H_
