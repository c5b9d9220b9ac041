#include "securechat/engine/members.h"

#include <utility>

#include "absl/status/status.h"
#include "securechat/base/cat.h"
#include "securechat/wire/config_lines.h"
#include "securechat/wire/text.h"

namespace securechat {
namespace {

constexpr std::string_view kOp = "op";

}  // namespace

absl::StatusOr<Members> Members::Parse(std::string_view text) {
  Members m;
  const std::optional<ConfigLineError> error = ForEachConfigLine(
      text, kMaxMembersFileBytes, kMaxMembersLineBytes,
      [&m](size_t number, absl::Span<const std::string_view> fields) -> std::string {
        if (fields.size() < 3 || fields.size() > 4) {
          return "expected NICK KEYTYPE BASE64 [op]";
        }
        const std::string_view nick = fields[0];
        if (!IsValidNick(nick) || IsReservedNick(nick)) {
          return Cat("not a nick a member can hold: ", nick);
        }
        std::string why;
        const std::optional<Ed25519Public> key = ParsePublicKey(fields[1], fields[2], &why);
        if (!key) {
          return why;
        }
        if (fields.size() == 4 && fields[3] != kOp) {
          return "the fourth field can only be `op` (a key's comment does not belong on this "
                 "line)";
        }
        if (auto it = m.by_key_.find(*key); it != m.by_key_.end()) {
          return Cat("this key is already listed, for ", it->second);
        }
        auto [holder, added] = m.by_skeleton_.emplace(NickSkeleton(nick), std::string(nick));
        if (!added && !SameNick(holder->second, nick)) {
          return Cat(nick, " looks like ", holder->second, ", listed before");
        }
        if (m.by_key_.size() == kMaxMemberKeys) {
          return Cat("more than ", kMaxMemberKeys, " keys");
        }
        m.by_key_.emplace(*key, std::string(nick));
        m.by_nick_[std::string(nick)].push_back(MemberKey{*key, fields.size() == 4, number});
        return {};
      });
  if (error) {
    return absl::InvalidArgumentError(error->Text());
  }
  return m;
}

const MemberKey* Members::Find(std::string_view nick, const Ed25519Public& key) const {
  auto it = by_nick_.find(nick);
  if (it == by_nick_.end()) {
    return nullptr;
  }
  for (const MemberKey& k : it->second) {
    if (k.key == key) {
      return &k;
    }
  }
  return nullptr;
}

std::string_view Members::HolderOf(std::string_view nick) const {
  auto it = by_skeleton_.find(NickSkeleton(nick));
  return it == by_skeleton_.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view Members::NickOf(const Ed25519Public& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? std::string_view() : std::string_view(it->second);
}

std::vector<Ed25519Public> Members::KeysOf(std::string_view nick) const {
  std::vector<Ed25519Public> keys;
  if (auto it = by_nick_.find(nick); it != by_nick_.end()) {
    for (const MemberKey& k : it->second) {
      keys.push_back(k.key);
    }
  }
  return keys;
}

bool Members::IsOperatorFingerprint(std::string_view fingerprint) const {
  for (const auto& [nick, keys] : by_nick_) {
    for (const MemberKey& k : keys) {
      if (k.op && Ed25519Fingerprint(k.key) == fingerprint) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace securechat
