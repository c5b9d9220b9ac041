// Authentication (PROTOCOL.md 6.9), through the whole server engine in memory: AUTH judged
// against the members file and the access mode, member nicks kept from guests and from other
// members, what the room shows, SIGHUP's reload, and the attacks the issue names (a replayed
// signature, one over another transcript, another member's key, a flood of failures).
#include "securechat/crypto/auth.h"

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/engine/gate.h"
#include "securechat/engine/members.h"
#include "support/in_memory.h"
#include "support/raw_client.h"

namespace securechat {
namespace {

using ::securechat::testing::InMemoryNet;
using ::securechat::testing::RawClient;
using ::securechat::testing::Seen;
using ::securechat::testing::SignedAuth;

Ed25519Key NewKey() {
  std::optional<Ed25519Key> key = Ed25519Key::Generate();
  EXPECT_TRUE(key.has_value());
  return std::move(*key);
}

// The members file: alice and bob, one key each.
struct Keys {
  Ed25519Key alice = NewKey();
  Ed25519Key bob = NewKey();
  Ed25519Key stranger = NewKey();

  std::string MembersFile() const {
    return Cat("# test members\n", "alice ", PublicKeyLine(alice.public_key(), ""), "\n", "bob ",
               PublicKeyLine(bob.public_key(), ""), " op\n");
  }
  Members List() const { return Members::Parse(MembersFile()).value(); }
};

ServerOptions Options(const Keys& keys, Access access) {
  ServerOptions options;
  options.rate = 0;
  options.members = keys.List();
  options.access = access;
  return options;
}

std::string Short(const Ed25519Key& key) {
  return ShortFingerprint(Ed25519Fingerprint(key.public_key()));
}

bool HasError(const std::vector<Seen>& seen, proto::ErrorCode code, bool fatal) {
  for (const Seen& s : seen) {
    if (s.IsError(code, fatal)) {
      return true;
    }
  }
  return false;
}

class AuthTest : public ::testing::Test {
 protected:
  Keys keys_;
};

TEST_F(AuthTest, SignedDataIsTheSshsigBlobOfTheContextAndTh) {
  Sha256Digest th{};
  th.fill(0x42);
  const std::vector<uint8_t> data = AuthSignedData(th);
  // "SSHSIG", then string "securechat", string "", string "sha512", string of 64 bytes.
  const std::string want_head = std::string("SSHSIG") + std::string("\0\0\0\x0a", 4) +
                                "securechat" + std::string("\0\0\0\0", 4) +
                                std::string("\0\0\0\x06", 4) + "sha512" +
                                std::string("\0\0\0\x40", 4);
  ASSERT_EQ(data.size(), want_head.size() + 64);
  EXPECT_EQ(std::string(data.begin(), data.begin() + want_head.size()), want_head);
  Sha256Digest other = th;
  other[0] ^= 1;
  EXPECT_NE(AuthSignedData(other), data);
  Ed25519Signature sig{};
  ASSERT_TRUE(AuthSign(keys_.alice, th, &sig));
  EXPECT_TRUE(AuthVerify(keys_.alice.public_key(), th, sig));
  EXPECT_FALSE(AuthVerify(keys_.alice.public_key(), other, sig));
  EXPECT_FALSE(AuthVerify(keys_.bob.public_key(), th, sig));
  // A plain Ed25519 signature of th (no SSHSIG wrapping) is not an AUTH signature.
  Ed25519Signature plain{};
  ASSERT_TRUE(keys_.alice.Sign(th, &plain));
  EXPECT_FALSE(AuthVerify(keys_.alice.public_key(), th, plain));
}

// A key of small order proves nothing: under OpenSSL, one fixed signature (R the identity,
// S = 0) verifies for every message under it. Such a key signs nothing here, is refused in a
// members file, and its AUTH is refused like any bad signature.
TEST_F(AuthTest, AKeyOfSmallOrderNeverAuthenticates) {
  Ed25519Public identity{};
  identity[0] = 1;
  std::array<uint8_t, proto::kEd25519SignatureLen> universal{};
  universal[0] = 1;
  Sha256Digest th{};
  EXPECT_FALSE(AuthVerify(identity, th, universal));
  EXPECT_TRUE(IsWeakEd25519Key(identity));
  identity[31] = 0x80;  // the same point with the sign bit set
  EXPECT_TRUE(IsWeakEd25519Key(identity));
  EXPECT_FALSE(IsWeakEd25519Key(keys_.alice.public_key()));
  Ed25519Public p_plus_3{};  // y = p + 3: not canonical
  p_plus_3.fill(0xff);
  p_plus_3[0] = 0xf0;
  p_plus_3[31] = 0x7f;
  EXPECT_TRUE(IsWeakEd25519Key(p_plus_3));

  std::string why;
  identity[31] = 0;
  EXPECT_FALSE(
      ParsePublicKey(kSecurechatKeyType, "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &why)
          .has_value());
  EXPECT_NE(why.find("a weak key"), std::string::npos) << why;

  InMemoryNet net(Options(keys_, Access::kOpen));
  RawClient raw(net);
  raw.Send(msg::Auth{std::string_view(reinterpret_cast<const char*>(identity.data()), 32),
                     std::string_view(reinterpret_cast<const char*>(universal.data()), 64)});
  EXPECT_TRUE(HasError(raw.Read(), proto::ErrorCode::kAuthFailed, true));
  EXPECT_TRUE(raw.closed());
}

TEST_F(AuthTest, MembersOnlyAdmitsAMemberAndShowsItsFingerprint) {
  InMemoryNet net(Options(keys_, Access::kMembers));
  FileUserKey alice(std::move(keys_.alice));
  FileUserKey bob(std::move(keys_.bob));
  InMemoryNet::Member& a = net.ConnectWithKey("alice", alice);
  ASSERT_TRUE(a.session.joined()) << ::testing::PrintToString(a.lines);
  EXPECT_TRUE(a.SawContaining("authenticated as the member alice (SHA256:"));
  InMemoryNet::Member& b = net.ConnectWithKey("bob", bob);
  ASSERT_TRUE(b.session.joined());
  const std::string bob_short = ShortFingerprint(Ed25519Fingerprint(bob.public_key()));
  EXPECT_TRUE(a.Saw(Cat("-!- bob joined (", bob_short, ")"))) << ::testing::PrintToString(a.lines);
}

TEST_F(AuthTest, MembersOnlyRefusesAStrangerAGuestAndABadSignature) {
  InMemoryNet net(Options(keys_, Access::kMembers));
  FileUserKey stranger(std::move(keys_.stranger));
  InMemoryNet::Member& s = net.ConnectWithKey("carol", stranger);
  EXPECT_TRUE(s.session.finished());
  EXPECT_EQ(s.session.exit_code(), kExitAuthRefused);
  EXPECT_TRUE(s.SawContaining("this room admits members only, and your key SHA256:"));

  InMemoryNet::Member& guest = net.Connect("dave");
  EXPECT_TRUE(guest.session.finished());
  EXPECT_EQ(guest.session.exit_code(), kExitAuthRefused);
  EXPECT_TRUE(guest.SawContaining("admits members only"));

  // alice's key, but the signature is not over this connection's transcript.
  RawClient raw(net);
  Sha256Digest elsewhere{};
  SignedAuth wrong_th(keys_.alice, elsewhere);
  raw.Send(wrong_th.message());
  const std::vector<Seen> seen = raw.Read();
  EXPECT_TRUE(HasError(seen, proto::ErrorCode::kAuthFailed, true));
  EXPECT_TRUE(raw.closed());
  EXPECT_EQ(net.core().joined_count(), 0u);
}

TEST_F(AuthTest, ASignatureFromAnotherConnectionFails) {
  InMemoryNet net(Options(keys_, Access::kMembers));
  RawClient first(net);
  RawClient second(net);
  ASSERT_NE(first.th(), second.th());
  // The signature alice made for the first connection, replayed on the second.
  SignedAuth for_first(keys_.alice, first.th());
  second.Send(for_first.message());
  EXPECT_TRUE(HasError(second.Read(), proto::ErrorCode::kAuthFailed, true));
  EXPECT_TRUE(second.closed());
  // On its own connection it is good.
  first.Send(for_first.message());
  const std::vector<Seen> seen = first.Read();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, proto::Kind::kAuthOk);
  EXPECT_EQ(seen[0].from, "alice");
  // A replay of the AUTH record itself, sealed for the first connection, is not even opened on
  // another: the record keys differ, and the server closes without a word.
  RawClient third(net);
  ASSERT_TRUE(third.established());
  RawClient fourth(net);
  const std::vector<uint8_t> record = fourth.Seal(SignedAuth(keys_.alice, fourth.th()).message());
  net.core().Receive(third.id(), record);
  EXPECT_TRUE(third.closed());
  EXPECT_TRUE(net.core().Pending(third.id()).empty());
}

TEST_F(AuthTest, AnotherMembersKeyCannotTakeTheNick) {
  InMemoryNet net(Options(keys_, Access::kOpen));
  RawClient raw(net);
  raw.Send(SignedAuth(keys_.bob, raw.th()).message());
  std::vector<Seen> seen = raw.Read();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].from, "bob");
  raw.Send(msg::Join{"alice"});
  seen = raw.Read();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].IsError(proto::ErrorCode::kInvalidNick, false));
  EXPECT_NE(seen[0].text.find("your key is listed as bob"), std::string::npos) << seen[0].text;
  raw.Send(msg::Join{"Bob"});  // its own nick, in any case
  seen = raw.Read();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, proto::Kind::kWelcome);
}

TEST_F(AuthTest, GuestsCannotTakeOrImitateAMembersNick) {
  InMemoryNet net(Options(keys_, Access::kOpen));
  RawClient raw(net);
  for (const char* nick : {"alice", "ALICE", "aIice", "a1ice", "alice_"}) {
    raw.Send(msg::Join{nick});
    const std::vector<Seen> seen = raw.Read();
    ASSERT_EQ(seen.size(), 1u) << nick;
    EXPECT_TRUE(seen[0].IsError(proto::ErrorCode::kInvalidNick, false)) << nick;
    EXPECT_NE(seen[0].text.find("is kept for the member alice"), std::string::npos) << seen[0].text;
  }
  raw.Send(msg::Join{"alice2"});
  std::vector<Seen> seen = raw.Read();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, proto::Kind::kWelcome);
  raw.Send(msg::Nick{"bob"});  // nor rename to one
  seen = raw.Read();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].IsError(proto::ErrorCode::kInvalidNick, false));

  // The room marks a client without a key as a guest; a key the file does not list is a guest
  // too, shown with its fingerprint.
  InMemoryNet::Member& watcher = net.Connect("watcher");
  ASSERT_TRUE(watcher.session.joined());
  net.Connect("zed");
  EXPECT_TRUE(watcher.Saw("-!- zed joined (guest)")) << ::testing::PrintToString(watcher.lines);
  const std::string stranger_short = Short(keys_.stranger);
  FileUserKey stranger(std::move(keys_.stranger));
  InMemoryNet::Member& s = net.ConnectWithKey("carol", stranger);
  ASSERT_TRUE(s.session.joined());
  EXPECT_TRUE(s.SawContaining("is not on this server's members list: you join as a guest"));
  EXPECT_TRUE(watcher.Saw(Cat("-!- carol joined (guest ", stranger_short, ")")));
}

TEST_F(AuthTest, WhoSaysWhoIsAMemberAndWhoAGuest) {
  InMemoryNet net(Options(keys_, Access::kOpen));
  const std::string alice_short = Short(keys_.alice);
  const std::string stranger_short = Short(keys_.stranger);
  FileUserKey alice(std::move(keys_.alice));
  FileUserKey stranger(std::move(keys_.stranger));
  InMemoryNet::Member& a = net.ConnectWithKey("alice", alice);
  net.ConnectWithKey("carol", stranger);
  net.Connect("dave");
  net.Type(a, "/who");
  EXPECT_TRUE(a.Saw("-!- online (3): alice carol dave"));
  EXPECT_TRUE(a.Saw(Cat("-!- who is who: alice (", alice_short, "), carol (guest ", stranger_short,
                        "), dave (guest)")))
      << ::testing::PrintToString(a.lines);

  // Without a members file and without keys, /who is as it always was.
  InMemoryNet plain;
  InMemoryNet::Member& p = plain.Connect("pat");
  plain.Type(p, "/who");
  EXPECT_TRUE(p.Saw("-!- online (1): pat"));
  EXPECT_FALSE(p.SawContaining("who is who"));
}

// A member's nick in use (its other device, say) is not answered with alternate nicks, which
// the server would refuse one by one: the member is told at once.
TEST_F(AuthTest, AMemberWhoseNickIsTakenTriesNoAlternates) {
  Ed25519Seed seed;
  seed.Expose()[0] = 7;
  FileUserKey laptop(Ed25519Key::FromSeed(seed).value());
  FileUserKey desk(Ed25519Key::FromSeed(seed).value());
  ServerOptions options;
  options.members =
      Members::Parse(Cat("alice ", PublicKeyLine(laptop.public_key(), ""), "\n")).value();
  InMemoryNet net(options);
  net.alternate_nicks = true;
  InMemoryNet::Member& first = net.ConnectWithKey("alice", laptop);
  ASSERT_TRUE(first.session.joined());
  InMemoryNet::Member& second = net.ConnectWithKey("alice", desk);
  EXPECT_TRUE(second.session.finished());
  EXPECT_EQ(second.session.exit_code(), kExitNickRefused);
  EXPECT_TRUE(second.SawContaining("nick taken")) << ::testing::PrintToString(second.lines);
  EXPECT_FALSE(second.SawContaining("trying alice2")) << ::testing::PrintToString(second.lines);
  // A guest's taken nick still gets alternates.
  InMemoryNet::Member& guest = net.Connect("bob");
  InMemoryNet::Member& other = net.Connect("bob");
  EXPECT_TRUE(guest.session.joined());
  EXPECT_TRUE(other.Saw("-!- trying bob2 instead of bob")) << ::testing::PrintToString(other.lines);
}

TEST_F(AuthTest, AMemberJoinsUnderItsListedNick) {
  InMemoryNet net(Options(keys_, Access::kOpen));
  FileUserKey alice(std::move(keys_.alice));
  InMemoryNet::Member& a = net.ConnectWithKey("somebody", alice);
  ASSERT_TRUE(a.session.joined());
  EXPECT_EQ(a.session.nick(), "alice");
  EXPECT_TRUE(a.Saw("-!- joining as alice, the nick your key is listed under"));
}

TEST_F(AuthTest, ReloadDisconnectsRemovedKeysAndGuestsOnNewMemberNicks) {
  InMemoryNet net(Options(keys_, Access::kOpen));
  const std::string bob_line = Cat("bob ", PublicKeyLine(keys_.bob.public_key(), ""), "\n");
  FileUserKey alice(std::move(keys_.alice));
  FileUserKey bob(std::move(keys_.bob));
  InMemoryNet::Member& a = net.ConnectWithKey("alice", alice);
  InMemoryNet::Member& b = net.ConnectWithKey("bob", bob);
  InMemoryNet::Member& guest = net.Connect("carol");
  ASSERT_TRUE(a.session.joined() && b.session.joined() && guest.session.joined());

  // The same list again: nobody goes.
  EXPECT_EQ(net.core().ReloadMembers(
                Members::Parse(Cat("alice ", PublicKeyLine(alice.public_key(), ""), "\n", bob_line))
                    .value()),
            0u);
  // alice's key removed, and carol's nick now a member's (with some other key).
  const Ed25519Key carol_key = NewKey();
  const Members next =
      Members::Parse(Cat(bob_line, "carol ", PublicKeyLine(carol_key.public_key(), ""), "\n"))
          .value();
  EXPECT_EQ(net.core().ReloadMembers(next), 2u);
  net.Pump();
  EXPECT_TRUE(a.session.finished());
  EXPECT_EQ(a.session.exit_code(), kExitAuthRefused);
  EXPECT_TRUE(a.SawContaining("your key was removed from this room's members list"));
  EXPECT_TRUE(guest.session.finished());
  EXPECT_TRUE(guest.SawContaining("your nick now belongs to a member of this room"));
  EXPECT_FALSE(b.session.finished());
  EXPECT_TRUE(b.Saw("-!- alice left"));
  EXPECT_TRUE(b.Saw("-!- carol left"));
  EXPECT_EQ(net.core().joined_count(), 1u);
}

// A reload leaves alone a client between its handshake and its AUTH (the new list judges the
// AUTH when it comes), and closes a guest whose key the new list names.
TEST_F(AuthTest, ReloadLeavesClientsNotYetAuthenticatedAndClosesGuestKeysNowListed) {
  InMemoryNet net(Options(keys_, Access::kMembers));
  RawClient arriving(net);
  ASSERT_TRUE(arriving.established());
  EXPECT_EQ(net.core().ReloadMembers(keys_.List()), 0u);
  EXPECT_FALSE(arriving.closed());
  arriving.Send(SignedAuth(keys_.alice, arriving.th()).message());
  std::vector<Seen> seen = arriving.Read();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, proto::Kind::kAuthOk);

  InMemoryNet open(Options(keys_, Access::kOpen));
  const std::string stranger_line =
      Cat("carol ", PublicKeyLine(keys_.stranger.public_key(), ""), "\n");
  FileUserKey stranger(std::move(keys_.stranger));
  InMemoryNet::Member& guest = open.ConnectWithKey("dave", stranger);
  ASSERT_TRUE(guest.session.joined());
  EXPECT_EQ(
      open.core().ReloadMembers(Members::Parse(Cat(keys_.MembersFile(), stranger_line)).value()),
      1u);
  open.Pump();
  EXPECT_TRUE(guest.session.finished());
  EXPECT_TRUE(guest.SawContaining("your key is now on this room's members list"));
}

// A thousand failed authentications in a row, each on its own connection, while two members
// chat: every one is refused, the room keeps chatting, and the server keeps nothing of them.
TEST_F(AuthTest, AThousandFailuresLeaveTheRoomChattingAndNothingBehind) {
  InMemoryNet net(Options(keys_, Access::kMembers));
  FileUserKey alice(std::move(keys_.alice));
  FileUserKey bob(std::move(keys_.bob));
  InMemoryNet::Member& a = net.ConnectWithKey("alice", alice);
  InMemoryNet::Member& b = net.ConnectWithKey("bob", bob);
  ASSERT_TRUE(a.session.joined() && b.session.joined());
  const size_t connections = net.core().connection_count();
  for (int i = 0; i < 1000; ++i) {
    RawClient attacker(net, "attacker");
    // alice's public key with a signature that is not hers.
    SignedAuth forged(keys_.stranger, attacker.th());
    forged.pub = alice.public_key();
    attacker.Send(forged.message());
    ASSERT_TRUE(HasError(attacker.Read(), proto::ErrorCode::kAuthFailed, true)) << i;
    ASSERT_TRUE(attacker.closed()) << i;
    net.core().Forget(attacker.id());
    if (i % 100 == 0) {
      net.Type(a, Cat("still here ", i));
      ASSERT_TRUE(b.Saw(Cat("<alice> still here ", i))) << i;
    }
  }
  EXPECT_EQ(net.core().connection_count(), connections);
  EXPECT_LE(net.core().address_count(), 2u);
  EXPECT_EQ(net.core().joined_count(), 2u);
  // Each failure is logged once, as an "auth" line (a kind the server's log rate limits), and
  // never as an unlimited "error" line.
  size_t auth_lines = 0;
  for (const std::string& line : net.log) {
    EXPECT_FALSE(line.starts_with("error ")) << line;
    auth_lines += line.find(": bad signature by ") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(auth_lines, 1000u);
}

}  // namespace
}  // namespace securechat
