#include "securechat/engine/members.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "securechat/base/cat.h"
#include "securechat/wire/text.h"

namespace securechat {
namespace {

constexpr std::string_view kOp = "op";

// IsPlainAscii is true when every byte of `line` is printable ASCII or a tab.
bool IsPlainAscii(std::string_view line) {
  for (const char ch : line) {
    const auto c = static_cast<unsigned char>(ch);
    if (c != '\t' && (c < 0x20 || c > 0x7e)) {
      return false;
    }
  }
  return true;
}

absl::Status LineError(size_t line, std::string_view why) {
  return absl::InvalidArgumentError(Cat("line ", line, ": ", why));
}

}  // namespace

absl::StatusOr<Members> Members::Parse(std::string_view text) {
  if (text.size() > kMaxMembersFileBytes) {
    return absl::InvalidArgumentError(
        Cat("the members file is over ", kMaxMembersFileBytes, " bytes"));
  }
  Members m;
  size_t number = 0;
  for (const absl::string_view split_line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    std::string_view line(split_line.data(), split_line.size());
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);  // a file saved with CRLF line ends
    }
    if (line.size() > kMaxMembersLineBytes) {
      return LineError(number, Cat("longer than ", kMaxMembersLineBytes, " bytes"));
    }
    if (!IsPlainAscii(line)) {
      return LineError(number, "a control character or a byte that is not ASCII");
    }
    std::vector<std::string_view> fields;
    for (const absl::string_view field :
         absl::StrSplit(absl::string_view(line.data(), line.size()), absl::ByAnyChar(" \t"),
                        absl::SkipEmpty())) {
      fields.emplace_back(field.data(), field.size());
    }
    if (fields.empty() || fields[0].front() == '#') {
      continue;
    }
    if (fields.size() < 3 || fields.size() > 4) {
      return LineError(number, "expected NICK KEYTYPE BASE64 [op]");
    }
    const std::string_view nick = fields[0];
    if (!IsValidNick(nick) || IsReservedNick(nick)) {
      return LineError(number, Cat("not a nick a member can hold: ", nick));
    }
    std::string why;
    const std::optional<Ed25519Public> key = ParsePublicKey(fields[1], fields[2], &why);
    if (!key) {
      return LineError(number, why);
    }
    if (fields.size() == 4 && fields[3] != kOp) {
      return LineError(number,
                       "the fourth field can only be `op` (a key's comment does not "
                       "belong on this line)");
    }
    if (auto it = m.by_key_.find(*key); it != m.by_key_.end()) {
      return LineError(number, Cat("this key is already listed, for ", it->second));
    }
    const std::string skeleton = NickSkeleton(nick);
    auto [holder, added] = m.by_skeleton_.emplace(skeleton, std::string(nick));
    if (!added && !SameNick(holder->second, nick)) {
      return LineError(number, Cat(nick, " looks like ", holder->second, ", listed before"));
    }
    if (m.by_key_.size() == kMaxMemberKeys) {
      return LineError(number, Cat("more than ", kMaxMemberKeys, " keys"));
    }
    m.by_key_.emplace(*key, std::string(nick));
    m.by_nick_[std::string(nick)].push_back(MemberKey{*key, fields.size() == 4, number});
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

}  // namespace securechat
