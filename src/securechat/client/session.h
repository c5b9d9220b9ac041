// ClientSession: what the terminal client does with a connection, without a socket or a
// terminal. It joins with the chosen nick, turns typed lines into messages, turns server
// messages into display lines (every byte from the network escaped), keeps what lasts for the
// whole session (the nick, the nicks it has seen, the ignore list, the rooms it is in and how
// far it has seen each) across reconnections, and
// decides when the program is done and with which exit code.
#ifndef SECURECHAT_CLIENT_SESSION_H_
#define SECURECHAT_CLIENT_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/client/display.h"
#include "securechat/client/files.h"
#include "securechat/client/transfers.h"
#include "securechat/crypto/auth.h"
#include "securechat/engine/client_connection.h"
#include "securechat/engine/token_bucket.h"
#include "securechat/wire/nick.h"

namespace securechat {

// The client's exit codes; README.md lists them.
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,           // bad flags, unreadable key file
  kExitCannotConnect = 2,   // connection refused, host unreachable, name not found
  kExitConfirmFailed = 3,   // server key confirmation failed
  kExitServerFull = 4,      // ALERT 1 or 3
  kExitNickRefused = 5,     // ERROR 3 or 4 in answer to JOIN
  kExitConnectionLost = 6,  // closed, reset, protocol error, fatal ERROR, shutdown
  kExitVersion = 7,         // ALERT 2: the server does not speak this version
  kExitLinesRefused = 8,    // left normally, but lines typed or piped in were refused
  kExitAuthRefused = 9,     // ERROR 10: the server refused our key, or admits members only
  kExitRemoved = 10,        // ERROR 11 or 12: an operator removed us (kick) or a ban holds us
};

// AlternateNick is the `n`th nick to try (1 to kMaxAlternateNicks) when `nick` is refused at
// JOIN: `nick` with the digit n + 1 at the end ("alice2"), cut so that it stays within the
// nick length. A digit, not irssi's "_": a trailing "_" does not change what a nick looks like
// (PROTOCOL.md 6.1), so "alice_" would be refused as a look-alike of "alice".
inline constexpr int kMaxAlternateNicks = 8;
std::string AlternateNick(std::string_view nick, int n);

// FormatSeconds writes a duration in milliseconds for people: "10 s", "1.5 s".
std::string FormatSeconds(uint64_t ms);
// FormatElapsed writes a span for people, to the unit that matters: "42 s", "5 min",
// "1 h 3 min", "2 d 4 h".
std::string FormatElapsed(uint64_t ms);

// A set of nicks in which "ALICE" is "alice", as the server keeps them (wire/nick.h).
using NickSet = std::set<std::string, NickLess>;

class ClientSession {
 public:
  using Printer = std::function<void(std::string_view line)>;
  using Display = std::function<void(const DisplayLine& line)>;

  using Clock = std::function<uint64_t()>;  // monotonic milliseconds

  // The client's own pace, a little under the server's default limit (5 per second, bursts
  // of 10), so that a pasted or piped batch of lines is sent whole instead of being refused.
  static constexpr double kSendRate = 4;
  static constexpr double kSendBurst = 8;
  // The client PINGs after this long without sending, so the server's idle timeout (300 s by
  // default) never closes a healthy quiet client.
  static constexpr uint64_t kKeepaliveMs = 60'000;
  // The server must WELCOME us within this long of the connection being made, or the
  // connection counts as lost (exit 6, or another try with --reconnect). The same default as
  // the server's --handshake_timeout; a server that never answers, or trickles its answer,
  // cannot hold the client longer.
  static constexpr uint64_t kHandshakeTimeoutMs = 10'000;

  // Bounds on what the client keeps from the network. WELCOME counts the people online in a
  // u16, so no server this protocol can describe lists more than 65535 of them in one WHO
  // answer (ours, a select() server, holds at most FD_SETSIZE connections); an honest server
  // sends at least one nick per USERS page. A server that goes past either bound is hostile:
  // the client closes the connection with exit 6.
  static constexpr size_t kMaxWhoNicks = std::numeric_limits<uint16_t>::max();
  static constexpr size_t kMaxWhoPages = kMaxWhoNicks;
  // The nicks kept for completion. Leaves and renames take nicks out and every WHO answer
  // replaces the set, so an honest room stays below this; past it, new nicks are not added
  // (the set is not evicted: a server that floods it can forge any CHAT anyway, and the next
  // WHO answer starts it afresh).
  static constexpr size_t kMaxKnownNicks = kMaxWhoNicks;
  // Typed lines waiting to be sent (before WELCOME, or held back by the pace), counted as
  // their bytes plus kQueuedLineOverhead each. A line past the bound is refused with a note;
  // the input loop stops reading input while more than half of it is used (WantsInput), so a
  // piped file is sent whole without ever coming near the bound.
  static constexpr size_t kMaxQueuedBytes = 1 << 20;
  static constexpr size_t kQueuedLineOverhead = sizeof(std::string);
  // Rooms besides #lobby (PROTOCOL.md 6.13) that the client joins or asks to join: past it
  // /join is refused here. A server keeps clients to 10 by default (--max_rooms_per_client).
  static constexpr size_t kMaxRooms = 64;
  // The members kept per room, for completion; as kMaxKnownNicks, new nicks past it are not
  // added. Smaller than a WHO answer: kMaxRooms of them are kept at once.
  static constexpr size_t kMaxRoomNicks = 4096;
  // Room names seen in /rooms answers, kept for completing /join; past it none are added.
  static constexpr size_t kMaxListedRooms = 1024;

  // `conn` must outlive the session (or its Reattach); `print` receives one plain display
  // line at a time (PlainLine). With a clock, lines are paced and keepalive PINGs are sent
  // (see Tick); without one, neither.
  ClientSession(ClientConnection& conn, std::string nick, Printer print, Clock clock = {});
  // The same with structured lines, for a formatter.
  ClientSession(ClientConnection& conn, std::string nick, Display display, Clock clock = {});

  // With `on`, the session asks for the list of who is online as soon as it has joined, so
  // that their nicks complete at once (interactive mode).
  void set_who_on_join(bool on) { who_on_join_ = on; }
  // With `on`, every line said to the room is shown as our own line ("<nick> text",
  // DisplayLine::Kind::kSentChat) when it is sent, not when it is typed: a line that waits for
  // WELCOME or for the pace shows when it goes, and each piece of a split line shows. For a
  // terminal, whose editor takes the typed line off the screen; off (the default), a said line
  // is not shown, as a pipe's output has always been.
  void set_show_own_lines(bool on) { show_own_lines_ = on; }
  // How long the server may take from connect to WELCOME (default kHandshakeTimeoutMs).
  void set_handshake_timeout_ms(uint64_t ms) { handshake_timeout_ms_ = ms; }
  // With `on`, a nick the server refuses at JOIN (taken, or a look-alike of one online) is
  // tried again as nick2, nick3, ... nick9 (AlternateNick), saying so, as irssi tries an
  // alternate nick; without it (the default) the session finishes with kExitNickRefused.
  void set_alternate_nicks(bool on) { alternate_nicks_ = on; }
  // The notice shown on every connection once the server has proved that it holds the pinned
  // key (ClientConnection::Step::kEstablished), never before: "connected to ADDRESS; server
  // key SHA256:...". Empty (the default): nothing is shown.
  void set_established_notice(std::string text) { established_notice_ = std::move(text); }

  // With a user key, the session authenticates (AUTH, PROTOCOL.md 6.9) on every connection
  // before it joins; without one (the default) it joins as a guest. `key` must outlive the
  // session. Signing may block briefly (ssh-agent is asked over a local socket).
  void set_user_key(UserKey* key) { user_key_ = key; }

  // File transfer (PROTOCOL.md 6.14): without a file system (the default) /send and /accept
  // are refused and offers are declined. `files` must outlive the session; files accepted
  // without a folder go to `download_dir`.
  void set_files(FileSystem* files, std::string download_dir) {
    transfers_.set_files(files, std::move(download_dir));
  }
  // With `on`, transfer progress is kept for TransferStatus (a terminal shows it in place)
  // instead of printed as a line every 10%.
  void set_progress_in_place(bool on) { transfers_.set_progress_in_place(on); }
  // TransferStatus is a short line about the transfers under way, changed at most 4 times a
  // second; empty when none is (FileTransfers::Status).
  std::string TransferStatus() { return transfers_.Status(); }

  // Reattach starts over on a fresh connection (`conn` must outlive the session): joined,
  // finished and the exit code are reset; the nick (as last renamed), the nicks seen, the
  // ignore list, lines not yet sent, how far #lobby's history was seen (history_epoch,
  // history_seq) and the other rooms, with how far each was seen (joined again after the next
  // WELCOME) and the current room, are kept. The next WELCOME says "rejoined" if an earlier
  // connection was welcomed, "joined" if none was.
  void Reattach(ClientConnection& conn);

  // Connected starts the handshake deadline of the current connection: if WELCOME has not
  // arrived handshake_timeout later, Tick finishes the session with kExitConnectionLost. The
  // loop calls it as soon as the socket is connected. Without a clock it does nothing.
  void Connected();
  // Received feeds bytes from the server.
  void Received(ByteView bytes);
  // ServerClosed: the server closed the connection (or the socket failed).
  void ServerClosed();
  // InputLine handles one typed line (without its newline).
  void InputLine(std::string_view line);
  // InputEof: no more input. Queued lines are sent, then BYE.
  void InputEof();
  // WantsInput is false while so many typed lines wait to be sent that the caller should stop
  // reading input for now.
  bool WantsInput() const { return queued_bytes_ <= kMaxQueuedBytes / 2; }
  // Tick sends what the pace allows and the keepalive PING when due, and ends a connection
  // whose handshake deadline (Connected) has passed.
  void Tick();
  // MsUntilTick: how long the caller may wait before Tick has work (nullopt: nothing timed).
  std::optional<uint64_t> MsUntilTick();
  // OfflineLine handles a line typed while there is no connection (waiting to reconnect):
  // /help, /ignore and /unignore work, /quit returns true, anything else is refused with a
  // note and never queued.
  bool OfflineLine(std::string_view line);
  // ShowNotice and ShowError display a client-side "-!- text" or "!! text" line; `text` must
  // not hold bytes from the network unless escaped.
  void ShowNotice(std::string text);
  void ShowError(std::string text);

  bool finished() const { return finished_; }
  int exit_code() const { return exit_code_; }
  // The one-line reason to show when the session ended with an error ("" on success).
  const std::string& final_message() const { return final_message_; }
  bool joined() const { return joined_; }
  // What the next HISTORY says we have seen (PROTOCOL.md 6.11): the epoch of the last
  // HISTORY_END and the largest line number since (its last_seq, then each ROOM_LINE's seq);
  // 0 and 0 before any HISTORY_END.
  uint64_t history_epoch() const { return lobby_.epoch; }
  uint64_t history_seq() const { return lobby_.seq; }
  // The nick we have (or asked for, before the first WELCOME), following MEMBER_RENAMED.
  const std::string& nick() const { return nick_; }

  // The rooms joined, #lobby first, then the others in the order they were joined, as the
  // server spells them; Alt-1 to Alt-9 pick from this list. A room asked for but not yet
  // joined is not in it.
  std::vector<std::string> Rooms() const;
  // The room typed lines go to: #lobby unless /join or /switch chose another.
  const std::string& current_room() const { return current_room_; }
  // RoomHistory sets what the next ROOM_JOIN of `room` says we have seen of it (its epoch and
  // last line number, as history_epoch() and history_seq() for #lobby) and returns true, or
  // returns false if the client is not in `room` and has not asked to be.
  bool RoomHistory(std::string_view room, uint64_t* epoch, uint64_t* seq) const;
  // SwitchToRoom makes the `n`th of Rooms() (from 1) the current room, saying so; a note if
  // there is none. SwitchRoomBy steps through Rooms() (1: the next, -1: the previous), round
  // from the last to the first. Both are for keys (Alt-1..9, Ctrl-N, Ctrl-P).
  void SwitchToRoom(size_t n);
  void SwitchRoomBy(int step);
  // KnownRooms: the rooms joined and the rooms the last /rooms answers listed, sorted, for
  // completion; at most 1 + kMaxRooms + kMaxListedRooms.
  std::vector<std::string> KnownRooms() const;

  // KnownNicks: the other nicks seen (USERS, MEMBER_JOINED, MEMBER_LEFT and MEMBER_RENAMED,
  // CHAT senders), sorted, for completion; at most kMaxKnownNicks. NOTICE text is never read:
  // with a server that sends only NOTICEs, the set follows WHO answers and CHAT alone.
  std::vector<std::string> KnownNicks() const;
  // The nick lines typed go to (/query), or empty: the room.
  const std::string& query() const { return query_; }
  // The ignored nicks as typed (or as renamed), sorted without regard to case.
  const NickSet& ignored() const { return ignored_; }

  // The lines /help prints.
  static std::vector<std::string> HelpLines();
  // The command names, with their '/', for completion.
  static std::vector<std::string> Commands();

 private:
  // A room the client is in or has asked to join (PROTOCOL.md 6.13, and 6.11 for its
  // history). #lobby is one too: joined from WELCOME until the connection ends.
  struct Room {
    explicit Room(std::string room) : name(std::move(room)) {}
    std::string name;   // as the server spells it (as typed until ROOM_JOINED)
    std::string topic;  // as received (escaped when shown); empty: none, or not known
    NickSet members;    // valid nicks only, at most kMaxRoomNicks
    // What the next ROOM_JOIN (HISTORY for #lobby) says was seen, kept across connections:
    // the epoch of the last HISTORY_END and the largest line number since.
    uint64_t epoch = 0;
    uint64_t seq = 0;
    bool joined = false;          // ROOM_JOINED (WELCOME for #lobby) on this connection
    bool join_sent = false;       // its ROOM_JOIN went out on this connection
    bool parting = false;         // its ROOM_PART went out: nothing more is sent to it
    bool switch_on_join = false;  // asked by /join: it becomes the current room once joined
    bool history_ended = false;   // HISTORY_END received on this connection
    bool history_shown = false;   // a history line was shown since the last HISTORY_END
  };
  // SendNextJoin sends the ROOM_JOIN of the next room asked for, the current room first,
  // unless one is still unanswered: one at a time, so that a refusal (ERROR 15 or 16, which
  // name no room) is always that join's, and so that a client coming back to ten rooms does
  // not spend its rate, and the server's queue for it, all at once.
  void SendNextJoin();
  // MaySendTo is true when `room` may be sent a line, a topic or a WHO: #lobby, or a room whose
  // ROOM_JOIN went out (the server handles it first) and that is not being left. Otherwise it
  // says why not, with `what` ("not sent") first.
  bool MaySendTo(const Room& room, std::string_view what);
  // FindRoom returns the room named `name` (in any case) that the client is in or has asked
  // to join, or nullptr.
  Room* FindRoom(std::string_view name);
  const Room* FindRoom(std::string_view name) const;
  // ManyRooms is true while a room besides #lobby is joined: room lines and notices then say
  // which room they are of.
  bool ManyRooms() const;
  // RoomTag is the room's name for a DisplayLine's room, or empty while one room is joined.
  std::string RoomTag(const Room& room) const;
  // InRoom is " in #dev" for notices about `room`, or empty while one room is joined.
  std::string InRoom(const Room& room) const;
  // ShowSaid shows a line said in `room`, now or (history) before we joined it, unless its
  // sender is ignored; a line said now may mention us.
  void ShowSaid(Room& room, std::string_view from, bool action, uint64_t time_ms,
                std::string_view text, bool history);
  void HandleRoomJoined(const msg::RoomJoined& j);
  void HandleRoomEvent(const msg::RoomEvent& e);
  void HandleRoomInfo(const msg::RoomInfo& i);
  void HandleRoomUsers(const msg::RoomUsers& u);
  // CollectPage adds one USERS or ROOM_USERS page to *into, bounded by kMaxWhoPages and
  // kMaxWhoNicks; past them the session finishes (a hostile server) and it returns false.
  bool CollectPage(const std::vector<std::string_view>& nicks, std::vector<std::string>* into,
                   size_t* pages, std::string_view answer);
  // RemoveRoom forgets a room besides #lobby; if it was the current room, lines go to #lobby
  // again, saying so.
  void RemoveRoom(std::string_view name);
  // SetCurrentRoom makes `room` the current room and says where typed lines go now.
  void SetCurrentRoom(const Room& room);
  // RoomArgument turns a typed room ("dev" or "#dev") into a room name, or refuses the
  // command, saying why, and returns nullopt.
  std::optional<std::string> RoomArgument(std::string_view word);
  // ExecuteRoomCommand runs /join, /part, /rooms, /topic and /switch; false if `command` is
  // none of them.
  bool ExecuteRoomCommand(std::string_view command, std::string_view rest);
  void HandleMessage(const msg::ServerMessage& m);
  void HandleWelcome(const msg::Welcome& w);
  void HandleChat(const msg::Chat& c);
  void HandleAction(const msg::ActionChat& a);
  void HandleWhois(const msg::WhoisReply& w);
  void HandleUsers(const msg::Users& u);
  void HandleError(const msg::Error& e);
  void HandleAuthOk(const msg::AuthOk& a);
  // HandleRoomLine shows a room line (PROTOCOL.md 6.11, 6.13): one said now as CHAT or
  // ACTION_CHAT would be (our own not again), one from the history as history; one of a room
  // the client is not in is skipped.
  void HandleRoomLine(const msg::RoomLine& r);
  void HandleHistoryEnd(const msg::HistoryEnd& e);
  // StartSession sends AUTH (with a user key) or JOIN once the connection is established.
  void StartSession();
  // SendJoin sends JOIN with nick_, after a HISTORY the first time on this connection.
  void SendJoin();
  void HandleRenamed(const msg::MemberRenamed& r);
  void Execute(std::string_view line);
  // SendText says `text` to the room (`to` empty) or whispers it to `to`, as several messages
  // if it is longer than one (SplitText); a whisper is confirmed as "-> *to* text", a said
  // line as our own line if set_show_own_lines.
  void SendText(std::string_view to, std::string_view text);
  // SendAction sends `text` as one or more ACTIONs ("/me").
  void SendAction(std::string_view text);
  // SayInRoom sends one piece of a line (or of an action) to the current room, as SAY or
  // ACTION for #lobby and ROOM_SAY for another, and shows it if set_show_own_lines. False if
  // the session finished.
  bool SayInRoom(bool action, std::string_view piece);
  // CheckReason is true if `reason` may be sent as an AWAY or QUIT reason; otherwise it
  // shows why the command was not sent.
  bool CheckReason(std::string_view reason);
  // Leave sends QUIT with `reason`, or BYE without one, and waits for the server to close.
  void Leave(std::string_view reason);
  // ExecuteLocal runs /help, /ignore and /unignore; false if `command` is none of them.
  bool ExecuteLocal(std::string_view command, std::string_view rest);
  void Show(DisplayLine::Kind kind, std::string text);
  // Refuse shows why a line that was typed or piped in was not sent, or was refused by the
  // server, and counts it: a session that refused lines ends with kExitLinesRefused.
  void Refuse(std::string text);
  // SendOrFail sends `m`; if it cannot, the session finishes (connection lost) and it
  // returns false.
  bool SendOrFail(const msg::ClientMessage& m);
  void Finish(int code, std::string message);
  void FlushQueued();
  // AddKnownNick adds a valid nick to nicks_ unless it is full.
  void AddKnownNick(std::string_view nick);
  // CheckNickArgument is true if `nick` is a valid nick; otherwise it shows why the command
  // was not sent.
  bool CheckNickArgument(std::string_view nick);

  ClientConnection* conn_;
  FileTransfers transfers_;
  std::string nick_;
  Display display_;
  Clock clock_;
  TokenBucket pace_{kSendRate, kSendBurst};
  uint64_t last_sent_ms_ = 0;
  bool joined_ = false;
  int refused_lines_ = 0;  // lines refused here or by the server (Refuse)
  bool alternate_nicks_ = false;
  int alternates_tried_ = 0;  // since the nick was last chosen
  bool rejoining_ = false;    // an earlier connection was welcomed: the next WELCOME is a rejoin
  bool who_on_join_ = false;
  bool show_own_lines_ = false;
  UserKey* user_key_ = nullptr;
  bool awaiting_auth_ = false;  // AUTH sent on this connection, AUTH_OK not yet received
  bool listed_member_ = false;  // AUTH_OK named our listed nick: no alternate nicks
  std::string established_notice_;
  bool history_sent_ = false;  // HISTORY sent on this connection
  bool input_done_ = false;
  bool bye_sent_ = false;
  bool quit_sent_ = false;  // BYE was a QUIT: a server from before QUIT answers ERROR 8
  bool finished_ = false;
  bool shutting_down_ = false;  // the server announced ERROR 9
  int exit_code_ = kExitOk;
  std::string final_message_;
  uint64_t handshake_timeout_ms_ = kHandshakeTimeoutMs;
  std::optional<uint64_t> handshake_deadline_ms_;  // set by Connected until WELCOME
  std::deque<std::string> queued_;                 // lines typed before the server welcomed us
  size_t queued_bytes_ = 0;                        // queued_, as kMaxQueuedBytes counts it
  bool queue_full_shown_ = false;  // the "not sent" note was shown since the queue filled
  std::vector<std::string> who_;   // USERS nicks collected until the last page, as received
  size_t who_pages_ = 0;           // USERS pages of the answer being collected
  NickSet nicks_;                  // other nicks seen, valid nicks only, one per nick in any case
  NickSet ignored_;                // CHAT from these nicks is not shown
  std::string query_;              // /query: typed lines go to this nick; empty: the room
  std::string last_whisperer_;     // /reply goes to this nick
  Room lobby_{std::string(proto::kLobby)};
  std::vector<Room> rooms_;                  // besides #lobby, in the order asked for
  std::string current_room_{proto::kLobby};  // where typed lines go (Room::name)
  std::vector<std::string> room_who_;        // ROOM_USERS nicks, as who_ for USERS
  size_t room_who_pages_ = 0;
  std::string room_who_room_;       // the room room_who_ is of
  int room_lists_asked_ = 0;        // /rooms sent and not yet answered in full
  bool room_list_started_ = false;  // a ROOM_INFO of the answer was shown
  NickSet listed_rooms_;            // names from ROOM_INFO (the nick order fits)
  bool room_asked_ = false;         // a ROOM_* was sent on this connection: ERROR 8 is about rooms
};

}  // namespace securechat

#endif  // SECURECHAT_CLIENT_SESSION_H_
