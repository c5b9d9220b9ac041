// The client's known_servers file (client/known_servers.h) and fingerprint strings.
#include "securechat/client/known_servers.h"

#include <gtest/gtest.h>

#include <string>

#include "securechat/base/cat.h"
#include "securechat/wire/config_lines.h"

namespace securechat::client {
namespace {

Sha256Digest DigestOf(uint8_t fill) {
  Sha256Digest d;
  d.fill(fill);
  return d;
}

TEST(FingerprintTextTest, RoundTripsAndRefusesLookAlikes) {
  const Sha256Digest d = DigestOf(0xA5);
  const std::string text = FingerprintText(d);
  ASSERT_EQ(text.size(), 7u + 43u) << text;
  EXPECT_EQ(ParseFingerprintText(text), d);
  std::string last_bits = text;
  last_bits.back() = static_cast<char>(last_bits.back() + 1);  // unused bits no longer zero
  const std::string refused[] = {
      "",
      text.substr(0, text.size() - 1),
      text + "=",
      text + "A",
      "sha256:" + text.substr(7),
      "MD5:" + text.substr(7),
      last_bits,
      "SHA256:" + std::string(42, 'A') + "!",
  };
  for (const std::string& s : refused) {
    EXPECT_FALSE(ParseFingerprintText(s).has_value()) << s;
  }
}

TEST(KnownServersTest, ServerKeyIsHostPortWithTheHostInLowerCase) {
  EXPECT_EQ(KnownServers::ServerKey("Chat.Example.ORG:7000"), "chat.example.org:7000");
  EXPECT_EQ(KnownServers::ServerKey("127.0.0.1:1"), "127.0.0.1:1");
  EXPECT_EQ(KnownServers::ServerKey("[::1]:65535"), "[::1]:65535");
  for (const char* bad : {"", "host", "host:", ":7000", "host:0", "host:65536", "host:07000",
                          "host:70a", "::1:7000", "ho st:7000", "h/st:7000", "[::1:7000"}) {
    EXPECT_EQ(KnownServers::ServerKey(bad), "") << bad;
  }
}

TEST(KnownServersTest, KnownChangedAndUnknown) {
  const std::string text = Cat("# trusted on first use\n",                                    //
                               "chat.example.org:7000 ", FingerprintText(DigestOf(1)), "\n",  //
                               "\n",                                                          //
                               "CHAT.example.org:7000\t", FingerprintText(DigestOf(2)), "\n",
                               "127.0.0.1:7000 ", FingerprintText(DigestOf(3)), "\r\n");
  auto known = KnownServers::Parse(text);
  ASSERT_TRUE(known.ok()) << known.status();
  EXPECT_EQ(known->size(), 3u);

  const auto second = known->Find("Chat.Example.org:7000", DigestOf(2));
  EXPECT_EQ(second.verdict, KnownServers::Check::Verdict::kKnown);
  EXPECT_EQ(second.line, 4u);

  const auto changed = known->Find("chat.example.org:7000", DigestOf(3));
  EXPECT_EQ(changed.verdict, KnownServers::Check::Verdict::kChanged);
  EXPECT_EQ(changed.line, 2u);
  EXPECT_EQ(changed.old_fingerprint, FingerprintText(DigestOf(1)));

  // Another port, or another name for the same address, is another server (as in ssh).
  EXPECT_EQ(known->Find("chat.example.org:7001", DigestOf(1)).verdict,
            KnownServers::Check::Verdict::kUnknown);
  EXPECT_EQ(known->Find("localhost:7000", DigestOf(3)).verdict,
            KnownServers::Check::Verdict::kUnknown);

  // The line to append for a new server reads back as known.
  auto more = KnownServers::Parse(text + KnownServers::Line("New.Host:9", DigestOf(4)));
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(more->Find("new.host:9", DigestOf(4)).verdict, KnownServers::Check::Verdict::kKnown);
  EXPECT_EQ(KnownServers::Line("New.Host:9", DigestOf(4)),
            Cat("new.host:9 ", FingerprintText(DigestOf(4)), "\n"));
}

TEST(KnownServersTest, ABadLineRefusesTheWholeFile) {
  const std::string good = Cat("a:1 ", FingerprintText(DigestOf(1)), "\n");
  const std::pair<std::string, std::string> cases[] = {
      {"a:1", "expected HOST:PORT SHA256:FINGERPRINT"},
      {Cat("a:1 ", FingerprintText(DigestOf(1)), " extra"), "expected HOST:PORT"},
      {Cat("a ", FingerprintText(DigestOf(1))), "not HOST:PORT"},
      {"a:1 SHA256:abc", "not a SHA256: fingerprint"},
      {Cat("a:1 ", FingerprintText(DigestOf(1)), "\x1b[2J"), "control character"},
      {Cat("a:1 ", std::string(2000, 'x')), "longer than 1024 bytes"},
  };
  for (const auto& [line, why] : cases) {
    auto known = KnownServers::Parse(Cat(good, line, "\n", good));
    ASSERT_FALSE(known.ok()) << line;
    EXPECT_EQ(known.status().message().substr(0, 8), "line 2: ") << known.status();
    EXPECT_NE(known.status().message().find(why), std::string_view::npos) << known.status();
  }
  EXPECT_FALSE(KnownServers::Parse(std::string(kMaxKnownServersFileBytes + 1, '\n')).ok());
}

// The shared line reader: fields, comments, CRLF, and numbering that counts every line.
TEST(ConfigLinesTest, SplitsFieldsSkipsCommentsAndCountsEveryLine) {
  std::vector<std::pair<size_t, std::vector<std::string>>> seen;
  const auto error = ForEachConfigLine(
      "a b\n\n  # note\n\tc\t d  e \r\n#x y\n", 100, 100,
      [&seen](size_t line, absl::Span<const std::string_view> fields) {
        seen.emplace_back(line, std::vector<std::string>(fields.begin(), fields.end()));
        return std::string();
      });
  EXPECT_FALSE(error.has_value());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, 1u);
  EXPECT_EQ(seen[0].second, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(seen[1].first, 4u);
  EXPECT_EQ(seen[1].second, (std::vector<std::string>{"c", "d", "e"}));

  const auto stopped = ForEachConfigLine("ok\nbad\nnever\n", 100, 100,
                                         [](size_t, absl::Span<const std::string_view> fields) {
                                           return fields[0] == "bad" ? "no" : std::string();
                                         });
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(stopped->Text(), "line 2: no");
}

}  // namespace
}  // namespace securechat::client
