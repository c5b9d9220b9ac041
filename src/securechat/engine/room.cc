#include "securechat/engine/room.h"

#include "securechat/wire/text.h"

namespace securechat {

Room::NickCheck Room::Check(const Connection& asker, std::string_view nick) const {
  NickCheck check;
  if (!IsValidNick(nick)) {
    check.verdict = NickCheck::Verdict::kInvalid;
    return check;
  }
  if (IsReservedNick(nick)) {
    check.verdict = NickCheck::Verdict::kReserved;
    return check;
  }
  check.skeleton = NickSkeleton(nick);
  auto it = by_skeleton_.find(check.skeleton);
  if (it != by_skeleton_.end() && it->second != &asker) {
    check.look_alike = it->second->nick;
    check.verdict = SameNick(it->second->nick, nick) ? NickCheck::Verdict::kTaken
                                                     : NickCheck::Verdict::kLooksLike;
    return check;
  }
  // A nick that only looks like the asker's own is the asker's to take: `alice` to `Alice`.
  check.verdict = NickCheck::Verdict::kFree;
  return check;
}

void Room::Add(Connection& c, std::string_view nick, std::string skeleton) {
  c.nick = std::string(nick);
  by_nick_.emplace(c.nick, &c);
  by_skeleton_.emplace(std::move(skeleton), &c);
}

std::string Room::Rename(Connection& c, std::string_view nick, std::string skeleton) {
  std::string old = Remove(c);
  Add(c, nick, std::move(skeleton));
  return old;
}

std::string Room::Remove(Connection& c) {
  auto it = by_nick_.find(c.nick);
  if (c.nick.empty() || it == by_nick_.end() || it->second != &c) {
    return {};
  }
  by_nick_.erase(it);
  by_skeleton_.erase(NickSkeleton(c.nick));
  return std::exchange(c.nick, std::string());
}

Connection* Room::Find(std::string_view nick) const {
  auto it = by_nick_.find(nick);
  return it == by_nick_.end() ? nullptr : it->second;
}

}  // namespace securechat
