#include "securechat/engine/rooms.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "securechat/base/cat.h"
#include "securechat/wire/text.h"

namespace securechat {

namespace {

constexpr std::string_view kBadRoomText =
    "invalid room: use # and then 1 to 31 of A-Z a-z 0-9 _ . -";

uint16_t Count(size_t n) {
  return static_cast<uint16_t>(std::min<size_t>(n, std::numeric_limits<uint16_t>::max()));
}

// Mix is SplitMix64's output function: it spreads a counter over all 64 bits, so that the
// rooms' epochs of one run look unrelated to each other and to #lobby's.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

bool IsLobby(std::string_view room) { return SameNick(room, proto::kLobby); }

struct Rooms::Channel {
  Channel(std::string_view name_in, ConnId founder_in, HistoryLimits limits, uint64_t epoch)
      : name(name_in), founder(founder_in), history(limits, epoch) {}

  const std::string name;  // as its first member spelled it
  const ConnId founder;    // its first member, who may set the topic while in it
  std::string topic;
  std::map<ConnId, Connection*> members;  // by id: a rename changes nothing here
  RoomHistory history;
};

Rooms::Rooms(ConnectionTable& table, const ServerSinks& sinks, const Room& lobby, const Gate& gate,
             RoomLimits limits, HistoryLimits history, uint64_t epoch)
    : table_(table),
      sinks_(sinks),
      lobby_(lobby),
      gate_(gate),
      limits_(limits),
      history_(history),
      epoch_(epoch) {}

Rooms::~Rooms() = default;

uint64_t Rooms::NextEpoch() {
  // Distinct for distinct counters (Mix is a bijection); 0 and #lobby's are skipped.
  uint64_t epoch;
  do {
    epoch = Mix(epoch_ + ++rooms_made_);
  } while (epoch == 0 || epoch == epoch_);
  return epoch;
}

Rooms::Channel* Rooms::Named(Connection& c, std::string_view room) {
  if (!IsValidRoom(room)) {
    table_.Error(c, proto::ErrorCode::kRoomRefused, kBadRoomText);
    return nullptr;
  }
  auto it = rooms_.find(room);
  if (it == rooms_.end() || !it->second->members.contains(c.id)) {
    table_.Error(c, proto::ErrorCode::kRoomRefused, Cat("you are not in ", room));
    return nullptr;
  }
  return it->second.get();
}

void Rooms::Join(Connection& c, std::string_view room, uint64_t epoch, uint64_t after) {
  if (!IsValidRoom(room)) {
    table_.Error(c, proto::ErrorCode::kRoomRefused, kBadRoomText);
    return;
  }
  if (IsLobby(room)) {
    table_.Error(c, proto::ErrorCode::kRoomRefused, Cat("you are already in ", proto::kLobby));
    return;
  }
  auto it = rooms_.find(room);
  if (it != rooms_.end() && it->second->members.contains(c.id)) {
    table_.Error(c, proto::ErrorCode::kRoomRefused, Cat("you are already in ", it->second->name));
    return;
  }
  if (c.rooms.size() >= limits_.max_rooms_per_client) {
    table_.Error(c, proto::ErrorCode::kRoomLimit,
                 Cat("you are in ", c.rooms.size(),
                     " rooms besides #lobby, the most this server allows: /part one first"));
    return;
  }
  if (it == rooms_.end() && rooms_.size() >= limits_.max_rooms) {
    table_.Error(c, proto::ErrorCode::kRoomLimit,
                 Cat("this server has ", rooms_.size(),
                     " rooms besides #lobby, the most it allows: join one of them (/rooms)"));
    return;
  }
  if (it != rooms_.end() && it->second->members.size() >= limits_.max_room_members) {
    table_.Error(c, proto::ErrorCode::kRoomLimit,
                 Cat(it->second->name, " is full (", it->second->members.size(), " members)"));
    return;
  }
  if (it == rooms_.end()) {
    it = rooms_
             .emplace(std::string(room),
                      std::make_unique<Channel>(room, c.id, history_, NextEpoch()))
             .first;
    sinks_.Log(Cat("room ", room, " made by ", ConnTag(c.id)));
  }
  Channel& ch = *it->second;
  ch.members.emplace(c.id, &c);
  c.rooms.push_back(ch.name);
  table_.Send(c, msg::RoomJoined{ch.name, ch.topic, Count(ch.members.size())});
  SendHistory(c, ch, epoch, after);
  Broadcast(
      ch, msg::RoomEvent{ch.name, static_cast<uint8_t>(proto::RoomEvent::kJoined), c.nick, {}}, &c);
  sinks_.ShowRoom({}, Cat(c.nick, " joined ", ch.name));
}

void Rooms::SendHistory(Connection& c, const Channel& ch, uint64_t epoch, uint64_t after) {
  // Within what the client's queue can take now (it may be rejoining many rooms at once): the
  // lines left out are counted as missed. A client whose queue overflows anyway is closing,
  // and the rest is thrown away.
  const uint64_t left_out = ch.history.ForEachUnseenWithin(
      epoch, after, table_.HistoryBudget(c), [&](const RoomHistory::Line& line) {
        if (c.state() != ConnState::kClosing) {
          table_.Send(
              c, msg::RoomLine{ch.name, line.seq, line.time_ms, line.from,
                               line.action ? uint8_t{1} : uint8_t{0}, /*history=*/1, line.text});
        }
      });
  table_.Send(c, msg::HistoryEnd{ch.name, ch.history.epoch(), ch.history.last_seq(),
                                 ch.history.Missed(epoch, after) + left_out});
}

void Rooms::Part(Connection& c, std::string_view room) {
  if (IsLobby(room)) {
    table_.Error(c, proto::ErrorCode::kRoomRefused,
                 Cat(proto::kLobby, " cannot be left: QUIT leaves the server"));
    return;
  }
  Channel* ch = Named(c, room);
  if (ch == nullptr) {
    return;
  }
  Broadcast(*ch,
            msg::RoomEvent{ch->name, static_cast<uint8_t>(proto::RoomEvent::kLeft), c.nick, {}},
            nullptr);
  sinks_.ShowRoom({}, Cat(c.nick, " left ", ch->name));
  Remove(c, *ch);
}

void Rooms::Remove(Connection& c, Channel& ch) {
  ch.members.erase(c.id);
  std::erase_if(c.rooms, [&](const std::string& name) { return name == ch.name; });
  if (ch.members.empty()) {
    // Its topic and history go with it (PROTOCOL.md 6.13): nothing of it outlives its members.
    sinks_.Log(Cat("room ", ch.name, " closed: nobody is in it"));
    rooms_.erase(rooms_.find(ch.name));  // by iterator: the key lives in what is erased
  }
}

void Rooms::Leave(Connection& c) {
  // Remove erases from c.rooms: walk a copy.
  const std::vector<std::string> names = std::move(c.rooms);
  c.rooms.clear();
  for (const std::string& name : names) {
    if (auto it = rooms_.find(name); it != rooms_.end()) {
      Remove(c, *it->second);
    }
  }
}

void Rooms::List(Connection& c) {
  struct Entry {
    std::string_view name;
    size_t members;
    std::string_view topic;
  };
  std::vector<Entry> entries;
  entries.reserve(rooms_.size() + 1);
  entries.push_back({proto::kLobby, lobby_.size(), lobby_topic_});
  for (const auto& [name, ch] : rooms_) {
    entries.push_back({ch->name, ch->members.size(), ch->topic});
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return NickLess()(a.name, b.name); });
  for (size_t i = 0; i < entries.size() && c.state() != ConnState::kClosing; ++i) {
    table_.Send(c, msg::RoomInfo{entries[i].name, Count(entries[i].members), entries[i].topic,
                                 i + 1 < entries.size() ? uint8_t{1} : uint8_t{0}});
  }
}

void Rooms::SetTopic(Connection& c, std::string_view room, std::string_view topic) {
  Channel* ch = nullptr;
  if (!IsLobby(room)) {
    ch = Named(c, room);
    if (ch == nullptr) {
      return;
    }
  }
  if (!topic.empty() && (topic.size() > limits_.max_topic_bytes || !IsValidText(topic))) {
    table_.Error(c, proto::ErrorCode::kBadText,
                 Cat("topic invalid or too long (at most ", limits_.max_topic_bytes, " bytes)"));
    return;
  }
  const bool founder = ch != nullptr && ch->founder == c.id;
  if (!founder && !gate_.IsOperator(c)) {
    table_.Error(c, proto::ErrorCode::kNotOperator,
                 ch == nullptr ? Cat("only an operator sets the topic of ", proto::kLobby)
                               : Cat("only the one who made ", ch->name,
                                     " (while in it) or an operator sets its topic"));
    return;
  }
  const msg::RoomEvent event{ch == nullptr ? proto::kLobby : std::string_view(ch->name),
                             static_cast<uint8_t>(proto::RoomEvent::kTopic), c.nick, topic};
  if (ch == nullptr) {
    lobby_topic_ = std::string(topic);
    const ByteView encoded = table_.Encode(event);
    for (const auto& [nick, member] : lobby_.members()) {
      table_.SendEncoded(*member, encoded);
    }
  } else {
    ch->topic = std::string(topic);
    Broadcast(*ch, event, nullptr);
  }
  if (sinks_.room) {  // a topic is a peer's text: escaped for the console like a SAY
    sinks_.ShowRoom({}, EscapeForDisplay(Cat(c.nick, " set the topic of ", event.room, ": ",
                                             topic.empty() ? "(none)" : topic)));
  }
}

void Rooms::Say(Connection& c, std::string_view room, bool action, std::string_view text) {
  Channel* ch = Named(c, room);
  if (ch == nullptr) {
    return;
  }
  if (!IsValidText(text)) {
    table_.Error(c, proto::ErrorCode::kBadText, "text invalid or too long");
    return;
  }
  // Not counted in WHOIS's idle time, which every member may ask: it would tell those not in
  // this room when its members talk (PROTOCOL.md 6.13).
  const uint64_t now = sinks_.now_ms();
  const uint64_t seq = ch->history.Add(now, c.nick, action, text);
  Broadcast(*ch,
            msg::RoomLine{ch->name, seq, now, c.nick, action ? uint8_t{1} : uint8_t{0},
                          /*history=*/0, text},
            nullptr);
  if (sinks_.room) {
    sinks_.ShowRoom({}, action ? Cat(ch->name, " * ", c.nick, " ", EscapeForDisplay(text))
                               : Cat(ch->name, " <", c.nick, "> ", EscapeForDisplay(text)));
  }
}

void Rooms::Who(Connection& c, std::string_view room) {
  std::vector<std::string_view> nicks;
  if (IsLobby(room)) {
    nicks.reserve(lobby_.size());
    for (const auto& [nick, member] : lobby_.members()) {
      nicks.push_back(nick);
    }
    SendPages(c, proto::kLobby, nicks);
    return;
  }
  const Channel* ch = Named(c, room);
  if (ch == nullptr) {
    return;
  }
  nicks.reserve(ch->members.size());
  for (const auto& [id, member] : ch->members) {
    nicks.push_back(member->nick);
  }
  std::sort(nicks.begin(), nicks.end(), NickLess());
  SendPages(c, ch->name, nicks);
}

void Rooms::SendPages(Connection& c, std::string_view room,
                      const std::vector<std::string_view>& nicks) {
  SendNickPages(table_, c, msg::RoomUsers{room, 0, {}}, nicks);
}

void Rooms::Broadcast(const Channel& ch, const msg::ServerMessage& m, const Connection* except) {
  // Encoded once; each member only seals it with its own keys.
  const ByteView encoded = table_.Encode(m);
  for (const auto& [id, member] : ch.members) {
    if (member != except) {
      table_.SendEncoded(*member, encoded);
    }
  }
}

void Rooms::Clear() {
  for (auto& [name, ch] : rooms_) {
    for (auto& [id, member] : ch->members) {
      member->rooms.clear();
    }
  }
  rooms_.clear();
}

std::vector<std::string> Rooms::Describe() const {
  std::vector<std::string> lines;
  lines.reserve(rooms_.size() + 1);
  const auto topic_of = [](std::string_view topic) {
    return topic.empty() ? std::string() : Cat(": ", EscapeForDisplay(topic));
  };
  lines.push_back(Cat(proto::kLobby, " (", lobby_.size(), ")", topic_of(lobby_topic_)));
  for (const auto& [name, ch] : rooms_) {
    lines.push_back(Cat(ch->name, " (", ch->members.size(), ")", topic_of(ch->topic)));
  }
  return lines;
}

}  // namespace securechat
