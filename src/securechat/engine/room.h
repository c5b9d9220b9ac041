// Room: the members of the chat, by nick. It keeps the nick rules of PROTOCOL.md 6.1 (unique
// without regard to case, and by look) and nothing else: it sends nothing and never calls the
// connection table, whose rows it points at while they are members.
#ifndef SECURECHAT_ENGINE_ROOM_H_
#define SECURECHAT_ENGINE_ROOM_H_

#include <map>
#include <string>
#include <string_view>

#include "securechat/engine/connection_table.h"
#include "securechat/wire/nick.h"

namespace securechat {

class Room {
 public:
  // NickCheck is what Check says of a nick someone wants.
  struct NickCheck {
    enum class Verdict {
      kFree,       // the nick may be taken (or is the asker's own in another case)
      kInvalid,    // not 1 to 32 of the nick alphabet: ERROR 4
      kReserved,   // looks like `server`: ERROR 4
      kTaken,      // the same nick, in any case, is another member's: ERROR 3
      kLooksLike,  // looks like another member's nick: ERROR 4
    };
    Verdict verdict = Verdict::kInvalid;
    std::string skeleton;         // NickSkeleton(nick) when kFree
    std::string_view look_alike;  // the member's nick, for kTaken and kLooksLike
  };
  // Check judges `nick` for `asker` (a member renaming, or a connection joining).
  NickCheck Check(const Connection& asker, std::string_view nick) const;

  // Add makes `c` a member under `nick`, which Check found free with `skeleton`.
  void Add(Connection& c, std::string_view nick, std::string skeleton);
  // Rename gives member `c` the nick `nick` (Check found it free with `skeleton`) and returns
  // the old one.
  std::string Rename(Connection& c, std::string_view nick, std::string skeleton);
  // Remove takes `c` out of the room, if it is a member, and returns its nick (empty if not).
  std::string Remove(Connection& c);

  // Find returns the member holding `nick` in any case, or nullptr.
  Connection* Find(std::string_view nick) const;
  size_t size() const { return by_nick_.size(); }
  // members: every member by nick, ordered without regard to case (WHO's order).
  const std::map<std::string, Connection*, NickLess>& members() const { return by_nick_; }

 private:
  std::map<std::string, Connection*, NickLess> by_nick_;
  // By NickSkeleton, for look-alikes; the value's nick is the member's.
  std::map<std::string, Connection*, std::less<>> by_skeleton_;
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_ROOM_H_
