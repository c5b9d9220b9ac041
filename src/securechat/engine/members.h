// Members: the server's list of who may hold which nick, read from a members file.
//
// One member a line: `NICK KEYTYPE BASE64 [op]`, where KEYTYPE BASE64 are the first two fields of
// a public key line in either format (`securechat-ed25519`, or OpenSSH's `ssh-ed25519`), so a
// `.pub` file's line pastes in after the nick. `#` starts a comment line; blank lines are
// skipped. A nick may have several lines (one key per device); a key belongs to one nick. Nicks
// are compared as the room compares them: without regard to case, and a listed nick also holds
// every nick that looks like it (NickSkeleton), so that no guest can pass for a member.
//
// Parsing is all or nothing: a file with one bad line gives an error naming that line, and the
// caller keeps the list it had.
#ifndef SECURECHAT_ENGINE_MEMBERS_H_
#define SECURECHAT_ENGINE_MEMBERS_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/wire/nick.h"

namespace securechat {

// Bounds on a members file, checked before anything is kept.
inline constexpr size_t kMaxMembersFileBytes = 1 << 20;
inline constexpr size_t kMaxMembersLineBytes = 1024;
inline constexpr size_t kMaxMemberKeys = 10000;

struct MemberKey {
  Ed25519Public key{};
  bool op = false;
  size_t line = 0;  // where it was listed, for messages
};

class Members {
 public:
  // Parse reads the text of a members file. On failure the status message is
  // "line N: why" (or says the file is too large).
  static absl::StatusOr<Members> Parse(std::string_view text);

  // Find is the entry of `key` if it is one of `nick`'s keys, nullptr otherwise.
  const MemberKey* Find(std::string_view nick, const Ed25519Public& key) const;
  // HolderOf is the listed nick that `nick` is, or looks like (same NickSkeleton); empty when
  // `nick` is free for a guest.
  std::string_view HolderOf(std::string_view nick) const;
  // NickOf is the nick that `key` belongs to; empty when the key is not listed.
  std::string_view NickOf(const Ed25519Public& key) const;
  // KeysOf is every key listed for `nick` (in any case), in file order; empty for none.
  std::vector<Ed25519Public> KeysOf(std::string_view nick) const;
  // IsOperatorFingerprint: a key marked `op` has this fingerprint (Ed25519Fingerprint).
  bool IsOperatorFingerprint(std::string_view fingerprint) const;

  size_t nick_count() const { return by_nick_.size(); }
  size_t key_count() const { return by_key_.size(); }

 private:
  std::map<std::string, std::vector<MemberKey>, NickLess> by_nick_;
  std::map<std::string, std::string> by_skeleton_;  // skeleton -> nick as first listed
  std::map<Ed25519Public, std::string> by_key_;     // key -> nick as listed
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_MEMBERS_H_
