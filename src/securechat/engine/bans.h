// Bans: who may not join the server (a ban) and who may not say room lines (a mute), each by
// key or by address, until a time or for good (PROTOCOL.md 6.12).
//
// An operator names a person by nick, key fingerprint or address; the server keeps what holds
// across nicks and reconnects. A member who proved a key is held by the key, and a guest by its
// address. A keyed member who is banned or muted by nick is also held as a guest from its
// address (kGuests), so that dropping the key and coming back as a guest under another nick
// does not evade it, while other members behind the same address (a shared NAT) keep coming in
// with their keys. A ban or mute of an address given as such (kAddress) holds everyone from it.
//
// The list is bounded (max_entries); it never touches a file or a clock of its own. The program
// writes Serialize() to the --bans file whenever generation() changes and reads it back with
// Parse at start. The file format, one entry a line:
//
//   KIND TARGET_KIND TARGET UNTIL_MS SET_MS BY NICK [REASON]
//
// KIND is `ban` or `mute`; TARGET_KIND `key` (TARGET a "SHA256:..." fingerprint), `address`
// or `guests` (TARGET an address as the server names peers: an IPv4 or IPv6 address without
// port); UNTIL_MS the Unix time in milliseconds it ends, 0 for good; SET_MS when it was set;
// BY who set it (`console`, or an operator's nick); NICK the nick it was set on, `-` for none;
// REASON the rest of the line after one space, a valid reason (PROTOCOL.md 6.10), absent for
// none. `#` starts a comment line; blank lines are skipped. Parsing is all or nothing: a bad
// line gives "line N: why".
#ifndef SECURECHAT_ENGINE_BANS_H_
#define SECURECHAT_ENGINE_BANS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace securechat {

// Bounds on the list and its file, checked before anything is kept.
inline constexpr size_t kDefaultMaxBans = 10000;
inline constexpr size_t kMaxBansLineBytes = 1024;

struct Ban {
  enum class Kind { kBan, kMute };
  enum class Target {
    kKey,      // `target` is a key fingerprint: holds that key, under any nick
    kAddress,  // `target` is an address: holds everyone from it
    kGuests,   // `target` is an address: holds guests (no member's key) from it
  };
  Kind kind = Kind::kBan;
  Target target_kind = Target::kKey;
  std::string target;
  uint64_t until_ms = 0;  // Unix milliseconds; 0: for good
  uint64_t set_ms = 0;
  std::string by;      // "server" for the console, or the operator's nick
  std::string nick;    // the nick it was set on; empty when set by fingerprint or address
  std::string reason;  // empty, or a valid reason of at most kMaxReasonLen bytes

  bool operator==(const Ban&) const = default;
};

// KindName and TargetName are the words the file and the operator's listings use.
std::string_view KindName(Ban::Kind kind);      // "ban", "mute"
std::string_view TargetName(Ban::Target kind);  // "key", "address", "guests"

class BanList {
 public:
  explicit BanList(size_t max_entries = kDefaultMaxBans) : max_entries_(max_entries) {}

  enum class AddResult { kAdded, kReplaced, kFull, kInvalid };
  // Add keeps `ban`; an entry of the same kind, target kind and target is replaced by it.
  // kFull when the list holds max_entries and none is replaced; kInvalid when a field would
  // not read back from the file (a target, nick or `by` with a space or control character or
  // longer than 128 bytes, an invalid reason, a key target that is not a fingerprint).
  AddResult Add(Ban ban);
  // Remove drops every entry of `kind` whose target or nick equals `what` (a nick without
  // regard to ASCII case) and, if `only_by` is not empty, that `only_by` set; returns how many
  // went.
  size_t Remove(Ban::Kind kind, std::string_view what, std::string_view only_by = {});
  // Find returns the entry of `kind` that holds a connection with key `fingerprint` (empty when
  // it proved none) from `address` at `now_ms`, or nullptr. `member` says whether the key is a
  // member's (listed in the members file): every connection that is not a member's is a guest,
  // whether it proved an unlisted key or none, so that a fresh key never gets a guest past a
  // kGuests entry. An entry whose until_ms has passed never holds. When several hold, the one
  // that lasts longest is returned.
  const Ban* Find(Ban::Kind kind, std::string_view fingerprint, bool member,
                  std::string_view address, uint64_t now_ms) const;
  // Remove drops the entries of `kind` that hold exactly `target_kind` `target`, and returns
  // how many went.
  size_t RemoveTarget(Ban::Kind kind, Ban::Target target_kind, std::string_view target,
                      std::string_view only_by = {});
  // Expire drops the entries whose until_ms has passed at `now_ms` and returns how many.
  size_t Expire(uint64_t now_ms);

  // The entries, in the order they were added.
  const std::vector<Ban>& entries() const { return entries_; }
  size_t max_entries() const { return max_entries_; }
  // generation changes on every change to the list (the program saves the file when it does).
  uint64_t generation() const { return generation_; }

  // Serialize is the text of a bans file that Parse reads back to the same entries; it starts
  // with a comment line saying what wrote it.
  std::string Serialize() const;
  // Parse reads the text of a bans file, keeping at most `max_entries` (more is an error);
  // entries already expired at `now_ms` are dropped. The file is at most
  // max_entries * kMaxBansLineBytes bytes (plus comments), which the caller checks as it reads.
  static absl::StatusOr<BanList> Parse(std::string_view text, size_t max_entries, uint64_t now_ms);

 private:
  size_t max_entries_;
  std::vector<Ban> entries_;
  uint64_t generation_ = 0;
};

// ParseDuration reads an operator's duration: a whole number and a unit, `s`, `m`, `h`, `d`
// or `w` (`90s`, `10m`, `2h`, `7d`, `1w`), between 1 second and 3650 days. Returns the
// milliseconds, or 0 when `text` is not a duration.
uint64_t ParseDuration(std::string_view text);
// FormatDuration is the shortest way of writing `ms` in those units as a person reads it:
// "1h 30m", "45s", "7d"; "0s" for less than a second. It writes the largest of d, h, m and s
// that fits, then the next smaller unit unless that is 0, both rounded down ("1h" for 1h 0m
// 30s); weeks are not used, so a week is "7d" and "17d 5h" stays in days.
std::string FormatDuration(uint64_t ms);

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_BANS_H_
