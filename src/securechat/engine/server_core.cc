#include "securechat/engine/server_core.h"

#include <algorithm>
#include <limits>
#include <variant>

#include "securechat/base/cat.h"
#include "securechat/wire/text.h"

namespace securechat {

namespace {

std::string Tag(ConnId id) { return Cat("#", id); }

constexpr std::string_view kBadNickText = "invalid nick: use 1 to 32 of A-Z a-z 0-9 _ . -";

// The dispatch table, as OpenSSH's monitor has one: for each client message kind, the states
// it is handled in, whether it is charged to the sender's rate first, and how the server
// answers it in any other state. Messages only arrive once the handshake is done, and never
// after the connection is closing, so the states that matter are established and joined.
struct Refusal {
  proto::ErrorCode code;
  bool fatal;
  std::string_view text;
};
struct Route {
  proto::Kind kind;
  StateSet allowed;
  bool rate_limited;
  Refusal refused;
};

constexpr StateSet kBeforeJoin{ConnState::kEstablished};
constexpr StateSet kMember{ConnState::kJoined};
constexpr StateSet kAny{ConnState::kEstablished, ConnState::kJoined};
constexpr Refusal kJoinFirst{proto::ErrorCode::kNotJoined, false, "join first"};
constexpr Refusal kAlreadyJoined{proto::ErrorCode::kMalformed, true, "already joined"};
// Every record counts against the rate, whatever it holds (unknown kinds, malformed ones,
// anything before JOIN): each costs the server an answer. BYE alone is free.
constexpr bool kCharged = true;
constexpr bool kFree = false;

constexpr Route kRoutes[] = {
    {proto::Kind::kJoin, kBeforeJoin, kCharged, kAlreadyJoined},
    {proto::Kind::kSay, kMember, kCharged, kJoinFirst},
    {proto::Kind::kWhisper, kMember, kCharged, kJoinFirst},
    {proto::Kind::kWho, kMember, kCharged, kJoinFirst},
    {proto::Kind::kNick, kMember, kCharged, kJoinFirst},
    {proto::Kind::kPing, kMember, kCharged, kJoinFirst},
    {proto::Kind::kBye, kAny, kFree, kJoinFirst},
};
static_assert(std::size(kRoutes) == std::variant_size_v<msg::ClientMessage>,
              "one row per client message kind");

// RouteOf is the row of message type M, found when the program is compiled: a message kind
// without a row does not build.
template <typename M>
constexpr const Route& RouteOf() {
  constexpr size_t kRow = [] {
    size_t row = std::size(kRoutes);
    for (size_t i = 0; i < std::size(kRoutes); ++i) {
      if (kRoutes[i].kind == M::kKind) {
        row = row == std::size(kRoutes) ? i : std::size(kRoutes) + 1;  // a second row: error
      }
    }
    return row;
  }();
  static_assert(kRow < std::size(kRoutes), "exactly one dispatch table row per message kind");
  return kRoutes[kRow];
}

const Route& RouteFor(const msg::ClientMessage& m) {
  return std::visit(
      [](const auto& x) -> const Route& { return RouteOf<std::decay_t<decltype(x)>>(); }, m);
}

ConnectionLimits LimitsOf(const ServerOptions& o) {
  return ConnectionLimits{o.handshake_timeout_ms, o.idle_timeout_ms, o.linger_ms, o.rate, o.burst};
}

AdmissionLimits AdmissionOf(const ServerOptions& o) {
  return AdmissionLimits{o.max_clients, o.max_per_address, o.handshakes_per_second,
                         o.handshakes_per_second_per_address};
}

}  // namespace

ServerCore::ServerCore(const ServerPrivateKey& key, RandomSource& rng, ServerOptions options,
                       ServerSinks sinks)
    : options_(std::move(options)),
      sinks_(std::move(sinks)),
      table_(key, rng, LimitsOf(options_)),
      admission_(AdmissionOf(options_)) {
  if (!sinks_.mono_ms) {
    sinks_.mono_ms = sinks_.now_ms;
  }
}

ServerCore::~ServerCore() = default;

void ServerCore::Log(std::string_view line) const {
  if (sinks_.log) {
    sinks_.log(line);
  }
}

void ServerCore::ShowRoom(std::string_view nick, std::string_view text) const {
  if (sinks_.room) {
    sinks_.room(nick, text);
  }
}

std::optional<ConnState> ServerCore::StateOf(ConnId id) const {
  const Connection* c = table_.Find(id);
  return c == nullptr ? std::nullopt : std::optional<ConnState>(c->state());
}

ConnId ServerCore::Accept(std::string_view address, std::string_view peer) {
  const uint64_t now = Mono();
  if (peer.empty()) {
    peer = address;
  }
  Connection& c = table_.Add(address, peer, now);
  const char* refusal = nullptr;
  switch (admission_.Arrive(address, table_.size() - 1, now)) {
    case Admission::Verdict::kAdmitted:
      c.holds_place = true;
      Log(Cat("connect ", Tag(c.id), " from ", c.peer));
      return c.id;
    case Admission::Verdict::kServerFull:
      AppendAlert(proto::AlertCode::kServerFull, "server full", c.conn.output().buffer());
      refusal = "server full";
      break;
    case Admission::Verdict::kTooManyFromAddress:
      AppendAlert(proto::AlertCode::kTooManyFromAddress, "too many connections from your address",
                  c.conn.output().buffer());
      refusal = "too many connections from this address";
      break;
  }
  Log(Cat("refuse ", Tag(c.id), " from ", c.peer, ": ", refusal));
  table_.CloseAfterFlush(c, refusal, now);
  FinishTeardowns();
  return c.id;
}

void ServerCore::Receive(ConnId id, ByteView bytes) {
  if (Connection* c = table_.Find(id)) {
    ReceiveRecords(*c, bytes);
  }
  FinishTeardowns();
}

void ServerCore::ReceiveRecords(Connection& c, ByteView bytes) {
  ByteView in = bytes;
  ByteView plaintext;
  while (c.state() != ConnState::kClosing) {
    switch (c.conn.Next(&in, &plaintext)) {
      case ServerConnection::Step::kNeedMore:
        return;
      case ServerConnection::Step::kHelloReady:
        admission_.HelloReady(c.id, c.address);
        RunPendingHandshakes(Mono());
        break;
      case ServerConnection::Step::kClose:
        Log(Cat("error ", Tag(c.id), ": ", c.conn.close_reason()));
        table_.Condemn(c, "connection error");
        return;
      case ServerConnection::Step::kMessage:
        table_.Touch(c, Mono());
        HandleMessage(c, plaintext);
        // What the handler marked is torn down now, before the next record: it may have
        // been this client, whose records then stop here (it is closing).
        FinishTeardowns();
        break;
    }
  }
}

void ServerCore::RunPendingHandshakes(uint64_t now) {
  while (const std::optional<ConnId> id = admission_.NextHandshake(now)) {
    Connection* c = table_.Find(*id);
    if (c == nullptr) {
      continue;  // cannot happen: a connection's hello is withdrawn when it departs
    }
    if (c->conn.CompleteHandshake()) {
      table_.Established(*c);
    } else {
      Log(Cat("error ", Tag(c->id), ": ", c->conn.close_reason()));
      table_.CloseAfterFlush(*c, "handshake failed", now);  // an ALERT 2 may still be flushed
    }
  }
}

void ServerCore::PeerClosed(ConnId id, std::string_view why) {
  if (Connection* c = table_.Find(id)) {
    table_.Condemn(*c, why);
  }
  FinishTeardowns();
}

void ServerCore::FinishTeardowns() {
  // Leaving broadcasts, and a broadcast may condemn more connections: the table hands them
  // out in this same loop. Each is handed out once, so it ends.
  while (const auto gone = table_.NextCondemned()) {
    if (Connection* c = table_.Find(gone->id)) {
      Leave(*c, gone->why);
    }
  }
}

void ServerCore::Leave(Connection& c, std::string_view why) {
  if (c.holds_place) {
    c.holds_place = false;
    admission_.Depart(c.id, c.address, Mono());
  }
  const std::string nick = room_.Remove(c);
  if (nick.empty()) {
    return;
  }
  Log(Cat("leave ", Tag(c.id), " ", nick, " (", why, ")"));
  const std::string notice = Cat(nick, " left");
  Broadcast(msg::Notice{notice}, nullptr);
  ShowRoom({}, notice);
}

void ServerCore::HandleMessage(Connection& c, ByteView plaintext) {
  using proto::ErrorCode;
  msg::ClientMessage m;
  const msg::DecodeStatus status = msg::DecodeClientMessage(plaintext, &m);
  const Route* route = status == msg::DecodeStatus::kOk ? &RouteFor(m) : nullptr;
  if ((route == nullptr || route->rate_limited) && !TakeToken(c)) {
    return;
  }
  switch (status) {
    case msg::DecodeStatus::kUnknownKind:
      SendError(c, ErrorCode::kUnknownKind, "unknown message kind");
      return;
    case msg::DecodeStatus::kMalformed:
      SendFatal(c, ErrorCode::kMalformed, "malformed message");
      return;
    case msg::DecodeStatus::kOk:
      break;
  }
  if (!route->allowed.Has(c.state())) {
    if (route->refused.fatal) {
      SendFatal(c, route->refused.code, route->refused.text);
    } else {
      SendError(c, route->refused.code, route->refused.text);
    }
    return;
  }
  std::visit([this, &c](const auto& message) { Handle(c, message); }, m);
}

bool ServerCore::TakeToken(Connection& c) {
  if (c.rate.Take(Mono())) {
    c.strikes = 0;
    return true;
  }
  if (++c.strikes > options_.burst) {
    SendFatal(c, proto::ErrorCode::kRateLimited, "rate limit exceeded again and again");
  } else {
    SendError(c, proto::ErrorCode::kRateLimited, "rate limited: message dropped, slow down");
  }
  return false;
}

bool ServerCore::NickFree(Connection& c, const Room::NickCheck& check, std::string_view nick) {
  using Verdict = Room::NickCheck::Verdict;
  switch (check.verdict) {
    case Verdict::kFree:
      return true;
    case Verdict::kInvalid:
      SendError(c, proto::ErrorCode::kInvalidNick, kBadNickText);
      return false;
    case Verdict::kReserved:
      SendError(c, proto::ErrorCode::kInvalidNick,
                Cat("invalid nick: ", nick, " looks like a reserved nick"));
      return false;
    case Verdict::kTaken:
      SendError(c, proto::ErrorCode::kNickTaken, "nick taken");
      return false;
    case Verdict::kLooksLike:
      SendError(c, proto::ErrorCode::kInvalidNick,
                Cat("invalid nick: ", nick, " looks like ", check.look_alike, ", who is online"));
      return false;
  }
  return false;
}

void ServerCore::Handle(Connection& c, const msg::Join& m) {
  Room::NickCheck check = room_.Check(c, m.nick);
  if (!NickFree(c, check, m.nick)) {
    return;
  }
  room_.Add(c, m.nick, std::move(check.skeleton));
  table_.Joined(c, Mono());
  const auto online =
      static_cast<uint16_t>(std::min<size_t>(room_.size(), std::numeric_limits<uint16_t>::max()));
  Send(c, msg::Welcome{c.nick, options_.motd, online});
  const std::string notice = Cat(c.nick, " joined");
  Broadcast(msg::Notice{notice}, &c);
  ShowRoom({}, notice);
  Log(Cat("join ", Tag(c.id), " as ", c.nick));
}

void ServerCore::Handle(Connection& c, const msg::Nick& m) {
  if (m.nick == c.nick) {
    return;
  }
  Room::NickCheck check = room_.Check(c, m.nick);
  if (!NickFree(c, check, m.nick)) {
    return;
  }
  const std::string old = room_.Rename(c, m.nick, std::move(check.skeleton));
  const std::string notice = Cat(old, " is now known as ", c.nick);
  Broadcast(msg::Notice{notice}, nullptr);
  ShowRoom({}, notice);
  Log(Cat("rename ", Tag(c.id), " ", old, " to ", c.nick));
}

void ServerCore::Handle(Connection& c, const msg::Say& m) {
  if (!IsValidText(m.text)) {
    SendError(c, proto::ErrorCode::kBadText, "text invalid or too long");
    return;
  }
  Broadcast(msg::Chat{c.nick, 0, sinks_.now_ms(), m.text}, &c);
  if (sinks_.room) {  // the escaped line is built only for a console that shows it
    ShowRoom(c.nick, EscapeForDisplay(m.text));
  }
}

void ServerCore::Handle(Connection& c, const msg::Whisper& m) {
  if (!IsValidNick(m.to)) {
    SendError(c, proto::ErrorCode::kInvalidNick, "invalid nick");
    return;
  }
  Connection* to = room_.Find(m.to);
  if (to == nullptr) {
    SendError(c, proto::ErrorCode::kNoSuchUser, Cat("no such user: ", m.to));
    return;
  }
  if (!IsValidText(m.text)) {
    SendError(c, proto::ErrorCode::kBadText, "text invalid or too long");
    return;
  }
  Send(*to, msg::Chat{c.nick, proto::kChatFlagPrivate, sinks_.now_ms(), m.text});
}

void ServerCore::Handle(Connection& c, const msg::Who& /*m*/) {
  msg::Users page;
  page.nicks.reserve(std::min(room_.size(), proto::kUsersPerPage));
  size_t left = room_.size();
  for (const auto& [nick, member] : room_.members()) {
    page.nicks.push_back(nick);
    --left;
    if (page.nicks.size() == proto::kUsersPerPage && left > 0) {
      page.more = 1;
      Send(c, page);
      if (c.state() == ConnState::kClosing) {
        return;  // its queue overflowed: the rest would be thrown away
      }
      page.nicks.clear();
    }
  }
  page.more = 0;
  Send(c, page);
}

void ServerCore::Handle(Connection& c, const msg::Ping& m) { Send(c, msg::Pong{m.data}); }

void ServerCore::Handle(Connection& c, const msg::Bye& /*m*/) {
  table_.CloseAfterFlush(c, "bye", Mono());
}

void ServerCore::SendError(Connection& c, proto::ErrorCode code, std::string_view text) {
  Send(c, msg::Error{code, 0, text});
}

void ServerCore::SendFatal(Connection& c, proto::ErrorCode code, std::string_view text) {
  Send(c, msg::Error{code, 1, text});
  Log(Cat("error ", Tag(c.id), ": ", text));
  table_.CloseAfterFlush(c, "error", Mono());
}

void ServerCore::Send(Connection& c, const msg::ServerMessage& m) {
  if (c.state() == ConnState::kClosing) {
    return;
  }
  encoded_.clear();
  msg::EncodeMessage(m, &encoded_);
  SendEncoded(c);
}

void ServerCore::SendEncoded(Connection& c) {
  if (!c.conn.SendEncoded(encoded_)) {
    if (c.conn.state() == ServerConnection::State::kClosed) {
      table_.Condemn(c, c.conn.close_reason());
    }
    return;
  }
  if (c.conn.output().size() > options_.max_queue_bytes) {
    Log(Cat("error ", Tag(c.id), ": output queue over ", options_.max_queue_bytes,
            " bytes (not reading)"));
    table_.Condemn(c, "not reading");
  }
}

void ServerCore::Broadcast(const msg::ServerMessage& m, const Connection* except) {
  // Encoded once; each recipient only seals it with its own keys. A recipient whose send
  // fails or whose queue overflows is only marked here (it stays in the room until the
  // event's teardown), so the loop never walks a map it has changed.
  encoded_.clear();
  msg::EncodeMessage(m, &encoded_);
  for (const auto& [nick, other] : room_.members()) {
    if (other != except && other->state() != ConnState::kClosing) {
      SendEncoded(*other);
    }
  }
}

bool ServerCore::ConsoleLine(std::string_view line) {
  if (!IsValidText(line)) {
    return false;
  }
  Broadcast(msg::Chat{proto::kServerNick, 0, sinks_.now_ms(), line}, nullptr);
  FinishTeardowns();
  return true;
}

void ServerCore::Shutdown() {
  const uint64_t now = Mono();
  admission_.ClearHellos();
  constexpr StateSet kTold{ConnState::kEstablished, ConnState::kJoined};
  table_.ForEach([&](Connection& c) {
    if (kTold.Has(c.state())) {
      // Best effort: the connection closes either way.
      [[maybe_unused]] const bool sent =
          c.conn.Send(msg::Error{proto::ErrorCode::kShuttingDown, 1, "server shutting down"});
    }
    room_.Remove(c);  // nobody is told of anyone leaving: everyone is
    table_.CloseAfterFlush(c, "shutdown", now);
  });
  FinishTeardowns();
  Log("shutdown: told every client");
}

void ServerCore::Tick() {
  const uint64_t now = Mono();
  RunPendingHandshakes(now);
  expired_.clear();
  table_.Expired(now, &expired_);
  for (const ConnId id : expired_) {
    Connection& c = *table_.Find(id);
    switch (c.state()) {
      case ConnState::kClosing:
        Log(Cat("error ", Tag(id), ": did not read its last messages in time"));
        break;
      case ConnState::kJoined:
        Log(Cat("timeout ", Tag(id), ": idle for ", options_.idle_timeout_ms / 1000, " s"));
        table_.Condemn(c, "idle timeout");
        break;
      case ConnState::kHandshaking:
      case ConnState::kEstablished:
        Log(Cat("timeout ", Tag(id), ": no handshake and JOIN within ",
                options_.handshake_timeout_ms / 1000, " s"));
        table_.Condemn(c, "handshake timeout");
        break;
    }
  }
  FinishTeardowns();
  admission_.ForgetUnused(now);
}

std::optional<uint64_t> ServerCore::MsUntilTick() {
  const uint64_t now = Mono();
  const std::optional<uint64_t> hello = admission_.MsUntilHandshake(now);
  const std::optional<uint64_t> deadline = table_.MsUntilDeadline(now);
  if (hello && deadline) {
    return std::min(*hello, *deadline);
  }
  return hello ? hello : deadline;
}

void ServerCore::Forget(ConnId id) {
  if (Connection* c = table_.Find(id)) {
    table_.Condemn(*c, "closed");
    FinishTeardowns();
  }
  table_.Erase(id);
}

}  // namespace securechat
