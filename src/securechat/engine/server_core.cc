#include "securechat/engine/server_core.h"

#include <algorithm>
#include <limits>
#include <variant>

#include "securechat/base/cat.h"
#include "securechat/wire/text.h"

namespace securechat {

struct ServerCore::Client {
  Client(ConnId id_in, std::string_view peer_in, const ServerPrivateKey& key, RandomSource& rng)
      : id(id_in), peer(peer_in), conn(key, rng) {}
  ConnId id;
  std::string peer;
  ServerConnection conn;
  std::string nick;  // empty until JOIN succeeds
  bool joined() const { return !nick.empty(); }
};

namespace {

std::string Tag(ConnId id) { return Cat("#", id); }

}  // namespace

ServerCore::ServerCore(const ServerPrivateKey& key, RandomSource& rng, ServerOptions options,
                       ServerSinks sinks)
    : key_(key), rng_(rng), options_(std::move(options)), sinks_(std::move(sinks)) {}

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

void ServerCore::ShowRoom(std::string_view line) const {
  if (sinks_.room) {
    sinks_.room(line);
  }
}

ConnId ServerCore::Accept(std::string_view peer) {
  const ConnId id = next_id_++;
  const bool full = clients_.size() >= options_.max_clients;
  auto client = std::make_unique<Client>(id, peer, key_, rng_);
  if (full) {
    AppendAlert(proto::AlertCode::kServerFull, "server full", client->conn.output().buffer());
    client->conn.Close();
    Log(Cat("refuse ", Tag(id), " from ", peer, ": server full"));
  } else {
    Log(Cat("connect ", Tag(id), " from ", peer));
  }
  clients_.emplace(id, std::move(client));
  return id;
}

void ServerCore::Receive(ConnId id, ByteView bytes) {
  Client* c = Find(id);
  if (c == nullptr) {
    return;
  }
  ByteView in = bytes;
  ByteView plaintext;
  while (c->conn.state() != ServerConnection::State::kClosed) {
    switch (c->conn.Next(&in, &plaintext)) {
      case ServerConnection::Step::kNeedMore:
        return;
      case ServerConnection::Step::kClose:
        Log(Cat("error ", Tag(id), ": ", c->conn.close_reason()));
        Leave(*c, "connection error");
        return;
      case ServerConnection::Step::kMessage:
        HandleMessage(*c, plaintext);
        break;
    }
  }
}

void ServerCore::PeerClosed(ConnId id, std::string_view why) {
  Client* c = Find(id);
  if (c == nullptr) {
    return;
  }
  c->conn.Close();
  c->conn.output().Clear();  // nobody is left to read it
  Leave(*c, why);
}

void ServerCore::HandleMessage(Client& c, ByteView plaintext) {
  using proto::ErrorCode;
  msg::ClientMessage m;
  switch (msg::DecodeClientMessage(plaintext, &m)) {
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
  const bool is_bye = std::holds_alternative<msg::Bye>(m);
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
    c.conn.Close();
    Leave(c, "bye");
  }
}

void ServerCore::HandleJoin(Client& c, std::string_view nick) {
  if (!IsValidNick(nick) || IsReservedNick(nick)) {
    SendError(c, proto::ErrorCode::kInvalidNick, "invalid nick: use 1 to 32 of A-Z a-z 0-9 _ . -");
    return;
  }
  if (by_nick_.count(nick) != 0) {
    SendError(c, proto::ErrorCode::kNickTaken, "nick taken");
    return;
  }
  c.nick = std::string(nick);
  by_nick_.emplace(c.nick, c.id);
  const auto online = static_cast<uint16_t>(
      std::min<size_t>(by_nick_.size(), std::numeric_limits<uint16_t>::max()));
  Send(c, msg::Welcome{c.nick, options_.motd, online});
  const std::string notice = Cat(c.nick, " joined");
  Broadcast(msg::Notice{notice}, &c);
  ShowRoom(Cat("-!- ", notice));
  Log(Cat("join ", Tag(c.id), " as ", c.nick));
}

void ServerCore::HandleNick(Client& c, std::string_view nick) {
  if (!IsValidNick(nick) || IsReservedNick(nick)) {
    SendError(c, proto::ErrorCode::kInvalidNick, "invalid nick: use 1 to 32 of A-Z a-z 0-9 _ . -");
    return;
  }
  if (nick == c.nick) {
    return;
  }
  if (by_nick_.count(nick) != 0) {
    SendError(c, proto::ErrorCode::kNickTaken, "nick taken");
    return;
  }
  const std::string old = std::move(c.nick);
  by_nick_.erase(old);
  c.nick = std::string(nick);
  by_nick_.emplace(c.nick, c.id);
  const std::string notice = Cat(old, " is now known as ", c.nick);
  Broadcast(msg::Notice{notice}, nullptr);
  ShowRoom(Cat("-!- ", notice));
  Log(Cat("rename ", Tag(c.id), " ", old, " to ", c.nick));
}

void ServerCore::HandleSay(Client& c, std::string_view text) {
  if (!IsValidText(text)) {
    SendError(c, proto::ErrorCode::kBadText, "text invalid or too long");
    return;
  }
  Broadcast(msg::Chat{c.nick, 0, sinks_.now_ms(), text}, &c);
  ShowRoom(Cat("<", c.nick, "> ", EscapeForDisplay(text)));
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
  Send(*Find(it->second), msg::Chat{c.nick, proto::kChatFlagPrivate, sinks_.now_ms(), text});
}

void ServerCore::HandleWho(Client& c) {
  msg::Users page;
  page.nicks.reserve(std::min(by_nick_.size(), proto::kUsersPerPage));
  size_t left = by_nick_.size();
  for (const auto& [nick, id] : by_nick_) {
    page.nicks.push_back(nick);
    --left;
    if (page.nicks.size() == proto::kUsersPerPage && left > 0) {
      page.more = 1;
      Send(c, page);
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
  c.conn.Close();
  Leave(c, "error");
}

void ServerCore::Send(Client& c, const msg::ServerMessage& m) {
  if (!c.conn.Send(m) && c.conn.state() == ServerConnection::State::kClosed) {
    Leave(c, c.conn.close_reason());
  }
}

void ServerCore::Broadcast(const msg::ServerMessage& m, const Client* except) {
  for (const auto& [nick, id] : by_nick_) {
    Client* other = Find(id);
    if (other != except) {
      // A failed send has closed that connection; the network layer sees ShouldClose and
      // Forget makes it leave. Leaving here would change by_nick_ under this loop.
      [[maybe_unused]] const bool sent = other->conn.Send(m);
    }
  }
}

void ServerCore::Leave(Client& c, std::string_view why) {
  if (!c.joined()) {
    return;
  }
  const std::string nick = std::move(c.nick);
  c.nick.clear();
  by_nick_.erase(nick);
  Log(Cat("leave ", Tag(c.id), " ", nick, " (", why, ")"));
  const std::string notice = Cat(nick, " left");
  Broadcast(msg::Notice{notice}, nullptr);
  ShowRoom(Cat("-!- ", notice));
}

bool ServerCore::ConsoleLine(std::string_view line) {
  if (!IsValidText(line)) {
    return false;
  }
  Broadcast(msg::Chat{proto::kServerNick, 0, sinks_.now_ms(), line}, nullptr);
  return true;
}

void ServerCore::Shutdown() {
  for (auto& [id, c] : clients_) {
    if (c->conn.state() == ServerConnection::State::kEstablished) {
      // Best effort: the connection closes either way.
      [[maybe_unused]] const bool sent =
          c->conn.Send(msg::Error{proto::ErrorCode::kShuttingDown, 1, "server shutting down"});
    }
    c->conn.Close();
    c->nick.clear();
  }
  by_nick_.clear();
  Log("shutdown: told every client");
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
    Leave(*c, "closed");
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
