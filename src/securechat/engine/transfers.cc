#include "securechat/engine/transfers.h"

#include <algorithm>
#include <limits>

#include "securechat/base/cat.h"
#include "securechat/wire/text.h"

namespace securechat {

namespace {

constexpr double kMinuteMs = 60'000;

std::string_view EndName(proto::FileEnd why) {
  switch (why) {
    case proto::FileEnd::kDone:
      return "done";
    case proto::FileEnd::kDeclined:
      return "declined";
    case proto::FileEnd::kSenderCancelled:
      return "sender cancelled";
    case proto::FileEnd::kReceiverCancelled:
      return "receiver cancelled";
    case proto::FileEnd::kExpired:
      return "expired";
    case proto::FileEnd::kGone:
      return "gone";
    case proto::FileEnd::kBroken:
      return "broken";
    case proto::FileEnd::kRefused:
      return "refused";
    case proto::FileEnd::kStalled:
      return "stalled";
  }
  return "?";
}

// Forget takes `id` out of a connection's list of transfers.
void Forget(std::vector<uint32_t>& ids, uint32_t id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

}  // namespace

Transfers::Transfers(ConnectionTable& table, const ServerSinks& sinks, const Room& lobby,
                     TransferLimits limits)
    : table_(table), sinks_(sinks), lobby_(lobby), limits_(limits) {}

Transfers::~Transfers() = default;

std::string Transfers::Name(const Connection& c) { return Cat(ConnTag(c.id), " ", c.nick); }

Transfers::Transfer* Transfers::Find(uint32_t id) {
  const auto it = live_.find(id);
  return it == live_.end() ? nullptr : &it->second;
}

uint32_t Transfers::NextId() {
  // At most max_transfers ids are live, far fewer than 2^32 - 1: this ends.
  do {
    last_id_ = last_id_ == std::numeric_limits<uint32_t>::max() ? 1 : last_id_ + 1;
  } while (live_.contains(last_id_));
  return last_id_;
}

bool Transfers::Busy(const Connection& c) const {
  return c.transfers.size() >= limits_.max_transfers_per_client;
}

void Transfers::Refuse(Connection& c, const msg::FileOffer& m, std::string_view reason) {
  table_.Send(c, msg::FileEnd{0, m.tag, static_cast<uint8_t>(proto::FileEnd::kRefused), reason});
}

void Transfers::Offer(Connection& c, const msg::FileOffer& m, bool muted) {
  // The refusals, in the order PROTOCOL.md 6.14 gives them: the first that applies is told.
  if (muted) {
    Refuse(c, m, "you are muted");
    return;
  }
  Connection* receiver = IsValidNick(m.to) ? lobby_.Find(m.to) : nullptr;
  if (receiver == nullptr || receiver->state() != ConnState::kJoined) {
    Refuse(c, m, "no such user");
    return;
  }
  if (receiver == &c) {
    Refuse(c, m, "you cannot send a file to yourself");
    return;
  }
  if (!IsValidFileName(m.name)) {
    Refuse(c, m, "invalid file name");
    return;
  }
  if (m.size > limits_.max_file_bytes) {
    Refuse(c, m,
           Cat("file too large: this server relays at most ", limits_.max_file_bytes, " bytes"));
    return;
  }
  if (Busy(c)) {
    Refuse(c, m, Cat("you already have ", limits_.max_transfers_per_client, " transfers"));
    return;
  }
  if (Busy(*receiver)) {
    Refuse(c, m,
           Cat(receiver->nick, " already has ", limits_.max_transfers_per_client, " transfers"));
    return;
  }
  if (live_.size() >= limits_.max_transfers) {
    Refuse(c, m, "the server has too many transfers; try again later");
    return;
  }
  // Last, so that only an offer that is taken counts against the sender's rate: one refused
  // because the server is full leaves its token for when it is not.
  const uint64_t now = sinks_.Mono();
  if (!c.offers) {
    const auto per_minute = static_cast<double>(limits_.max_offers_per_minute);
    c.offers.emplace(per_minute * 1000 / kMinuteMs, per_minute);
  }
  // A bucket of rate 0 never refuses: no offers at all is refused here.
  if (limits_.max_offers_per_minute == 0 || !c.offers->Take(now)) {
    Refuse(c, m, Cat("too many offers: at most ", limits_.max_offers_per_minute, " a minute"));
    return;
  }
  const uint32_t id = NextId();
  Transfer& t = live_[id];
  t.id = id;
  t.tag = m.tag;
  t.sender = &c;
  t.receiver = receiver;
  t.size = m.size;
  t.expires_ms = now + limits_.offer_timeout_ms;
  c.transfers.push_back(id);
  receiver->transfers.push_back(id);
  sinks_.Log(
      Cat("file ", id, ": ", Name(c), " -> ", Name(*receiver), ", ", m.size, " bytes, offered"));
  table_.Send(c, msg::FileOffered{m.tag, id});
  table_.Send(*receiver, msg::FileIncoming{id, c.nick, m.name, m.size, m.hash});
}

void Transfers::Accept(Connection& c, uint32_t id) {
  Transfer* t = Find(id);
  if (t == nullptr || t->receiver != &c || t->accepted) {
    table_.Error(c, proto::ErrorCode::kNoSuchTransfer, "no such transfer offered to you");
    return;
  }
  t->accepted = true;
  sinks_.Log(Cat("file ", id, ": accepted"));
  table_.Send(*t->sender, msg::FileAccepted{id});
}

void Transfers::Cancel(Connection& c, uint32_t id, std::string_view reason) {
  // The transfer first, then the reason (PROTOCOL.md 7.1).
  Transfer* t = Find(id);
  if (t == nullptr || (t->sender != &c && t->receiver != &c)) {
    table_.Error(c, proto::ErrorCode::kNoSuchTransfer, "no such transfer of yours");
    return;
  }
  if (!IsValidReason(reason)) {
    table_.Error(c, proto::ErrorCode::kBadText,
                 Cat("reason invalid or too long (at most ", proto::kMaxReasonLen, " bytes)"));
    return;
  }
  const proto::FileEnd why = t->sender == &c ? proto::FileEnd::kSenderCancelled
                             : t->accepted   ? proto::FileEnd::kReceiverCancelled
                                             : proto::FileEnd::kDeclined;
  End(*t, why, reason);
}

void Transfers::Chunk(Connection& c, const msg::FileChunk& m) {
  Transfer* t = Find(m.id);
  if (t == nullptr || t->sender != &c || !t->accepted) {
    table_.Error(c, proto::ErrorCode::kNoSuchTransfer, "no such transfer streaming from you");
    return;
  }
  if (m.offset != t->relayed) {
    End(*t, proto::FileEnd::kBroken, "the sender sent a chunk out of order");
    return;
  }
  if (m.data.size() > t->size - t->relayed) {
    End(*t, proto::FileEnd::kBroken, "the sender sent more than the file's size");
    return;
  }
  t->relayed += m.data.size();
  t->held_since_ms = 0;  // the sender was read: whatever held it is over, for now
  table_.Send(*t->receiver, msg::FileData{m.id, m.offset, m.data});
}

void Transfers::Done(Connection& c, uint32_t id) {
  Transfer* t = Find(id);
  if (t == nullptr || t->receiver != &c || !t->accepted || t->relayed != t->size) {
    table_.Error(c, proto::ErrorCode::kNoSuchTransfer, "no such transfer complete for you");
    return;
  }
  End(*t, proto::FileEnd::kDone, "");
}

Transfers::ChunkCharge Transfers::ChargeChunk(Connection& c, const msg::FileChunk& m) {
  if (const Transfer* t = Find(m.id); t != nullptr && t->sender == &c && t->accepted) {
    return ChunkCharge::kFree;
  }
  for (Connection::EndedSend& ended : c.ended_sends) {
    if (ended.id != m.id) {
      continue;
    }
    // What the sender sent before it heard of the end: its socket's and ours can hold
    // megabytes of it, far more than a window. An honest sender's late chunks go on in order
    // from where the relayed ones stopped and never pass the offered size, so that much is
    // free and no more: a replay or a chunk past the size is a flood, charged and refused.
    if (m.offset == ended.next && m.data.size() <= ended.size - ended.next) {
      ended.next += m.data.size();
      return ChunkCharge::kDropped;
    }
    return ChunkCharge::kCharged;
  }
  return ChunkCharge::kCharged;
}

bool Transfers::WantsRead(const Connection& c) const {
  for (const uint32_t id : c.transfers) {
    const auto it = live_.find(id);
    if (it == live_.end()) {
      continue;  // cannot happen: an ended transfer leaves both sides' lists
    }
    if (it->second.sender == &c && Holds(it->second)) {
      return false;
    }
  }
  return true;
}

bool Transfers::Holds(const Transfer& t) const {
  return t.accepted && t.relayed < t.size &&
         t.receiver->conn.output().size() >= limits_.file_window;
}

void Transfers::End(Transfer& t, proto::FileEnd why, std::string_view reason,
                    const Connection* gone) {
  const uint8_t how = static_cast<uint8_t>(why);
  Connection& sender = *t.sender;
  Connection& receiver = *t.receiver;
  if (&sender != gone) {
    table_.Send(sender, msg::FileEnd{t.id, t.tag, how, reason});
    if (t.accepted && t.relayed < t.size) {
      // The chunks it sent before it heard of the end are dropped, from where they stopped to
      // the file's size (ChargeChunk).
      std::vector<Connection::EndedSend>& ended = sender.ended_sends;
      if (ended.size() >= kMaxEndedPerClient) {
        ended.erase(ended.begin());
      }
      ended.push_back({t.id, t.relayed, t.size});
    }
  }
  if (&receiver != gone) {
    table_.Send(receiver, msg::FileEnd{t.id, 0, how, reason});
  }
  sinks_.Log(Cat("file ", t.id, ": ", Name(sender), " -> ", Name(receiver), ", ", t.relayed, " of ",
                 t.size, " bytes relayed, ended: ", EndName(why)));
  Forget(sender.transfers, t.id);
  Forget(receiver.transfers, t.id);
  live_.erase(t.id);
}

void Transfers::Leave(Connection& c) {
  const std::vector<uint32_t> ids = c.transfers;
  for (const uint32_t id : ids) {
    if (Transfer* t = Find(id)) {
      End(*t, proto::FileEnd::kGone, "", &c);
    }
  }
  c.ended_sends.clear();
}

void Transfers::Expire(uint64_t now) {
  std::vector<uint32_t> expired;
  std::vector<uint32_t> stalled;
  for (auto& [id, t] : live_) {
    if (!t.accepted) {
      if (t.expires_ms <= now) {
        expired.push_back(id);
      }
    } else if (!Holds(t)) {
      t.held_since_ms = 0;
    } else if (t.held_since_ms == 0) {
      t.held_since_ms = now;
      table_.Touch(*t.sender, now);
    } else if (now - t.held_since_ms >= limits_.stall_timeout_ms) {
      stalled.push_back(id);
    } else {
      table_.Touch(*t.sender, now);  // it is not read: its silence is not its own
    }
  }
  for (const uint32_t id : expired) {
    End(live_.at(id), proto::FileEnd::kExpired, "nobody answered the offer in time");
  }
  for (const uint32_t id : stalled) {
    End(live_.at(id), proto::FileEnd::kStalled,
        Cat("the receiver took no data for ", limits_.stall_timeout_ms / 1000, " s"));
  }
}

std::optional<uint64_t> Transfers::MsUntilExpiry(uint64_t now) const {
  std::optional<uint64_t> soonest;
  for (const auto& [id, t] : live_) {
    uint64_t at = 0;
    if (!t.accepted) {
      at = t.expires_ms;
    } else if (t.held_since_ms != 0) {
      at = t.held_since_ms + limits_.stall_timeout_ms;
    } else if (Holds(t)) {
      at = now;  // held since this turn: Expire starts its clock
    } else {
      continue;
    }
    const uint64_t ms = at > now ? at - now : 0;
    soonest = std::min(soonest.value_or(ms), ms);
  }
  return soonest;
}

void Transfers::Clear() {
  for (auto& [id, t] : live_) {
    t.sender->transfers.clear();
    t.receiver->transfers.clear();
  }
  live_.clear();
}

}  // namespace securechat
