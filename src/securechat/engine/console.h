// The server console's commands: a line typed at the server's console is said to the room,
// unless it starts with `/`, which makes it a command for the operator (PROTOCOL.md 6.6). A
// line is never broadcast by mistake: an unknown command is refused, not said, and `//text`
// says `/text`.
#ifndef SECURECHAT_ENGINE_CONSOLE_H_
#define SECURECHAT_ENGINE_CONSOLE_H_

#include <string_view>

namespace securechat {

struct ConsoleCommand {
  enum class Verb {
    kSay,      // `text` or `//text`: `arg` is what to say (`/text` for the latter)
    kHelp,     // `/help`
    kWho,      // `/who`
    kKick,     // `/kick NICK [REASON]`: `arg` the nick (may be empty), `reason` the rest
    kUnknown,  // `/anything else`: `arg` is the command word, `/` included
  };
  Verb verb = Verb::kSay;
  std::string_view arg;
  std::string_view reason;
};

// ParseConsoleLine reads one console line. Command words are matched without regard to case
// (`/KICK`); the views point into `line`.
ConsoleCommand ParseConsoleLine(std::string_view line);

// The lines `/help` shows the operator.
inline constexpr std::string_view kConsoleHelp[] = {
    "console commands (a line without / is said to everyone as <server>):",
    "  /kick NICK [REASON]  remove NICK from the room; everyone is told who did it and why",
    "  /who                 list who is online",
    "  /help                this list",
    "  //TEXT               say a line that starts with /TEXT",
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_CONSOLE_H_
