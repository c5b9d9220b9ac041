// Moderation: what an operator does about people (PROTOCOL.md 6.12): kick, ban and unban, mute
// and unmute, and the list of bans. An operator is the server's console, or a member whose key
// the members file marks `op`, through MODERATE. The BanList
// (engine/bans.h) says who is held; this part names people for it, applies what is decided to
// the members online at once, and judges each JOIN (a ban) and each room line (a mute).
//
// It sits above the Room and the Gate, which it calls to find members, remove them and tell
// the room, and below the Dispatcher and the ServerCore, which call it; it never calls up.
#ifndef SECURECHAT_ENGINE_MODERATION_H_
#define SECURECHAT_ENGINE_MODERATION_H_

#include <string>
#include <string_view>
#include <vector>

#include "securechat/engine/bans.h"
#include "securechat/engine/connection_table.h"
#include "securechat/engine/console.h"
#include "securechat/engine/gate.h"
#include "securechat/engine/room.h"
#include "securechat/engine/server_sinks.h"

namespace securechat {

// Operator is who gives a command: how the room is told who did it, and what a ban keeps as
// its author.
struct Operator {
  std::string_view shown;  // "the server's operator", or an operator's nick
  std::string_view by;     // "server" for the console, or the operator's nick
  // The console may act on anyone; a member operator may not remove or hold another operator
  // (one named by nick, or online), so that only the server's own operator settles a quarrel
  // between operators.
  bool console = false;
};
// The console is named `server` in what it sets: a nick no client can hold (PROTOCOL.md 6.1),
// so that no member operator's entry passes for the console's.
inline constexpr Operator kConsoleOperator{"the server's operator", "server", true};

class Moderation {
 public:
  // `table`, `sinks`, `room` and `gate` must outlive this. `bans` is the list in force (read
  // from the --bans file, or empty).
  Moderation(ConnectionTable& table, const ServerSinks& sinks, Room& room, const Gate& gate,
             BanList bans);
  Moderation(const Moderation&) = delete;
  Moderation& operator=(const Moderation&) = delete;

  // Run carries out a kick, ban, unban, bans, mute or unmute command for `op` and returns what
  // to tell the operator. Whoever a command removes is only marked (a fatal ERROR): it leaves
  // the room in the caller's teardown, with a notice that names `op` and the reason.
  std::vector<std::string> Run(const ConsoleCommand& command, const Operator& op);

  // Moderate handles MODERATE from member `c`: ERROR 14 unless `c` is an operator
  // (Gate::IsOperator), ERROR 7 unless `line` is a valid text; otherwise the command's answer,
  // a NOTICE a line, to `c` alone. A line that is not a moderation command is answered so.
  void Moderate(Connection& c, std::string_view line);

  // MayJoin is false, and `c` gets a fatal ERROR 12, if a ban holds it; otherwise it notes
  // whether a mute holds it.
  bool MayJoin(Connection& c);
  // MayTalk is false, and `c` gets ERROR 13, while a mute holds member `c`: it may not say
  // room lines (SAY, ACTION). Whispers are not held (PROTOCOL.md 6.12).
  bool MayTalk(Connection& c);

  // IsMuted: a mute holds `c` now. It may not speak to the room: SAY, ACTION, NICK, or a QUIT
  // reason. No side effect.
  bool IsMuted(const Connection& c) const;

  const BanList& bans() const { return bans_; }

 private:
  // Targets is who a command names: the entries to keep or drop, and the members online it
  // names (for the notices). `error` is set when the name names no one.
  struct Targets {
    std::vector<std::pair<Ban::Target, std::string>> held;
    std::string nick;  // the nick named, when a member was named by nick
    bool op = false;   // it names an operator (online, or listed by nick)
    std::string error;
  };
  Targets Resolve(std::string_view name) const;
  std::vector<std::string> Hold(Ban::Kind kind, const ConsoleCommand& command, const Operator& op);
  std::vector<std::string> Release(Ban::Kind kind, std::string_view name, const Operator& op);
  // List shows the operator the entries in force, at most `most` of them.
  std::vector<std::string> List(uint64_t now, size_t most) const;
  // HoldsAnOperator: `t` names an operator, or would hold one who is online.
  bool HoldsAnOperator(const Targets& t) const;
  static constexpr size_t kMaxListedToMember = 100;
  std::string Kick(std::string_view nick, const Operator& op, std::string_view reason);
  // Enforce applies the list to every member online: removes those a ban holds (telling the
  // room why, in `what`), and notes who a mute holds, telling the room of each change.
  // Returns the nicks removed.
  std::vector<std::string> Enforce(std::string_view what);
  // Holding is the entry of `kind` that holds `c` at `now`, or nullptr. An operator is held
  // only by entries the console set.
  const Ban* Holding(Ban::Kind kind, const Connection& c, uint64_t now) const;
  // SetByConsole: an entry of `kind` for exactly this target was set by the console.
  bool SetByConsole(Ban::Kind kind, Ban::Target target_kind, std::string_view target) const;
  // MuteOf is until when a mute holds `c` (0: none; UINT64_MAX: for good).
  uint64_t MuteOf(const Connection& c, uint64_t now) const;

  ConnectionTable& table_;
  const ServerSinks& sinks_;
  Room& room_;
  const Gate& gate_;
  BanList bans_;
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_MODERATION_H_
