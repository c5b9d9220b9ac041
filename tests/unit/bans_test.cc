// Bans and mutes (engine/bans.h): which entry holds a connection, how the list changes, the
// bans file's text both ways, operators' durations; and the file on disk (net/bans_file.h).
#include "securechat/engine/bans.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/base/ip_text.h"
#include "securechat/crypto/primitives.h"
#include "securechat/net/bans_file.h"
#include "support/test_util.h"

namespace securechat {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kNow = 1'800'000'000'000;  // 2027, in Unix milliseconds

std::string Fp(uint8_t fill) {
  Sha256Digest d;
  d.fill(fill);
  return FingerprintText(d);
}

Ban Make(Ban::Kind kind, Ban::Target target_kind, std::string target, uint64_t until_ms = 0) {
  Ban b;
  b.kind = kind;
  b.target_kind = target_kind;
  b.target = std::move(target);
  b.until_ms = until_ms;
  b.set_ms = kNow - 1000;
  b.by = "console";
  return b;
}

Ban KeyBan(uint8_t fill, uint64_t until_ms = 0) {
  return Make(Ban::Kind::kBan, Ban::Target::kKey, Fp(fill), until_ms);
}

// ---------------------------------------------------------------- Find

TEST(BanFindTest, AKeyBanHoldsThatKeyFromAnyAddressAndNoGuest) {
  BanList list;
  ASSERT_EQ(list.Add(KeyBan(1)), BanList::AddResult::kAdded);
  EXPECT_NE(list.Find(Ban::Kind::kBan, Fp(1), true, "192.0.2.1", kNow), nullptr);
  EXPECT_NE(list.Find(Ban::Kind::kBan, Fp(1), true, "2001:db8::1", kNow), nullptr);
  EXPECT_EQ(list.Find(Ban::Kind::kBan, Fp(2), true, "192.0.2.1", kNow), nullptr);
  EXPECT_EQ(list.Find(Ban::Kind::kBan, "", false, "192.0.2.1", kNow), nullptr);
  // A ban is not a mute.
  EXPECT_EQ(list.Find(Ban::Kind::kMute, Fp(1), true, "192.0.2.1", kNow), nullptr);
}

TEST(BanFindTest, AnAddressBanHoldsEveryoneFromIt) {
  BanList list;
  ASSERT_EQ(list.Add(Make(Ban::Kind::kBan, Ban::Target::kAddress, "192.0.2.7")),
            BanList::AddResult::kAdded);
  EXPECT_NE(list.Find(Ban::Kind::kBan, "", false, "192.0.2.7", kNow), nullptr);
  EXPECT_NE(list.Find(Ban::Kind::kBan, Fp(3), true, "192.0.2.7", kNow), nullptr);
  EXPECT_EQ(list.Find(Ban::Kind::kBan, "", false, "192.0.2.8", kNow), nullptr);
}

TEST(BanFindTest, AGuestsBanLetsAKeyedConnectionFromTheSameAddressIn) {
  BanList list;
  ASSERT_EQ(list.Add(Make(Ban::Kind::kMute, Ban::Target::kGuests, "2001:db8::5")),
            BanList::AddResult::kAdded);
  // The banned member coming back without a key is held; another member behind the same NAT,
  // with a key, is not.
  EXPECT_NE(list.Find(Ban::Kind::kMute, "", false, "2001:db8::5", kNow), nullptr);
  EXPECT_EQ(list.Find(Ban::Kind::kMute, Fp(4), true, "2001:db8::5", kNow), nullptr);
  EXPECT_EQ(list.Find(Ban::Kind::kMute, "", false, "2001:db8::6", kNow), nullptr);
  // A key the members file does not list is still a guest's: a fresh key gets nobody past it.
  EXPECT_NE(list.Find(Ban::Kind::kMute, Fp(5), false, "2001:db8::5", kNow), nullptr);
}

TEST(BanFindTest, AnEntryEndsExactlyAtItsUntilTime) {
  BanList list;
  ASSERT_EQ(list.Add(KeyBan(1, kNow + 5000)), BanList::AddResult::kAdded);
  EXPECT_NE(list.Find(Ban::Kind::kBan, Fp(1), true, "a", kNow + 4999), nullptr);
  EXPECT_EQ(list.Find(Ban::Kind::kBan, Fp(1), true, "a", kNow + 5000), nullptr);
  EXPECT_EQ(list.Find(Ban::Kind::kBan, Fp(1), true, "a", kNow + 5001), nullptr);
  // Until_ms 0 is for good.
  ASSERT_EQ(list.Add(KeyBan(2, 0)), BanList::AddResult::kAdded);
  EXPECT_NE(list.Find(Ban::Kind::kBan, Fp(2), true, "a", UINT64_MAX), nullptr);
}

TEST(BanFindTest, OfSeveralThatHoldTheLongestIsFound) {
  BanList list;
  Ban by_key = KeyBan(1, kNow + 60'000);
  Ban by_address = Make(Ban::Kind::kBan, Ban::Target::kAddress, "192.0.2.1", kNow + 120'000);
  Ban for_good = Make(Ban::Kind::kBan, Ban::Target::kGuests, "192.0.2.1", 0);
  ASSERT_EQ(list.Add(by_key), BanList::AddResult::kAdded);
  ASSERT_EQ(list.Add(by_address), BanList::AddResult::kAdded);
  const Ban* found = list.Find(Ban::Kind::kBan, Fp(1), true, "192.0.2.1", kNow);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, by_address);
  ASSERT_EQ(list.Add(for_good), BanList::AddResult::kAdded);
  found = list.Find(Ban::Kind::kBan, "", false, "192.0.2.1", kNow);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, for_good);
  // With its key the connection is not a guest: the address ban is the longest that holds.
  found = list.Find(Ban::Kind::kBan, Fp(1), true, "192.0.2.1", kNow);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, by_address);
  // When both have passed, the guests ban does not hold a connection with a key.
  EXPECT_EQ(list.Find(Ban::Kind::kBan, Fp(1), true, "192.0.2.1", kNow + 120'000), nullptr);
}

// ---------------------------------------------------------------- Add, Remove, Expire

TEST(BanListTest, TheSameKindAndTargetReplacesInPlace) {
  BanList list;
  ASSERT_EQ(list.Add(KeyBan(1)), BanList::AddResult::kAdded);
  ASSERT_EQ(list.Add(KeyBan(2)), BanList::AddResult::kAdded);
  Ban again = KeyBan(1, kNow + 1000);
  again.reason = "spam";
  EXPECT_EQ(list.Add(again), BanList::AddResult::kReplaced);
  ASSERT_EQ(list.entries().size(), 2u);
  EXPECT_EQ(list.entries()[0], again);
  // The same target as a mute, or as another target kind, is another entry.
  EXPECT_EQ(list.Add(Make(Ban::Kind::kMute, Ban::Target::kKey, Fp(1))), BanList::AddResult::kAdded);
  EXPECT_EQ(list.Add(Make(Ban::Kind::kBan, Ban::Target::kAddress, "10.0.0.1")),
            BanList::AddResult::kAdded);
  EXPECT_EQ(list.Add(Make(Ban::Kind::kBan, Ban::Target::kGuests, "10.0.0.1")),
            BanList::AddResult::kAdded);
  EXPECT_EQ(list.entries().size(), 5u);
}

TEST(BanListTest, FullAtMaxEntriesButAReplacementStillGoesIn) {
  BanList list(2);
  ASSERT_EQ(list.Add(KeyBan(1)), BanList::AddResult::kAdded);
  ASSERT_EQ(list.Add(KeyBan(2)), BanList::AddResult::kAdded);
  const uint64_t gen = list.generation();
  EXPECT_EQ(list.Add(KeyBan(3)), BanList::AddResult::kFull);
  EXPECT_EQ(list.entries().size(), 2u);
  EXPECT_EQ(list.generation(), gen);
  EXPECT_EQ(list.Add(KeyBan(2, kNow + 1)), BanList::AddResult::kReplaced);
  EXPECT_EQ(list.entries().size(), 2u);
}

TEST(BanListTest, RefusesWhatWouldNotReadBack) {
  struct Case {
    const char* what;
    Ban ban;
  };
  std::vector<Case> cases;
  auto with = [](auto change) {
    Ban b = KeyBan(1);
    change(b);
    return b;
  };
  cases.push_back({"key target not a fingerprint", with([](Ban& b) { b.target = "SHA256:abc"; })});
  cases.push_back({"fingerprint with padding", with([](Ban& b) { b.target += "="; })});
  cases.push_back({"empty target", with([](Ban& b) {
                     b.target_kind = Ban::Target::kAddress;
                     b.target = "";
                   })});
  cases.push_back({"target with a space", with([](Ban& b) {
                     b.target_kind = Ban::Target::kAddress;
                     b.target = "10.0.0.1 x";
                   })});
  cases.push_back({"target with a control", with([](Ban& b) {
                     b.target_kind = Ban::Target::kGuests;
                     b.target = "10.0.0.1\x1b";
                   })});
  cases.push_back({"target of 129 bytes", with([](Ban& b) {
                     b.target_kind = Ban::Target::kAddress;
                     b.target = std::string(129, 'a');
                   })});
  cases.push_back({"empty by", with([](Ban& b) { b.by = ""; })});
  cases.push_back({"by with a space", with([](Ban& b) { b.by = "the console"; })});
  cases.push_back({"by not a nick", with([](Ban& b) { b.by = "al!ce"; })});
  cases.push_back({"nick `-`", with([](Ban& b) { b.nick = "-"; })});
  cases.push_back({"nick with a tab", with([](Ban& b) { b.nick = "a\tb"; })});
  cases.push_back({"nick of 33 bytes", with([](Ban& b) { b.nick = std::string(33, 'n'); })});
  cases.push_back({"reason too long", with([](Ban& b) { b.reason = std::string(257, 'r'); })});
  cases.push_back({"reason with a newline", with([](Ban& b) { b.reason = "a\nmute x"; })});
  cases.push_back({"reason with a bidi control", with([](Ban& b) {
                     b.reason =
                         "\xe2\x80\xae"
                         "evil";
                   })});
  cases.push_back({"reason not UTF-8", with([](Ban& b) { b.reason = "\xff"; })});
  cases.push_back({"unknown kind", with([](Ban& b) { b.kind = static_cast<Ban::Kind>(7); })});
  cases.push_back(
      {"unknown target kind", with([](Ban& b) { b.target_kind = static_cast<Ban::Target>(7); })});
  // An address is kept only in the form the server names peers in, or it would hold no one.
  for (const char* address : {"::ffff:10.0.0.1", "0:0::1", "10.0.0.01", "example.org", "::FFFF"}) {
    cases.push_back({address, with([address](Ban& b) {
                       b.target_kind = Ban::Target::kGuests;
                       b.target = address;
                     })});
  }
  for (const Case& c : cases) {
    BanList list;
    EXPECT_EQ(list.Add(c.ban), BanList::AddResult::kInvalid) << c.what;
    EXPECT_TRUE(list.entries().empty()) << c.what;
    EXPECT_EQ(list.generation(), 0u) << c.what;
  }
  // The longest of each field is fine.
  BanList list;
  Ban longest =
      Make(Ban::Kind::kMute, Ban::Target::kAddress, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  longest.by = std::string(32, 'b');
  longest.nick = std::string(32, 'n');
  longest.reason = std::string(256, 'r');
  EXPECT_EQ(list.Add(longest), BanList::AddResult::kAdded);
}

TEST(BanListTest, RemoveByTargetOrByNickWithoutRegardToCase) {
  BanList list;
  Ban alice = KeyBan(1);
  alice.nick = "Alice";
  Ban alice_guests = Make(Ban::Kind::kBan, Ban::Target::kGuests, "192.0.2.1");
  alice_guests.nick = "Alice";
  Ban alice_mute = Make(Ban::Kind::kMute, Ban::Target::kKey, Fp(1));
  alice_mute.nick = "Alice";
  ASSERT_EQ(list.Add(alice), BanList::AddResult::kAdded);
  ASSERT_EQ(list.Add(alice_guests), BanList::AddResult::kAdded);
  ASSERT_EQ(list.Add(alice_mute), BanList::AddResult::kAdded);
  ASSERT_EQ(list.Add(Make(Ban::Kind::kBan, Ban::Target::kAddress, "192.0.2.9")),
            BanList::AddResult::kAdded);
  // Only bans go, both of alice's, and the mute stays.
  EXPECT_EQ(list.Remove(Ban::Kind::kBan, "aLICE"), 2u);
  ASSERT_EQ(list.entries().size(), 2u);
  EXPECT_EQ(list.entries()[0], alice_mute);
  // A target is compared exactly.
  EXPECT_EQ(list.Remove(Ban::Kind::kBan, "192.0.2.90"), 0u);
  EXPECT_EQ(list.Remove(Ban::Kind::kBan, "192.0.2.9"), 1u);
  EXPECT_EQ(list.Remove(Ban::Kind::kMute, Fp(1)), 1u);
  EXPECT_TRUE(list.entries().empty());
  // No nick never matches an empty `what`.
  ASSERT_EQ(list.Add(KeyBan(5)), BanList::AddResult::kAdded);
  EXPECT_EQ(list.Remove(Ban::Kind::kBan, ""), 0u);
  EXPECT_EQ(list.Remove(Ban::Kind::kBan, "-"), 0u);
}

TEST(BanListTest, GenerationChangesOnlyWhenTheListDoes) {
  BanList list;
  uint64_t gen = list.generation();
  auto changed = [&] {
    const bool c = list.generation() != gen;
    gen = list.generation();
    return c;
  };
  ASSERT_EQ(list.Add(KeyBan(1, kNow + 10)), BanList::AddResult::kAdded);
  EXPECT_TRUE(changed());
  // The same entry again is kReplaced, but nothing changed.
  EXPECT_EQ(list.Add(KeyBan(1, kNow + 10)), BanList::AddResult::kReplaced);
  EXPECT_FALSE(changed());
  EXPECT_EQ(list.Add(KeyBan(1, kNow + 20)), BanList::AddResult::kReplaced);
  EXPECT_TRUE(changed());
  EXPECT_EQ(list.Add(Ban{}), BanList::AddResult::kInvalid);
  EXPECT_FALSE(changed());
  EXPECT_EQ(list.Remove(Ban::Kind::kBan, "nobody"), 0u);
  EXPECT_FALSE(changed());
  EXPECT_EQ(list.Expire(kNow + 19), 0u);
  EXPECT_FALSE(changed());
  EXPECT_EQ(list.Expire(kNow + 20), 1u);
  EXPECT_TRUE(changed());
  ASSERT_EQ(list.Add(KeyBan(2)), BanList::AddResult::kAdded);
  EXPECT_TRUE(changed());
  EXPECT_EQ(list.Remove(Ban::Kind::kBan, Fp(2)), 1u);
  EXPECT_TRUE(changed());
}

TEST(BanListTest, ExpireKeepsWhatIsForGoodOrStillRunning) {
  BanList list;
  ASSERT_EQ(list.Add(KeyBan(1, 0)), BanList::AddResult::kAdded);
  ASSERT_EQ(list.Add(KeyBan(2, kNow)), BanList::AddResult::kAdded);
  ASSERT_EQ(list.Add(KeyBan(3, kNow + 1)), BanList::AddResult::kAdded);
  EXPECT_EQ(list.Expire(kNow), 1u);
  ASSERT_EQ(list.entries().size(), 2u);
  EXPECT_EQ(list.entries()[0].target, Fp(1));
  EXPECT_EQ(list.entries()[1].target, Fp(3));
}

// ---------------------------------------------------------------- the file's text

BanList Sample() {
  BanList list;
  Ban a = KeyBan(1);
  a.nick = "alice";
  a.by = "bob";
  a.reason = "  spam,  again and again ";  // spaces kept as they are, leading and trailing
  Ban b = Make(Ban::Kind::kMute, Ban::Target::kGuests, "2001:db8::1", kNow + 3'600'000);
  b.nick = "alice";
  b.reason = "pas de flood, s'il vous pla\xc3\xaet \xe2\x9c\x8b";  // UTF-8
  Ban c = Make(Ban::Kind::kBan, Ban::Target::kAddress, "192.0.2.1", UINT64_MAX);
  c.set_ms = UINT64_MAX;
  EXPECT_EQ(list.Add(a), BanList::AddResult::kAdded);
  EXPECT_EQ(list.Add(b), BanList::AddResult::kAdded);
  EXPECT_EQ(list.Add(c), BanList::AddResult::kAdded);
  return list;
}

TEST(BanFileTextTest, SerializeReadsBackTheSameEntries) {
  const BanList list = Sample();
  const std::string text = list.Serialize();
  EXPECT_EQ(text.rfind("# ", 0), 0u) << text;
  EXPECT_NE(text.find(Cat("\nban key ", Fp(1), " 0 ", kNow - 1000,
                          " bob alice   spam,  again and again \n")),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(Cat("\nban address 192.0.2.1 18446744073709551615 18446744073709551615 "
                          "console -\n")),
            std::string::npos)
      << text;
  absl::StatusOr<BanList> back = BanList::Parse(text, 3, kNow);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->entries(), list.entries());
  EXPECT_EQ(back->max_entries(), 3u);
  EXPECT_EQ(back->Serialize(), text);
}

TEST(BanFileTextTest, CommentsBlankLinesTabsAndCrlfAreRead) {
  const std::string text =
      Cat("# bans\n", "\n", "   \t\n", "   # indented comment\r\n", "mute\tkey  ", Fp(9),
          " 0 5 console -\r\n", "ban guests 10.0.0.1 0 5 console bob trailing\ttab? no: tab\n");
  // A tab inside the reason is a control character: refused on line 6.
  absl::StatusOr<BanList> refused = BanList::Parse(text, 10, kNow);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message().substr(0, 7), "line 6:") << refused.status();

  const std::string good = Cat("# bans\n", "\n", "   \t\n", "   # indented comment\r\n",
                               "mute\tkey  ", Fp(9), " 0 5 console -\r\n",
                               "ban guests 10.0.0.1 0 5 console bob a reason");  // no final \n
  absl::StatusOr<BanList> list = BanList::Parse(good, 10, kNow);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->entries().size(), 2u);
  EXPECT_EQ(list->entries()[0].kind, Ban::Kind::kMute);
  EXPECT_EQ(list->entries()[0].target, Fp(9));
  EXPECT_EQ(list->entries()[0].nick, "");
  EXPECT_EQ(list->entries()[0].reason, "");
  EXPECT_EQ(list->entries()[1].target_kind, Ban::Target::kGuests);
  EXPECT_EQ(list->entries()[1].nick, "bob");
  EXPECT_EQ(list->entries()[1].reason, "a reason");
  EXPECT_EQ(list->generation(), 0u);
  // An empty file, or one of comments only, is an empty list.
  EXPECT_TRUE(BanList::Parse("", 10, kNow)->entries().empty());
  EXPECT_TRUE(BanList::Parse("# nothing\n\n", 10, kNow)->entries().empty());
}

TEST(BanFileTextTest, EntriesExpiredAtLoadAreDropped) {
  const std::string text = Cat("ban key ", Fp(1), " ", kNow, " 1 console -\n",  // ends now
                               "ban key ", Fp(2), " ", kNow + 1, " 1 console -\n", "ban key ",
                               Fp(3), " 1 1 console -\n");
  absl::StatusOr<BanList> list = BanList::Parse(text, 1, kNow);
  // Only one is kept, so a list of at most one holds it.
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->entries().size(), 1u);
  EXPECT_EQ(list->entries()[0].target, Fp(2));
}

// Each bad file is refused whole, naming its line.
TEST(BanFileTextTest, RefusesEachBadLineByNumber) {
  const std::string good = Cat("ban key ", Fp(1), " 0 5 console alice spam\n");
  const std::string comment = "# header\n\n";
  struct Case {
    std::string text;
    std::string error;  // the whole message
  };
  const std::string key = Fp(2);
  const std::vector<Case> cases = {
      {comment + "kick key " + key + " 0 5 console -\n",
       "line 3: KIND must be `ban` or `mute`, not kick"},
      {comment + "Ban key " + key + " 0 5 console -\n",
       "line 3: KIND must be `ban` or `mute`, not Ban"},
      {good + "ban nick " + key + " 0 5 console -\n",
       "line 2: TARGET_KIND must be `key`, `address` or `guests`, not nick"},
      {good + "ban key " + key.substr(0, 49) + " 0 5 console -\n",
       Cat("line 2: not a key fingerprint (SHA256:...): ", key.substr(0, 49))},
      {good + "ban key 10.0.0.1 0 5 console -\n",
       "line 2: not a key fingerprint (SHA256:...): 10.0.0.1"},
      {good + "ban key " + key + " 18446744073709551616 5 console -\n",
       "line 2: UNTIL_MS must be a decimal number of milliseconds below 2^64"},
      {good + "ban key " + key + " 0 99999999999999999999 console -\n",
       "line 2: SET_MS must be a decimal number of milliseconds below 2^64"},
      {good + "ban key " + key + " +5 5 console -\n",
       "line 2: UNTIL_MS must be a decimal number of milliseconds below 2^64"},
      {good + "ban key " + key + " -1 5 console -\n",
       "line 2: UNTIL_MS must be a decimal number of milliseconds below 2^64"},
      {good + "ban key " + key + " 0x10 5 console -\n",
       "line 2: UNTIL_MS must be a decimal number of milliseconds below 2^64"},
      {good + "ban key " + key + " 0 5s console -\n",
       "line 2: SET_MS must be a decimal number of milliseconds below 2^64"},
      {good + "ban key " + key + " 0 5 al!ce -\n", "line 2: BY must be `console` or a nick"},
      {good + "ban key " + key + " 0 5 console " + std::string(33, 'n') + "\n",
       "line 2: NICK must be a nick, or `-` for none"},
      {good + "ban key " + key + " 0 5 console bob \xe2\x80\xae\n",
       "line 2: the reason must be valid text of at most 256 bytes"},
      {good + "ban key " + key + " 0 5 console bob " + std::string(257, 'r') + "\n",
       "line 2: the reason must be valid text of at most 256 bytes"},
      {good + "ban key " + key + " 0 5 console bob\tspam\n",
       "line 2: a reason follows NICK after one space"},
      {good + "ban key " + key + " 0 5 console\n",
       "line 2: expected KIND TARGET_KIND TARGET UNTIL_MS SET_MS BY NICK [REASON]"},
      {good + "ban\n", "line 2: expected KIND TARGET_KIND TARGET UNTIL_MS SET_MS BY NICK [REASON]"},
      {good + "ban address " + std::string(129, 'a') + " 0 5 console -\n",
       "line 2: the target must be 1 to 128 bytes without spaces or control characters"},
      {good + "ban address 10.0.0.1\x7f 0 5 console -\n",
       "line 2: the target must be 1 to 128 bytes without spaces or control characters"},
      {good + good, "line 2: the same ban of the same target as line 1"},
      {good + "# " + std::string(1023, 'c') + "\n", "line 2: longer than 1024 bytes"},
      {good + "ban key " + key + " 0 5 console bob " + std::string(1024, 'r'),
       "line 2: longer than 1024 bytes"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<BanList> list = BanList::Parse(c.text, 10, kNow);
    ASSERT_FALSE(list.ok()) << c.text;
    EXPECT_EQ(list.status().message(), c.error) << c.text;
  }
  // A line of exactly 1024 bytes (here a comment) is fine.
  EXPECT_TRUE(BanList::Parse(good + "#" + std::string(1023, 'c') + "\n", 10, kNow).ok());
}

TEST(BanFileTextTest, RefusesMoreEntriesThanTheList) {
  std::string text = "# three\n";
  for (uint8_t i = 1; i <= 3; ++i) {
    text += Cat("mute key ", Fp(i), " 0 5 console -\n");
  }
  EXPECT_TRUE(BanList::Parse(text, 3, kNow).ok());
  absl::StatusOr<BanList> list = BanList::Parse(text, 2, kNow);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().message(), "line 4: more than 2 entries");
  EXPECT_FALSE(BanList::Parse(text, 0, kNow).ok());
}

// ---------------------------------------------------------------- durations

TEST(DurationTest, ParsesANumberAndOneUnit) {
  EXPECT_EQ(ParseDuration("90s"), 90'000u);
  EXPECT_EQ(ParseDuration("10m"), 600'000u);
  EXPECT_EQ(ParseDuration("2h"), 7'200'000u);
  EXPECT_EQ(ParseDuration("7d"), 604'800'000u);
  EXPECT_EQ(ParseDuration("1w"), 604'800'000u);
  EXPECT_EQ(ParseDuration("1s"), 1000u);
  EXPECT_EQ(ParseDuration("010m"), 600'000u);
  EXPECT_EQ(ParseDuration("3650d"), 3650ull * 86'400'000);
  EXPECT_EQ(ParseDuration("521w"), 521ull * 7 * 86'400'000);
  EXPECT_EQ(ParseDuration("315360000s"), 3650ull * 86'400'000);
  for (const char* bad : {"",
                          "s",
                          "0s",
                          "0w",
                          "3651d",
                          "522w",
                          "315360001s",
                          "10",
                          "10x",
                          "10M",
                          "1h30m",
                          "1 h",
                          " 1h",
                          "1h ",
                          "+1h",
                          "-1h",
                          "1.5h",
                          "18446744073709551615s",
                          "99999999999999999999999d",
                          "1hh"}) {
    EXPECT_EQ(ParseDuration(bad), 0u) << bad;
  }
}

TEST(DurationTest, FormatsAtMostTwoNeighbouringUnitsRoundingDown) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(999), "0s");
  EXPECT_EQ(FormatDuration(1000), "1s");
  EXPECT_EQ(FormatDuration(45'999), "45s");
  EXPECT_EQ(FormatDuration(90'000), "1m 30s");
  EXPECT_EQ(FormatDuration(5'400'000), "1h 30m");
  EXPECT_EQ(FormatDuration(3'600'000), "1h");
  // The unit after the next one is not shown: 1h 0m 30s reads as 1h.
  EXPECT_EQ(FormatDuration(3'630'000), "1h");
  EXPECT_EQ(FormatDuration(ParseDuration("7d")), "7d");
  EXPECT_EQ(FormatDuration(ParseDuration("1w")), "7d");  // no weeks: days read as given
  EXPECT_EQ(FormatDuration(ParseDuration("17d") + ParseDuration("5h")), "17d 5h");
  EXPECT_EQ(FormatDuration(ParseDuration("3650d")), "3650d");
  EXPECT_EQ(FormatDuration(UINT64_MAX), "213503982334d 14h");
  // What ParseDuration reads, FormatDuration writes back in one unit when it fits one.
  for (const char* d : {"1s", "59s", "1m", "59m", "1h", "23h", "1d", "100d"}) {
    EXPECT_EQ(FormatDuration(ParseDuration(d)), d);
  }
}

// ---------------------------------------------------------------- the file on disk

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(BansFileTest, SavedListLoadsBackTheSameWithMode0600) {
  testing::TempDir dir("securechat-bans");
  const std::string path = dir.File("bans");
  const BanList list = Sample();
  ASSERT_TRUE(net::SaveBans(path, list).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  absl::StatusOr<BanList> back = net::LoadBans(path, 10, kNow);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->entries(), list.entries());
  // Saving again replaces the file, still 0600, and leaves nothing else in the directory.
  BanList fewer = *back;
  ASSERT_EQ(fewer.Remove(Ban::Kind::kBan, "alice"), 1u);
  ASSERT_TRUE(net::SaveBans(path, fewer).ok());
  back = net::LoadBans(path, 10, kNow);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->entries(), fewer.entries());
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"bans"});
}

TEST(BansFileTest, AMissingFileIsAnEmptyList) {
  testing::TempDir dir("securechat-bans");
  absl::StatusOr<BanList> list = net::LoadBans(dir.File("none"), 7, kNow);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->entries().empty());
  EXPECT_EQ(list->max_entries(), 7u);
  // A missing directory cannot be saved to, and says where.
  const absl::Status saved = net::SaveBans(dir.File("no/such/bans"), Sample());
  ASSERT_FALSE(saved.ok());
  EXPECT_NE(saved.message().find(dir.File("no/such/bans")), std::string::npos) << saved;
}

TEST(BansFileTest, RefusesAnOversizeOrBadFileNamingIt) {
  testing::TempDir dir("securechat-bans");
  const std::string path = dir.File("bans");
  // Two entries allow 2 * 1024 bytes and 64 KiB of comments; one byte more is refused.
  const size_t bound = 2 * kMaxBansLineBytes + net::kBansFileSlack;
  std::string text;
  while (text.size() + 100 <= bound) {
    text += "#" + std::string(98, 'c') + "\n";
  }
  text += std::string(bound - text.size() - 1, '#') + "\n";
  ASSERT_EQ(text.size(), bound);
  WriteText(path, text);
  absl::StatusOr<BanList> list = net::LoadBans(path, 2, kNow);
  EXPECT_TRUE(list.ok()) << list.status();
  WriteText(path, text + "\n");
  list = net::LoadBans(path, 2, kNow);
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.status().message().find(path), std::string::npos) << list.status();
  EXPECT_NE(list.status().message().find("larger than"), std::string::npos) << list.status();

  WriteText(path, "# bans\nban key nope 0 5 console -\n");
  list = net::LoadBans(path, 2, kNow);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().message(),
            Cat(path, ": line 2: not a key fingerprint (SHA256:...): nope"));
  // A directory in its place is not a bans file.
  list = net::LoadBans(dir.path(), 2, kNow);
  EXPECT_FALSE(list.ok());
}

TEST(BansFileTest, ALeftoverTemporaryFileIsNeverTheBansFile) {
  testing::TempDir dir("securechat-bans");
  const std::string path = dir.File("bans");
  // What a save cut short by a crash leaves: a temporary name, half written.
  WriteText(path + ".tmp.AbC123", "ban key SHA256:half");
  absl::StatusOr<BanList> list = net::LoadBans(path, 10, kNow);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->entries().empty());
  ASSERT_TRUE(net::SaveBans(path, Sample()).ok());
  list = net::LoadBans(path, 10, kNow);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->entries(), Sample().entries());
}

// One peer has one name, whatever socket it came in on: an IPv4 peer of a dual-stack listener
// (::ffff:10.0.0.5) is named 10.0.0.5, and an operator's address is read into that form, so
// that `/ban 10.0.0.5` and `/ban ::ffff:10.0.0.5` both hold it.
TEST(IpTextTest, OneFormForEachAddress) {
  in6_addr mapped{};
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:10.0.0.5", &mapped), 1);
  EXPECT_EQ(FormatIp(AF_INET6, &mapped), "10.0.0.5");
  EXPECT_EQ(CanonicalIp("::FFFF:10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(CanonicalIp("10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(CanonicalIp("0:0::1"), "::1");
  EXPECT_EQ(CanonicalIp("2001:DB8::0:1"), "2001:db8::1");
  EXPECT_EQ(CanonicalIp("10.0.0.05"), "");
  EXPECT_EQ(CanonicalIp("localhost"), "");
  EXPECT_EQ(CanonicalIp(""), "");
  EXPECT_EQ(CanonicalIp(std::string(100, '1')), "");
}

}  // namespace
}  // namespace securechat
