#include "securechat/client/session.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "securechat/base/cat.h"
#include "securechat/base/overloaded.h"
#include "securechat/wire/text.h"

namespace securechat {
namespace {

// SplitWord returns the first space-separated word of *rest and removes it (and the spaces
// after it) from *rest.
std::string_view SplitWord(std::string_view* rest) {
  size_t end = rest->find(' ');
  std::string_view word = rest->substr(0, end);
  rest->remove_prefix(end == std::string_view::npos ? rest->size() : end);
  while (!rest->empty() && rest->front() == ' ') {
    rest->remove_prefix(1);
  }
  return word;
}

std::string Shown(std::string_view s) { return EscapeForDisplay(s); }

// IsCommandLine: the line is a command, not text ("//" starts text that starts with '/').
bool IsCommandLine(std::string_view line) {
  return !line.empty() && line.front() == '/' && line.substr(0, 2) != "//";
}

// CommandOf returns the command of a command line, in lower case ("quit" for "/QUIT now"),
// and sets *rest to what follows it.
std::string CommandOf(std::string_view line, std::string_view* rest) {
  *rest = line.substr(1);
  std::string command(SplitWord(rest));
  absl::AsciiStrToLower(&command);
  return command;
}

}  // namespace

std::string AlternateNick(std::string_view nick, int n) {
  const std::string digit(1, static_cast<char>('1' + n));
  return Cat(nick.substr(0, proto::kMaxNickLen - 1), digit);
}

std::string FormatSeconds(uint64_t ms) {
  return ms % 1000 == 0 ? Cat(ms / 1000, " s") : Cat(ms / 1000, ".", ms % 1000 / 100, " s");
}

std::string FormatElapsed(uint64_t ms) {
  const uint64_t s = ms / 1000;
  if (s < 60) {
    return Cat(s, " s");
  }
  if (s < 3600) {
    return Cat(s / 60, " min");
  }
  if (s < 86400) {
    return s % 3600 < 60 ? Cat(s / 3600, " h") : Cat(s / 3600, " h ", s % 3600 / 60, " min");
  }
  return s % 86400 < 3600 ? Cat(s / 86400, " d") : Cat(s / 86400, " d ", s % 86400 / 3600, " h");
}

ClientSession::ClientSession(ClientConnection& conn, std::string nick, Printer print, Clock clock)
    : ClientSession(
          conn, std::move(nick),
          Display([print = std::move(print)](const DisplayLine& l) { print(PlainLine(l)); }),
          std::move(clock)) {}

ClientSession::ClientSession(ClientConnection& conn, std::string nick, Display display, Clock clock)
    : conn_(&conn),
      transfers_(FileTransfers::Host{
          .send = [this](const msg::ClientMessage& m) { return SendOrFail(m); },
          .show = [this](DisplayLine::Kind kind, std::string text) { Show(kind, std::move(text)); },
          .refuse = [this](std::string text) { Refuse(std::move(text)); },
          .unsent = [this] { return conn_->output().size(); },
          .clock = clock,
      }),
      nick_(std::move(nick)),
      display_(std::move(display)),
      clock_(std::move(clock)) {
  if (clock_) {
    last_sent_ms_ = clock_();
  }
}

void ClientSession::Reattach(ClientConnection& conn) {
  // The server ended every transfer when the old connection went.
  transfers_.ConnectionLost();
  conn_ = &conn;
  rejoining_ = rejoining_ || joined_;
  joined_ = false;
  input_done_ = false;
  bye_sent_ = false;
  quit_sent_ = false;
  awaiting_auth_ = false;
  listed_member_ = false;
  history_sent_ = false;
  // Every room is asked for again after WELCOME, after what was seen of it (HandleWelcome),
  // except one we were leaving: whether the server took our ROOM_PART or not, we are out.
  auto reset = [](Room& room) {
    room.joined = false;
    room.join_sent = false;
    room.switch_on_join = false;
    room.history_ended = false;
    room.history_shown = false;
  };
  reset(lobby_);
  std::vector<std::string> parting;
  for (Room& room : rooms_) {
    reset(room);
    if (room.parting) {
      parting.push_back(room.name);
    }
  }
  for (const std::string& name : parting) {
    RemoveRoom(name);
  }
  room_who_.clear();
  room_who_pages_ = 0;
  room_lists_asked_ = 0;
  room_list_started_ = false;
  room_asked_ = false;
  finished_ = false;
  shutting_down_ = false;
  exit_code_ = kExitOk;
  final_message_.clear();
  handshake_deadline_ms_.reset();
  who_.clear();
  who_pages_ = 0;
}

void ClientSession::Connected() {
  if (clock_) {
    handshake_deadline_ms_ = clock_() + handshake_timeout_ms_;
  }
}

std::vector<std::string> ClientSession::HelpLines() {
  return {
      "-!- commands:",
      "-!-   /msg NICK TEXT   send TEXT to NICK only",
      "-!-   /reply TEXT      send TEXT to whoever last whispered to you",
      "-!-   /query [NICK]    talk to NICK only until /query alone",
      "-!-   /me TEXT         act: shown as * NICK TEXT",
      "-!-   /who [NICK]      list who is in the current room (with NICK: as /whois)",
      "-!-   /whois NICK      since when NICK is online, idle time, away reason, key",
      "-!-   /away [REASON]   mark yourself away (alone: back)",
      "-!-   /back            no longer away",
      "-!-   /nick NEW        change your nick",
      "-!-   /ignore [NICK]   hide NICK's messages for this session (alone: list them)",
      "-!- rooms (everyone is in #lobby):",
      "-!-   /join #ROOM      join ROOM (made if nobody is in it); lines you type go there",
      "-!-   /part [#ROOM]    leave ROOM (alone: the current room)",
      "-!-   /switch #ROOM    type lines to ROOM (also Alt-1..9, Ctrl-N, Ctrl-P)",
      "-!-   /rooms           list the rooms, with their members and topics",
      "-!-   /topic [TEXT]    show the current room's topic, or set it (-delete: clear it)",
      "-!- for operators (keys the server's members file marks op):",
      "-!-   /kick NICK [REASON]         remove NICK; the room is told who did it and why",
      "-!-   /ban WHO [TIME] [REASON]    keep WHO out: a nick, a SHA256: key or an address",
      "-!-   /unban WHO                  let WHO back in",
      "-!-   /mute WHO [TIME] [REASON]   WHO may not say room lines (TIME: 10m, 2h, 7d, ...)",
      "-!-   /unmute WHO                 let WHO say room lines again",
      "-!-   /bans                       list the bans and mutes in force",
      "-!-   /unignore NICK   show NICK's messages again",
      "-!- files (sent through the server, checked against their SHA-256):",
      "-!-   /send NICK PATH  offer the file at PATH to NICK",
      "-!-   /accept N [DIR]  take offered file N (into DIR, else --download_dir)",
      "-!-   /decline N       say no to offered file N",
      "-!-   /cancel N        stop file N, either way",
      "-!-   /transfers       list the files offered, sent and received",
      "-!-   /quit [REASON]   leave the chat, telling the room why",
      "-!-   /help            show this list",
      "-!-   //TEXT           say TEXT starting with a slash",
      "-!- any other line is said to the room",
  };
}

std::vector<std::string> ClientSession::Commands() {
  return {"/accept", "/away",     "/back",   "/ban",   "/bans", "/cancel", "/decline", "/help",
          "/ignore", "/join",     "/kick",   "/me",    "/msg",  "/mute",   "/nick",    "/part",
          "/query",  "/quit",     "/reply",  "/rooms", "/send", "/switch", "/topic",   "/transfers",
          "/unban",  "/unignore", "/unmute", "/who",   "/whois"};
}

std::vector<std::string> ClientSession::KnownNicks() const {
  std::vector<std::string> out;
  for (const std::string& n : nicks_) {
    if (n != nick_) {
      out.push_back(n);
    }
  }
  return out;
}

std::vector<std::string> ClientSession::Rooms() const {
  std::vector<std::string> out{lobby_.name};
  for (const Room& room : rooms_) {
    if (room.joined) {
      out.push_back(room.name);
    }
  }
  return out;
}

bool ClientSession::RoomHistory(std::string_view room, uint64_t* epoch, uint64_t* seq) const {
  const Room* r = FindRoom(room);
  if (r == nullptr) {
    return false;
  }
  *epoch = r->epoch;
  *seq = r->seq;
  return true;
}

std::vector<std::string> ClientSession::KnownRooms() const {
  NickSet rooms(listed_rooms_);
  for (const std::string& room : Rooms()) {
    rooms.insert(room);
  }
  return std::vector<std::string>(rooms.begin(), rooms.end());
}

ClientSession::Room* ClientSession::FindRoom(std::string_view name) {
  return const_cast<Room*>(std::as_const(*this).FindRoom(name));
}

const ClientSession::Room* ClientSession::FindRoom(std::string_view name) const {
  if (SameNick(name, lobby_.name)) {
    return &lobby_;
  }
  for (const Room& room : rooms_) {
    if (SameNick(name, room.name)) {
      return &room;
    }
  }
  return nullptr;
}

bool ClientSession::ManyRooms() const {
  return std::any_of(rooms_.begin(), rooms_.end(), [](const Room& r) { return r.joined; });
}

std::string ClientSession::RoomTag(const Room& room) const {
  return ManyRooms() ? Shown(room.name) : "";
}

std::string ClientSession::InRoom(const Room& room) const {
  return ManyRooms() ? Cat(" in ", Shown(room.name)) : "";
}

void ClientSession::SetCurrentRoom(const Room& room) {
  current_room_ = room.name;
  ShowNotice(Cat("lines you type now go to ", Shown(room.name)));
}

void ClientSession::SwitchToRoom(size_t n) {
  const std::vector<std::string> rooms = Rooms();
  if (n == 0 || n > rooms.size()) {
    ShowNotice(Cat("no room ", n, ": you are in ", rooms.size(),
                   rooms.size() == 1 ? " room (" : " rooms (", absl::StrJoin(rooms, " "), ")"));
    return;
  }
  if (const Room* room = FindRoom(rooms[n - 1]);
      room != nullptr && !SameNick(room->name, current_room_)) {
    SetCurrentRoom(*room);
  }
}

void ClientSession::SwitchRoomBy(int step) {
  const std::vector<std::string> rooms = Rooms();
  const auto at = std::find_if(rooms.begin(), rooms.end(),
                               [this](const std::string& r) { return SameNick(r, current_room_); });
  const size_t i = at == rooms.end() ? 0 : static_cast<size_t>(at - rooms.begin());
  const size_t n = rooms.size();
  // Round: from the last to #lobby, from #lobby back to the last.
  const size_t next = step >= 0 ? (i + 1) % n : (i + n - 1) % n;
  SwitchToRoom(next + 1);
}

void ClientSession::RemoveRoom(std::string_view name) {
  const auto it = std::find_if(rooms_.begin(), rooms_.end(),
                               [name](const Room& r) { return SameNick(r.name, name); });
  if (it == rooms_.end()) {
    return;
  }
  const bool current = SameNick(current_room_, it->name);
  rooms_.erase(it);
  if (current) {
    SetCurrentRoom(lobby_);
  }
}

void ClientSession::Show(DisplayLine::Kind kind, std::string text) {
  DisplayLine line;
  line.kind = kind;
  line.text = std::move(text);
  display_(line);
}

void ClientSession::ShowNotice(std::string text) {
  Show(DisplayLine::Kind::kNotice, std::move(text));
}

void ClientSession::ShowError(std::string text) {
  Show(DisplayLine::Kind::kError, std::move(text));
}

void ClientSession::Refuse(std::string text) {
  ++refused_lines_;
  ShowError(std::move(text));
}

void ClientSession::Finish(int code, std::string message) {
  if (finished_) {
    return;
  }
  finished_ = true;
  exit_code_ = code;
  final_message_ = std::move(message);
}

void ClientSession::Received(ByteView bytes) {
  ByteView in = bytes;
  msg::ServerMessage m;
  while (!finished_) {
    switch (conn_->Next(&in, &m)) {
      case ClientConnection::Step::kNeedMore:
        return;
      case ClientConnection::Step::kEstablished:
        if (!established_notice_.empty()) {
          ShowNotice(established_notice_);
        }
        StartSession();
        break;
      case ClientConnection::Step::kMessage:
        HandleMessage(m);
        break;
      case ClientConnection::Step::kAlert: {
        const AlertBody& a = conn_->alert();
        const std::string reason =
            Cat("the server says: ", Shown(a.reason), " (alert ", a.code, ")");
        switch (static_cast<proto::AlertCode>(a.code)) {
          case proto::AlertCode::kServerFull:
          case proto::AlertCode::kTooManyFromAddress:
            Finish(kExitServerFull, Cat("server full: ", reason));
            break;
          case proto::AlertCode::kUnsupportedVersion:
            Finish(kExitVersion, Cat("unsupported protocol version: ", reason));
            break;
          default:
            Finish(kExitConnectionLost, Cat("connection refused: ", reason));
            break;
        }
        return;
      }
      case ClientConnection::Step::kFailed:
        if (conn_->failure() == ClientConnection::Failure::kConfirmFailed) {
          Finish(kExitConfirmFailed,
                 "server key confirmation failed: wrong server key or tampered handshake");
        } else {
          Finish(kExitConnectionLost, "connection lost: the server broke the protocol");
        }
        return;
    }
  }
}

void ClientSession::ServerClosed() {
  transfers_.ConnectionLost();
  if (bye_sent_) {
    if (refused_lines_ == 0) {
      Finish(kExitOk, "");
    } else {
      Finish(kExitLinesRefused,
             Cat(refused_lines_, refused_lines_ == 1 ? " line was" : " lines were",
                 " refused (the !! lines say why)"));
    }
  } else if (shutting_down_) {
    Finish(kExitConnectionLost, "connection lost: the server shut down");
  } else if (conn_->state() == ClientConnection::State::kAwaitServerHello) {
    Finish(kExitConnectionLost,
           "connection lost during the handshake (a server with another key, or not a "
           "securechat server)");
  } else {
    Finish(kExitConnectionLost, "connection lost: the server closed the connection");
  }
}

void ClientSession::AddKnownNick(std::string_view nick) {
  if (nicks_.size() < kMaxKnownNicks && IsValidNick(nick)) {
    nicks_.emplace(nick);
  }
}

void ClientSession::HandleMessage(const msg::ServerMessage& m) {
  // One handler per server kind: a kind added to msg::ServerMessage does not build until it is
  // handled here.
  std::visit(Overloaded{
                 [this](const msg::Welcome& w) { HandleWelcome(w); },
                 [this](const msg::Chat& c) { HandleChat(c); },
                 // The room's events are shown as the server words them; the structured
                 // messages before them keep the state (PROTOCOL.md 6.8).
                 [this](const msg::Notice& n) { ShowNotice(Shown(n.text)); },
                 [this](const msg::Users& u) { HandleUsers(u); },
                 [](const msg::Pong&) {},  // it only keeps the connection alive
                 [this](const msg::Error& e) { HandleError(e); },
                 [this](const msg::MemberJoined& j) { AddKnownNick(j.nick); },
                 [this](const msg::MemberLeft& l) {
                   // Leaving the server leaves every room, without a ROOM_EVENT.
                   nicks_.erase(std::string(l.nick));
                   for (Room& room : rooms_) {
                     room.members.erase(std::string(l.nick));
                   }
                 },
                 [this](const msg::MemberRenamed& r) { HandleRenamed(r); },
                 [this](const msg::AuthOk& a) { HandleAuthOk(a); },
                 [this](const msg::ActionChat& a) { HandleAction(a); },
                 [this](const msg::WhoisReply& w) { HandleWhois(w); },
                 [this](const msg::RoomLine& r) { HandleRoomLine(r); },
                 [this](const msg::HistoryEnd& e) { HandleHistoryEnd(e); },
                 [this](const msg::RoomJoined& j) { HandleRoomJoined(j); },
                 [this](const msg::RoomEvent& e) { HandleRoomEvent(e); },
                 [this](const msg::RoomInfo& i) { HandleRoomInfo(i); },
                 [this](const msg::RoomUsers& u) { HandleRoomUsers(u); },
                 // File transfer (PROTOCOL.md 6.14).
                 [this](const msg::FileOffered& o) { transfers_.HandleOffered(o); },
                 [this](const msg::FileIncoming& i) { transfers_.HandleIncoming(i); },
                 [this](const msg::FileAccepted& a) { transfers_.HandleAccepted(a); },
                 [this](const msg::FileData& d) { transfers_.HandleData(d); },
                 [this](const msg::FileEnd& e) {
                   transfers_.HandleEnd(e);
                   if (input_done_ && joined_) {
                     FlushQueued();  // the goodbye may have waited for this transfer
                   }
                 },
             },
             m);
}

void ClientSession::StartSession() {
  if (user_key_ == nullptr) {
    SendJoin();
    return;
  }
  const std::vector<uint8_t> data = AuthSignedData(conn_->transcript_hash());
  Ed25519Signature sig{};
  std::string why;
  if (data.empty() || !user_key_->Sign(data, &sig, &why)) {
    Finish(kExitAuthRefused, Cat("cannot authenticate: ", data.empty() ? "OpenSSL failed" : why));
    return;
  }
  const Ed25519Public& key = user_key_->public_key();
  const auto as_view = [](absl::Span<const uint8_t> b) {
    return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
  };
  awaiting_auth_ = SendOrFail(msg::Auth{as_view(key), as_view(sig)});
}

void ClientSession::HandleAuthOk(const msg::AuthOk& a) {
  if (!awaiting_auth_) {
    Finish(kExitConnectionLost, "connection lost: the server broke the protocol (AUTH_OK unasked)");
    return;
  }
  awaiting_auth_ = false;
  listed_member_ = !a.nick.empty();
  const std::string fingerprint = Ed25519Fingerprint(user_key_->public_key());
  if (a.nick.empty()) {
    ShowNotice(Cat("your key ", fingerprint,
                   " is not on this server's members list: you join as a guest"));
  } else {
    ShowNotice(Cat("authenticated as the member ", Shown(a.nick), " (", fingerprint, ")"));
    if (!SameNick(a.nick, nick_)) {
      // A member holds only the nick its key is listed under (PROTOCOL.md 6.9).
      ShowNotice(Cat("joining as ", Shown(a.nick), ", the nick your key is listed under"));
      nick_ = std::string(a.nick);
    }
  }
  SendJoin();
}

void ClientSession::SendJoin() {
  if (!history_sent_) {
    // Once a connection: the server keeps it for every JOIN until one is welcomed.
    history_sent_ = SendOrFail(msg::History{lobby_.epoch, lobby_.seq});
    if (!history_sent_) {
      return;
    }
  }
  SendOrFail(msg::Join{nick_});
}

void ClientSession::HandleWelcome(const msg::Welcome& w) {
  joined_ = true;
  lobby_.joined = true;
  alternates_tried_ = 0;
  handshake_deadline_ms_.reset();
  nick_ = std::string(w.nick);
  ShowNotice(
      Cat(rejoining_ ? "rejoined as " : "joined as ", Shown(w.nick), "; ", w.online, " online"));
  if (!w.motd.empty()) {
    ShowNotice(Shown(w.motd));
  }
  if (who_on_join_) {
    SendOrFail(msg::Who{});
  }
  // Back in every room we were in (or had asked for), after what we saw of each, one at a
  // time (SendNextJoin), the current room first; it stays the current room.
  SendNextJoin();
  FlushQueued();
}

void ClientSession::SendNextJoin() {
  Room* next = nullptr;
  for (Room& room : rooms_) {
    if (room.join_sent && !room.joined) {
      return;  // its answer comes first
    }
    if (!room.join_sent && (next == nullptr || SameNick(room.name, current_room_))) {
      next = &room;
    }
  }
  if (next == nullptr) {
    return;
  }
  room_asked_ = true;
  next->join_sent = SendOrFail(msg::RoomJoin{next->name, next->epoch, next->seq});
}

bool ClientSession::MaySendTo(const Room& room, std::string_view what) {
  if (&room == &lobby_ || (room.join_sent && !room.parting)) {
    return true;
  }
  Refuse(room.parting ? Cat(what, ": you are leaving ", Shown(room.name))
                      : Cat(what, ": ", Shown(room.name), " is not joined yet"));
  return false;
}

void ClientSession::HandleChat(const msg::Chat& c) {
  AddKnownNick(c.from);
  if (ignored_.contains(c.from)) {
    return;
  }
  DisplayLine line;
  const bool whisper = (c.flags & proto::kChatFlagPrivate) != 0;
  if (whisper && !SameNick(c.from, nick_)) {
    last_whisperer_ = std::string(c.from);
  }
  line.kind = whisper ? DisplayLine::Kind::kPrivate : DisplayLine::Kind::kChat;
  line.from = Shown(c.from);
  line.text = Shown(c.text);
  line.time_ms = c.time_ms;
  line.mention = !whisper && MentionsNick(c.text, nick_);
  if (!whisper) {
    line.room = RoomTag(lobby_);
  }
  display_(line);
}

void ClientSession::HandleAction(const msg::ActionChat& a) {
  AddKnownNick(a.from);
  if (ignored_.contains(a.from)) {
    return;
  }
  DisplayLine line;
  line.kind = DisplayLine::Kind::kAction;
  line.from = Shown(a.from);
  line.text = Shown(a.text);
  line.time_ms = a.time_ms;
  line.mention = MentionsNick(a.text, nick_);
  line.room = RoomTag(lobby_);
  display_(line);
}

void ClientSession::HandleRoomLine(const msg::RoomLine& r) {
  Room* room = FindRoom(r.room);
  if (room == nullptr || !room->joined) {
    return;  // a room this client is not in: a hostile server's, or one just parted
  }
  if (room->history_ended) {
    // Before HISTORY_END the numbers may be of another epoch; its last_seq covers them.
    room->seq = std::max(room->seq, r.seq);
  }
  if (r.history == 0) {
    if (SameNick(r.from, nick_)) {
      return;  // our own line, sent back for its number: shown when it went (SendText)
    }
    AddKnownNick(r.from);
    if (room != &lobby_ && room->members.size() < kMaxRoomNicks && IsValidNick(r.from)) {
      room->members.emplace(r.from);
    }
    if (room == &lobby_) {
      // As the CHAT or ACTION_CHAT that a client without HISTORY is sent.
      if (r.action != 0) {
        HandleAction(msg::ActionChat{r.from, r.time_ms, r.text});
      } else {
        HandleChat(msg::Chat{r.from, 0, r.time_ms, r.text});
      }
      return;
    }
  }
  ShowSaid(*room, r.from, r.action != 0, r.time_ms, r.text, r.history != 0);
}

void ClientSession::ShowSaid(Room& room, std::string_view from, bool action, uint64_t time_ms,
                             std::string_view text, bool history) {
  if (ignored_.contains(from)) {
    return;
  }
  // A history line is shown with its own time and set apart, never as a mention: it was said
  // before we came. Displayed and dropped as a live line is: a server that sends history
  // without end makes the client keep nothing more.
  DisplayLine line;
  line.kind = action ? DisplayLine::Kind::kAction : DisplayLine::Kind::kChat;
  line.from = Shown(from);
  line.text = Shown(text);
  line.time_ms = time_ms;
  line.history = history;
  line.mention = !history && MentionsNick(text, nick_);
  line.room = RoomTag(room);
  display_(line);
  if (history) {
    room.history_shown = true;
  }
}

void ClientSession::HandleHistoryEnd(const msg::HistoryEnd& e) {
  Room* room = FindRoom(e.room);
  if (room == nullptr || !room->joined) {
    return;
  }
  const std::string name = Shown(room->name);
  if (room->history_shown) {
    ShowNotice(ManyRooms() ? Cat("end of history of ", name) : "end of history");
  }
  if (e.missed > 0) {
    ShowNotice(Cat(e.missed, e.missed == 1 ? " line was" : " lines were", " said", InRoom(*room),
                   " while you were away that the server no longer holds"));
  }
  if (room->epoch != 0 && e.epoch != room->epoch) {
    // A room besides #lobby goes with its last member: a new epoch is a new room, or a
    // restarted server.
    ShowNotice(room == &lobby_
                   ? Cat("the server restarted while you were away: what was said", InRoom(*room),
                         " before is gone")
                   : Cat("what was said in ", name,
                         " before is gone (the room was empty for a while, or the server "
                         "restarted)"));
  }
  room->epoch = e.epoch;
  room->seq = e.last_seq;
  room->history_ended = true;
  room->history_shown = false;
}

void ClientSession::HandleRoomJoined(const msg::RoomJoined& j) {
  Room* room = FindRoom(j.room);
  if (room == nullptr && joined_) {  // FindRoom finds #lobby in any case
    // Not asked for, or asked for and then taken for refused: the server has us in a room we
    // do not follow, where we would hold a place and never hear a line. Leave it, quietly.
    SendOrFail(msg::RoomPart{j.room});
    return;
  }
  if (room == nullptr || room == &lobby_ || room->joined || !room->join_sent) {
    return;  // not asked for on this connection: a hostile server's
  }
  if (SameNick(current_room_, room->name)) {
    current_room_ = std::string(j.room);  // the room lines go to, as the server spells it
  }
  room->name = std::string(j.room);  // the server's spelling
  room->topic = std::string(j.topic);
  room->joined = true;
  const std::string name = Shown(room->name);
  ShowNotice(Cat(rejoining_ && !room->switch_on_join ? "rejoined " : "joined ", name, " (",
                 j.members, j.members == 1 ? " member)" : " members)"));
  if (!room->topic.empty()) {
    ShowNotice(Cat("topic of ", name, ": ", Shown(room->topic)));
  }
  if (room->switch_on_join) {
    room->switch_on_join = false;
    SetCurrentRoom(*room);
  }
  SendNextJoin();
}

void ClientSession::HandleRoomEvent(const msg::RoomEvent& e) {
  Room* room = FindRoom(e.room);
  if (room == nullptr || !room->joined) {
    return;
  }
  const std::string name = Shown(room->name);
  const std::string nick = Shown(e.nick);
  switch (static_cast<proto::RoomEvent>(e.event)) {
    case proto::RoomEvent::kJoined:
      if (room == &lobby_) {
        return;  // #lobby's joins come as MEMBER_JOINED and its NOTICE
      }
      AddKnownNick(e.nick);
      if (room->members.size() < kMaxRoomNicks) {
        room->members.emplace(e.nick);
      }
      ShowNotice(Cat(nick, " joined ", name));
      return;
    case proto::RoomEvent::kLeft:
      if (room == &lobby_) {
        return;
      }
      if (SameNick(e.nick, nick_)) {
        // The answer to our ROOM_PART: the room and what we knew of it go.
        ShowNotice(Cat("you left ", name));
        RemoveRoom(e.room);
        return;
      }
      room->members.erase(std::string(e.nick));
      ShowNotice(Cat(nick, " left ", name));
      return;
    case proto::RoomEvent::kTopic:
      room->topic = std::string(e.text);
      ShowNotice(e.text.empty() ? Cat(nick, " cleared the topic of ", name)
                                : Cat(nick, " set the topic of ", name, ": ", Shown(e.text)));
      return;
  }
}

void ClientSession::HandleRoomInfo(const msg::RoomInfo& i) {
  if (room_lists_asked_ == 0) {
    return;  // unasked: shown for nobody
  }
  if (!room_list_started_) {
    room_list_started_ = true;
    ShowNotice("rooms:");
  }
  if (listed_rooms_.size() < kMaxListedRooms) {
    listed_rooms_.emplace(i.room);
  }
  ShowNotice(Cat("  ", Shown(i.room), " (", i.members, i.members == 1 ? " member)" : " members)",
                 i.topic.empty() ? "" : Cat(": ", Shown(i.topic))));
  if (const Room* room = FindRoom(i.room); room == &lobby_) {
    lobby_.topic = std::string(i.topic);  // #lobby's topic is known only from here and events
  }
  if (i.more == 0) {
    --room_lists_asked_;
    room_list_started_ = false;
  }
}

bool ClientSession::CollectPage(const std::vector<std::string_view>& nicks,
                                std::vector<std::string>* into, size_t* pages,
                                std::string_view answer) {
  // Bounded before anything is kept: a hostile server could otherwise send pages marked
  // "more" for ever and grow the client without limit.
  if (++*pages > kMaxWhoPages || nicks.size() > kMaxWhoNicks - into->size()) {
    Finish(kExitConnectionLost,
           Cat("connection closed: the server sent more than ",
               *pages > kMaxWhoPages ? Cat(kMaxWhoPages, " pages") : Cat(kMaxWhoNicks, " nicks"),
               " in one ", answer, " answer"));
    return false;
  }
  into->insert(into->end(), nicks.begin(), nicks.end());
  return true;
}

void ClientSession::HandleRoomUsers(const msg::RoomUsers& u) {
  Room* room = FindRoom(u.room);
  if (room == nullptr || !room->joined) {
    return;
  }
  if (!room_who_.empty() && !SameNick(room_who_room_, u.room)) {
    room_who_.clear();  // pages of another room's answer: an honest server never mixes them
    room_who_pages_ = 0;
  }
  room_who_room_ = room->name;
  if (!CollectPage(u.nicks, &room_who_, &room_who_pages_, "ROOM_WHO")) {
    return;
  }
  if (u.more != 0) {
    return;
  }
  ShowNotice(Cat("in ", Shown(room->name), " (", room_who_.size(), "): ",
                 absl::StrJoin(room_who_, " ", [](std::string* out, const std::string& nick) {
                   out->append(Shown(nick));
                 })));
  room->members.clear();
  for (const std::string& nick : room_who_) {
    AddKnownNick(nick);
    if (room->members.size() < kMaxRoomNicks && IsValidNick(nick)) {
      room->members.insert(nick);
    }
  }
  room_who_.clear();
  room_who_pages_ = 0;
}

void ClientSession::HandleWhois(const msg::WhoisReply& w) {
  const std::string nick = Shown(w.nick);
  ShowNotice(
      Cat(nick, ": online for ", FormatElapsed(w.online_ms), ", idle ", FormatElapsed(w.idle_ms)));
  if (!w.away.empty()) {
    ShowNotice(Cat(nick, " is away: ", Shown(w.away)));
  }
  if (w.key.empty()) {
    ShowNotice(Cat(nick, " has no user key (a guest)"));
    return;
  }
  Ed25519Public key;
  std::copy(w.key.begin(), w.key.end(), key.begin());  // the decoder checked: 32 bytes
  ShowNotice(Cat(nick, "'s key: ", Ed25519Fingerprint(key),
                 w.member != 0 ? " (a member)" : " (a guest: not on the members list)"));
}

void ClientSession::HandleUsers(const msg::Users& u) {
  if (!CollectPage(u.nicks, &who_, &who_pages_, "WHO")) {
    return;
  }
  if (u.more == 0) {
    ShowNotice(Cat("online (", who_.size(),
                   "): ", absl::StrJoin(who_, " ", [](std::string* out, const std::string& nick) {
                     out->append(Shown(nick));
                   })));
    nicks_.clear();
    for (const std::string& nick : who_) {
      AddKnownNick(nick);
    }
    who_.clear();
    who_pages_ = 0;
  }
}

void ClientSession::HandleError(const msg::Error& e) {
  if (history_sent_ && !joined_ && !awaiting_auth_ && e.fatal == 0 &&
      e.code == proto::ErrorCode::kUnknownKind) {
    // A server from before HISTORY (PROTOCOL.md 6.11): nothing to tell the user, who gets
    // the room's lines as CHAT, without history.
    return;
  }
  if (quit_sent_ && e.code == proto::ErrorCode::kUnknownKind) {
    // A server from before QUIT (PROTOCOL.md 6.10): leave with BYE, without the reason.
    ShowNotice("this server does not know /quit REASON: left without the reason");
    quit_sent_ = false;
    SendOrFail(msg::Bye{});
    return;
  }
  if (joined_ && e.fatal == 0 && e.code == proto::ErrorCode::kUnknownKind &&
      transfers_.NotRelayed()) {
    // A server from before file transfer (PROTOCOL.md 6.14): our offers were never taken.
    Refuse("this server does not relay files: not sent");
    return;
  }
  if (joined_ && e.fatal == 0 && e.code == proto::ErrorCode::kUnknownKind && room_asked_) {
    // A server from before rooms (PROTOCOL.md 6.13): #lobby is all it has. Every room asked
    // for goes; the server's answer names only the kind it did not know.
    Refuse("this server has no rooms besides #lobby");
    std::vector<std::string> asked;
    for (const Room& room : rooms_) {
      if (!room.joined) {
        asked.push_back(room.name);
      }
    }
    for (const std::string& name : asked) {
      RemoveRoom(name);
    }
    return;
  }
  if (joined_ && e.fatal == 0 &&
      (e.code == proto::ErrorCode::kRoomRefused || e.code == proto::ErrorCode::kRoomLimit)) {
    // The server answers in order, so a refusal while a ROOM_JOIN waits is that join's, unless
    // a ROOM_* sent before it was refused too (a room just parted): then the join's own answer,
    // a ROOM_JOINED for a room no longer asked for, is dropped as unasked.
    if (const auto it = std::find_if(rooms_.begin(), rooms_.end(),
                                     [](const Room& r) { return r.join_sent && !r.joined; });
        it != rooms_.end()) {
      const std::string name = it->name;
      Refuse(Cat(Shown(e.text), " (", Shown(name), ")"));
      RemoveRoom(name);
      SendNextJoin();
      return;
    }
  }
  if (joined_ && e.fatal == 0) {
    Refuse(Shown(e.text));  // the answer to something we sent: it had no effect
  } else {
    ShowError(Shown(e.text));
  }
  if (e.code == proto::ErrorCode::kAuthFailed) {
    Finish(kExitAuthRefused, Cat("refused by the server: ", Shown(e.text)));
    return;
  }
  // An operator's decision (PROTOCOL.md 6.12) is never undone by coming straight back: the
  // exit code is not one --reconnect retries.
  if (e.fatal != 0 &&
      (e.code == proto::ErrorCode::kRemoved || e.code == proto::ErrorCode::kBanned)) {
    Finish(kExitRemoved, Cat(joined_ ? "removed from the chat: " : "cannot join: ", Shown(e.text)));
    return;
  }
  if (awaiting_auth_ && e.code == proto::ErrorCode::kUnknownKind) {
    // A server from before AUTH: we do not fall back to joining as a guest unasked.
    Finish(kExitAuthRefused,
           "this server does not take user keys (it does not know AUTH); "
           "--identity=none joins it as a guest");
    return;
  }
  const bool refused =
      e.code == proto::ErrorCode::kNickTaken || e.code == proto::ErrorCode::kInvalidNick;
  // A member holds only its listed nick (PROTOCOL.md 6.9): no alternate would be accepted.
  if (!joined_ && refused && alternate_nicks_ && !listed_member_ &&
      alternates_tried_ < kMaxAlternateNicks) {
    // The nick asked for is the one before any alternate: alice2 is followed by alice3.
    const std::string wanted = alternates_tried_ == 0 ? nick_ : nick_.substr(0, nick_.size() - 1);
    const std::string next = AlternateNick(wanted, ++alternates_tried_);
    ShowNotice(Cat("trying ", next, " instead of ", Shown(nick_)));
    nick_ = next;
    SendJoin();
  } else if (!joined_ && refused) {
    Finish(kExitNickRefused, Cat("cannot join as ", Shown(nick_), ": ", Shown(e.text)));
  } else if (e.code == proto::ErrorCode::kShuttingDown) {
    shutting_down_ = true;
  }
}

// HandleRenamed follows a rename, our own included: the nick set, our nick and the ignore
// list take the new nick.
void ClientSession::HandleRenamed(const msg::MemberRenamed& r) {
  nicks_.erase(std::string(r.old_nick));
  AddKnownNick(r.new_nick);
  if (SameNick(r.old_nick, nick_)) {
    nick_ = std::string(r.new_nick);
  }
  for (Room& room : rooms_) {
    if (room.members.erase(std::string(r.old_nick)) != 0) {
      room.members.emplace(r.new_nick);
    }
  }
  if (ignored_.erase(std::string(r.old_nick)) != 0) {
    ignored_.emplace(r.new_nick);
  }
  for (std::string* nick : {&query_, &last_whisperer_}) {
    if (SameNick(*nick, r.old_nick)) {
      *nick = std::string(r.new_nick);
    }
  }
}

bool ClientSession::SendOrFail(const msg::ClientMessage& m) {
  if (clock_) {
    last_sent_ms_ = clock_();
  }
  if (!conn_->Send(m)) {
    Finish(kExitConnectionLost, "connection lost: cannot send");
    return false;
  }
  return true;
}

void ClientSession::InputLine(std::string_view line) {
  if (finished_ || bye_sent_) {
    return;
  }
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (line.empty()) {
    return;
  }
  if (std::string_view rest;
      !joined_ && queued_.empty() && IsCommandLine(line) && CommandOf(line, &rest) == "quit") {
    // Still connecting, nothing typed yet: /quit does not wait for a WELCOME that may never
    // come. After lines typed or piped in before the WELCOME it waits its turn, so that a
    // script's lines go out in order (Ctrl-C leaves at once). A server that has finished the
    // handshake is told, so that its log says the client left, not that it failed.
    if (conn_->state() == ClientConnection::State::kEstablished) {
      SendOrFail(msg::Bye{});
    }
    Finish(kExitOk, "");
    return;
  }
  const size_t cost = line.size() + kQueuedLineOverhead;
  if (cost > kMaxQueuedBytes - queued_bytes_) {
    if (!queue_full_shown_) {
      queue_full_shown_ = true;
      Refuse(Cat("not sent: ", queued_.size(),
                 " lines are already waiting to be sent; type it again once they are"));
    }
    return;
  }
  queued_.emplace_back(line);
  queued_bytes_ += cost;
  if (joined_) {
    FlushQueued();
  }
}

void ClientSession::FlushQueued() {
  while (!queued_.empty() && !finished_ && !bye_sent_) {
    if (clock_ && !pace_.Take(clock_())) {
      return;  // Tick sends the rest as the pace allows
    }
    std::string line = std::move(queued_.front());
    queued_.pop_front();
    queued_bytes_ -= line.size() + kQueuedLineOverhead;
    if (queued_.empty()) {
      queue_full_shown_ = false;
    }
    Execute(line);
  }
  // Piped input that ended says goodbye once its files have gone (or been received).
  if (input_done_ && queued_.empty() && !bye_sent_ && !finished_ && !transfers_.Busy()) {
    SendOrFail(msg::Bye{});
    bye_sent_ = true;
  }
}

void ClientSession::Tick() {
  if (finished_) {
    return;
  }
  if (joined_) {
    transfers_.Pump();
  }
  if (!clock_) {
    return;
  }
  if (!joined_) {
    if (handshake_deadline_ms_ && clock_() >= *handshake_deadline_ms_) {
      Finish(kExitConnectionLost, Cat("connection lost: the server did not complete the "
                                      "handshake within ",
                                      FormatSeconds(handshake_timeout_ms_)));
    }
    return;
  }
  FlushQueued();
  if (!bye_sent_ && !finished_ && clock_() - last_sent_ms_ >= kKeepaliveMs) {
    SendOrFail(msg::Ping{});
  }
}

std::optional<uint64_t> ClientSession::MsUntilTick() {
  if (finished_) {
    return std::nullopt;
  }
  if (joined_ && transfers_.WantsPump()) {
    return 0;  // the output has drained below FileTransfers::kMaxUnsent: the next chunks
  }
  if (!clock_) {
    return std::nullopt;
  }
  const uint64_t now = clock_();
  if (!joined_) {
    if (!handshake_deadline_ms_) {
      return std::nullopt;
    }
    return *handshake_deadline_ms_ > now ? *handshake_deadline_ms_ - now : 0;
  }
  if (!queued_.empty()) {
    return pace_.MsUntilToken(now);
  }
  const uint64_t idle = now - last_sent_ms_;
  return idle >= kKeepaliveMs ? 0 : kKeepaliveMs - idle;
}

void ClientSession::SendText(std::string_view to, std::string_view text) {
  // A line longer than one message goes as several, cut between characters (SplitText).
  const std::vector<std::string_view> pieces = SplitText(text);
  if (pieces.empty()) {
    Refuse("not sent: the line has control characters or invalid UTF-8");
    return;
  }
  for (std::string_view piece : pieces) {
    if (to.empty()) {
      if (!SayInRoom(/*action=*/false, piece)) {
        return;
      }
      continue;
    }
    if (!SendOrFail(msg::Whisper{to, piece})) {
      return;
    }
    // Confirmed as irssi does: what was sent, to whom. The server may still refuse it (no
    // such user), which then follows as an error.
    DisplayLine sent;
    sent.kind = DisplayLine::Kind::kSentPrivate;
    sent.from = Shown(to);
    sent.text = Shown(piece);
    display_(sent);
  }
}

void ClientSession::SendAction(std::string_view text) {
  const std::vector<std::string_view> pieces = SplitText(text);
  if (pieces.empty()) {
    Refuse("not sent: the line has control characters or invalid UTF-8");
    return;
  }
  for (std::string_view piece : pieces) {
    if (!SayInRoom(/*action=*/true, piece)) {
      return;
    }
  }
}

bool ClientSession::SayInRoom(bool action, std::string_view piece) {
  const Room* room = FindRoom(current_room_);
  if (room == nullptr) {
    room = &lobby_;
  }
  if (!MaySendTo(*room, "not sent")) {
    return false;
  }
  // #lobby's lines go as they always went, so that nothing changes with a server from before
  // rooms; another room's as ROOM_SAY.
  bool sent = false;
  if (room == &lobby_) {
    sent = action ? SendOrFail(msg::Action{piece}) : SendOrFail(msg::Say{piece});
  } else {
    sent = SendOrFail(msg::RoomSay{room->name, action ? uint8_t{1} : uint8_t{0}, piece});
  }
  if (sent && show_own_lines_) {
    // The line as it went out: the server sends #lobby's no copy, and another room's copy
    // (for its number) is not shown again (HandleRoomLine).
    DisplayLine own;
    own.kind = action ? DisplayLine::Kind::kAction : DisplayLine::Kind::kSentChat;
    own.from = Shown(nick_);
    own.text = Shown(piece);
    own.room = RoomTag(*room);
    display_(own);
  }
  return sent;
}

bool ClientSession::CheckReason(std::string_view reason) {
  if (reason.size() > proto::kMaxReasonLen) {
    Refuse(Cat("not sent: a reason is at most ", proto::kMaxReasonLen, " bytes"));
    return false;
  }
  if (!reason.empty() && !IsValidText(reason)) {
    Refuse("not sent: the reason has control characters or invalid UTF-8");
    return false;
  }
  return true;
}

void ClientSession::Leave(std::string_view reason) {
  if (reason.empty()) {
    SendOrFail(msg::Bye{});
  } else {
    quit_sent_ = SendOrFail(msg::Quit{reason});
  }
  bye_sent_ = true;
}

void ClientSession::Execute(std::string_view line) {
  if (!IsCommandLine(line)) {
    SendText(query_, line.front() == '/' ? line.substr(1) : line);
    return;
  }
  std::string_view rest;
  // Commands are taken in any case, as irssi and WeeChat take them: /WHO is /who.
  const std::string command = CommandOf(line, &rest);
  if (command == "msg") {
    const std::string_view to = SplitWord(&rest);
    if (to.empty() || rest.empty()) {
      Refuse("usage: /msg NICK TEXT");
    } else if (CheckNickArgument(to)) {
      SendText(to, rest);
    }
  } else if (command == "reply") {
    if (rest.empty()) {
      Refuse("usage: /reply TEXT");
    } else if (last_whisperer_.empty()) {
      Refuse("not sent: nobody has whispered to you yet");
    } else {
      SendText(last_whisperer_, rest);
    }
  } else if (command == "me") {
    if (rest.empty()) {
      Refuse("usage: /me TEXT");
    } else if (!query_.empty()) {
      // An action goes to the whole room: never let it leave a private conversation unasked.
      Refuse(Cat("not sent: /me goes to the room, and you are talking to ", Shown(query_),
                 " only; /query alone first"));
    } else {
      SendAction(rest);
    }
  } else if (command == "who" || command == "whois") {
    const std::string_view nick = SplitWord(&rest);
    if (!rest.empty() || (command == "whois" && nick.empty())) {
      Refuse(command == "who" ? "usage: /who [NICK]" : "usage: /whois NICK");
    } else if (nick.empty() && SameNick(current_room_, lobby_.name)) {
      SendOrFail(msg::Who{});
    } else if (nick.empty()) {
      const Room* room = FindRoom(current_room_);
      if (room != nullptr && MaySendTo(*room, "not asked")) {
        room_asked_ = true;
        SendOrFail(msg::RoomWho{room->name});
      }
    } else if (CheckNickArgument(nick)) {
      SendOrFail(msg::Whois{nick});
    }
  } else if (command == "away" || command == "back") {
    if (command == "back" && !rest.empty()) {
      Refuse("usage: /back");
    } else if (CheckReason(rest)) {
      SendOrFail(msg::Away{rest});
    }
  } else if (command == "nick") {
    const std::string_view nick = SplitWord(&rest);
    if (nick.empty() || !rest.empty()) {
      Refuse("usage: /nick NEW");
    } else if (nick == nick_) {
      // The server would do nothing and say nothing (PROTOCOL.md 6.2); say it here.
      ShowNotice(Cat("you are already ", Shown(nick)));
    } else if (CheckNickArgument(nick)) {
      SendOrFail(msg::Nick{nick});
    }
  } else if (command == "kick" || command == "ban" || command == "unban" || command == "mute" ||
             command == "unmute" || command == "bans") {
    // An operator's command (PROTOCOL.md 6.12): the server reads it as its console reads one,
    // judges whether this key may, and answers in NOTICEs.
    const std::string moderate = rest.empty() ? Cat("/", command) : Cat("/", command, " ", rest);
    if (!IsValidText(moderate)) {
      Refuse("not sent: the command has control characters or invalid UTF-8, or is too long");
    } else {
      SendOrFail(msg::Moderate{moderate});
    }
  } else if (command == "quit") {
    // Nobody is kept for a bad reason (PROTOCOL.md 6.10): it is left out, saying so.
    if (!rest.empty() && (rest.size() > proto::kMaxReasonLen || !IsValidText(rest))) {
      ShowNotice(Cat("leaving without the reason: a reason is at most ", proto::kMaxReasonLen,
                     " bytes of text without control characters"));
      rest = {};
    }
    Leave(rest);
  } else if (!ExecuteRoomCommand(command, rest) && !transfers_.Command(command, rest) &&
             !ExecuteLocal(command, rest)) {
    Refuse(Cat("unknown command /", Shown(command), "; /help lists the commands"));
  }
}

std::optional<std::string> ClientSession::RoomArgument(std::string_view word) {
  // "dev" is taken for "#dev", as irssi takes a channel without its '#'.
  std::string room = word.starts_with(proto::kRoomPrefix)
                         ? std::string(word)
                         : Cat(std::string(1, proto::kRoomPrefix), word);
  if (!IsValidRoom(room)) {
    // The rule, not the name: it may be thousands of bytes long.
    Refuse(Cat("not sent: a room is # and 1 to ", proto::kMaxRoomLen - 1, " of A-Z a-z 0-9 _ . -"));
    return std::nullopt;
  }
  return room;
}

bool ClientSession::ExecuteRoomCommand(std::string_view command, std::string_view rest) {
  if (command == "join" || command == "switch") {
    const std::string_view word = SplitWord(&rest);
    if (word.empty() || !rest.empty()) {
      Refuse(Cat("usage: /", command, " #ROOM"));
      return true;
    }
    const std::optional<std::string> name = RoomArgument(word);
    if (!name) {
      return true;
    }
    if (const Room* room = FindRoom(*name); room != nullptr && room->joined) {
      if (SameNick(room->name, current_room_)) {
        ShowNotice(Cat("lines you type already go to ", Shown(room->name)));
      } else {
        SetCurrentRoom(*room);
      }
    } else if (room != nullptr) {
      ShowNotice(Cat("still joining ", Shown(room->name)));
    } else if (command == "switch") {
      Refuse(Cat("you are not in ", *name, "; /join ", *name, " first"));
    } else if (rooms_.size() >= kMaxRooms) {
      Refuse(Cat("not sent: this client is in at most ", kMaxRooms,
                 " rooms besides #lobby; /part one first"));
    } else {
      rooms_.emplace_back(*name);
      rooms_.back().switch_on_join = true;
      SendNextJoin();  // at once, unless another join is still unanswered
    }
  } else if (command == "part") {
    const std::string_view word = SplitWord(&rest);
    if (!rest.empty()) {
      Refuse("usage: /part [#ROOM]");
      return true;
    }
    const std::optional<std::string> name =
        word.empty() ? std::optional<std::string>(current_room_) : RoomArgument(word);
    if (!name) {
      return true;
    }
    Room* room = FindRoom(*name);
    if (room == &lobby_) {
      Refuse("#lobby cannot be left: everyone is in it while connected (/quit leaves the chat)");
    } else if (room == nullptr || !room->joined) {
      Refuse(Cat("not sent: you are not in ", *name));
    } else if (room->parting) {
      Refuse(Cat("not sent: you are already leaving ", Shown(room->name)));
    } else {
      room_asked_ = true;
      room->parting = SendOrFail(msg::RoomPart{room->name});  // ROOM_EVENT "left" answers it
    }
  } else if (command == "rooms") {
    if (!rest.empty()) {
      Refuse("usage: /rooms");
    } else {
      room_asked_ = true;
      room_lists_asked_ += SendOrFail(msg::RoomList{}) ? 1 : 0;
    }
  } else if (command == "topic") {
    const Room* room = FindRoom(current_room_);
    if (room == nullptr) {
      room = &lobby_;
    }
    const std::string name = Shown(room->name);
    if (rest.empty()) {
      ShowNotice(!room->topic.empty() ? Cat("topic of ", name, ": ", Shown(room->topic))
                 : room == &lobby_    ? "no topic of #lobby known here (/rooms lists them)"
                                      : Cat(name, " has no topic"));
      return true;
    }
    if (!MaySendTo(*room, "not sent")) {
      return true;
    }
    const std::string_view topic = rest == "-delete" ? std::string_view() : rest;
    if (topic.size() > proto::kMaxTopicLen || (!topic.empty() && !IsValidText(topic))) {
      Refuse(Cat("not sent: a topic is at most ", proto::kMaxTopicLen,
                 " bytes, without control characters or invalid UTF-8"));
      return true;
    }
    room_asked_ = true;
    SendOrFail(msg::RoomTopic{room->name, topic});  // ROOM_EVENT "topic" answers it
  } else {
    return false;
  }
  return true;
}

bool ClientSession::CheckNickArgument(std::string_view nick) {
  if (IsValidNick(nick)) {
    return true;
  }
  // The rule, not the nick: it may be thousands of bytes long.
  Refuse(Cat("not sent: a nick is 1 to ", proto::kMaxNickLen, " of A-Z a-z 0-9 _ . -"));
  return false;
}

bool ClientSession::ExecuteLocal(std::string_view command, std::string_view rest) {
  if (command == "help") {
    for (const std::string& l : HelpLines()) {
      ShowNotice(l.substr(4));  // HelpLines carry the "-!- " that ShowNotice adds
    }
  } else if (command == "query") {
    const std::string_view nick = SplitWord(&rest);
    if (!rest.empty()) {
      Refuse("usage: /query [NICK]");
    } else if (nick.empty()) {
      ShowNotice(query_.empty() ? "not in a private conversation"
                                : Cat("lines go to the room again, no longer to ", query_));
      query_.clear();
    } else if (CheckNickArgument(nick)) {
      query_ = std::string(nick);
      ShowNotice(Cat("lines you type now go to ", query_, " only; /query alone ends it"));
    }
  } else if (command == "ignore" || command == "unignore") {
    const std::string_view nick = SplitWord(&rest);
    if (!rest.empty() || (command == "unignore" && nick.empty())) {
      Refuse(command == "ignore" ? "usage: /ignore [NICK]" : "usage: /unignore NICK");
    } else if (nick.empty()) {
      ShowNotice(ignored_.empty()
                     ? "ignoring nobody"
                     : Cat("ignoring (", ignored_.size(), "): ", absl::StrJoin(ignored_, " ")));
    } else if (!IsValidNick(nick)) {
      Refuse(Cat("not a nick: ", Shown(nick)));
    } else if (command == "unignore") {
      if (const auto it = ignored_.find(nick); it != ignored_.end()) {
        ignored_.erase(it);
        ShowNotice(Cat("no longer ignoring ", nick));
      } else {
        Refuse(Cat("not ignoring ", nick));
      }
    } else if (SameNick(nick, nick_)) {
      Refuse("you cannot ignore yourself");
    } else if (!ignored_.insert(std::string(nick)).second) {
      ShowNotice(Cat("already ignoring ", nick));
    } else {
      ShowNotice(Cat("ignoring ", nick, " for this session; /unignore ", nick, " to undo"));
    }
  } else {
    return false;
  }
  return true;
}

bool ClientSession::OfflineLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (line.empty()) {
    return false;
  }
  if (IsCommandLine(line)) {
    std::string_view rest;
    const std::string command = CommandOf(line, &rest);
    if (command == "quit") {
      return true;
    }
    if (ExecuteLocal(command, rest)) {
      return false;
    }
  }
  Refuse("not sent: not connected (reconnecting; /quit to leave)");
  return false;
}

void ClientSession::InputEof() {
  input_done_ = true;
  if (joined_) {
    FlushQueued();
  }
}

}  // namespace securechat
