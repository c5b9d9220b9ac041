// Gate: who may join. It checks AUTH (a user key's signature over this connection's
// transcript hash, PROTOCOL.md 6.9) against the members file, decides whether a connection may
// JOIN under the access mode, which nicks are kept for members, and what the room shows of
// each connection's identity. It sits beside the Room and Admission, over the ConnectionTable,
// and never calls up.
#ifndef SECURECHAT_ENGINE_GATE_H_
#define SECURECHAT_ENGINE_GATE_H_

#include <string>
#include <string_view>

#include "securechat/engine/connection_table.h"
#include "securechat/engine/members.h"
#include "securechat/engine/server_sinks.h"
#include "securechat/wire/message.h"

namespace securechat {

// Access is who may join. kOpen: anyone, under a nick no member holds (guests); kMembers:
// only keys the members file lists.
enum class Access { kOpen, kMembers };

class Gate {
 public:
  // `table` and `sinks` must outlive the gate.
  Gate(ConnectionTable& table, const ServerSinks& sinks, Members members, Access access);

  // Authenticate handles AUTH from established connection `c`. The signature is checked
  // first, whatever the key, so that nothing sent depends on the members file before it has
  // verified: a bad signature, then a key the file does not list in kMembers mode, are each a
  // fatal ERROR 10. Otherwise `c` is authenticated and gets AUTH_OK with its listed nick
  // (empty for a key the file does not list: a guest).
  void Authenticate(Connection& c, const msg::Auth& m);

  // MayJoin is true if `c` may JOIN at all; in kMembers mode a connection that has not
  // authenticated as a member gets a fatal ERROR 10 instead.
  bool MayJoin(Connection& c);

  // ReservedFor is the member nick that `nick` is or looks like, when `c` may not take it:
  // every member's nick is kept for the holders of its keys, and a member holds only its own
  // nick. Empty when `c` may take `nick`.
  std::string_view ReservedFor(const Connection& c, std::string_view nick) const;

  // Badge is what the room shows beside `c`'s nick: "(SHA256:abcdefgh)" for a member,
  // "(guest SHA256:abcdefgh)" for a key the file does not list, "(guest)" for a connection
  // without a key on a server with a members file, and nothing on a server without one
  // for a connection without a key.
  std::string Badge(const Connection& c) const;

  // IsOperator is true if `c` proved a key that the members file marks `op` for the nick it is
  // listed under (PROTOCOL.md 6.12). It follows the file as it is reloaded.
  bool IsOperator(const Connection& c) const;

  // Reload puts `members` in force. Every authenticated or joined connection whose key no
  // longer gives it the nick it was admitted under (a member's key removed or moved, a guest's
  // key now listed), and every guest now holding a member's nick, gets a fatal ERROR 10 at
  // once. A connection that has not sent AUTH or JOIN yet is left alone: the new list judges
  // them. Returns how many were closed.
  size_t Reload(Members members);

  const Members& members() const { return members_; }
  Access access() const { return access_; }

 private:
  ConnectionTable& table_;
  const ServerSinks& sinks_;
  Members members_;
  const Access access_;
};

// ShortFingerprint is "SHA256:" and the first 8 characters of the rest: what the room shows.
std::string ShortFingerprint(std::string_view fingerprint);

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_GATE_H_
