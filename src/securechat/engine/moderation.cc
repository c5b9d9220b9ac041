#include "securechat/engine/moderation.h"

#include <cstdint>
#include <limits>
#include <utility>

#include "securechat/base/cat.h"
#include "securechat/base/ip_text.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/crypto/primitives.h"
#include "securechat/wire/text.h"

namespace securechat {

namespace {

constexpr uint64_t kForGood = std::numeric_limits<uint64_t>::max();

std::string_view FingerprintOf(const Connection& c) {
  return c.identity ? std::string_view(c.identity->fingerprint) : std::string_view();
}

// Holds is true if an entry for `target` would hold connection `c`.
// IsMember: `c` proved a key the members file lists. Everyone else is a guest, a connection
// with an unlisted key included: a fresh key must not get a guest past a ban of guests.
bool IsMember(const Connection& c) { return c.identity && !c.identity->member.empty(); }

bool Holds(Ban::Target kind, std::string_view target, const Connection& c) {
  switch (kind) {
    case Ban::Target::kKey:
      return !FingerprintOf(c).empty() && FingerprintOf(c) == target;
    case Ban::Target::kAddress:
      return c.address == target;
    case Ban::Target::kGuests:
      return !IsMember(c) && c.address == target;
  }
  return false;
}

// Left is how long `b` still holds at `now`, for people (never below 0s).
std::string Left(const Ban& b, uint64_t now) {
  return FormatDuration(b.until_ms > now ? b.until_ms - now : 0);
}

// Describe is how a target is shown to the operator.
std::string Describe(Ban::Target kind, std::string_view target) {
  switch (kind) {
    case Ban::Target::kKey:
      return Cat("key ", target);
    case Ban::Target::kAddress:
      return Cat("everyone from ", target);
    case Ban::Target::kGuests:
      return Cat("guests from ", target);
  }
  return {};
}

}  // namespace

Moderation::Moderation(ConnectionTable& table, const ServerSinks& sinks, Room& room,
                       const Gate& gate, BanList bans)
    : table_(table), sinks_(sinks), room_(room), gate_(gate), bans_(std::move(bans)) {}

std::vector<std::string> Moderation::Run(const ConsoleCommand& command, const Operator& op) {
  const uint64_t now = sinks_.now_ms();
  bans_.Expire(now);
  switch (command.verb) {
    case ConsoleCommand::Verb::kKick:
      return {Kick(command.arg, op, command.reason)};
    case ConsoleCommand::Verb::kBan:
      return Hold(Ban::Kind::kBan, command, op);
    case ConsoleCommand::Verb::kMute:
      return Hold(Ban::Kind::kMute, command, op);
    case ConsoleCommand::Verb::kUnban:
    case ConsoleCommand::Verb::kUnmute: {
      const bool ban = command.verb == ConsoleCommand::Verb::kUnban;
      if (command.arg.empty() || !command.reason.empty()) {
        return {ban ? "usage: /unban NICK|SHA256:FINGERPRINT|ADDRESS"
                    : "usage: /unmute NICK|SHA256:FINGERPRINT|ADDRESS"};
      }
      return Release(ban ? Ban::Kind::kBan : Ban::Kind::kMute, command.arg, op);
    }
    case ConsoleCommand::Verb::kBans:
      return List(now, op.console ? bans_.entries().size() : kMaxListedToMember);
    case ConsoleCommand::Verb::kSay:
    case ConsoleCommand::Verb::kHelp:
    case ConsoleCommand::Verb::kWho:
    case ConsoleCommand::Verb::kRooms:
    case ConsoleCommand::Verb::kMotd:
    case ConsoleCommand::Verb::kUnknown:
      break;
  }
  return {"not a moderation command"};
}

std::string Moderation::Kick(std::string_view nick, const Operator& op, std::string_view reason) {
  if (!IsValidNick(nick)) {
    return "usage: /kick NICK [REASON]";
  }
  Connection* member = room_.Find(nick);
  if (member == nullptr || member->state() == ConnState::kClosing) {
    return Cat("no such user: ", nick);
  }
  if (!op.console && gate_.IsOperator(*member)) {
    return Cat("not kicked: ", member->nick,
               " is an operator; only the server's console removes an operator");
  }
  if (!IsValidReason(reason)) {
    return Cat("not kicked: a reason must be at most ", proto::kMaxReasonLen,
               " bytes of text without control characters");
  }
  const std::string kicked = member->nick;
  room_.Expel(
      *member, proto::ErrorCode::kRemoved,
      reason.empty() ? Cat("kicked by ", op.shown) : Cat("kicked by ", op.shown, ": ", reason));
  return Cat("kicked ", kicked);
}

Moderation::Targets Moderation::Resolve(std::string_view name) const {
  Targets t;
  if (name.starts_with("SHA256:")) {
    const std::optional<Sha256Digest> digest = ParseFingerprintText(name);
    if (!digest) {
      t.error = "not a key fingerprint: it is SHA256: and 43 characters of base64, as ssh prints";
      return t;
    }
    t.held.emplace_back(Ban::Target::kKey, FingerprintText(*digest));
    t.op = gate_.members().IsOperatorFingerprint(t.held.back().second);
    return t;
  }
  // An address is tried before a nick: the nick alphabet has dots, so `10.0.0.1` could be
  // either, and a person online is named by nick far more often than by a nick like that.
  if (std::string address = CanonicalIp(name); !address.empty()) {
    t.held.emplace_back(Ban::Target::kAddress, std::move(address));
    return t;
  }
  if (!IsValidNick(name)) {
    t.error = Cat("not a nick, a SHA256: fingerprint or an address: ", EscapeForDisplay(name));
    return t;
  }
  if (const Connection* member = room_.Find(name)) {
    t.nick = member->nick;
    t.op = gate_.IsOperator(*member);
    if (const std::string_view fp = FingerprintOf(*member); !fp.empty()) {
      t.held.emplace_back(Ban::Target::kKey, std::string(fp));
    }
    // A guest is held by its address; a keyed member by its key and, as a guest, by its
    // address, so that coming back without the key under another nick does not evade it.
    t.held.emplace_back(Ban::Target::kGuests, member->address);
    return t;
  }
  // Someone offline is named by nick only if the members file lists it: its keys are held.
  const std::vector<Ed25519Public> keys = gate_.members().KeysOf(name);
  if (keys.empty()) {
    t.error = Cat("no such user: ", name,
                  " (name someone online, a member of the members file, a SHA256: key "
                  "fingerprint or an address)");
    return t;
  }
  t.nick = std::string(gate_.members().HolderOf(name));
  for (const Ed25519Public& key : keys) {
    t.held.emplace_back(Ban::Target::kKey, Ed25519Fingerprint(key));
    const MemberKey* listed = gate_.members().Find(name, key);
    t.op = t.op || (listed != nullptr && listed->op);
  }
  return t;
}

std::vector<std::string> Moderation::Hold(Ban::Kind kind, const ConsoleCommand& command,
                                          const Operator& op) {
  const bool ban = kind == Ban::Kind::kBan;
  if (command.arg.empty()) {
    return {ban ? "usage: /ban NICK|SHA256:FINGERPRINT|ADDRESS [DURATION] [REASON]"
                : "usage: /mute NICK|SHA256:FINGERPRINT|ADDRESS [DURATION] [REASON]"};
  }
  if (!command.duration.empty() && ParseDuration(command.duration) == 0) {
    return {Cat(ban ? "not banned" : "not muted", ": ", EscapeForDisplay(command.duration),
                " is not a duration (a number and s, m, h, d or w: 30s, 10m, 2h, 7d, 1w)")};
  }
  const Targets t = Resolve(command.arg);
  if (!t.error.empty()) {
    return {t.error};
  }
  if (!op.console && HoldsAnOperator(t)) {
    return {Cat(ban ? "not banned" : "not muted", ": ",
                t.nick.empty() ? EscapeForDisplay(command.arg) : t.nick,
                " is or holds an operator; only the server's console may")};
  }
  if (!IsValidReason(command.reason)) {
    return {Cat(ban ? "not banned" : "not muted", ": a reason must be at most ",
                proto::kMaxReasonLen, " bytes of text without control characters")};
  }
  const uint64_t now = sinks_.now_ms();
  const uint64_t duration = command.duration.empty() ? 0 : ParseDuration(command.duration);
  const std::string what =
      Cat(ban ? "banned" : "muted", " by ", op.shown,
          duration == 0 ? std::string(" for good") : Cat(" for ", FormatDuration(duration)),
          command.reason.empty() ? std::string() : Cat(": ", command.reason));

  std::vector<std::string> notes;
  for (const auto& [target_kind, target] : t.held) {
    if (!op.console && SetByConsole(kind, target_kind, target)) {
      notes.push_back(Cat("not changed: the server's operator set that for ",
                          Describe(target_kind, target), "; only the console changes it"));
      continue;
    }
    Ban entry{kind, target_kind,        target, duration == 0 ? 0 : now + duration,
              now,  std::string(op.by), t.nick, std::string(command.reason)};
    switch (bans_.Add(std::move(entry))) {
      case BanList::AddResult::kAdded:
      case BanList::AddResult::kReplaced:
        notes.push_back(
            Cat(ban ? "banned " : "muted ", Describe(target_kind, target),
                t.nick.empty() ? std::string() : Cat(" (", t.nick, ")"),
                duration == 0 ? std::string(" for good") : Cat(" for ", FormatDuration(duration))));
        break;
      case BanList::AddResult::kFull:
        notes.push_back(Cat("not kept: the list holds its most, ", bans_.max_entries(),
                            " entries (--max_bans); /unban or /unmute someone first"));
        break;
      case BanList::AddResult::kInvalid:
        notes.push_back(Cat("not kept: ", Describe(target_kind, target), " cannot be written"));
        break;
    }
    sinks_.Log(Cat(ban ? "ban " : "mute ", Describe(target_kind, target), " by ", op.by));
  }
  for (const std::string& nick : Enforce(what)) {
    notes.push_back(Cat("removed ", nick));
  }
  return notes;
}

std::vector<std::string> Moderation::Enforce(std::string_view what) {
  const uint64_t now = sinks_.now_ms();
  // Expel only marks a member (it leaves in the teardown), so the map walked is not changed.
  std::vector<std::string> removed;
  for (const auto& [nick, member] : room_.members()) {
    Connection& c = *member;
    if (c.state() == ConnState::kClosing) {
      continue;
    }
    if (Holding(Ban::Kind::kBan, c, now) != nullptr) {
      removed.push_back(nick);
      room_.Expel(c, proto::ErrorCode::kBanned, std::string(what));
      continue;
    }
    const uint64_t muted = MuteOf(c, now);
    const bool was = c.muted_until_ms > now;
    c.muted_until_ms = muted;
    if (muted > now && !was) {
      room_.Announce(Cat(nick, " is ", what));
    } else if (muted <= now && was) {
      room_.Announce(Cat(nick, " may speak again (", what, ")"));
    }
  }
  return removed;
}

std::vector<std::string> Moderation::Release(Ban::Kind kind, std::string_view name,
                                             const Operator& op) {
  const bool ban = kind == Ban::Kind::kBan;
  // Entries are dropped by the name given (a nick they were set on, a key, an address) and,
  // when it names someone online or listed, by what it resolves to.
  // What the console set only the console lifts.
  const std::string_view only_by = op.console ? std::string_view() : op.by;
  size_t dropped = bans_.Remove(kind, name, only_by);
  const Targets t = Resolve(name);
  for (const auto& [target_kind, target] : t.held) {
    dropped += bans_.RemoveTarget(kind, target_kind, target, only_by);
  }
  if (dropped == 0) {
    return {
        Cat("no ", ban ? "ban" : "mute", " holds ", EscapeForDisplay(name), " (/bans lists them)")};
  }
  sinks_.Log(Cat(ban ? "unban " : "unmute ", EscapeForDisplay(name), " by ", op.by));
  std::vector<std::string> notes{Cat("lifted ", dropped, dropped == 1 ? " entry" : " entries",
                                     " for ", EscapeForDisplay(name))};
  if (!ban) {
    Enforce(Cat("unmuted by ", op.shown));
  }
  return notes;
}

std::vector<std::string> Moderation::List(uint64_t now, size_t most) const {
  if (bans_.entries().empty()) {
    return {"no bans or mutes"};
  }
  std::vector<std::string> notes{
      Cat(bans_.entries().size(), " in force (of at most ", bans_.max_entries(), "):")};
  for (const Ban& b : bans_.entries()) {
    if (notes.size() > most) {
      notes.push_back(Cat("and ", bans_.entries().size() - most,
                          " more (the server's console lists them all)"));
      break;
    }
    notes.push_back(
        Cat(KindName(b.kind), " ", Describe(b.target_kind, b.target),
            b.nick.empty() ? std::string() : Cat(" (", b.nick, ")"),
            b.until_ms == 0 ? std::string(", for good") : Cat(", ", Left(b, now), " left"), ", by ",
            b.by == kConsoleOperator.by ? kConsoleOperator.shown : b.by,
            b.reason.empty() ? std::string() : Cat(": ", EscapeForDisplay(b.reason))));
  }
  return notes;
}

bool Moderation::SetByConsole(Ban::Kind kind, Ban::Target target_kind,
                              std::string_view target) const {
  for (const Ban& b : bans_.entries()) {
    if (b.kind == kind && b.target_kind == target_kind && b.target == target &&
        b.by == kConsoleOperator.by) {
      return true;
    }
  }
  return false;
}

bool Moderation::HoldsAnOperator(const Targets& t) const {
  if (t.op) {
    return true;
  }
  for (const auto& [nick, member] : room_.members()) {
    if (gate_.IsOperator(*member)) {
      for (const auto& [kind, target] : t.held) {
        if (Holds(kind, target, *member)) {
          return true;
        }
      }
    }
  }
  return false;
}

void Moderation::Moderate(Connection& c, std::string_view line) {
  if (!gate_.IsOperator(c)) {
    table_.Error(c, proto::ErrorCode::kNotOperator,
                 "not an operator: the members file does not mark your key op");
    return;
  }
  if (!IsValidText(line)) {
    table_.Error(c, proto::ErrorCode::kBadText, "text invalid or too long");
    return;
  }
  const ConsoleCommand command = ParseConsoleLine(line);
  std::vector<std::string> notes;
  if (IsModeration(command.verb)) {
    notes = Run(command, Operator{c.nick, c.nick, false});
  } else {
    notes.push_back(
        "not a moderation command: MODERATE takes /kick, /ban, /unban, /mute, /unmute or /bans");
  }
  // The answer is bounded: /bans lists at most kMaxListedToMember entries to a member, so that
  // a long list cannot fill the operator's queue. Every note is built of checked parts and
  // escaped names; one that were not valid text would close the client, so it is not sent.
  for (const std::string& note : notes) {
    table_.Send(c,
                msg::Notice{IsValidText(note) ? std::string_view(note)
                                              : std::string_view("(a note that cannot be sent)")});
  }
}

const Ban* Moderation::Holding(Ban::Kind kind, const Connection& c, uint64_t now) const {
  if (!gate_.IsOperator(c)) {
    return bans_.Find(kind, FingerprintOf(c), IsMember(c), c.address, now);
  }
  // An operator is held only by what the console set: a member operator cannot keep another
  // out, even by naming its address, or a key the server could not tell was an operator's.
  const Ban* found = nullptr;
  for (const Ban& b : bans_.entries()) {
    const bool holds = b.kind == kind && b.by == kConsoleOperator.by &&
                       (b.until_ms == 0 || b.until_ms > now) && Holds(b.target_kind, b.target, c);
    const bool longer = found == nullptr ||
                        (found->until_ms != 0 && (b.until_ms == 0 || b.until_ms > found->until_ms));
    if (holds && longer) {
      found = &b;
    }
  }
  return found;
}

bool Moderation::IsMuted(const Connection& c) const {
  return c.muted_until_ms != 0 && sinks_.now_ms() < c.muted_until_ms;
}

uint64_t Moderation::MuteOf(const Connection& c, uint64_t now) const {
  const Ban* mute = Holding(Ban::Kind::kMute, c, now);
  if (mute == nullptr) {
    return 0;
  }
  return mute->until_ms == 0 ? kForGood : mute->until_ms;
}

bool Moderation::MayJoin(Connection& c) {
  const uint64_t now = sinks_.now_ms();
  if (const Ban* ban = Holding(Ban::Kind::kBan, c, now)) {
    sinks_.Log(
        Cat("refuse ", ConnTag(c.id), ": banned (", Describe(ban->target_kind, ban->target), ")"));
    table_.Fatal(
        c, proto::ErrorCode::kBanned,
        Cat("you are banned from this server",
            ban->until_ms == 0 ? std::string(" for good") : Cat(" for ", Left(*ban, now), " more"),
            ban->reason.empty() ? std::string() : Cat(": ", ban->reason)));
    return false;
  }
  c.muted_until_ms = MuteOf(c, now);
  return true;
}

bool Moderation::MayTalk(Connection& c) {
  if (c.muted_until_ms == 0) {
    return true;
  }
  const uint64_t now = sinks_.now_ms();
  if (now >= c.muted_until_ms) {
    c.muted_until_ms = 0;
    return true;
  }
  table_.Error(c, proto::ErrorCode::kMuted,
               c.muted_until_ms == kForGood ? std::string("not said: you are muted")
                                            : Cat("not said: you are muted for ",
                                                  FormatDuration(c.muted_until_ms - now), " more"));
  return false;
}

}  // namespace securechat
