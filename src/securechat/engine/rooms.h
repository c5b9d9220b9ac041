// Rooms: the rooms besides #lobby (PROTOCOL.md 6.13). A member joins and leaves them, says
// lines in them, asks who is in one and which there are, and sets a topic. A room exists
// while it has members, and its topic and history go with it.
//
// #lobby stays the Room's (engine/room.h): every member is in it from JOIN until it leaves the
// server, it holds the nicks, and its membership messages tell everyone who comes and goes.
// Rooms reads the Room (its members, for ROOM_LIST and ROOM_WHO of #lobby) and never changes
// it; the Dispatcher sends #lobby's lines to the Room. Rooms sends through the ConnectionTable
// and never calls up.
#ifndef SECURECHAT_ENGINE_ROOMS_H_
#define SECURECHAT_ENGINE_ROOMS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/engine/connection_table.h"
#include "securechat/engine/gate.h"
#include "securechat/engine/history.h"
#include "securechat/engine/room.h"
#include "securechat/engine/server_sinks.h"
#include "securechat/wire/nick.h"

namespace securechat {

// The limits of rooms, each a chat-server flag. #lobby counts in none of them: --max_clients
// bounds it.
struct RoomLimits {
  size_t max_rooms = 100;            // rooms besides #lobby at once (--max_rooms)
  size_t max_rooms_per_client = 10;  // rooms besides #lobby one client is in
  size_t max_room_members = 1000;    // members of one room besides #lobby
  size_t max_topic_bytes = 256;      // a topic, at most proto::kMaxTopicLen
};

// RoomListWireBytes bounds what a ROOM_LIST answer queues for a client: a ROOM_INFO of the
// longest name and topic for every room and #lobby, each in its own record. chat-server keeps
// it within half a client's output queue, so that a reading client always gets the list whole.
constexpr size_t RoomListWireBytes(const RoomLimits& limits) {
  const size_t info = 1 + (2 + proto::kMaxRoomLen) + 2 + (2 + limits.max_topic_bytes) + 1;
  return (limits.max_rooms + 1) *
         (info + proto::kFrameHeaderLen + proto::kRecordOverhead + proto::kAesBlockLen);
}

// IsLobby is true if `room` names #lobby, in any case.
bool IsLobby(std::string_view room);

class Rooms {
 public:
  // `table`, `sinks`, `lobby` and `gate` must outlive the rooms. Each room keeps its last lines
  // within `history`; `epoch` is #lobby's history epoch, from which each room's is derived.
  Rooms(ConnectionTable& table, const ServerSinks& sinks, const Room& lobby, const Gate& gate,
        RoomLimits limits, HistoryLimits history, uint64_t epoch);
  Rooms(const Rooms&) = delete;
  Rooms& operator=(const Rooms&) = delete;
  ~Rooms();

  // What members do. Each answers `c` with the ERROR the protocol gives when it cannot.
  //
  // Join makes member `c` a member of `room` (made if no one is in it): ROOM_JOINED, then the
  // room's lines it has not seen of history `epoch` after line `after`, then HISTORY_END; a
  // ROOM_EVENT to the room's other members.
  void Join(Connection& c, std::string_view room, uint64_t epoch, uint64_t after);
  // Part takes `c` out of `room` (never #lobby): a ROOM_EVENT to the room's members and `c`.
  void Part(Connection& c, std::string_view room);
  // List answers `c` with a ROOM_INFO for every room, #lobby included, ordered by name.
  void List(Connection& c);
  // SetTopic sets the topic of `room`, which `c` is in, if `c` made the room or is an
  // operator (#lobby: an operator); a ROOM_EVENT tells the room's members, `c` included.
  void SetTopic(Connection& c, std::string_view room, std::string_view topic);
  // Say says `text` (an action if `action`) in `room`, which `c` is in and is not #lobby: a
  // ROOM_LINE to every member, `c` included, and kept in the room's history.
  void Say(Connection& c, std::string_view room, bool action, std::string_view text);
  // Who answers `c` with ROOM_USERS pages of the members of `room`, which `c` is in.
  void Who(Connection& c, std::string_view room);
  // Leave takes `c` out of every room it is in, telling no one: it is leaving the server, and
  // #lobby's MEMBER_LEFT tells every member.
  void Leave(Connection& c);
  // Clear forgets every room without telling anyone (the server is shutting down).
  void Clear();

  // For the console: one line for each room, #lobby first.
  std::vector<std::string> Describe() const;
  size_t size() const { return rooms_.size(); }
  const std::string& lobby_topic() const { return lobby_topic_; }

 private:
  struct Channel;
  // Named returns the room `c` names and is in; nullptr (after answering `c` with ERROR 15)
  // for an invalid name or a room `c` is not in. Not for #lobby.
  Channel* Named(Connection& c, std::string_view room);
  // SendPages sends `c` the nicks as ROOM_USERS pages of `room`.
  void SendPages(Connection& c, std::string_view room, const std::vector<std::string_view>& nicks);
  // SendHistory sends joining member `c` the lines of `ch` it has not seen, then HISTORY_END.
  void SendHistory(Connection& c, const Channel& ch, uint64_t epoch, uint64_t after);
  // Broadcast sends `m` to every member of `ch` but `except` (nullptr: none).
  void Broadcast(const Channel& ch, const msg::ServerMessage& m, const Connection* except);
  // Remove takes `c` out of `ch` and forgets `ch` once nobody is in it.
  void Remove(Connection& c, Channel& ch);
  // NextEpoch names a new room's history: not 0, and not #lobby's nor, within a run, any
  // other room's.
  uint64_t NextEpoch();

  ConnectionTable& table_;
  const ServerSinks& sinks_;
  const Room& lobby_;
  const Gate& gate_;
  const RoomLimits limits_;
  const HistoryLimits history_;
  const uint64_t epoch_;
  uint64_t rooms_made_ = 0;
  std::string lobby_topic_;
  std::map<std::string, std::unique_ptr<Channel>, NickLess> rooms_;  // by name, in any case
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_ROOMS_H_
