// The members file (engine/members.h) and the public key lines it is made of.
#include "securechat/engine/members.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/ed25519.h"

namespace securechat {
namespace {

Ed25519Public KeyOf(uint8_t fill) {
  Ed25519Public k;
  k.fill(fill);
  return k;
}

std::string Base64Of(const std::vector<uint8_t>& bytes) {
  return absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// The field pair of a key in our own format and in OpenSSH's.
std::string OwnFields(const Ed25519Public& k) {
  return Cat("securechat-ed25519 ", Base64Of(std::vector<uint8_t>(k.begin(), k.end())));
}
std::string SshFields(const Ed25519Public& k) {
  return Cat("ssh-ed25519 ", Base64Of(SshEd25519Blob(k)));
}

TEST(PublicKeyTest, BothFormatsGiveTheSameKey) {
  const Ed25519Public k = KeyOf(7);
  std::string why;
  const std::string own = Base64Of(std::vector<uint8_t>(k.begin(), k.end()));
  const std::string ssh = Base64Of(SshEd25519Blob(k));
  EXPECT_EQ(ParsePublicKey("securechat-ed25519", own, &why), k) << why;
  EXPECT_EQ(ParsePublicKey("ssh-ed25519", ssh, &why), k) << why;
  // Our own line writes what the parser reads.
  EXPECT_EQ(PublicKeyLine(k, "alice@laptop"), Cat("securechat-ed25519 ", own, " alice@laptop"));
  EXPECT_EQ(PublicKeyLine(k, ""), Cat("securechat-ed25519 ", own));
}

TEST(PublicKeyTest, RefusesEverythingElseWithAReason) {
  const Ed25519Public k = KeyOf(7);
  const std::string own = Base64Of(std::vector<uint8_t>(k.begin(), k.end()));
  const std::string ssh = Base64Of(SshEd25519Blob(k));
  std::vector<uint8_t> long_blob = SshEd25519Blob(k);
  long_blob.push_back(0);
  std::vector<uint8_t> rsa_blob = SshEd25519Blob(k);
  rsa_blob[4 + 4] = 'x';  // "ssh-ed25519" -> "ssh-xd25519"
  struct Case {
    std::string type, base64, why;
  };
  const Case cases[] = {
      {"ssh-rsa", ssh, "unknown key type"},
      {"securechat-ed25519", own.substr(0, own.size() - 1), "not valid base64"},
      {"securechat-ed25519", own + "=", "not valid base64"},
      {"securechat-ed25519", " " + own, "not valid base64"},
      {"securechat-ed25519", std::string(200, 'A'), "not valid base64"},
      {"securechat-ed25519", ssh, "32 bytes"},  // a blob under our own type
      {"ssh-ed25519", own, "not an OpenSSH Ed25519 public key"},
      {"ssh-ed25519", Base64Of(long_blob), "not an OpenSSH Ed25519 public key"},
      {"ssh-ed25519", Base64Of(rsa_blob), "not an OpenSSH Ed25519 public key"},
      {"securechat-ed25519", "", "32 bytes"},
  };
  for (const Case& c : cases) {
    std::string why;
    EXPECT_FALSE(ParsePublicKey(c.type, c.base64, &why).has_value()) << c.type << " " << c.base64;
    EXPECT_NE(why.find(c.why), std::string::npos) << why;
  }
}

TEST(MembersTest, ParsesNicksKeysOperatorsAndComments) {
  const std::string text = Cat("# the team\n",                            //
                               "alice ", OwnFields(KeyOf(1)), " op\n",    //
                               "\n",                                      //
                               "  Alice\t", SshFields(KeyOf(2)), "\r\n",  // her laptop
                               "bob ", SshFields(KeyOf(3)), "\n");
  auto m = Members::Parse(text);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->nick_count(), 2u);
  EXPECT_EQ(m->key_count(), 3u);
  const MemberKey* a1 = m->Find("ALICE", KeyOf(1));
  ASSERT_NE(a1, nullptr);
  EXPECT_TRUE(a1->op);
  EXPECT_EQ(a1->line, 2u);
  const MemberKey* a2 = m->Find("alice", KeyOf(2));
  ASSERT_NE(a2, nullptr);
  EXPECT_FALSE(a2->op);
  EXPECT_EQ(m->Find("alice", KeyOf(3)), nullptr);  // bob's key is not alice's
  EXPECT_EQ(m->Find("carol", KeyOf(1)), nullptr);
  EXPECT_EQ(m->NickOf(KeyOf(3)), "bob");
  EXPECT_EQ(m->NickOf(KeyOf(9)), "");
  // A listed nick holds every nick that looks like it; others are free.
  EXPECT_EQ(m->HolderOf("B0B"), "bob");
  EXPECT_EQ(m->HolderOf("alice_"), "alice");
  EXPECT_EQ(m->HolderOf("carol"), "");
}

TEST(MembersTest, ABadLineIsNamedAndNothingIsKept) {
  const std::string good = Cat("alice ", OwnFields(KeyOf(1)), "\n");
  struct Case {
    std::string line, why;
  };
  const Case cases[] = {
      {"alice", "expected NICK KEYTYPE BASE64 [op]"},
      {Cat("alice ", OwnFields(KeyOf(2)), " op extra"), "expected NICK KEYTYPE BASE64 [op]"},
      {Cat("alice ", OwnFields(KeyOf(2)), " alice@laptop"), "the fourth field can only be `op`"},
      {Cat("al ice ", OwnFields(KeyOf(2))), "unknown key type"},
      {Cat("server ", OwnFields(KeyOf(2))), "not a nick a member can hold"},
      {Cat("a/b ", OwnFields(KeyOf(2))), "not a nick a member can hold"},
      {Cat("bob ", OwnFields(KeyOf(1))), "already listed, for alice"},
      {Cat("alice ", OwnFields(KeyOf(1))), "already listed, for alice"},
      {Cat("a1ice ", OwnFields(KeyOf(2))), "a1ice looks like alice"},
      {Cat("bob ssh-rsa AAAA"), "unknown key type"},
      {Cat("b\x01ob ", OwnFields(KeyOf(2))), "control character"},
      {Cat("b\xc3\xb6" "b ", OwnFields(KeyOf(2))), "not ASCII"},
      {Cat("bob ", OwnFields(KeyOf(2)), std::string(1100, ' ')), "longer than 1024 bytes"},
  };
  for (const Case& c : cases) {
    auto m = Members::Parse(Cat(good, "# two\n", c.line, "\n"));
    ASSERT_FALSE(m.ok()) << c.line;
    EXPECT_EQ(m.status().message().substr(0, 8), "line 3: ") << m.status();
    EXPECT_NE(m.status().message().find(c.why), std::string_view::npos) << m.status();
  }
}

TEST(MembersTest, BoundsHold) {
  EXPECT_FALSE(Members::Parse(std::string(kMaxMembersFileBytes + 1, '#')).ok());
  // Blank and comment lines are fine, however many.
  EXPECT_TRUE(Members::Parse(std::string(kMaxMembersFileBytes, '\n')).ok());
  EXPECT_TRUE(Members::Parse("").ok());
}

}  // namespace
}  // namespace securechat
