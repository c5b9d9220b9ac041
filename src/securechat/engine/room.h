// Room: the chat itself. Its members by nick, the nick rules of PROTOCOL.md 6.1 (unique
// without regard to case, and by look), and what members do: join, rename, say, whisper, ask
// who is online, leave. It sends through the ConnectionTable, whose rows it points at while
// they are members, and never calls up into the dispatcher or the core.
#ifndef SECURECHAT_ENGINE_ROOM_H_
#define SECURECHAT_ENGINE_ROOM_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/engine/connection_table.h"
#include "securechat/engine/gate.h"
#include "securechat/engine/history.h"
#include "securechat/engine/server_sinks.h"
#include "securechat/wire/nick.h"

namespace securechat {

class Room {
 public:
  // `table`, `sinks` and `gate` must outlive the room. `motd` goes into every WELCOME. The
  // gate says which nicks are kept for members and how each joiner is shown. The room keeps
  // its last lines within `history` (PROTOCOL.md 6.11); `epoch` names this run's history.
  Room(ConnectionTable& table, const ServerSinks& sinks, const Gate& gate, std::string motd,
       HistoryLimits history, uint64_t epoch);
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  // What members do. Each answers `c` with the ERROR the protocol gives when it cannot.
  //
  // Join makes established connection `c` a member under `nick`: WELCOME to it (then, if it
  // asked with HISTORY, the lines it has not seen and HISTORY_END), a notice to everyone else.
  void Join(Connection& c, std::string_view nick);
  // AskHistory records `c`'s HISTORY (before JOIN): it has seen lines up to `after` of
  // history `epoch`, and takes room lines as ROOM_LINE.
  void AskHistory(Connection& c, uint64_t epoch, uint64_t after);
  // Rename gives member `c` the nick `nick`, and tells everyone (`c` too).
  void Rename(Connection& c, std::string_view nick);
  // Say sends `text` as CHAT to every member but `c` (as ROOM_LINE to those that asked for
  // history, `c` included), and keeps it in the history.
  void Say(Connection& c, std::string_view text);
  // Whisper sends `text` as a private CHAT to the member holding `to` (`c` itself too).
  void Whisper(Connection& c, std::string_view to, std::string_view text);
  // Action sends `text` as an ACTION_CHAT to every member but `c` ("/me", PROTOCOL.md 6.10),
  // as Say does.
  void Action(Connection& c, std::string_view text);
  // SetAway marks `c` away with `reason`, or back with an empty one, and tells `c` so.
  void SetAway(Connection& c, std::string_view reason);
  // Whois answers `c` with WHOIS_REPLY for the member holding `nick`.
  void Whois(Connection& c, std::string_view nick);
  // Quit keeps the reason of `c`'s QUIT for the notice that it left (if the reason is a
  // valid one: a client that leaves is never kept for a bad reason).
  void Quit(Connection& c, std::string_view reason);
  // Who answers `c` with the members' nicks, in USERS pages, then (on a server that knows
  // keys) NOTICEs that say who is a member, by which key, and who a guest, and NOTICEs that
  // say who is away.
  void Who(Connection& c);
  // Leave takes `c` out of the room, if it is a member, and tells everyone left.
  void Leave(Connection& c, std::string_view why);
  // Expel removes member `c` for an operator: a fatal ERROR `code` with `why`, then, as it
  // leaves in the event's teardown, a notice to the room "NICK left (WHY)".
  void Expel(Connection& c, proto::ErrorCode code, std::string why);
  // Announce tells every member `notice` (and the console), as a NOTICE.
  void Announce(std::string_view notice);
  // ServerSays sends an operator line to every member as CHAT from "server", as Say does.
  // Returns false (sending nothing) when the line is not valid text.
  bool ServerSays(std::string_view line);
  // SetMotd sets the message of the day that WELCOME carries from now on (valid text or empty).
  void SetMotd(std::string_view motd) { motd_ = std::string(motd); }
  // Clear forgets every member without telling anyone (the server is shutting down).
  void Clear();

  // NickCheck is what Check says of a nick someone wants.
  struct NickCheck {
    enum class Verdict {
      kFree,       // the nick may be taken (or is the asker's own in another case)
      kInvalid,    // not 1 to 32 of the nick alphabet: ERROR 4
      kReserved,   // looks like `server`: ERROR 4
      kTaken,      // the same nick, in any case, is another member's: ERROR 3
      kLooksLike,  // looks like another member's nick: ERROR 4
      kKept,       // a listed member's nick (or a look-alike) the asker may not hold: ERROR 4
    };
    Verdict verdict = Verdict::kInvalid;
    std::string skeleton;         // NickSkeleton(nick) when kFree
    std::string_view look_alike;  // the member's nick, for kTaken, kLooksLike and kKept
  };
  // Check judges `nick` for `asker` (a member renaming, or a connection joining).
  NickCheck Check(const Connection& asker, std::string_view nick) const;

  // Find returns the member holding `nick` in any case, or nullptr.
  Connection* Find(std::string_view nick) const;
  size_t size() const { return by_nick_.size(); }
  const RoomHistory& history() const { return history_; }
  // members: every member by nick, ordered without regard to case (WHO's order).
  const std::map<std::string, Connection*, NickLess>& members() const { return by_nick_; }

 private:
  // NickFree is true if `check` allows the nick; otherwise it answers `c` with the error the
  // check calls for.
  bool NickFree(Connection& c, const NickCheck& check, std::string_view nick);
  void Add(Connection& c, std::string_view nick, std::string skeleton);
  // WhoIsWho sends `c` the NOTICEs of Who that show each member's badge (Gate::Badge).
  void WhoIsWho(Connection& c);
  // NoticeList sends `c` the entries as NOTICEs "HEAD entry, entry, ...", as many entries to
  // a NOTICE as fit in a text; nothing when `entries` is empty.
  void NoticeList(Connection& c, std::string_view head, const std::vector<std::string>& entries);
  // Said notes that `c` said something now (for WHOIS's idle time).
  void Said(Connection& c);
  // Remove takes `c` out of the maps and returns its nick (empty if it was not a member).
  std::string Remove(Connection& c);
  // SayInRoom numbers and keeps a room line (PROTOCOL.md 6.11) and sends it: as `legacy`
  // (CHAT or ACTION_CHAT) to the members that did not ask for history, but `except`, and as
  // ROOM_LINE to those that did, `except` included.
  void SayInRoom(const msg::ServerMessage& legacy, std::string_view from, bool action,
                 uint64_t time_ms, std::string_view text, const Connection* except);
  // SendHistory sends joining member `c` the lines it has not seen, then HISTORY_END.
  void SendHistory(Connection& c);
  // Broadcast sends `m` to every member except `except` (nullptr for none). A member whose
  // send fails or whose queue overflows is only marked (it stays a member until the event's
  // teardown), so the loop never walks a map it has changed.
  void Broadcast(const msg::ServerMessage& m, const Connection* except);

  ConnectionTable& table_;
  const ServerSinks& sinks_;
  const Gate& gate_;
  std::string motd_;
  RoomHistory history_;
  std::map<std::string, Connection*, NickLess> by_nick_;
  // By NickSkeleton, for look-alikes; the value's nick is the member's.
  std::map<std::string, Connection*, std::less<>> by_skeleton_;
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_ROOM_H_
