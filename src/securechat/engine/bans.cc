#include "securechat/engine/bans.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "securechat/base/cat.h"
#include "securechat/base/ip_text.h"
#include "securechat/crypto/primitives.h"
#include "securechat/wire/nick.h"
#include "securechat/wire/protocol.h"
#include "securechat/wire/text.h"

namespace securechat {
namespace {

// The longest target a file line holds: a fingerprint is 50 bytes and an IPv6 address at most
// 45, so 128 leaves room for an address form we have not met without letting a line grow past
// kMaxBansLineBytes (7 fields of at most 128 bytes and a reason of kMaxReasonLen fit in it).
constexpr size_t kMaxTargetLen = 128;
constexpr std::string_view kNoNick = "-";
constexpr std::string_view kFields = "KIND TARGET_KIND TARGET UNTIL_MS SET_MS BY NICK [REASON]";

constexpr uint64_t kSecondMs = 1000;
constexpr uint64_t kMinuteMs = 60 * kSecondMs;
constexpr uint64_t kHourMs = 60 * kMinuteMs;
constexpr uint64_t kDayMs = 24 * kHourMs;
constexpr uint64_t kWeekMs = 7 * kDayMs;
constexpr uint64_t kMaxDurationMs = 3650 * kDayMs;

// IsWord: 1 to kMaxTargetLen bytes of printable ASCII other than space, so that it reads back
// as one field of a line.
bool IsWord(std::string_view s) {
  return !s.empty() && s.size() <= kMaxTargetLen &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < '\x7f'; });
}

bool IsKnownKind(Ban::Kind kind) { return kind == Ban::Kind::kBan || kind == Ban::Kind::kMute; }

bool IsKnownTarget(Ban::Target t) {
  return t == Ban::Target::kKey || t == Ban::Target::kAddress || t == Ban::Target::kGuests;
}

// WhyInvalid says what field of `ban` would not read back from a bans file; empty when every
// one would.
std::string WhyInvalid(const Ban& ban) {
  if (!IsKnownKind(ban.kind)) {
    return "unknown kind";
  }
  if (!IsKnownTarget(ban.target_kind)) {
    return "unknown target kind";
  }
  if (!IsWord(ban.target)) {
    return Cat("the target must be 1 to ", kMaxTargetLen,
               " bytes without spaces or control characters");
  }
  if (ban.target_kind == Ban::Target::kKey && !ParseFingerprintText(ban.target)) {
    return Cat("not a key fingerprint (SHA256:...): ", ban.target);
  }
  // An address is matched as text against the server's names of peers: one written another
  // way (`::ffff:10.0.0.1`, `0:0::1`) would never hold anyone.
  if (ban.target_kind != Ban::Target::kKey) {
    if (const std::string canonical = CanonicalIp(ban.target); canonical != ban.target) {
      return canonical.empty() ? Cat("not an IP address: ", ban.target)
                               : Cat("write the address as ", canonical, ", not ", ban.target);
    }
  }
  // `console` is in the nick alphabet.
  if (!IsValidNick(ban.by)) {
    return "BY must be `console` or a nick";
  }
  // A nick of `-` is punctuation only, which no one can hold, and would read back as no nick.
  if (!ban.nick.empty() && (!IsValidNick(ban.nick) || ban.nick == kNoNick)) {
    return "NICK must be a nick, or `-` for none";
  }
  if (!IsValidReason(ban.reason)) {
    return Cat("the reason must be valid text of at most ", proto::kMaxReasonLen, " bytes");
  }
  return {};
}

bool Expired(const Ban& ban, uint64_t now_ms) {
  return ban.until_ms != 0 && ban.until_ms <= now_ms;
}

// LastsLonger: `a` ends after `b` (0 is for good, the longest).
bool LastsLonger(const Ban& a, const Ban& b) {
  if (a.until_ms == 0 || b.until_ms == 0) {
    return a.until_ms == 0 && b.until_ms != 0;
  }
  return a.until_ms > b.until_ms;
}

// ParseU64 reads a decimal number of 1 to 20 digits and nothing else (no sign, no space),
// refusing one above 2^64 - 1.
std::optional<uint64_t> ParseU64(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  uint64_t v = 0;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (kMax - digit) / 10) {
      return std::nullopt;
    }
    v = v * 10 + digit;
  }
  return v;
}

std::optional<Ban::Kind> KindNamed(std::string_view s) {
  for (Ban::Kind k : {Ban::Kind::kBan, Ban::Kind::kMute}) {
    if (s == KindName(k)) {
      return k;
    }
  }
  return std::nullopt;
}

std::optional<Ban::Target> TargetNamed(std::string_view s) {
  for (Ban::Target t : {Ban::Target::kKey, Ban::Target::kAddress, Ban::Target::kGuests}) {
    if (s == TargetName(t)) {
      return t;
    }
  }
  return std::nullopt;
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// ParseLine reads one entry line (not blank, not a comment, without its line end) into `ban`;
// returns why it cannot, or an empty string.
std::string ParseLine(std::string_view line, Ban* ban) {
  // The first seven fields are runs of non-blanks between blanks; the reason, if any, is
  // everything after the one space that follows NICK, spaces included.
  std::array<std::string_view, 7> fields;
  size_t at = 0;
  for (std::string_view& field : fields) {
    while (at < line.size() && IsBlank(line[at])) {
      ++at;
    }
    const size_t start = at;
    while (at < line.size() && !IsBlank(line[at])) {
      ++at;
    }
    if (start == at) {
      return Cat("expected ", kFields);
    }
    field = line.substr(start, at - start);
  }
  std::string_view reason;
  if (at < line.size()) {
    if (line[at] != ' ') {
      return "a reason follows NICK after one space";
    }
    reason = line.substr(at + 1);
  }

  const std::optional<Ban::Kind> kind = KindNamed(fields[0]);
  if (!kind) {
    return Cat("KIND must be `ban` or `mute`, not ", fields[0]);
  }
  const std::optional<Ban::Target> target_kind = TargetNamed(fields[1]);
  if (!target_kind) {
    return Cat("TARGET_KIND must be `key`, `address` or `guests`, not ", fields[1]);
  }
  const std::optional<uint64_t> until = ParseU64(fields[3]);
  if (!until) {
    return "UNTIL_MS must be a decimal number of milliseconds below 2^64";
  }
  const std::optional<uint64_t> set = ParseU64(fields[4]);
  if (!set) {
    return "SET_MS must be a decimal number of milliseconds below 2^64";
  }
  Ban b;
  b.kind = *kind;
  b.target_kind = *target_kind;
  b.target = std::string(fields[2]);
  b.until_ms = *until;
  b.set_ms = *set;
  b.by = std::string(fields[5]);
  b.nick = fields[6] == kNoNick ? std::string() : std::string(fields[6]);
  b.reason = std::string(reason);
  // Writing `-` for no nick leaves no way to write a nick `-`, which WhyInvalid refuses anyway.
  if (std::string why = WhyInvalid(b); !why.empty()) {
    return why;
  }
  *ban = std::move(b);
  return {};
}

}  // namespace

std::string_view KindName(Ban::Kind kind) {
  switch (kind) {
    case Ban::Kind::kBan:
      return "ban";
    case Ban::Kind::kMute:
      return "mute";
  }
  return "?";
}

std::string_view TargetName(Ban::Target kind) {
  switch (kind) {
    case Ban::Target::kKey:
      return "key";
    case Ban::Target::kAddress:
      return "address";
    case Ban::Target::kGuests:
      return "guests";
  }
  return "?";
}

BanList::AddResult BanList::Add(Ban ban) {
  if (!WhyInvalid(ban).empty()) {
    return AddResult::kInvalid;
  }
  for (Ban& b : entries_) {
    if (b.kind == ban.kind && b.target_kind == ban.target_kind && b.target == ban.target) {
      if (!(b == ban)) {
        b = std::move(ban);
        ++generation_;
      }
      return AddResult::kReplaced;
    }
  }
  if (entries_.size() >= max_entries_) {
    return AddResult::kFull;
  }
  entries_.push_back(std::move(ban));
  ++generation_;
  return AddResult::kAdded;
}

size_t BanList::Remove(Ban::Kind kind, std::string_view what, std::string_view only_by) {
  const size_t removed = std::erase_if(entries_, [&](const Ban& b) {
    return b.kind == kind && (only_by.empty() || b.by == only_by) &&
           (b.target == what || (!b.nick.empty() && SameNick(b.nick, what)));
  });
  if (removed > 0) {
    ++generation_;
  }
  return removed;
}

size_t BanList::RemoveTarget(Ban::Kind kind, Ban::Target target_kind, std::string_view target,
                             std::string_view only_by) {
  const size_t removed = std::erase_if(entries_, [&](const Ban& b) {
    return b.kind == kind && b.target_kind == target_kind && b.target == target &&
           (only_by.empty() || b.by == only_by);
  });
  if (removed > 0) {
    ++generation_;
  }
  return removed;
}

const Ban* BanList::Find(Ban::Kind kind, std::string_view fingerprint, bool member,
                         std::string_view address, uint64_t now_ms) const {
  const Ban* found = nullptr;
  for (const Ban& b : entries_) {
    if (b.kind != kind || Expired(b, now_ms)) {
      continue;
    }
    bool holds = false;
    switch (b.target_kind) {
      case Ban::Target::kKey:
        holds = !fingerprint.empty() && b.target == fingerprint;
        break;
      case Ban::Target::kAddress:
        holds = b.target == address;
        break;
      case Ban::Target::kGuests:
        holds = !member && b.target == address;
        break;
    }
    if (holds && (found == nullptr || LastsLonger(b, *found))) {
      found = &b;
    }
  }
  return found;
}

size_t BanList::Expire(uint64_t now_ms) {
  const size_t removed =
      std::erase_if(entries_, [now_ms](const Ban& b) { return Expired(b, now_ms); });
  if (removed > 0) {
    ++generation_;
  }
  return removed;
}

std::string BanList::Serialize() const {
  std::string out = Cat("# securechat bans, written by the server; one a line: ", kFields, "\n");
  for (const Ban& b : entries_) {
    out += Cat(KindName(b.kind), " ", TargetName(b.target_kind), " ", b.target, " ", b.until_ms,
               " ", b.set_ms, " ", b.by, " ", b.nick.empty() ? kNoNick : b.nick);
    if (!b.reason.empty()) {
      out += Cat(" ", b.reason);
    }
    out += "\n";
  }
  return out;
}

absl::StatusOr<BanList> BanList::Parse(std::string_view text, size_t max_entries, uint64_t now_ms) {
  BanList list(max_entries);
  // What each entry line names, to refuse a second line for the same kind and target (Add
  // would silently keep the later one; a file we wrote never has two).
  std::map<std::tuple<Ban::Kind, Ban::Target, std::string>, size_t> seen;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.size() > kMaxBansLineBytes) {
      return absl::InvalidArgumentError(
          Cat("line ", number, ": longer than ", kMaxBansLineBytes, " bytes"));
    }
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') {
      continue;
    }
    Ban ban;
    if (std::string why = ParseLine(line.substr(first), &ban); !why.empty()) {
      return absl::InvalidArgumentError(Cat("line ", number, ": ", why));
    }
    auto [prior, added] = seen.emplace(std::tuple(ban.kind, ban.target_kind, ban.target), number);
    if (!added) {
      return absl::InvalidArgumentError(Cat("line ", number, ": the same ", KindName(ban.kind),
                                            " of the same target as line ", prior->second));
    }
    if (Expired(ban, now_ms)) {
      continue;
    }
    if (list.entries_.size() == max_entries) {
      return absl::InvalidArgumentError(
          Cat("line ", number, ": more than ", max_entries, " entries"));
    }
    list.entries_.push_back(std::move(ban));
  }
  return list;
}

uint64_t ParseDuration(std::string_view text) {
  if (text.size() < 2) {
    return 0;
  }
  uint64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = kSecondMs;
      break;
    case 'm':
      unit = kMinuteMs;
      break;
    case 'h':
      unit = kHourMs;
      break;
    case 'd':
      unit = kDayMs;
      break;
    case 'w':
      unit = kWeekMs;
      break;
    default:
      return 0;
  }
  const std::optional<uint64_t> count = ParseU64(text.substr(0, text.size() - 1));
  if (!count || *count == 0 || *count > kMaxDurationMs / unit) {
    return 0;
  }
  return *count * unit;
}

std::string FormatDuration(uint64_t ms) {
  struct Unit {
    uint64_t ms;
    char letter;
  };
  // Weeks are left out (bans.h): a week reads as "7d", as an operator most often writes it.
  constexpr std::array<Unit, 4> kUnits = {
      {{kDayMs, 'd'}, {kHourMs, 'h'}, {kMinuteMs, 'm'}, {kSecondMs, 's'}}};
  for (size_t i = 0; i < kUnits.size(); ++i) {
    if (ms < kUnits[i].ms) {
      continue;
    }
    std::string out = Cat(ms / kUnits[i].ms, kUnits[i].letter);
    if (i + 1 < kUnits.size()) {
      const uint64_t next = ms % kUnits[i].ms / kUnits[i + 1].ms;
      if (next > 0) {
        out += Cat(" ", next, kUnits[i + 1].letter);
      }
    }
    return out;
  }
  return "0s";
}

}  // namespace securechat
