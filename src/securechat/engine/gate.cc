#include "securechat/engine/gate.h"

#include <algorithm>
#include <utility>

#include "securechat/base/cat.h"
#include "securechat/crypto/auth.h"
#include "securechat/wire/nick.h"

namespace securechat {
namespace {

constexpr std::string_view kFingerprintPrefix = "SHA256:";
constexpr size_t kShortFingerprintChars = 8;

bool IsMember(const Connection& c) { return c.identity && !c.identity->member.empty(); }

}  // namespace

std::string ShortFingerprint(std::string_view fingerprint) {
  const size_t keep =
      std::min(fingerprint.size(), kFingerprintPrefix.size() + kShortFingerprintChars);
  return std::string(fingerprint.substr(0, keep));
}

Gate::Gate(ConnectionTable& table, const ServerSinks& sinks, Members members, Access access)
    : table_(table), sinks_(sinks), members_(std::move(members)), access_(access) {}

void Gate::Authenticate(Connection& c, const msg::Auth& m) {
  Ed25519Public key;  // the layout rule made it exactly 32 bytes
  std::copy(m.key.begin(), m.key.end(), key.begin());
  const ByteView sig(reinterpret_cast<const uint8_t*>(m.signature.data()), m.signature.size());
  const std::string fingerprint = Ed25519Fingerprint(key);
  if (!AuthVerify(key, c.conn.transcript_hash(), sig)) {
    sinks_.Log(Cat("auth ", ConnTag(c.id), ": bad signature by ", fingerprint));
    table_.FatalLogged(c, proto::ErrorCode::kAuthFailed,
                       "authentication failed: the signature does not verify");
    return;
  }
  const std::string_view listed = members_.NickOf(key);
  if (listed.empty() && access_ == Access::kMembers) {
    sinks_.Log(Cat("auth ", ConnTag(c.id), ": refused ", fingerprint, ", not a member"));
    table_.FatalLogged(
        c, proto::ErrorCode::kAuthFailed,
        Cat("this room admits members only, and your key ", fingerprint, " is not on its list"));
    return;
  }
  c.identity = Identity{key, std::string(listed), fingerprint};
  table_.Authenticated(c);
  table_.Send(c, msg::AuthOk{c.identity->member});
  sinks_.Log(Cat("auth ", ConnTag(c.id), ": ", listed.empty() ? "guest key " : "member ", listed,
                 listed.empty() ? "" : " ", fingerprint));
}

bool Gate::MayJoin(Connection& c) {
  if (access_ == Access::kMembers && !IsMember(c)) {
    sinks_.Log(Cat("auth ", ConnTag(c.id), ": refused a JOIN without a member's key"));
    table_.FatalLogged(c, proto::ErrorCode::kAuthFailed,
                       "this room admits members only: connect with a member's key");
    return false;
  }
  return true;
}

std::string_view Gate::ReservedFor(const Connection& c, std::string_view nick) const {
  const std::string_view holder = members_.HolderOf(nick);
  if (IsMember(c)) {
    // A member holds its own nick, in any case or look, and nothing else.
    return holder.empty() || !SameNick(holder, c.identity->member)
               ? std::string_view(c.identity->member)
               : std::string_view();
  }
  return holder;
}

std::string Gate::Badge(const Connection& c) const {
  if (IsMember(c)) {
    return Cat("(", ShortFingerprint(c.identity->fingerprint), ")");
  }
  if (c.identity) {
    return Cat("(guest ", ShortFingerprint(c.identity->fingerprint), ")");
  }
  return members_.key_count() > 0 || access_ == Access::kMembers ? "(guest)" : "";
}

size_t Gate::Reload(Members members) {
  members_ = std::move(members);
  size_t closed = 0;
  table_.ForEach([&](Connection& c) {
    // A connection that has not authenticated or joined yet is judged by the new list when it
    // does (its AUTH, its JOIN), under its handshake deadline meanwhile.
    if (c.state() == ConnState::kHandshaking || c.state() == ConnState::kEstablished ||
        c.state() == ConnState::kClosing) {
      return;
    }
    std::string_view why;
    if (IsMember(c)) {
      if (!SameNick(members_.NickOf(c.identity->key), c.identity->member)) {
        why = "your key was removed from this room's members list";
      }
    } else if (c.identity && !members_.NickOf(c.identity->key).empty()) {
      why = "your key is now on this room's members list: connect again to join as a member";
    } else if (access_ == Access::kMembers) {
      why = "this room admits members only";
    } else if (c.state() == ConnState::kJoined && !members_.HolderOf(c.nick).empty()) {
      why = "your nick now belongs to a member of this room";
    }
    if (!why.empty()) {
      sinks_.Log(Cat("members: closing ", ConnTag(c.id), ": ", why));
      table_.FatalLogged(c, proto::ErrorCode::kAuthFailed, why);
      ++closed;
    }
  });
  return closed;
}

bool Gate::IsOperator(const Connection& c) const {
  if (!c.identity || c.identity->member.empty()) {
    return false;
  }
  const MemberKey* listed = members_.Find(c.identity->member, c.identity->key);
  return listed != nullptr && listed->op;
}

}  // namespace securechat
