// Nicks as people see them: one nick in any letter case, and no nick that passes for another
// by look (issue 10: `alice`, `ALICE` and `Alice` were three users; `aIice`, `a1ice`,
// `5erver`, `Server.` and `-` were all accepted).
#include "securechat/wire/nick.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "securechat/wire/text.h"
#include "support/in_memory.h"

namespace securechat {
namespace {

using ::securechat::testing::InMemoryNet;

TEST(NickSkeletonTest, LookAlikesShareASkeleton) {
  const std::string alice = NickSkeleton("alice");
  for (const char* look_alike :
       {"aIice", "a1ice", "ALICE", "Alice", "alice.", "alice_", "ALlCE", "al1ce-_."}) {
    EXPECT_EQ(NickSkeleton(look_alike), alice) << look_alike;
  }
  EXPECT_EQ(NickSkeleton("rnike"), NickSkeleton("mike"));
  EXPECT_EQ(NickSkeleton("b0b"), NickSkeleton("bob"));
  EXPECT_EQ(NickSkeleton("2oe"), NickSkeleton("zoe"));
  EXPECT_EQ(NickSkeleton("-"), "");
  EXPECT_EQ(NickSkeleton("_._"), "");
  // What does not look alike stays apart.
  EXPECT_NE(NickSkeleton("alice"), NickSkeleton("alicia"));
  EXPECT_NE(NickSkeleton("bob"), NickSkeleton("bob2"));
  EXPECT_NE(NickSkeleton("a_b"), NickSkeleton("a-b"));
  EXPECT_NE(NickSkeleton("_alice"), NickSkeleton("alice"));  // only trailing punctuation goes
}

TEST(NickSkeletonTest, OneNickInAnyCaseHasOneSkeleton) {
  for (const char* nick : {"Alice", "MIKE", "Ian", "O0o", "S5s", "Z2z"}) {
    std::string lower(nick);
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    EXPECT_TRUE(SameNick(nick, lower)) << nick;
    EXPECT_EQ(NickSkeleton(nick), NickSkeleton(lower)) << nick;
  }
  EXPECT_TRUE(SameNick("AlIcE-_.9", "alice-_.9"));
  EXPECT_FALSE(SameNick("alice", "alice_"));
  EXPECT_FALSE(NickLess()("ALICE", "alice"));
  EXPECT_FALSE(NickLess()("alice", "ALICE"));
  EXPECT_TRUE(NickLess()("Alice", "bob"));
  EXPECT_TRUE(NickLess()("alice", "Bob"));
}

TEST(NickSkeletonTest, WhatLooksLikeServerIsReserved) {
  for (const char* nick :
       {"server", "Server", "SERVER", "5erver", "Server.", "server_", "5ERVER", "-", "...", "_"}) {
    EXPECT_TRUE(IsReservedNick(nick)) << nick;
  }
  for (const char* nick : {"servers", "Servers", "_server", "serve", "observer"}) {
    EXPECT_FALSE(IsReservedNick(nick)) << nick;
  }
}

TEST(NickTest, OneNickInAnyCase) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& upper = net.Connect("ALICE");
  EXPECT_EQ(upper.session.exit_code(), kExitNickRefused);
  EXPECT_TRUE(upper.Saw("!! nick taken"));
  auto& bob = net.Connect("bob");
  // A whisper reaches the nick in any case.
  net.Type(bob, "/msg Alice are you there?");
  EXPECT_TRUE(alice.Saw("*bob* are you there?"));
  EXPECT_FALSE(bob.SawContaining("no such user"));
  // Its holder may change the case of its own nick; nobody else may take it.
  net.Type(alice, "/nick Alice");
  EXPECT_TRUE(bob.Saw("-!- alice is now known as Alice"));
  net.Type(bob, "/nick alice");
  EXPECT_TRUE(bob.Saw("!! nick taken"));
  EXPECT_EQ(bob.session.nick(), "bob");
  // WHO spells each nick as its holder does, sorted without regard to case.
  net.Connect("Carol");
  net.Type(bob, "/who");
  EXPECT_TRUE(bob.Saw("-!- online (3): Alice bob Carol"));
}

TEST(NickTest, LookAlikesOfAMemberAreRefusedWithErrorFour) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  for (const char* look_alike : {"aIice", "a1ice", "alice.", "ALlCE"}) {
    auto& m = net.Connect(look_alike);
    EXPECT_EQ(m.session.exit_code(), kExitNickRefused) << look_alike;
    EXPECT_TRUE(
        m.Saw(std::string("!! invalid nick: ") + look_alike + " looks like alice, who is online"))
        << look_alike;
  }
  auto& bob = net.Connect("bob");
  net.Type(bob, "/nick a1ice");
  EXPECT_TRUE(bob.Saw("!! invalid nick: a1ice looks like alice, who is online"));
  // Once alice has left, the look-alike is free.
  alice.session.InputEof();
  net.Pump();
  net.Type(bob, "/nick a1ice");
  EXPECT_TRUE(bob.Saw("-!- bob is now known as a1ice"));
  EXPECT_EQ(net.core().joined_count(), 1u);
}

TEST(NickTest, LookAlikesOfServerAreRefusedWithErrorFour) {
  InMemoryNet net;
  net.Connect("alice");
  for (const char* nick : {"5erver", "Server.", "SERVER", "-"}) {
    auto& m = net.Connect(nick);
    EXPECT_EQ(m.session.exit_code(), kExitNickRefused) << nick;
    EXPECT_TRUE(m.SawContaining("!! invalid nick")) << nick;
  }
  EXPECT_EQ(net.core().joined_count(), 1u);
}

}  // namespace
}  // namespace securechat
