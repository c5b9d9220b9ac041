#include "securechat/engine/server_core.h"

#include <algorithm>
#include <limits>
#include <variant>

#include "securechat/base/cat.h"
#include "securechat/wire/nick.h"
#include "securechat/wire/text.h"

namespace securechat {

struct ServerCore::Address {
  Address(double rate, double burst) : handshakes(rate, burst) {}
  size_t connections = 0;
  TokenBucket handshakes;
  uint64_t last_used_ms = 0;
  uint64_t last_turn = 0;  // when this address last had a handshake done (0: never)
};

struct ServerCore::Client {
  Client(ConnId id_in, std::string_view address_in, std::string_view peer_in,
         const ServerPrivateKey& key, RandomSource& rng, const ServerOptions& options, uint64_t now)
      : id(id_in),
        address(address_in),
        peer(peer_in),
        conn(key, rng),
        rate(options.rate, options.burst),
        deadline_ms(now + options.handshake_timeout_ms) {}
  ConnId id;
  std::string address;
  std::string peer;
  ServerConnection conn;
  std::string nick;      // empty until JOIN succeeds
  std::string skeleton;  // NickSkeleton(nick), its key in by_skeleton_
  TokenBucket rate;
  int strikes = 0;       // messages refused in a row by the rate limit
  uint64_t deadline_ms;  // handshake deadline, then idle deadline, then linger deadline
  bool counted = false;  // holds a place in its Address's connection count
  // Marked to close (Condemn): nothing more is sent to it, and the event that marked it
  // finishes the teardown (leaving the room, freeing its address's place) once its handlers
  // have returned.
  bool condemned = false;
  std::string condemned_why;
  bool joined() const { return !nick.empty(); }
};

namespace {

std::string Tag(ConnId id) { return Cat("#", id); }

constexpr std::string_view kBadNickText = "invalid nick: use 1 to 32 of A-Z a-z 0-9 _ . -";

}  // namespace

ServerCore::ServerCore(const ServerPrivateKey& key, RandomSource& rng, ServerOptions options,
                       ServerSinks sinks)
    : key_(key),
      rng_(rng),
      options_(std::move(options)),
      sinks_(std::move(sinks)),
      // A second's worth of budget may be spent at once.
      handshake_budget_(options_.handshakes_per_second,
                        std::max(1.0, options_.handshakes_per_second)) {
  if (!sinks_.mono_ms) {
    sinks_.mono_ms = sinks_.now_ms;
  }
}

ServerCore::~ServerCore() = default;

ServerCore::Client* ServerCore::Find(ConnId id) const {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

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

ConnId ServerCore::Accept(std::string_view address, std::string_view peer) {
  const uint64_t now = Mono();
  const ConnId id = next_id_++;
  if (peer.empty()) {
    peer = address;
  }
  auto client = std::make_unique<Client>(id, address, peer, key_, rng_, options_, now);
  auto it = addresses_.find(address);
  if (it == addresses_.end()) {
    if (addresses_.size() >= options_.max_clients + kMaxIdleAddresses) {
      ForgetIdleAddresses();
    }
    const double per_address = options_.handshakes_per_second_per_address;
    it = addresses_
             .emplace(std::string(address),
                      std::make_unique<Address>(per_address, std::max(1.0, per_address)))
             .first;
  }
  Address& addr = *it->second;
  addr.last_used_ms = now;
  const char* refusal = nullptr;
  if (clients_.size() >= options_.max_clients) {
    AppendAlert(proto::AlertCode::kServerFull, "server full", client->conn.output().buffer());
    refusal = "server full";
  } else if (addr.connections >= options_.max_per_address) {
    AppendAlert(proto::AlertCode::kTooManyFromAddress, "too many connections from your address",
                client->conn.output().buffer());
    refusal = "too many connections from this address";
  }
  if (refusal != nullptr) {
    client->conn.Close();
    client->deadline_ms = now + options_.linger_ms;
    Log(Cat("refuse ", Tag(id), " from ", peer, ": ", refusal));
  } else {
    ++addr.connections;
    client->counted = true;
    Log(Cat("connect ", Tag(id), " from ", peer));
  }
  next_deadline_ms_ = std::min(next_deadline_ms_, client->deadline_ms);
  clients_.emplace(id, std::move(client));
  return id;
}

void ServerCore::Receive(ConnId id, ByteView bytes) {
  if (Client* c = Find(id)) {
    ReceiveRecords(*c, bytes);
  }
  FinishTeardowns();
}

void ServerCore::ReceiveRecords(Client& client, ByteView bytes) {
  Client* c = &client;
  const ConnId id = c->id;
  ByteView in = bytes;
  ByteView plaintext;
  while (c->conn.state() != ServerConnection::State::kClosed) {
    switch (c->conn.Next(&in, &plaintext)) {
      case ServerConnection::Step::kNeedMore:
        return;
      case ServerConnection::Step::kHelloReady:
        pending_handshakes_.push_back(id);
        RunPendingHandshakes(Mono());
        break;
      case ServerConnection::Step::kClose:
        Log(Cat("error ", Tag(id), ": ", c->conn.close_reason()));
        Condemn(*c, "connection error");
        return;
      case ServerConnection::Step::kMessage:
        if (c->joined()) {
          c->deadline_ms = Mono() + options_.idle_timeout_ms;
        }
        HandleMessage(*c, plaintext);
        // What the handler marked is torn down now, before the next record: it may have
        // been this client, whose records then stop here (its connection is closed).
        FinishTeardowns();
        break;
    }
  }
}

void ServerCore::RunPendingHandshakes(uint64_t now) {
  // Addresses take turns: the next hello served is the oldest one from the address whose last
  // handshake is longest ago (or that never had one), among addresses within their own budget.
  // A newcomer waits for one handshake per busy address, not behind a flood's whole backlog.
  while (!pending_handshakes_.empty()) {
    auto next = pending_handshakes_.end();
    Address* next_addr = nullptr;
    for (auto it = pending_handshakes_.begin(); it != pending_handshakes_.end();) {
      Client* c = Find(*it);
      if (c == nullptr || c->conn.state() != ServerConnection::State::kHelloPending) {
        it = pending_handshakes_.erase(it);
        continue;
      }
      Address& addr = *addresses_.find(c->address)->second;
      if ((next_addr == nullptr || addr.last_turn < next_addr->last_turn) &&
          addr.handshakes.MsUntilToken(now) == 0) {
        next = it;
        next_addr = &addr;
      }
      ++it;
    }
    if (next_addr == nullptr || !handshake_budget_.Take(now)) {
      return;  // every waiting address is over its budget, or everyone is
    }
    const ConnId id = *next;
    pending_handshakes_.erase(next);
    Client* c = Find(id);
    (void)next_addr->handshakes.Take(now);
    next_addr->last_turn = ++handshake_turns_;
    if (!c->conn.CompleteHandshake()) {
      Log(Cat("error ", Tag(id), ": ", c->conn.close_reason()));
      c->deadline_ms = now + options_.linger_ms;  // an ALERT 2 may still be flushed
      next_deadline_ms_ = std::min(next_deadline_ms_, c->deadline_ms);
    }
  }
}

void ServerCore::PeerClosed(ConnId id, std::string_view why) {
  if (Client* c = Find(id)) {
    Condemn(*c, why);
  }
  FinishTeardowns();
}

void ServerCore::Condemn(Client& c, std::string_view why) {
  c.conn.Close();
  c.conn.output().Clear();  // nobody is left to read it, or they would not read it
  MarkForTeardown(c, why);
}

void ServerCore::MarkForTeardown(Client& c, std::string_view why) {
  if (c.condemned) {
    return;  // the first reason stands
  }
  c.condemned = true;
  c.condemned_why = std::string(why);
  condemned_.push_back(c.id);
}

void ServerCore::FinishTeardowns() {
  // Leaving broadcasts, and a broadcast may condemn more clients: they join the list and are
  // torn down in this same loop. Each client is condemned at most once, so it ends.
  for (size_t i = 0; i < condemned_.size(); ++i) {
    if (Client* c = Find(condemned_[i])) {
      Leave(*c, c->condemned_why);
    }
  }
  condemned_.clear();
}

void ServerCore::HandleMessage(Client& c, ByteView plaintext) {
  using proto::ErrorCode;
  msg::ClientMessage m;
  const msg::DecodeStatus status = msg::DecodeClientMessage(plaintext, &m);
  const bool is_bye = status == msg::DecodeStatus::kOk && std::holds_alternative<msg::Bye>(m);
  // Every record counts against the rate, whatever it holds (unknown kinds, malformed ones,
  // anything before JOIN): each costs the server an answer. BYE alone is free.
  if (!is_bye && !c.rate.Take(Mono())) {
    if (++c.strikes > options_.burst) {
      SendFatal(c, ErrorCode::kRateLimited, "rate limit exceeded again and again");
    } else {
      SendError(c, ErrorCode::kRateLimited, "rate limited: message dropped, slow down");
    }
    return;
  }
  c.strikes = 0;
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
  const bool is_join = std::holds_alternative<msg::Join>(m);
  if (c.joined() && is_join) {
    SendFatal(c, ErrorCode::kMalformed, "already joined");
    return;
  }
  if (!c.joined() && !is_join && !is_bye) {
    SendError(c, ErrorCode::kNotJoined, "join first");
    return;
  }
  if (auto* join = std::get_if<msg::Join>(&m)) {
    HandleJoin(c, join->nick);
  } else if (auto* say = std::get_if<msg::Say>(&m)) {
    HandleSay(c, say->text);
  } else if (auto* whisper = std::get_if<msg::Whisper>(&m)) {
    HandleWhisper(c, whisper->to, whisper->text);
  } else if (std::holds_alternative<msg::Who>(m)) {
    HandleWho(c);
  } else if (auto* nick = std::get_if<msg::Nick>(&m)) {
    HandleNick(c, nick->nick);
  } else if (auto* ping = std::get_if<msg::Ping>(&m)) {
    Send(c, msg::Pong{ping->data});
  } else if (is_bye) {
    CloseAfterFlush(c, "bye");
  }
}

bool ServerCore::NickAvailable(Client& c, std::string_view nick, std::string* skeleton) {
  if (!IsValidNick(nick)) {
    SendError(c, proto::ErrorCode::kInvalidNick, kBadNickText);
    return false;
  }
  if (IsReservedNick(nick)) {
    SendError(c, proto::ErrorCode::kInvalidNick,
              Cat("invalid nick: ", nick, " looks like a reserved nick"));
    return false;
  }
  *skeleton = NickSkeleton(nick);
  auto it = by_skeleton_.find(*skeleton);
  if (it != by_skeleton_.end() && it->second != &c) {
    if (SameNick(it->second->nick, nick)) {
      SendError(c, proto::ErrorCode::kNickTaken, "nick taken");
    } else {
      SendError(c, proto::ErrorCode::kInvalidNick,
                Cat("invalid nick: ", nick, " looks like ", it->second->nick, ", who is online"));
    }
    return false;
  }
  return true;
}

void ServerCore::TakeNick(Client& c, std::string_view nick, std::string skeleton) {
  c.nick = std::string(nick);
  c.skeleton = std::move(skeleton);
  by_nick_.emplace(c.nick, &c);
  by_skeleton_.emplace(c.skeleton, &c);
}

void ServerCore::DropNick(Client& c) {
  by_nick_.erase(c.nick);
  by_skeleton_.erase(c.skeleton);
  c.nick.clear();
  c.skeleton.clear();
}

void ServerCore::HandleJoin(Client& c, std::string_view nick) {
  std::string skeleton;
  if (!NickAvailable(c, nick, &skeleton)) {
    return;
  }
  TakeNick(c, nick, std::move(skeleton));
  c.deadline_ms = Mono() + options_.idle_timeout_ms;
  const auto online = static_cast<uint16_t>(
      std::min<size_t>(by_nick_.size(), std::numeric_limits<uint16_t>::max()));
  Send(c, msg::Welcome{c.nick, options_.motd, online});
  const std::string notice = Cat(c.nick, " joined");
  Broadcast(msg::Notice{notice}, &c);
  ShowRoom({}, notice);
  Log(Cat("join ", Tag(c.id), " as ", c.nick));
}

void ServerCore::HandleNick(Client& c, std::string_view nick) {
  if (nick == c.nick) {
    return;
  }
  std::string skeleton;
  if (!NickAvailable(c, nick, &skeleton)) {
    return;  // a nick that only looks like our own is ours to take: `alice` to `Alice`
  }
  const std::string old = c.nick;
  DropNick(c);
  TakeNick(c, nick, std::move(skeleton));
  const std::string notice = Cat(old, " is now known as ", c.nick);
  Broadcast(msg::Notice{notice}, nullptr);
  ShowRoom({}, notice);
  Log(Cat("rename ", Tag(c.id), " ", old, " to ", c.nick));
}

void ServerCore::HandleSay(Client& c, std::string_view text) {
  if (!IsValidText(text)) {
    SendError(c, proto::ErrorCode::kBadText, "text invalid or too long");
    return;
  }
  Broadcast(msg::Chat{c.nick, 0, sinks_.now_ms(), text}, &c);
  if (sinks_.room) {  // the escaped line is built only for a console that shows it
    ShowRoom(c.nick, EscapeForDisplay(text));
  }
}

void ServerCore::HandleWhisper(Client& c, std::string_view to, std::string_view text) {
  if (!IsValidNick(to)) {
    SendError(c, proto::ErrorCode::kInvalidNick, "invalid nick");
    return;
  }
  auto it = by_nick_.find(to);
  if (it == by_nick_.end()) {
    SendError(c, proto::ErrorCode::kNoSuchUser, Cat("no such user: ", to));
    return;
  }
  if (!IsValidText(text)) {
    SendError(c, proto::ErrorCode::kBadText, "text invalid or too long");
    return;
  }
  Send(*it->second, msg::Chat{c.nick, proto::kChatFlagPrivate, sinks_.now_ms(), text});
}

void ServerCore::HandleWho(Client& c) {
  msg::Users page;
  page.nicks.reserve(std::min(by_nick_.size(), proto::kUsersPerPage));
  size_t left = by_nick_.size();
  for (const auto& [nick, member] : by_nick_) {
    page.nicks.push_back(nick);
    --left;
    if (page.nicks.size() == proto::kUsersPerPage && left > 0) {
      page.more = 1;
      Send(c, page);
      if (c.condemned) {
        return;  // its queue overflowed: the rest would be thrown away
      }
      page.nicks.clear();
    }
  }
  page.more = 0;
  Send(c, page);
}

void ServerCore::SendError(Client& c, proto::ErrorCode code, std::string_view text) {
  Send(c, msg::Error{code, 0, text});
}

void ServerCore::SendFatal(Client& c, proto::ErrorCode code, std::string_view text) {
  Send(c, msg::Error{code, 1, text});
  Log(Cat("error ", Tag(c.id), ": ", text));
  CloseAfterFlush(c, "error");
}

void ServerCore::CloseAfterFlush(Client& c, std::string_view why) {
  c.conn.Close();
  c.deadline_ms = Mono() + options_.linger_ms;
  next_deadline_ms_ = std::min(next_deadline_ms_, c.deadline_ms);
  MarkForTeardown(c, why);
}

void ServerCore::Send(Client& c, const msg::ServerMessage& m) {
  if (c.condemned) {
    return;
  }
  encoded_.clear();
  msg::EncodeMessage(m, &encoded_);
  SendEncoded(c);
}

void ServerCore::SendEncoded(Client& c) {
  if (!c.conn.SendEncoded(encoded_)) {
    if (c.conn.state() == ServerConnection::State::kClosed) {
      Condemn(c, c.conn.close_reason());
    }
    return;
  }
  if (c.conn.output().size() > options_.max_queue_bytes) {
    Log(Cat("error ", Tag(c.id), ": output queue over ", options_.max_queue_bytes,
            " bytes (not reading)"));
    Condemn(c, "not reading");
  }
}

void ServerCore::Broadcast(const msg::ServerMessage& m, const Client* except) {
  // Encoded once; each recipient only seals it with its own keys. A recipient whose send
  // fails or whose queue overflows is only marked here (it stays in by_nick_ until the
  // event's teardown), so the loop never walks a map it has changed.
  encoded_.clear();
  msg::EncodeMessage(m, &encoded_);
  for (const auto& [nick, other] : by_nick_) {
    if (other != except && !other->condemned) {
      SendEncoded(*other);
    }
  }
}

void ServerCore::Leave(Client& c, std::string_view why) {
  ReleaseAddress(c);
  if (!c.joined()) {
    return;
  }
  const std::string nick = c.nick;
  DropNick(c);
  Log(Cat("leave ", Tag(c.id), " ", nick, " (", why, ")"));
  const std::string notice = Cat(nick, " left");
  Broadcast(msg::Notice{notice}, nullptr);
  ShowRoom({}, notice);
}

void ServerCore::ReleaseAddress(Client& c) {
  if (!c.counted) {
    return;
  }
  c.counted = false;
  auto it = addresses_.find(c.address);
  if (it != addresses_.end() && it->second->connections > 0) {
    --it->second->connections;
    it->second->last_used_ms = Mono();
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

ByteView ServerCore::RefusalBytes() {
  static const std::vector<uint8_t>* const bytes = [] {
    auto* alert = new std::vector<uint8_t>;
    AppendAlert(proto::AlertCode::kServerFull, "server full", alert);
    return alert;
  }();
  return *bytes;
}

void ServerCore::Shutdown() {
  const uint64_t now = Mono();
  for (auto& [id, c] : clients_) {
    if (c->conn.state() == ServerConnection::State::kEstablished) {
      // Best effort: the connection closes either way.
      [[maybe_unused]] const bool sent =
          c->conn.Send(msg::Error{proto::ErrorCode::kShuttingDown, 1, "server shutting down"});
    }
    c->conn.Close();
    c->nick.clear();
    c->skeleton.clear();
    c->deadline_ms = now + options_.linger_ms;
    ReleaseAddress(*c);
  }
  by_nick_.clear();
  by_skeleton_.clear();
  next_deadline_ms_ = 0;
  Log("shutdown: told every client");
}

void ServerCore::Tick() {
  const uint64_t now = Mono();
  RunPendingHandshakes(now);
  if (now < next_deadline_ms_) {
    return;
  }
  uint64_t next = std::numeric_limits<uint64_t>::max();
  for (auto& [id, c] : clients_) {
    if (now < c->deadline_ms) {
      next = std::min(next, c->deadline_ms);
      continue;
    }
    if (c->conn.state() == ServerConnection::State::kClosed) {
      if (!c->conn.output().empty()) {
        Log(Cat("error ", Tag(id), ": did not read its last messages in time"));
        c->conn.output().Clear();
      }
    } else if (c->joined()) {
      Log(Cat("timeout ", Tag(id), ": idle for ", options_.idle_timeout_ms / 1000, " s"));
      Condemn(*c, "idle timeout");
    } else {
      Log(Cat("timeout ", Tag(id), ": no handshake and JOIN within ",
              options_.handshake_timeout_ms / 1000, " s"));
      Condemn(*c, "handshake timeout");
    }
  }
  next_deadline_ms_ = next;
  FinishTeardowns();
  // Forget per-address state nobody has used for a minute (its buckets are full again).
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    if (it->second->connections == 0 && now - it->second->last_used_ms > 60'000) {
      it = addresses_.erase(it);
    } else {
      ++it;
    }
  }
}

void ServerCore::ForgetIdleAddresses() {
  // At most max_clients addresses hold a connection; the rest are idle, kept only for their
  // handshake budget. Forget the older half of those at once, so that a flood of new
  // addresses costs one pass per kMaxIdleAddresses / 2 of them, not one per connection.
  std::vector<decltype(addresses_)::iterator> idle;
  for (auto it = addresses_.begin(); it != addresses_.end(); ++it) {
    if (it->second->connections == 0) {
      idle.push_back(it);
    }
  }
  const size_t forget = idle.size() / 2 + 1;
  if (forget > idle.size()) {
    return;  // cannot happen while at most max_clients addresses hold a connection
  }
  std::nth_element(idle.begin(), idle.begin() + static_cast<ptrdiff_t>(forget - 1), idle.end(),
                   [](const auto& a, const auto& b) {
                     return a->second->last_used_ms < b->second->last_used_ms;
                   });
  for (size_t i = 0; i < forget; ++i) {
    addresses_.erase(idle[i]);
  }
}

std::optional<uint64_t> ServerCore::MsUntilTick() {
  const uint64_t now = Mono();
  std::optional<uint64_t> wait;
  if (!pending_handshakes_.empty()) {
    wait = std::max<uint64_t>(1, handshake_budget_.MsUntilToken(now));
    // A hello held back by its address's budget waits at most this long too.
    wait = std::min<uint64_t>(*wait, 50);
  }
  if (next_deadline_ms_ != std::numeric_limits<uint64_t>::max()) {
    const uint64_t until = next_deadline_ms_ > now ? next_deadline_ms_ - now : 0;
    wait = wait ? std::min(*wait, until) : until;
  }
  return wait;
}

ByteView ServerCore::Pending(ConnId id) const {
  Client* c = Find(id);
  return c == nullptr ? ByteView() : c->conn.output().pending();
}

void ServerCore::Consumed(ConnId id, size_t n) {
  if (Client* c = Find(id)) {
    c->conn.output().Consume(n);
  }
}

bool ServerCore::ShouldClose(ConnId id) const {
  Client* c = Find(id);
  return c == nullptr ||
         (c->conn.state() == ServerConnection::State::kClosed && c->conn.output().empty());
}

void ServerCore::Forget(ConnId id) {
  if (Client* c = Find(id)) {
    MarkForTeardown(*c, "closed");
    FinishTeardowns();
  }
  clients_.erase(id);
}

std::vector<ConnId> ServerCore::ids() const {
  std::vector<ConnId> out;
  out.reserve(clients_.size());
  for (const auto& [id, c] : clients_) {
    out.push_back(id);
  }
  return out;
}

}  // namespace securechat
