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
    kBan,      // `/ban WHO [DURATION] [REASON]`: `arg` WHO, `duration` (may be empty), `reason`
    kUnban,    // `/unban WHO`: `arg` WHO
    kBans,     // `/bans`: every ban and mute in force
    kMute,     // `/mute WHO [DURATION] [REASON]`, as kBan
    kUnmute,   // `/unmute WHO`
    kRooms,    // `/rooms`: every room, its members and its topic
    kMotd,     // `/motd [TEXT]`: `arg` the new message of the day (empty: none)
    kUnknown,  // `/anything else`: `arg` is the command word, `/` included
  };
  Verb verb = Verb::kSay;
  std::string_view arg;
  // A word ParseDuration reads (engine/bans.h), or one that starts with a digit and does
  // not (a mistyped duration, refused), or empty.
  std::string_view duration;
  std::string_view reason;
};

// IsModeration is true for the verbs an operator also sends from a client (MODERATE,
// PROTOCOL.md 6.12): kick, ban, unban, bans, mute, unmute.
constexpr bool IsModeration(ConsoleCommand::Verb v) {
  using Verb = ConsoleCommand::Verb;
  return v == Verb::kKick || v == Verb::kBan || v == Verb::kUnban || v == Verb::kBans ||
         v == Verb::kMute || v == Verb::kUnmute;
}

// ParseConsoleLine reads one console line. Command words are matched without regard to case
// (`/KICK`); the views point into `line`.
ConsoleCommand ParseConsoleLine(std::string_view line);

// The lines `/help` shows the operator.
inline constexpr std::string_view kConsoleHelp[] = {
    "console commands (a line without / is said to everyone as <server>):",
    "  /kick NICK [REASON]           remove NICK; everyone is told who did it and why",
    "  /ban WHO [DURATION] [REASON]  keep WHO out (and remove them): a nick online or listed in",
    "                                the members file, a SHA256: key fingerprint, or an address;",
    "                                DURATION like 30s, 10m, 2h, 7d, 1w (none: for good)",
    "  /unban WHO                    lift the bans set on that nick, key or address",
    "  /mute WHO [DURATION] [REASON] WHO may not say room lines (whispers still go)",
    "  /unmute WHO                   lift the mutes set on that nick, key or address",
    "  /bans                         list the bans and mutes in force",
    "  /who                          list who is online",
    "  /rooms                        list the rooms, with their members and topics",
    "  /motd [TEXT]                  set the message of the day shown to those who join",
    "  /help                         this list",
    "  //TEXT                        say a line that starts with /TEXT",
};

// The command words, for completion.
inline constexpr std::string_view kConsoleCommands[] = {
    "/ban", "/bans", "/help", "/kick", "/motd", "/mute", "/rooms", "/unban", "/unmute", "/who",
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_CONSOLE_H_
