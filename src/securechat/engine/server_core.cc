#include "securechat/engine/server_core.h"

#include <algorithm>

#include "securechat/base/cat.h"
#include "securechat/engine/console.h"
#include "securechat/wire/text.h"

namespace securechat {

namespace {

ConnectionLimits LimitsOf(const ServerOptions& o) {
  return ConnectionLimits{o.handshake_timeout_ms, o.idle_timeout_ms, o.linger_ms, o.rate, o.burst,
                          o.max_queue_bytes};
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
      table_(key, rng, LimitsOf(options_), sinks_),
      admission_(AdmissionOf(options_)),
      gate_(table_, sinks_, std::move(options_.members), options_.access),
      room_(table_, sinks_, gate_, options_.motd, options_.history, options_.history_epoch),
      rooms_(table_, sinks_, room_, gate_, options_.rooms, options_.history,
             options_.history_epoch),
      transfers_(table_, sinks_, room_, options_.transfers),
      moderation_(table_, sinks_, room_, gate_, std::move(options_.bans)),
      dispatcher_(table_, room_, rooms_, transfers_, gate_, moderation_, sinks_, options_.burst) {}

ServerCore::~ServerCore() = default;

std::optional<ConnState> ServerCore::StateOf(ConnId id) const {
  const Connection* c = table_.Find(id);
  return c == nullptr ? std::nullopt : std::optional<ConnState>(c->state());
}

std::vector<std::string> ServerCore::Nicks() const {
  std::vector<std::string> nicks;
  nicks.reserve(room_.size());
  for (const auto& [nick, member] : room_.members()) {
    nicks.push_back(nick);
  }
  return nicks;
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
      sinks_.Log(Cat("connect ", ConnTag(c.id), " from ", c.peer));
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
  sinks_.Log(Cat("refuse ", ConnTag(c.id), " from ", c.peer, ": ", refusal));
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
        sinks_.Log(Cat("error ", ConnTag(c.id), ": ", c.conn.close_reason()));
        table_.Condemn(c, "connection error");
        return;
      case ServerConnection::Step::kMessage:
        table_.Touch(c, Mono());
        dispatcher_.Dispatch(c, plaintext);
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
      sinks_.Log(Cat("error ", ConnTag(c->id), ": ", c->conn.close_reason()));
      table_.CloseAfterFlush(*c, "handshake failed", now);  // an ALERT 2 may still be flushed
    }
  }
}

void ServerCore::PeerClosed(ConnId id, std::string_view why) {
  if (Connection* c = table_.Find(id)) {
    // A joined client's leaving is logged by the room; one we were closing, when we closed
    // it. Before JOIN nothing else would say what became of the connection.
    switch (c->state()) {
      case ConnState::kHandshaking:
        // A client that asked for the key and then left is most often a person who did not
        // trust it (PROTOCOL.md 4.8), not a stranger to the protocol.
        sinks_.Log(c->conn.state() == ServerConnection::State::kKeySent
                       ? Cat("close ", ConnTag(id), ": ", why,
                             " after asking for the server key (the user did not trust it?)")
                       : Cat("close ", ConnTag(id), ": ", why,
                             " during the handshake (not a securechat client?)"));
        break;
      case ConnState::kEstablished:
        sinks_.Log(Cat("close ", ConnTag(id), ": ", why,
                       " after the handshake, before JOIN (a client that pinned another "
                       "server key leaves here)"));
        break;
      case ConnState::kAuthenticated:
        sinks_.Log(Cat("close ", ConnTag(id), ": ", why, " after AUTH, before JOIN"));
        break;
      case ConnState::kJoined:
      case ConnState::kClosing:
        break;
    }
    table_.Condemn(*c, why);
  }
  FinishTeardowns();
}

void ServerCore::FinishTeardowns() {
  // Leaving broadcasts, and a broadcast may condemn more connections: the table hands them
  // out in this same loop. Each is handed out once, so it ends.
  while (const auto gone = table_.NextCondemned()) {
    Connection& c = *table_.Find(gone->id);
    if (c.holds_place) {
      c.holds_place = false;
      admission_.Depart(c.id, c.address, Mono());
    }
    transfers_.Leave(c);  // the other side of each is told
    rooms_.Leave(c);      // quietly: #lobby's MEMBER_LEFT tells every member
    room_.Leave(c, gone->why);
  }
}

size_t ServerCore::ReloadMembers(Members members) {
  const size_t closed = gate_.Reload(std::move(members));
  FinishTeardowns();
  return closed;
}

ServerCore::ConsoleAnswer ServerCore::ConsoleLine(std::string_view line) {
  ConsoleAnswer answer;
  const ConsoleCommand command = ParseConsoleLine(line);
  switch (command.verb) {
    case ConsoleCommand::Verb::kSay:
      answer.sent = room_.ServerSays(command.arg);
      if (!answer.sent) {
        answer.notes.push_back(Cat("not sent: a console line must be 1 to ", kMaxConsoleLineLen,
                                   " bytes of UTF-8 without control characters"));
      }
      break;
    case ConsoleCommand::Verb::kHelp:
      answer.notes.assign(std::begin(kConsoleHelp), std::end(kConsoleHelp));
      break;
    case ConsoleCommand::Verb::kWho: {
      std::string line_of_nicks = Cat("online (", room_.size(), "):");
      for (const auto& [nick, member] : room_.members()) {
        line_of_nicks.append(" ").append(nick);
      }
      answer.notes.push_back(std::move(line_of_nicks));
      break;
    }
    case ConsoleCommand::Verb::kRooms:
      answer.notes.push_back(Cat("rooms (", rooms_.size() + 1, "):"));
      for (std::string& room : rooms_.Describe()) {
        answer.notes.push_back(Cat("  ", room));
      }
      break;
    case ConsoleCommand::Verb::kMotd:
      if (!command.arg.empty() && !IsValidText(command.arg)) {
        answer.notes.push_back("not set: a message of the day must be valid text");
      } else {
        room_.SetMotd(command.arg);
        answer.notes.push_back(command.arg.empty()
                                   ? "message of the day cleared (for those who join from now)"
                                   : "message of the day set (for those who join from now)");
      }
      break;
    case ConsoleCommand::Verb::kKick:
    case ConsoleCommand::Verb::kBan:
    case ConsoleCommand::Verb::kUnban:
    case ConsoleCommand::Verb::kBans:
    case ConsoleCommand::Verb::kMute:
    case ConsoleCommand::Verb::kUnmute:
      answer.notes = moderation_.Run(command, kConsoleOperator);
      break;
    case ConsoleCommand::Verb::kUnknown:
      answer.notes.push_back(Cat("unknown command ", EscapeForDisplay(command.arg),
                                 " (/help lists them; //TEXT says a line that starts with /TEXT)"));
      break;
  }
  FinishTeardowns();
  return answer;
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
  admission_.ClearHellos();
  transfers_.Clear();
  rooms_.Clear();
  room_.Clear();  // nobody is told of anyone leaving: everyone is
  constexpr StateSet kTold{ConnState::kEstablished, ConnState::kAuthenticated, ConnState::kJoined};
  table_.ForEach([&](Connection& c) {
    if (kTold.Has(c.state())) {
      // Best effort, past the queue limit too: the connection closes either way.
      [[maybe_unused]] const bool sent =
          c.conn.Send(msg::Error{proto::ErrorCode::kShuttingDown, 1, "server shutting down"});
    }
    table_.CloseAfterFlush(c, "shutdown", now);
  });
  FinishTeardowns();
  sinks_.Log("shutdown: told every client");
}

void ServerCore::Tick() {
  const uint64_t now = Mono();
  RunPendingHandshakes(now);
  // Transfers first: a sender held back by its receiver is not read, and its idle deadline is
  // restarted here before it could be taken for silence.
  transfers_.Expire(now);
  expired_.clear();
  table_.Expired(now, &expired_);
  for (const ConnId id : expired_) {
    Connection& c = *table_.Find(id);
    switch (c.state()) {
      case ConnState::kClosing:
        sinks_.Log(Cat("error ", ConnTag(id), ": did not read its last messages in time"));
        break;
      case ConnState::kJoined:
        sinks_.Log(
            Cat("timeout ", ConnTag(id), ": idle for ", options_.idle_timeout_ms / 1000, " s"));
        table_.Condemn(c, "idle timeout");
        break;
      case ConnState::kHandshaking:
      case ConnState::kEstablished:
      case ConnState::kAuthenticated:
        sinks_.Log(Cat("timeout ", ConnTag(id), ": no handshake and JOIN within ",
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
  std::optional<uint64_t> soonest = table_.MsUntilDeadline(now);
  for (const std::optional<uint64_t> ms : {hello, transfers_.MsUntilExpiry(now)}) {
    if (ms) {
      soonest = std::min(soonest.value_or(*ms), *ms);
    }
  }
  return soonest;
}

bool ServerCore::WantsRead(ConnId id) const {
  const Connection* c = table_.Find(id);
  return c == nullptr || transfers_.WantsRead(*c);
}

void ServerCore::Forget(ConnId id) {
  if (Connection* c = table_.Find(id)) {
    table_.Condemn(*c, "closed");
    FinishTeardowns();
  }
  table_.Erase(id);
}

}  // namespace securechat
