// Dispatcher: every client message goes through one table, as OpenSSH's monitor requests do.
// Each row gives a kind, the connection states it is handled in, whether it is charged to
// the sender's rate first, and how the server answers it in any other state; std::visit then
// calls the one handler for the message's type, so a kind without a row or a handler does
// not build.
#ifndef SECURECHAT_ENGINE_DISPATCH_H_
#define SECURECHAT_ENGINE_DISPATCH_H_

#include "securechat/engine/connection_table.h"
#include "securechat/engine/gate.h"
#include "securechat/engine/moderation.h"
#include "securechat/engine/room.h"
#include "securechat/engine/rooms.h"
#include "securechat/engine/server_sinks.h"
#include "securechat/engine/transfers.h"
#include "securechat/wire/message.h"

namespace securechat {

class Dispatcher {
 public:
  // `table`, `room`, `rooms`, `transfers`, `gate`, `moderation` and `sinks` must outlive the
  // dispatcher. More than `burst` messages refused by the rate in a row close the connection.
  Dispatcher(ConnectionTable& table, Room& room, Rooms& rooms, Transfers& transfers, Gate& gate,
             Moderation& moderation, const ServerSinks& sinks, double burst)
      : table_(table),
        room_(room),
        rooms_(rooms),
        transfers_(transfers),
        gate_(gate),
        moderation_(moderation),
        sinks_(sinks),
        burst_(burst) {}

  // Dispatch decodes one client message from `c` (its plaintext), charges the rate, checks
  // the table's row for its kind against c's state, and calls its handler. Whatever it
  // refuses it answers with the ERROR the protocol gives.
  void Dispatch(Connection& c, ByteView plaintext);

 private:
  // Charged is true if message `m` (decoded) from `c` takes a token: its row says so, except
  // for a FILE_CHUNK Transfers::ChargeChunk calls free. *drop is set for a late chunk of an
  // ended transfer, to be dropped unanswered.
  bool Charged(Connection& c, const msg::ClientMessage& m, bool charged_by_row, bool* drop);
  // TakeToken charges one message to `c`'s rate; false (and an ERROR 6) when it is over.
  bool TakeToken(Connection& c);
  void Handle(Connection& c, const msg::Join& m) {
    if (gate_.MayJoin(c) && moderation_.MayJoin(c)) {
      room_.Join(c, m.nick);
    }
  }
  void Handle(Connection& c, const msg::Auth& m) { gate_.Authenticate(c, m); }
  void Handle(Connection& c, const msg::Say& m) {
    if (moderation_.MayTalk(c)) {
      room_.Say(c, m.text);
    }
  }
  void Handle(Connection& c, const msg::Whisper& m) { room_.Whisper(c, m.to, m.text); }
  void Handle(Connection& c, const msg::Who& /*m*/) { room_.Who(c); }
  void Handle(Connection& c, const msg::Nick& m) {
    if (moderation_.MayTalk(c)) {  // a rename is told to the room
      room_.Rename(c, m.nick);
    }
  }
  void Handle(Connection& c, const msg::Ping& m) { table_.Send(c, msg::Pong{m.data}); }
  void Handle(Connection& c, const msg::Bye& /*m*/) {
    table_.CloseAfterFlush(c, "bye", sinks_.Mono());
  }
  void Handle(Connection& c, const msg::Action& m) {
    if (moderation_.MayTalk(c)) {
      room_.Action(c, m.text);
    }
  }
  void Handle(Connection& c, const msg::Away& m) { room_.SetAway(c, m.reason); }
  void Handle(Connection& c, const msg::Whois& m) { room_.Whois(c, m.nick); }
  void Handle(Connection& c, const msg::History& m) { room_.AskHistory(c, m.epoch, m.after); }
  void Handle(Connection& c, const msg::Moderate& m) { moderation_.Moderate(c, m.command); }
  // Rooms (PROTOCOL.md 6.13). #lobby's lines are the Room's, as SAY's and ACTION's are; a
  // topic is told to the room, so a mute holds it as it holds a line.
  void Handle(Connection& c, const msg::RoomJoin& m) { rooms_.Join(c, m.room, m.epoch, m.after); }
  void Handle(Connection& c, const msg::RoomPart& m) { rooms_.Part(c, m.room); }
  void Handle(Connection& c, const msg::RoomList& /*m*/) { rooms_.List(c); }
  void Handle(Connection& c, const msg::RoomTopic& m) {
    if (moderation_.MayTalk(c)) {
      rooms_.SetTopic(c, m.room, m.topic);
    }
  }
  void Handle(Connection& c, const msg::RoomSay& m) {
    if (!moderation_.MayTalk(c)) {
      return;
    }
    if (!IsLobby(m.room)) {
      rooms_.Say(c, m.room, m.action != 0, m.text);
    } else if (m.action != 0) {
      room_.Action(c, m.text);
    } else {
      room_.Say(c, m.text);
    }
  }
  void Handle(Connection& c, const msg::RoomWho& m) { rooms_.Who(c, m.room); }
  // File transfer (PROTOCOL.md 6.14). A mute holds an offer, told as the offer's refusal (so
  // that the client can tie it to its tag), not as ERROR 13.
  void Handle(Connection& c, const msg::FileOffer& m) {
    transfers_.Offer(c, m, moderation_.IsMuted(c));
  }
  void Handle(Connection& c, const msg::FileAccept& m) { transfers_.Accept(c, m.id); }
  void Handle(Connection& c, const msg::FileCancel& m) { transfers_.Cancel(c, m.id, m.reason); }
  void Handle(Connection& c, const msg::FileChunk& m) { transfers_.Chunk(c, m); }
  void Handle(Connection& c, const msg::FileDone& m) { transfers_.Done(c, m.id); }
  void Handle(Connection& c, const msg::Quit& m) {
    // The reason is told to the room: a muted client leaves without it.
    room_.Quit(c, moderation_.IsMuted(c) ? std::string_view() : m.reason);
    table_.CloseAfterFlush(c, "quit", sinks_.Mono());
  }

  ConnectionTable& table_;
  Room& room_;
  Rooms& rooms_;
  Transfers& transfers_;
  Gate& gate_;
  Moderation& moderation_;
  const ServerSinks& sinks_;
  const double burst_;
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_DISPATCH_H_
