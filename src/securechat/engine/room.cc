#include "securechat/engine/room.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "securechat/base/cat.h"
#include "securechat/wire/text.h"

namespace securechat {

namespace {
constexpr std::string_view kBadNickText = "invalid nick: use 1 to 32 of A-Z a-z 0-9 _ . -";
constexpr std::string_view kBadText = "text invalid or too long";

}  // namespace

Room::Room(ConnectionTable& table, const ServerSinks& sinks, const Gate& gate, std::string motd,
           HistoryLimits history, uint64_t epoch)
    : table_(table), sinks_(sinks), gate_(gate), motd_(std::move(motd)), history_(history, epoch) {}

Room::NickCheck Room::Check(const Connection& asker, std::string_view nick) const {
  NickCheck check;
  if (!IsValidNick(nick)) {
    check.verdict = NickCheck::Verdict::kInvalid;
    return check;
  }
  if (IsReservedNick(nick)) {
    check.verdict = NickCheck::Verdict::kReserved;
    return check;
  }
  if (const std::string_view kept = gate_.ReservedFor(asker, nick); !kept.empty()) {
    check.verdict = NickCheck::Verdict::kKept;
    check.look_alike = kept;
    return check;
  }
  check.skeleton = NickSkeleton(nick);
  auto it = by_skeleton_.find(check.skeleton);
  if (it != by_skeleton_.end() && it->second != &asker) {
    check.look_alike = it->second->nick;
    check.verdict = SameNick(it->second->nick, nick) ? NickCheck::Verdict::kTaken
                                                     : NickCheck::Verdict::kLooksLike;
    return check;
  }
  // A nick that only looks like the asker's own is the asker's to take: `alice` to `Alice`.
  check.verdict = NickCheck::Verdict::kFree;
  return check;
}

bool Room::NickFree(Connection& c, const NickCheck& check, std::string_view nick) {
  using Verdict = NickCheck::Verdict;
  switch (check.verdict) {
    case Verdict::kFree:
      return true;
    case Verdict::kInvalid:
      table_.Error(c, proto::ErrorCode::kInvalidNick, kBadNickText);
      return false;
    case Verdict::kReserved:
      table_.Error(c, proto::ErrorCode::kInvalidNick,
                   Cat("invalid nick: ", nick, " looks like a reserved nick"));
      return false;
    case Verdict::kTaken:
      table_.Error(c, proto::ErrorCode::kNickTaken, "nick taken");
      return false;
    case Verdict::kLooksLike:
      table_.Error(
          c, proto::ErrorCode::kInvalidNick,
          Cat("invalid nick: ", nick, " looks like ", check.look_alike, ", who is online"));
      return false;
    case Verdict::kKept:
      table_.Error(c, proto::ErrorCode::kInvalidNick,
                   c.identity && !c.identity->member.empty()
                       ? Cat("invalid nick: your key is listed as ", check.look_alike,
                             "; a member holds only its own nick")
                       : Cat("invalid nick: ", nick, " is kept for the member ", check.look_alike,
                             " (connect with their key)"));
      return false;
  }
  return false;
}

void Room::Add(Connection& c, std::string_view nick, std::string skeleton) {
  c.nick = std::string(nick);
  by_nick_.emplace(c.nick, &c);
  by_skeleton_.emplace(std::move(skeleton), &c);
}

std::string Room::Remove(Connection& c) {
  auto it = by_nick_.find(c.nick);
  if (c.nick.empty() || it == by_nick_.end() || it->second != &c) {
    return {};
  }
  by_nick_.erase(it);
  by_skeleton_.erase(NickSkeleton(c.nick));
  return std::exchange(c.nick, std::string());
}

Connection* Room::Find(std::string_view nick) const {
  auto it = by_nick_.find(nick);
  return it == by_nick_.end() ? nullptr : it->second;
}

void Room::Join(Connection& c, std::string_view nick) {
  NickCheck check = Check(c, nick);
  if (!NickFree(c, check, nick)) {
    return;
  }
  Add(c, nick, std::move(check.skeleton));
  c.joined_mono_ms = sinks_.Mono();
  c.last_said_mono_ms = c.joined_mono_ms;
  table_.Joined(c, sinks_.Mono());
  const auto online =
      static_cast<uint16_t>(std::min<size_t>(size(), std::numeric_limits<uint16_t>::max()));
  table_.Send(c, msg::Welcome{c.nick, motd_, online});
  if (c.history) {
    SendHistory(c);
  }
  // Each membership message is followed at once by the NOTICE that says it for people, to
  // the same recipients (PROTOCOL.md 6.8).
  Broadcast(msg::MemberJoined{c.nick}, &c);
  const std::string badge = gate_.Badge(c);
  const std::string notice = Cat(c.nick, " joined", badge.empty() ? "" : " ", badge);
  Broadcast(msg::Notice{notice}, &c);
  sinks_.ShowRoom({}, notice);
  sinks_.Log(Cat("join ", ConnTag(c.id), " as ", c.nick));
}

void Room::Rename(Connection& c, std::string_view nick) {
  if (nick == c.nick) {
    return;
  }
  NickCheck check = Check(c, nick);
  if (!NickFree(c, check, nick)) {
    return;
  }
  const std::string old = Remove(c);
  Add(c, nick, std::move(check.skeleton));
  Broadcast(msg::MemberRenamed{old, c.nick}, nullptr);
  const std::string notice = Cat(old, " is now known as ", c.nick);
  Broadcast(msg::Notice{notice}, nullptr);
  sinks_.ShowRoom({}, notice);
  sinks_.Log(Cat("rename ", ConnTag(c.id), " ", old, " to ", c.nick));
}

void Room::Say(Connection& c, std::string_view text) {
  if (!IsValidText(text)) {
    table_.Error(c, proto::ErrorCode::kBadText, kBadText);
    return;
  }
  Said(c);
  const uint64_t now = sinks_.now_ms();
  SayInRoom(msg::Chat{c.nick, 0, now, text}, c.nick, /*action=*/false, now, text, &c);
  if (sinks_.room) {  // the escaped line is built only for a console that shows it
    sinks_.ShowRoom(c.nick, EscapeForDisplay(text));
  }
}

void Room::Said(Connection& c) { c.last_said_mono_ms = sinks_.Mono(); }

void Room::Action(Connection& c, std::string_view text) {
  if (!IsValidText(text)) {
    table_.Error(c, proto::ErrorCode::kBadText, kBadText);
    return;
  }
  Said(c);
  const uint64_t now = sinks_.now_ms();
  SayInRoom(msg::ActionChat{c.nick, now, text}, c.nick, /*action=*/true, now, text, &c);
  if (sinks_.room) {
    sinks_.ShowRoom({}, Cat("* ", c.nick, " ", EscapeForDisplay(text)));
  }
}

void Room::SetAway(Connection& c, std::string_view reason) {
  if (!IsValidReason(reason)) {
    table_.Error(c, proto::ErrorCode::kBadText,
                 Cat("away reason invalid or too long (at most ", proto::kMaxReasonLen, " bytes)"));
    return;
  }
  if (reason.empty()) {
    table_.Send(c, msg::Notice{c.away.empty() ? "you were not marked away"
                                              : "you are no longer marked away"});
  } else {
    table_.Send(c, msg::Notice{Cat("you are marked away: ", reason)});
  }
  c.away = std::string(reason);
}

void Room::Whois(Connection& c, std::string_view nick) {
  if (!IsValidNick(nick)) {
    table_.Error(c, proto::ErrorCode::kInvalidNick, "invalid nick");
    return;
  }
  const Connection* member = Find(nick);
  if (member == nullptr) {
    table_.Error(c, proto::ErrorCode::kNoSuchUser, Cat("no such user: ", nick));
    return;
  }
  msg::WhoisReply reply;
  reply.nick = member->nick;
  const uint64_t now = sinks_.Mono();
  reply.online_ms = now - std::min(now, member->joined_mono_ms);
  reply.idle_ms = now - std::min(now, member->last_said_mono_ms);
  reply.away = member->away;
  if (member->identity) {
    reply.key = std::string_view(reinterpret_cast<const char*>(member->identity->key.data()),
                                 member->identity->key.size());
    reply.member = member->identity->member.empty() ? 0 : 1;
  }
  table_.Send(c, reply);
}

void Room::Quit(Connection& c, std::string_view reason) {
  if (IsValidReason(reason)) {
    c.quit_reason = std::string(reason);
  }
}

void Room::Whisper(Connection& c, std::string_view to, std::string_view text) {
  if (!IsValidNick(to)) {
    table_.Error(c, proto::ErrorCode::kInvalidNick, "invalid nick");
    return;
  }
  Connection* member = Find(to);
  if (member == nullptr) {
    table_.Error(c, proto::ErrorCode::kNoSuchUser, Cat("no such user: ", to));
    return;
  }
  if (!IsValidText(text)) {
    table_.Error(c, proto::ErrorCode::kBadText, kBadText);
    return;
  }
  // Not Said(c): WHOIS's idle time would tell everyone when this member whispers.
  table_.Send(*member, msg::Chat{c.nick, proto::kChatFlagPrivate, sinks_.now_ms(), text});
  if (!member->away.empty()) {
    // As IRC's RPL_AWAY: the whisper is delivered, and its sender learns it may wait.
    table_.Send(c, msg::Notice{Cat(member->nick, " is away: ", member->away)});
  }
}

void Room::Who(Connection& c) {
  std::vector<std::string_view> nicks;
  nicks.reserve(size());
  for (const auto& [nick, member] : by_nick_) {
    nicks.push_back(nick);
  }
  if (!SendNickPages(table_, c, msg::Users{}, nicks)) {
    return;
  }
  WhoIsWho(c);
  // One NOTICE for each away member, its reason last: a reason cannot pass for another
  // member's state, as it could inside a list.
  for (const auto& [nick, member] : by_nick_) {
    if (c.state() == ConnState::kClosing) {
      return;  // its queue overflowed: the rest would be thrown away
    }
    if (!member->away.empty()) {
      table_.Send(c, msg::Notice{Cat(nick, " is away: ", member->away)});
    }
  }
}

void Room::NoticeList(Connection& c, std::string_view head,
                      const std::vector<std::string>& entries) {
  std::string line;
  for (const std::string& entry : entries) {
    if (c.state() == ConnState::kClosing) {
      return;  // its queue overflowed: the rest would be thrown away
    }
    if (!line.empty() && line.size() + 2 + entry.size() > proto::kMaxTextLen) {
      table_.Send(c, msg::Notice{line});
      line.clear();
    }
    line = line.empty() ? Cat(head, entry) : Cat(line, ", ", entry);
  }
  if (!line.empty() && c.state() != ConnState::kClosing) {
    table_.Send(c, msg::Notice{line});
  }
}

void Room::WhoIsWho(Connection& c) {
  // For people, after the list: who is a member (and by which key) and who a guest, on a
  // server that knows keys. NOTICE text is not part of the protocol (PROTOCOL.md 6.9).
  std::vector<std::string> entries;
  for (const auto& [nick, member] : by_nick_) {
    if (const std::string badge = gate_.Badge(*member); !badge.empty()) {
      entries.push_back(Cat(nick, " ", badge));
    }
  }
  NoticeList(c, "who is who: ", entries);
}

void Room::Leave(Connection& c, std::string_view why) {
  const std::string nick = Remove(c);
  if (nick.empty()) {
    return;
  }
  sinks_.Log(Cat("leave ", ConnTag(c.id), " ", nick, " (", why, ")"));
  Broadcast(msg::MemberLeft{nick}, nullptr);
  const std::string notice =
      c.quit_reason.empty() ? Cat(nick, " left") : Cat(nick, " left (", c.quit_reason, ")");
  Broadcast(msg::Notice{notice}, nullptr);
  if (sinks_.room) {  // the reason is a peer's text: escaped for the console like a SAY
    sinks_.ShowRoom({}, EscapeForDisplay(notice));
  }
}

void Room::Expel(Connection& c, proto::ErrorCode code, std::string why) {
  // The room is told as the member leaves, in the event's teardown (Leave): the notice
  // carries this.
  table_.Fatal(c, code, why);
  c.quit_reason = std::move(why);
}

void Room::Announce(std::string_view notice) {
  Broadcast(msg::Notice{notice}, nullptr);
  if (sinks_.room) {  // a notice may carry an operator's reason: escaped like a SAY
    sinks_.ShowRoom({}, EscapeForDisplay(notice));
  }
}

bool Room::ServerSays(std::string_view line) {
  if (!IsValidText(line)) {
    return false;
  }
  const uint64_t now = sinks_.now_ms();
  SayInRoom(msg::Chat{proto::kServerNick, 0, now, line}, proto::kServerNick, /*action=*/false, now,
            line, nullptr);
  return true;
}

void Room::Clear() {
  for (auto& [nick, c] : by_nick_) {
    c->nick.clear();
  }
  by_nick_.clear();
  by_skeleton_.clear();
}

void Room::AskHistory(Connection& c, uint64_t epoch, uint64_t after) {
  c.history = Connection::HistoryAsk{epoch, after};
}

void Room::SendHistory(Connection& c) {
  const Connection::HistoryAsk ask = *c.history;
  // The history is bounded in bytes within half a client's queue (chat-server checks its
  // flags), and the queue is nearly empty at JOIN, so a reading client takes it whole; the
  // budget is the same rule as for the other rooms' (Rooms::SendHistory). A client whose queue
  // overflows anyway is closing, and the rest would be thrown away.
  const uint64_t left_out = history_.ForEachUnseenWithin(
      ask.epoch, ask.after, table_.HistoryBudget(c), [&](const RoomHistory::Line& line) {
        if (c.state() != ConnState::kClosing) {
          table_.Send(
              c, msg::RoomLine{proto::kLobby, line.seq, line.time_ms, line.from,
                               line.action ? uint8_t{1} : uint8_t{0}, /*history=*/1, line.text});
        }
      });
  table_.Send(c, msg::HistoryEnd{proto::kLobby, history_.epoch(), history_.last_seq(),
                                 history_.Missed(ask.epoch, ask.after) + left_out});
}

void Room::SayInRoom(const msg::ServerMessage& legacy, std::string_view from, bool action,
                     uint64_t time_ms, std::string_view text, const Connection* except) {
  const uint64_t seq = history_.Add(time_ms, from, action, text);
  // A pass for each form, each encoded once and only if someone takes it (Encode's view lasts
  // until the next Encode).
  bool any_legacy = false;
  bool any_room_line = false;
  for (const auto& [nick, other] : by_nick_) {
    any_room_line = any_room_line || other->history.has_value();
    any_legacy = any_legacy || (other != except && !other->history);
  }
  if (any_legacy) {
    const ByteView encoded = table_.Encode(legacy);
    for (const auto& [nick, other] : by_nick_) {
      if (other != except && !other->history) {
        table_.SendEncoded(*other, encoded);
      }
    }
  }
  if (any_room_line) {
    const ByteView encoded = table_.Encode(msg::RoomLine{proto::kLobby, seq, time_ms, from,
                                                         action ? uint8_t{1} : uint8_t{0},
                                                         /*history=*/0, text});
    for (const auto& [nick, other] : by_nick_) {
      if (other->history) {
        table_.SendEncoded(*other, encoded);
      }
    }
  }
}

void Room::Broadcast(const msg::ServerMessage& m, const Connection* except) {
  // Encoded once; each recipient only seals it with its own keys.
  const ByteView encoded = table_.Encode(m);
  for (const auto& [nick, other] : by_nick_) {
    if (other != except) {
      table_.SendEncoded(*other, encoded);
    }
  }
}

}  // namespace securechat
