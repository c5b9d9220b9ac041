#include "securechat/engine/dispatch.h"

#include <iterator>
#include <type_traits>
#include <variant>

namespace securechat {

namespace {

// How the server answers a message its row does not allow in the sender's state.
struct Refusal {
  proto::ErrorCode code;
  bool fatal;
  std::string_view text;
};
struct Route {
  proto::Kind kind;
  StateSet allowed;
  bool charged;  // takes a token from the sender's rate bucket before anything else
  Refusal refused;
};

// Messages only arrive once the handshake is done, and never once a connection is closing,
// so the states that matter are established, authenticated and joined.
constexpr StateSet kFresh{ConnState::kEstablished};
constexpr StateSet kBeforeJoin{ConnState::kEstablished, ConnState::kAuthenticated};
constexpr StateSet kMember{ConnState::kJoined};
constexpr StateSet kAny{ConnState::kEstablished, ConnState::kAuthenticated, ConnState::kJoined};
constexpr Refusal kJoinFirst{proto::ErrorCode::kNotJoined, false, "join first"};
constexpr Refusal kAlreadyJoined{proto::ErrorCode::kMalformed, true, "already joined"};
constexpr Refusal kAuthOnce{proto::ErrorCode::kMalformed, true, "AUTH comes once, before JOIN"};
constexpr Refusal kHistoryFirst{proto::ErrorCode::kMalformed, true, "HISTORY comes before JOIN"};
// Every record counts against the rate, whatever it holds (unknown kinds, malformed ones,
// anything before JOIN): each costs the server an answer. BYE and QUIT are free, and so is a
// FILE_CHUNK of a transfer its sender streams, which flow control paces instead (and a late
// one of a transfer that ended, dropped unanswered up to a bound: Transfers::ChargeChunk).
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
    {proto::Kind::kAuth, kFresh, kCharged, kAuthOnce},
    {proto::Kind::kAction, kMember, kCharged, kJoinFirst},
    {proto::Kind::kAway, kMember, kCharged, kJoinFirst},
    {proto::Kind::kWhois, kMember, kCharged, kJoinFirst},
    // QUIT is BYE with a reason: allowed in every state and free, so that leaving always works.
    {proto::Kind::kQuit, kAny, kFree, kJoinFirst},
    {proto::Kind::kHistory, kBeforeJoin, kCharged, kHistoryFirst},
    {proto::Kind::kModerate, kMember, kCharged, kJoinFirst},
    {proto::Kind::kRoomJoin, kMember, kCharged, kJoinFirst},
    {proto::Kind::kRoomPart, kMember, kCharged, kJoinFirst},
    {proto::Kind::kRoomList, kMember, kCharged, kJoinFirst},
    {proto::Kind::kRoomTopic, kMember, kCharged, kJoinFirst},
    {proto::Kind::kRoomSay, kMember, kCharged, kJoinFirst},
    {proto::Kind::kRoomWho, kMember, kCharged, kJoinFirst},
    {proto::Kind::kFileOffer, kMember, kCharged, kJoinFirst},
    {proto::Kind::kFileAccept, kMember, kCharged, kJoinFirst},
    {proto::Kind::kFileCancel, kMember, kCharged, kJoinFirst},
    // Charged, but a chunk of a transfer the sender streams is free (Dispatcher::Charged).
    {proto::Kind::kFileChunk, kMember, kCharged, kJoinFirst},
    {proto::Kind::kFileDone, kMember, kCharged, kJoinFirst},
};
static_assert(std::size(kRoutes) == std::variant_size_v<msg::ClientMessage>,
              "one row per client message kind");

// RouteOf is the row of message type M, found when the program is compiled: a message type
// without exactly one row does not build.
template <typename M>
constexpr const Route& RouteOf() {
  constexpr size_t kRows = std::size(kRoutes);
  constexpr size_t kRow = [] {
    size_t row = kRows;
    for (size_t i = 0; i < kRows; ++i) {
      if (kRoutes[i].kind == M::kKind) {
        row = row == kRows ? i : kRows + 1;  // a second row for the kind: no row
      }
    }
    return row;
  }();
  static_assert(kRow < kRows, "exactly one dispatch table row per message kind");
  return kRoutes[kRow];
}

const Route& RouteFor(const msg::ClientMessage& m) {
  return std::visit(
      [](const auto& x) -> const Route& { return RouteOf<std::decay_t<decltype(x)>>(); }, m);
}

}  // namespace

void Dispatcher::Dispatch(Connection& c, ByteView plaintext) {
  msg::ClientMessage m;
  const msg::DecodeStatus status = msg::DecodeClientMessage(plaintext, &m);
  const Route* route = status == msg::DecodeStatus::kOk ? &RouteFor(m) : nullptr;
  bool drop = false;
  const bool charged = route == nullptr || Charged(c, m, route->charged, &drop);
  if (drop || (charged && !TakeToken(c))) {
    return;
  }
  switch (status) {
    case msg::DecodeStatus::kUnknownKind:
      table_.Error(c, proto::ErrorCode::kUnknownKind, "unknown message kind");
      return;
    case msg::DecodeStatus::kMalformed:
      table_.Fatal(c, proto::ErrorCode::kMalformed, "malformed message");
      return;
    case msg::DecodeStatus::kOk:
      break;
  }
  if (!route->allowed.Has(c.state())) {
    if (route->refused.fatal) {
      table_.Fatal(c, route->refused.code, route->refused.text);
    } else {
      table_.Error(c, route->refused.code, route->refused.text);
    }
    return;
  }
  std::visit([this, &c](const auto& message) { Handle(c, message); }, m);
}

bool Dispatcher::Charged(Connection& c, const msg::ClientMessage& m, bool charged_by_row,
                         bool* drop) {
  const auto* chunk = std::get_if<msg::FileChunk>(&m);
  // Only a joined member has transfers; before JOIN a chunk is charged and refused as any
  // member's message is.
  if (chunk == nullptr || c.state() != ConnState::kJoined) {
    return charged_by_row;
  }
  switch (transfers_.ChargeChunk(c, *chunk)) {
    case Transfers::ChunkCharge::kFree:
      return false;
    case Transfers::ChunkCharge::kDropped:
      *drop = true;
      return false;
    case Transfers::ChunkCharge::kCharged:
      break;
  }
  return charged_by_row;
}

bool Dispatcher::TakeToken(Connection& c) {
  if (c.rate.Take(sinks_.Mono())) {
    c.strikes = 0;
    return true;
  }
  if (++c.strikes > burst_) {
    table_.Fatal(c, proto::ErrorCode::kRateLimited, "rate limit exceeded again and again");
  } else {
    table_.Error(c, proto::ErrorCode::kRateLimited, "rate limited: message dropped, slow down");
  }
  return false;
}

}  // namespace securechat
