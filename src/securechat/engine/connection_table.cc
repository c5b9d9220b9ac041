#include "securechat/engine/connection_table.h"

#include <algorithm>
#include <limits>

#include "securechat/base/cat.h"

namespace securechat {

namespace {
constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
}  // namespace

std::string ConnTag(ConnId id) { return Cat("#", id); }

std::string_view ConnStateName(ConnState s) {
  switch (s) {
    case ConnState::kHandshaking:
      return "handshaking";
    case ConnState::kEstablished:
      return "established";
    case ConnState::kAuthenticated:
      return "authenticated";
    case ConnState::kJoined:
      return "joined";
    case ConnState::kClosing:
      return "closing";
  }
  return "?";
}

ConnectionTable::ConnectionTable(const ServerPrivateKey& key, RandomSource& rng,
                                 ConnectionLimits limits, const ServerSinks& sinks)
    : key_(key), rng_(rng), limits_(limits), sinks_(sinks) {}

ConnectionTable::~ConnectionTable() = default;

Connection& ConnectionTable::Add(std::string_view address, std::string_view peer, uint64_t now) {
  const ConnId id = next_id_++;
  auto row = std::make_unique<Connection>(id, address, peer, key_, rng_, limits_, now);
  Connection& c = *row;
  rows_.emplace(id, std::move(row));
  next_deadline_ms_ = std::min(next_deadline_ms_, c.deadline_ms);
  return c;
}

Connection* ConnectionTable::Find(ConnId id) const {
  auto it = rows_.find(id);
  return it == rows_.end() ? nullptr : it->second.get();
}

void ConnectionTable::SetDeadline(Connection& c, uint64_t deadline_ms) {
  c.deadline_ms = deadline_ms;
  next_deadline_ms_ = std::min(next_deadline_ms_, deadline_ms);
}

void ConnectionTable::Established(Connection& c) {
  if (c.state_ == ConnState::kHandshaking) {
    c.state_ = ConnState::kEstablished;  // the handshake deadline runs on until JOIN
  }
}

void ConnectionTable::Authenticated(Connection& c) {
  if (c.state_ == ConnState::kEstablished) {
    c.state_ = ConnState::kAuthenticated;
  }
}

void ConnectionTable::Joined(Connection& c, uint64_t now) {
  if (c.state_ == ConnState::kEstablished || c.state_ == ConnState::kAuthenticated) {
    c.state_ = ConnState::kJoined;
    SetDeadline(c, now + limits_.idle_timeout_ms);
  }
}

void ConnectionTable::Touch(Connection& c, uint64_t now) {
  if (c.state_ == ConnState::kJoined) {
    // Later than the deadline it replaces, so next_deadline_ms_ stays a lower bound.
    c.deadline_ms = now + limits_.idle_timeout_ms;
  }
}

void ConnectionTable::Send(Connection& c, const msg::ServerMessage& m) {
  if (c.state_ == ConnState::kClosing) {
    return;
  }
  SendEncoded(c, Encode(m));
}

ByteView ConnectionTable::Encode(const msg::ServerMessage& m) {
  encoded_.clear();
  msg::EncodeMessage(m, &encoded_);
  return encoded_;
}

void ConnectionTable::SendEncoded(Connection& c, ByteView encoded) {
  if (c.state_ == ConnState::kClosing) {
    return;
  }
  if (!c.conn.SendEncoded(encoded)) {
    if (c.conn.state() == ServerConnection::State::kClosed) {
      Condemn(c, c.conn.close_reason());
    }
    return;
  }
  if (c.conn.output().size() > limits_.max_queue_bytes) {
    sinks_.Log(Cat("error ", ConnTag(c.id), ": output queue over ", limits_.max_queue_bytes,
                   " bytes (not reading)"));
    Condemn(c, "not reading");
  }
}

void ConnectionTable::Error(Connection& c, proto::ErrorCode code, std::string_view text) {
  Send(c, msg::Error{code, 0, text});
}

void ConnectionTable::Fatal(Connection& c, proto::ErrorCode code, std::string_view text) {
  sinks_.Log(Cat("error ", ConnTag(c.id), ": ", text));
  FatalLogged(c, code, text);
}

void ConnectionTable::FatalLogged(Connection& c, proto::ErrorCode code, std::string_view text) {
  Send(c, msg::Error{code, 1, text});
  CloseAfterFlush(c, "error", sinks_.Mono());
}

void ConnectionTable::Mark(Connection& c, std::string_view why) {
  c.state_ = ConnState::kClosing;
  c.conn.Close();
  if (c.condemned_) {
    return;  // the first reason stands
  }
  c.condemned_ = true;
  c.why_ = std::string(why);
  condemned_.push_back(c.id);
}

void ConnectionTable::Condemn(Connection& c, std::string_view why) {
  c.conn.output().Clear();  // nobody is left to read it, or they would not read it
  Mark(c, why);
}

void ConnectionTable::CloseAfterFlush(Connection& c, std::string_view why, uint64_t now) {
  if (!c.condemned_) {
    SetDeadline(c, now + limits_.linger_ms);
  }
  Mark(c, why);
}

std::optional<ConnectionTable::Condemned> ConnectionTable::NextCondemned() {
  while (condemned_taken_ < condemned_.size()) {
    const ConnId id = condemned_[condemned_taken_++];
    if (Connection* c = Find(id)) {
      return Condemned{id, c->why_};
    }
  }
  condemned_.clear();
  condemned_taken_ = 0;
  return std::nullopt;
}

void ConnectionTable::Expired(uint64_t now, std::vector<ConnId>* out) {
  if (now < next_deadline_ms_) {
    return;
  }
  uint64_t next = kNever;
  for (auto& [id, c] : rows_) {
    if (c->deadline_ms == kNever) {
      continue;
    }
    if (now < c->deadline_ms) {
      next = std::min(next, c->deadline_ms);
      continue;
    }
    c->deadline_ms = kNever;  // reported once; a later transition sets a new one
    if (c->state_ == ConnState::kClosing) {
      if (c->conn.output().empty()) {
        continue;
      }
      c->conn.output().Clear();
    }
    out->push_back(id);
  }
  next_deadline_ms_ = next;
}

std::optional<uint64_t> ConnectionTable::MsUntilDeadline(uint64_t now) const {
  if (next_deadline_ms_ == kNever) {
    return std::nullopt;
  }
  return next_deadline_ms_ > now ? next_deadline_ms_ - now : 0;
}

ByteView ConnectionTable::Pending(ConnId id) const {
  Connection* c = Find(id);
  return c == nullptr ? ByteView() : c->conn.output().pending();
}

void ConnectionTable::Consumed(ConnId id, size_t n) {
  if (Connection* c = Find(id)) {
    c->conn.output().Consume(n);
  }
}

bool ConnectionTable::ShouldClose(ConnId id) const {
  Connection* c = Find(id);
  return c == nullptr || (c->state_ == ConnState::kClosing && c->conn.output().empty());
}

void ConnectionTable::Erase(ConnId id) { rows_.erase(id); }

std::vector<ConnId> ConnectionTable::ids() const {
  std::vector<ConnId> out;
  out.reserve(rows_.size());
  for (const auto& [id, c] : rows_) {
    out.push_back(id);
  }
  return out;
}

}  // namespace securechat
