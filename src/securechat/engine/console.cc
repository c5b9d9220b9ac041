#include "securechat/engine/console.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "securechat/engine/bans.h"

namespace securechat {

namespace {

// SplitWord returns the first space-separated word of `s` and sets *rest to what follows the
// spaces after it.
std::string_view SplitWord(std::string_view s, std::string_view* rest) {
  const size_t end = s.find(' ');
  const std::string_view word = s.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : s.substr(end);
  while (!tail.empty() && tail.front() == ' ') {
    tail.remove_prefix(1);
  }
  *rest = tail;
  return word;
}

// Is: `word` is the command `name`, in any letter case.
bool Is(std::string_view word, std::string_view name) {
  return absl::EqualsIgnoreCase(absl::string_view(word.data(), word.size()),
                                absl::string_view(name.data(), name.size()));
}

}  // namespace

ConsoleCommand ParseConsoleLine(std::string_view line) {
  ConsoleCommand command;
  if (line.empty() || line.front() != '/') {
    command.arg = line;
    return command;
  }
  if (line.size() >= 2 && line[1] == '/') {
    command.arg = line.substr(1);  // `//text` says `/text`
    return command;
  }
  std::string_view rest;
  const std::string_view word = SplitWord(line, &rest);
  if (Is(word, "/help")) {
    command.verb = ConsoleCommand::Verb::kHelp;
  } else if (Is(word, "/who")) {
    command.verb = ConsoleCommand::Verb::kWho;
  } else if (Is(word, "/kick")) {
    command.verb = ConsoleCommand::Verb::kKick;
    command.arg = SplitWord(rest, &command.reason);
  } else if (Is(word, "/ban") || Is(word, "/mute")) {
    command.verb = Is(word, "/ban") ? ConsoleCommand::Verb::kBan : ConsoleCommand::Verb::kMute;
    command.arg = SplitWord(rest, &rest);
    std::string_view after;
    const std::string_view maybe = SplitWord(rest, &after);
    // A word that starts with a digit is meant as a duration: one that does not read as one
    // (`1hr`, `90`) is kept for Moderation to refuse, never taken as the reason's first word.
    if (ParseDuration(maybe) != 0 || (!maybe.empty() && absl::ascii_isdigit(maybe.front()))) {
      command.duration = maybe;
      rest = after;
    }
    command.reason = rest;
  } else if (Is(word, "/unban") || Is(word, "/unmute")) {
    command.verb =
        Is(word, "/unban") ? ConsoleCommand::Verb::kUnban : ConsoleCommand::Verb::kUnmute;
    command.arg = SplitWord(rest, &command.reason);
  } else if (Is(word, "/bans")) {
    command.verb = ConsoleCommand::Verb::kBans;
  } else if (Is(word, "/rooms")) {
    command.verb = ConsoleCommand::Verb::kRooms;
  } else if (Is(word, "/motd")) {
    command.verb = ConsoleCommand::Verb::kMotd;
    command.arg = rest;
  } else {
    command.verb = ConsoleCommand::Verb::kUnknown;
    command.arg = word;
  }
  return command;
}

}  // namespace securechat
