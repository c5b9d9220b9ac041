// The interactive client without a terminal: the formatter (timestamps, colours, highlights,
// escaping), /ignore, nick tracking and completion candidates, the paste guard and the
// reconnect backoff.
#include <gtest/gtest.h>

#include <algorithm>
#include <clocale>
#include <set>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/client/display.h"
#include "securechat/client/interactive.h"
#include "securechat/wire/text.h"
#include "support/in_memory.h"
#include "support/scripted_server.h"
#include "support/scripted_session.h"

namespace securechat {
namespace {

using testing::InMemoryNet;

// A fixed "local time": UTC, so that tests do not depend on the machine's time zone.
HourMinute FakeLocal(uint64_t unix_ms) {
  const uint64_t minutes = unix_ms / 60'000;
  return {static_cast<int>(minutes / 60 % 24), static_cast<int>(minutes % 60)};
}

constexpr uint64_t k0905 = (9 * 60 + 5) * 60'000ULL + 1'700'006'400'000ULL;  // 09:05 UTC
constexpr uint64_t k2359 = (23 * 60 + 59) * 60'000ULL + 1'700'006'400'000ULL;

Formatter MakeFormatter(bool color, bool timestamps, bool bell) {
  Formatter::Options o;
  o.color = color;
  o.timestamps = timestamps;
  o.bell = bell;
  return Formatter(o, FakeLocal, [] { return k2359; });
}

DisplayLine Line(DisplayLine::Kind kind, std::string from, std::string text, uint64_t time_ms = 0,
                 bool mention = false) {
  DisplayLine l;
  l.kind = kind;
  l.from = std::move(from);
  l.text = std::move(text);
  l.time_ms = time_ms;
  l.mention = mention;
  return l;
}

// OnlySgr is true if every ESC in `s` starts an SGR sequence (ESC [ digits and ';' m): the
// formatter's colours, nothing a terminal could do more with.
bool OnlySgr(std::string_view s) {
  for (size_t at = s.find('\x1b'); at != std::string_view::npos; at = s.find('\x1b', at + 1)) {
    size_t i = at + 1;
    if (i >= s.size() || s[i] != '[') {
      return false;
    }
    for (++i; i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == ';'); ++i) {
    }
    if (i >= s.size() || s[i] != 'm') {
      return false;
    }
  }
  return true;
}

TEST(FormatterTest, PlainFormIsTodaysOutput) {
  EXPECT_EQ(PlainLine(Line(DisplayLine::Kind::kChat, "bob", "hi")), "<bob> hi");
  EXPECT_EQ(PlainLine(Line(DisplayLine::Kind::kPrivate, "bob", "psst")), "*bob* psst");
  EXPECT_EQ(PlainLine(Line(DisplayLine::Kind::kNotice, "", "bob joined")), "-!- bob joined");
  EXPECT_EQ(PlainLine(Line(DisplayLine::Kind::kError, "", "nick taken")), "!! nick taken");
  const Formatter plain = MakeFormatter(false, false, false);
  for (auto kind : {DisplayLine::Kind::kChat, DisplayLine::Kind::kPrivate,
                    DisplayLine::Kind::kNotice, DisplayLine::Kind::kError}) {
    const DisplayLine l = Line(kind, "bob", "hello bob", k0905, true);
    EXPECT_EQ(plain.Format(l), PlainLine(l));
  }
}

TEST(FormatterTest, TimestampsComeFromTheMessageTimeOrTheWallClock) {
  const Formatter f = MakeFormatter(false, true, false);
  EXPECT_EQ(f.Format(Line(DisplayLine::Kind::kChat, "bob", "hi", k0905)), "[09:05] <bob> hi");
  EXPECT_EQ(f.Format(Line(DisplayLine::Kind::kNotice, "", "bob left")), "[23:59] -!- bob left");
}

TEST(FormatterTest, EachNickHasAStableColour) {
  std::set<int> seen;
  for (const char* nick : {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}) {
    const int c = Formatter::NickColor(nick);
    EXPECT_EQ(c, Formatter::NickColor(nick));
    EXPECT_TRUE((c >= 31 && c <= 36) || (c >= 91 && c <= 96)) << c;
    seen.insert(c);
  }
  EXPECT_GE(seen.size(), 4u) << "eight nicks should not crowd into a few colours";

  const Formatter f = MakeFormatter(true, false, false);
  const std::string line = f.Format(Line(DisplayLine::Kind::kChat, "bob", "hi"));
  EXPECT_EQ(line, Cat("<\x1b[", Formatter::NickColor("bob"), "mbob\x1b[0m> hi"));
}

TEST(FormatterTest, PrivateMessagesAndMentionsStandOutAndRingWithBell) {
  const Formatter f = MakeFormatter(true, false, true);
  const std::string whisper = f.Format(Line(DisplayLine::Kind::kPrivate, "bob", "psst"));
  EXPECT_EQ(whisper, "\x1b[1;35m*bob* psst\x1b[0m\a");
  const std::string mention =
      f.Format(Line(DisplayLine::Kind::kChat, "bob", "alice: look", 0, true));
  EXPECT_NE(mention.find("\x1b[1;33malice: look\x1b[0m"), std::string::npos) << mention;
  EXPECT_EQ(mention.back(), '\a');
  const std::string ordinary = f.Format(Line(DisplayLine::Kind::kChat, "bob", "hi all"));
  EXPECT_EQ(ordinary.find('\a'), std::string::npos);
  EXPECT_EQ(ordinary.find("1;33m"), std::string::npos);

  // The bell is off unless asked for, and comes without colour too.
  EXPECT_EQ(MakeFormatter(true, false, false)
                .Format(Line(DisplayLine::Kind::kPrivate, "bob", "psst"))
                .find('\a'),
            std::string::npos);
  EXPECT_EQ(MakeFormatter(false, false, true).Format(Line(DisplayLine::Kind::kPrivate, "b", "x")),
            "*b* x\a");
}

// Our own lines look like anyone's, with the time they were sent and our nick in bold (not
// its colour); naming ourselves is no mention and rings no bell. A whisper we sent has its
// time too.
TEST(FormatterTest, OwnLinesAndSentWhispersHaveTheirTime) {
  EXPECT_EQ(PlainLine(Line(DisplayLine::Kind::kSentChat, "alice", "hi")), "<alice> hi");
  const Formatter plain = MakeFormatter(false, true, true);
  EXPECT_EQ(plain.Format(Line(DisplayLine::Kind::kSentChat, "alice", "hi alice")),
            "[23:59] <alice> hi alice");
  EXPECT_EQ(plain.Format(Line(DisplayLine::Kind::kSentPrivate, "bob", "psst")),
            "[23:59] -> *bob* psst");
  const Formatter coloured = MakeFormatter(true, false, true);
  EXPECT_EQ(coloured.Format(Line(DisplayLine::Kind::kSentChat, "alice", "hi alice", 0, true)),
            "<\x1b[1malice\x1b[0m> hi alice");
}

TEST(FormatterTest, NoticesAndErrorsAreMarked) {
  const Formatter f = MakeFormatter(true, true, false);
  EXPECT_EQ(f.Format(Line(DisplayLine::Kind::kNotice, "", "bob joined", k0905)),
            "\x1b[2m[09:05]\x1b[0m \x1b[36m-!-\x1b[0m bob joined");
  EXPECT_EQ(f.Format(Line(DisplayLine::Kind::kError, "", "nick taken", k0905)),
            "\x1b[2m[09:05]\x1b[0m \x1b[1;31m!!\x1b[0m nick taken");
}

// Bytes a hostile peer sends reach the terminal escaped, with colour, timestamps and bell on:
// the formatter adds SGR sequences and nothing else.
TEST(FormatterTest, EscapingSurvivesFormatting) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  // Through a real room: a bidi override never leaves bob's client, and a backslash reaches
  // alice's display escaped, marked as a mention of her, with the server's time.
  net.Type(bob, "alice \xe2\x80\xae look");
  EXPECT_TRUE(bob.SawContaining("not sent"));
  net.Type(bob, "alice: look at \\x1B[2J");
  ASSERT_FALSE(alice.events.empty());
  const DisplayLine& got = alice.events.back();
  EXPECT_EQ(got.kind, DisplayLine::Kind::kChat);
  EXPECT_TRUE(got.mention);
  EXPECT_EQ(got.text, "alice: look at \\\\x1B[2J");
  EXPECT_NE(got.time_ms, 0u);

  // A hostile server can send anything: the session escapes it, and the formatter keeps it so.
  DisplayLine hostile =
      Line(DisplayLine::Kind::kChat, EscapeForDisplay("ev\x1bil"),
           EscapeForDisplay("\x1b]0;pwned\a\x1b[2J\xe2\x80\xae\x9b"), k0905, true);
  for (const Formatter& f : {MakeFormatter(true, true, true), MakeFormatter(false, true, true)}) {
    const std::string out = f.Format(hostile);
    EXPECT_TRUE(OnlySgr(out)) << out;
    EXPECT_EQ(out.find("\x1b]"), std::string::npos);
    EXPECT_EQ(out.find("\x1b[2J"), std::string::npos);
    EXPECT_EQ(out.find("\xe2\x80\xae"), std::string::npos);
    EXPECT_NE(out.find("\\x1B]0;pwned\\x07\\x1B[2J\\u{202E}"), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\a'), 1) << "only the bell we add";
  }
}

// Visible returns `row` without the formatter's SGR sequences (ESC [ digits and ';' m) and
// BEL: what a user reads.
std::string Visible(std::string_view row) {
  std::string out;
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '\x1b') {
      i = row.find('m', i);
      if (i == std::string_view::npos) {
        break;
      }
    } else if (row[i] != '\a') {
      out.push_back(row[i]);
    }
  }
  return out;
}

// StartsLikeALine is true if `row` starts as a line of the client does: a "[HH:MM]"
// timestamp, "-!-", "<", "*" or "!!".
bool StartsLikeALine(std::string_view row) {
  auto digit = [&](size_t i) { return row.size() > i && row[i] >= '0' && row[i] <= '9'; };
  const bool stamp = row.size() >= 7 && row[0] == '[' && digit(1) && digit(2) && row[3] == ':' &&
                     digit(4) && digit(5) && row[6] == ']';
  return stamp || row.substr(0, 3) == "-!-" || row.substr(0, 1) == "<" || row.substr(0, 1) == "*" ||
         row.substr(0, 2) == "!!";
}

// ColumnsOf counts the terminal columns of visible UTF-8 text.
size_t ColumnsOf(std::string_view text) {
  size_t n = 0;
  for (size_t pos = 0; pos < text.size();) {
    n += Formatter::Columns(DecodeUtf8(text, &pos));
  }
  return n;
}

// The formatter counts columns as the C library does in a UTF-8 locale, which the client
// sets; tests run in the same one.
class WrapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_NE(std::setlocale(LC_CTYPE, "C.UTF-8"), nullptr); }
  static void TearDownTestSuite() { std::setlocale(LC_CTYPE, "C"); }
};

TEST_F(WrapTest, WideCharactersTakeTwoColumnsAndCombiningMarksNone) {
  EXPECT_EQ(Formatter::Columns('a'), 1u);
  // Narrow in most terminals, wide in one set up for CJK (East Asian Ambiguous), or wide in
  // many (Private Use, emoji): never count fewer columns than a terminal may draw.
  EXPECT_EQ(Formatter::Columns(0xE9), 2u);     // é
  EXPECT_EQ(Formatter::Columns(0x0416), 2u);   // Cyrillic Zhe
  EXPECT_EQ(Formatter::Columns(0x2500), 2u);   // box drawing
  EXPECT_EQ(Formatter::Columns(0xE000), 2u);   // Private Use
  EXPECT_EQ(Formatter::Columns(0x1F1E6), 2u);  // regional indicator
  EXPECT_EQ(Formatter::Columns(0x65E5), 2u);   // 日
  EXPECT_EQ(Formatter::Columns(0xFF21), 2u);   // fullwidth A
  EXPECT_EQ(Formatter::Columns(0x1F600), 2u);  // emoji
  EXPECT_EQ(Formatter::Columns(0x0301), 0u);   // combining acute
  // Without a UTF-8 locale the C library cannot tell: never count too few.
  std::setlocale(LC_CTYPE, "C");
  EXPECT_EQ(Formatter::Columns(0xE9), 2u);
  EXPECT_EQ(Formatter::Columns(0x65E5), 2u);
  std::setlocale(LC_CTYPE, "C.UTF-8");
}

// What a user sees at 40 columns: a long line goes on under its text column.
TEST_F(WrapTest, LongLinesGoOnUnderTheTextColumn) {
  const Formatter f = MakeFormatter(false, true, false);
  EXPECT_EQ(f.FormatRows(Line(DisplayLine::Kind::kChat, "bob", std::string(50, 'a'), k0905), 40),
            (std::vector<std::string>{Cat("[09:05] <bob> ", std::string(26, 'a')),
                                      Cat(std::string(14, ' '), std::string(24, 'a'))}));
  EXPECT_EQ(f.FormatRows(Line(DisplayLine::Kind::kNotice, "", std::string(30, 'n'), k0905), 40),
            (std::vector<std::string>{Cat("[09:05] -!- ", std::string(28, 'n')),
                                      Cat(std::string(12, ' '), "nn")}));
  // Rows break between words where the next word fits.
  EXPECT_EQ(f.FormatRows(Line(DisplayLine::Kind::kChat, "bob",
                              "the quick brown fox jumps over the lazy dog", k0905),
                         40),
            (std::vector<std::string>{"[09:05] <bob> the quick brown fox jumps ",
                                      "              over the lazy dog"}));
  // A line that fits is one row, the same as Format's.
  const DisplayLine fits = Line(DisplayLine::Kind::kChat, "bob", std::string(26, 'a'), k0905);
  EXPECT_EQ(f.FormatRows(fits, 40), std::vector<std::string>{f.Format(fits)});
  // A wide character that does not fit starts the next row; a combining mark stays with its
  // letter.
  const Formatter plain = MakeFormatter(false, false, false);
  EXPECT_EQ(
      plain.FormatRows(
          Line(DisplayLine::Kind::kChat, "b", "x\u65E5\u672C\u65E5\u672C\u65E5\u672C\u65E5\u672C"),
          20),
      (std::vector<std::string>{"<b> x\u65E5\u672C\u65E5\u672C\u65E5\u672C\u65E5", "    \u672C"}));
  EXPECT_EQ(plain.FormatRows(Line(DisplayLine::Kind::kError, "", "abcde\u0301fg"), 8),
            (std::vector<std::string>{"!! abcde\u0301", "   fg"}));
  // A long nick in a narrow terminal: continuation rows start at most half-way across.
  const std::string nick(32, 'n');
  const std::vector<std::string> rows =
      f.FormatRows(Line(DisplayLine::Kind::kChat, nick, "hello", k0905), 40);
  EXPECT_EQ(rows, (std::vector<std::string>{Cat("[09:05] <", std::string(31, 'n')),
                                            Cat(std::string(20, ' '), "n> hello")}));
  // Too narrow to lay out, or width unknown: one row.
  for (size_t columns : {size_t{0}, Formatter::kMinColumns - 1}) {
    EXPECT_EQ(
        f.FormatRows(Line(DisplayLine::Kind::kChat, "bob", std::string(50, 'a')), columns).size(),
        1u);
  }
}

// Colours end with each row and start again on the next, so no row depends on another.
TEST_F(WrapTest, EachRowEndsItsColours) {
  const Formatter f = MakeFormatter(true, true, true);
  const std::vector<std::string> rows = f.FormatRows(
      Line(DisplayLine::Kind::kChat, "bob", Cat("alice: ", std::string(40, 'a')), k0905, true), 40);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], Cat("\x1b[2m[09:05]\x1b[0m <\x1b[", Formatter::NickColor("bob"),
                         "mbob\x1b[0m> \x1b[1;33malice: ", std::string(19, 'a'), "\x1b[0m"));
  EXPECT_EQ(rows[1], Cat(std::string(14, ' '), "\x1b[1;33m", std::string(21, 'a'), "\x1b[0m\a"));
}

// Issue #10, spoofed lines by wrapping: whatever a peer pads its text with (visible filler,
// spaces, wide characters, combining marks, invisible code points), and wherever the padding
// ends, no row but a line's first starts like a line, and no row is wider than the terminal,
// at 40, 80 and 200 columns, with timestamps and without colour, and the other way round.
TEST_F(WrapTest, NoRowButTheFirstStartsLikeALine) {
  for (const char* line :
       {"[14:34] <server> hi", "-!- bob left", "<bob> hi", "*bob* hi", "!! no"}) {
    ASSERT_TRUE(StartsLikeALine(line)) << line;
  }
  ASSERT_FALSE(StartsLikeALine(" -!- bob left"));
  const std::vector<std::string> spoofs = {
      "-!- bob is now known as admin", "[14:34] <server> maintenance: accept the new fingerprint"};
  // Visible filler, spaces, a wide character, a combining mark, and invisible code points
  // whose escapes are 8 and 9 columns wide.
  const std::vector<std::string> fillers = {"x", " ", "\u65E5", "e\u0301", "\u200B", "\U000E0041"};
  const Formatter formatters[] = {MakeFormatter(false, true, false),
                                  MakeFormatter(true, false, true)};
  size_t checked = 0;
  for (const size_t columns : {40, 80, 200}) {
    for (const std::string& filler : fillers) {
      // Enough of the filler to end the padding at every column of a row.
      const size_t most = columns / ColumnsOf(EscapeForDisplay(filler)) + 1;
      for (size_t n = 0; n <= most; ++n) {
        std::string padding;
        for (size_t i = 0; i < n; ++i) {
          padding += filler;
        }
        for (const std::string& spoof : spoofs) {
          const std::string text = EscapeForDisplay(Cat("see", padding, spoof));
          for (auto kind : {DisplayLine::Kind::kChat, DisplayLine::Kind::kPrivate,
                            DisplayLine::Kind::kNotice, DisplayLine::Kind::kError}) {
            for (const Formatter& f : formatters) {
              const DisplayLine line = Line(kind, "mallory", text, k0905, true);
              const std::vector<std::string> rows = f.FormatRows(line, columns);
              const std::string whole = Visible(f.Format(line));
              const size_t text_column = whole.size() - text.size();
              const size_t indent = std::min(text_column, columns / 2);
              std::string joined;
              for (size_t r = 0; r < rows.size(); ++r) {
                const std::string row = Visible(rows[r]);
                ASSERT_LE(ColumnsOf(row), columns) << row;
                ASSERT_TRUE(OnlySgr(rows[r])) << rows[r];
                ASSERT_EQ(rows[r].find_first_of("\r\n"), std::string::npos);
                if (r == 0) {
                  joined = row;
                  continue;
                }
                ASSERT_FALSE(StartsLikeALine(row)) << row;
                ASSERT_EQ(row.substr(0, indent), std::string(indent, ' ')) << row;
                joined += row.substr(indent);
                ++checked;
              }
              ASSERT_EQ(joined, whole) << "nothing lost, nothing added";
            }
          }
        }
      }
    }
  }
  RecordProperty("continuation_rows_checked", static_cast<int>(checked));
  EXPECT_GT(checked, 5'000u) << "most cases wrap";
}

TEST(DisplayTest, MentionsAreWholeWordsInAnyCase) {
  EXPECT_TRUE(MentionsNick("alice: look", "alice"));
  EXPECT_TRUE(MentionsNick("hey Alice!", "alice"));
  EXPECT_TRUE(MentionsNick("ALICE", "alice"));
  EXPECT_TRUE(MentionsNick("ping alice.", "alice"));
  EXPECT_FALSE(MentionsNick("malice aforethought", "alice"));
  EXPECT_FALSE(MentionsNick("alice_b is here", "alice"));
  EXPECT_FALSE(MentionsNick("alic", "alice"));
  EXPECT_FALSE(MentionsNick("anything", ""));
}

TEST(DisplayTest, ColourNeedsTheFlagATerminalAndNoNoColor) {
  EXPECT_TRUE(UseColor(true, true, nullptr));
  EXPECT_TRUE(UseColor(true, true, ""));  // NO_COLOR set but empty does not count
  EXPECT_FALSE(UseColor(true, true, "1"));
  EXPECT_FALSE(UseColor(true, false, nullptr));
  EXPECT_FALSE(UseColor(false, true, nullptr));
}

TEST(IgnoreTest, IgnoredNicksAreHiddenAcrossRenamesUntilUnignored) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  auto& carol = net.Connect("carol");
  net.Type(alice, "/ignore");
  EXPECT_TRUE(alice.Saw("-!- ignoring nobody"));
  net.Type(alice, "/ignore bob");
  EXPECT_TRUE(alice.Saw("-!- ignoring bob for this session; /unignore bob to undo"));
  net.Type(bob, "spam");
  net.Type(bob, "/msg alice private spam");
  net.Type(carol, "not spam");
  EXPECT_FALSE(alice.SawContaining("spam>"));
  EXPECT_FALSE(alice.SawContaining("<bob>"));
  EXPECT_FALSE(alice.SawContaining("*bob*"));
  EXPECT_TRUE(alice.Saw("<carol> not spam"));
  EXPECT_TRUE(carol.Saw("<bob> spam")) << "ignoring is alice's business only";

  net.Type(bob, "/nick robert");
  EXPECT_TRUE(alice.Saw("-!- bob is now known as robert"));  // notices still show
  net.Type(bob, "still spam");
  EXPECT_FALSE(alice.SawContaining("still spam"));
  net.Type(alice, "/ignore");
  EXPECT_TRUE(alice.Saw("-!- ignoring (1): robert"));

  net.Type(alice, "/ignore robert");
  EXPECT_TRUE(alice.Saw("-!- already ignoring robert"));
  net.Type(alice, "/ignore alice");
  EXPECT_TRUE(alice.Saw("!! you cannot ignore yourself"));
  net.Type(alice, "/ignore bad\x1bnick");
  EXPECT_TRUE(alice.Saw("!! not a nick: bad\\x1Bnick"));
  net.Type(alice, "/unignore bob");
  EXPECT_TRUE(alice.Saw("!! not ignoring bob"));
  net.Type(alice, "/unignore");
  EXPECT_TRUE(alice.Saw("!! usage: /unignore NICK"));

  net.Type(alice, "/unignore robert");
  EXPECT_TRUE(alice.Saw("-!- no longer ignoring robert"));
  net.Type(bob, "back again");
  EXPECT_TRUE(alice.Saw("<robert> back again"));
  EXPECT_EQ(bob.session.exit_code(), kExitOk);
}

TEST(NickTrackingTest, KnownNicksFollowWelcomeNoticesChatAndWho) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  EXPECT_EQ(alice.session.nick(), "alice");
  EXPECT_TRUE(alice.session.KnownNicks().empty());
  auto& bob = net.Connect("bob");
  net.Connect("carol");
  EXPECT_EQ(alice.session.KnownNicks(), (std::vector<std::string>{"bob", "carol"}));

  net.Type(bob, "/nick robert");
  EXPECT_EQ(alice.session.KnownNicks(), (std::vector<std::string>{"carol", "robert"}));
  EXPECT_EQ(bob.session.nick(), "robert") << "the session follows its own rename";
  // bob joined after alice and has not asked /who: he knows carol from her join only.
  EXPECT_EQ(bob.session.KnownNicks(), (std::vector<std::string>{"carol"}));

  net.Type(alice, "/nick al");
  EXPECT_EQ(alice.session.nick(), "al");

  bob.session.InputEof();
  net.Pump();
  EXPECT_EQ(alice.session.KnownNicks(), (std::vector<std::string>{"carol"}));

  // Someone alice never saw join (she joined after them) is learnt from /who and from CHAT.
  auto& dave = net.Connect("dave");
  EXPECT_EQ(dave.session.KnownNicks(), std::vector<std::string>{});
  net.Type(alice, "hello dave");
  EXPECT_EQ(dave.session.KnownNicks(), (std::vector<std::string>{"al"}));
  net.Type(dave, "/who");
  EXPECT_EQ(dave.session.KnownNicks(), (std::vector<std::string>{"al", "carol"}));
}

// Each join, rename and leave reaches the user as exactly one line, the server's NOTICE,
// although the server also sends its structured MEMBER_* message (PROTOCOL.md 6.8).
TEST(MembershipTest, EachEventIsShownOnce) {
  InMemoryNet net({.motd = ""});
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  net.Type(bob, "/nick robert");
  bob.session.InputEof();
  net.Pump();
  EXPECT_EQ(alice.lines,
            (std::vector<std::string>{"-!- joined as alice; 1 online", "-!- bob joined",
                                      "-!- bob is now known as robert", "-!- robert left"}));
  EXPECT_EQ(bob.lines, (std::vector<std::string>{"-!- joined as bob; 2 online",
                                                 "-!- bob is now known as robert"}));
}

// With set_show_own_lines (a terminal), a said line is shown as alice's own line once it is
// sent: each piece of a split line, lines held by the pace only as they go, with the nick as
// renamed. Without it (a pipe), nothing changes: a said line is not shown.
TEST(OwnLinesTest, ASaidLineIsShownWhenItIsSent) {
  InMemoryNet net;
  net.paced_clients = true;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  auto& carol = net.Connect("carol");
  net.Type(carol, "from a pipe");
  EXPECT_FALSE(carol.SawContaining("from a pipe")) << ::testing::PrintToString(carol.lines);

  alice.session.set_show_own_lines(true);
  net.Type(alice, "hello");
  ASSERT_FALSE(alice.events.empty());
  EXPECT_EQ(alice.events.back().kind, DisplayLine::Kind::kSentChat);
  EXPECT_EQ(alice.events.back().from, "alice");
  EXPECT_EQ(alice.events.back().text, "hello");
  EXPECT_EQ(alice.events.back().time_ms, 0u) << "the formatter stamps it with the time shown";
  EXPECT_TRUE(bob.Saw("<alice> hello"));

  // Twelve lines at once: the pace sends a burst and holds the rest; only what went is shown,
  // the rest as the pace lets it go.
  const size_t before = alice.lines.size();
  for (int i = 0; i < 12; ++i) {
    alice.session.InputLine(Cat("line ", i));
  }
  net.Pump();
  const auto shown = [&] {
    return std::vector<std::string>(alice.lines.begin() + static_cast<ptrdiff_t>(before),
                                    alice.lines.end());
  };
  const size_t went = shown().size();
  ASSERT_GT(went, 0u);
  ASSERT_LT(went, 12u);
  EXPECT_TRUE(bob.Saw(Cat("<alice> line ", went - 1)));
  EXPECT_FALSE(bob.Saw(Cat("<alice> line ", went)));
  EXPECT_EQ(shown().back(), Cat("<alice> line ", went - 1));
  for (int i = 0; shown().size() < 12 && i < 100; ++i) {
    net.Advance(250);
  }
  std::vector<std::string> all;
  for (int i = 0; i < 12; ++i) {
    all.push_back(Cat("<alice> line ", i));
  }
  EXPECT_EQ(shown(), all);

  // A line over one message: each piece, as sent.
  net.Advance(10'000);
  net.Type(alice, std::string(4096 + 10, 'z'));
  ASSERT_GE(alice.lines.size(), 2u);
  EXPECT_EQ(alice.lines[alice.lines.size() - 2], Cat("<alice> ", std::string(4096, 'z')));
  EXPECT_EQ(alice.lines.back(), Cat("<alice> ", std::string(10, 'z')));
  EXPECT_TRUE(bob.Saw(Cat("<alice> ", std::string(10, 'z'))));

  net.Type(alice, "/nick al");
  net.Type(alice, "renamed");
  EXPECT_EQ(alice.lines.back(), "<al> renamed");
  // A refused line is no own line.
  net.Type(alice, "bad \x01 byte");
  EXPECT_FALSE(alice.SawContaining("byte")) << ::testing::PrintToString(alice.lines);
}

// A line typed before the server welcomed us waits, and is shown after the welcome, when it
// goes.
class OwnLinesBeforeWelcomeTest : public testing::ScriptedSessionTest {
 protected:
  OwnLinesBeforeWelcomeTest() : ScriptedSessionTest(/*clocked=*/false) {}
};

TEST_F(OwnLinesBeforeWelcomeTest, ALineTypedEarlyIsShownWhenItGoes) {
  session_.set_show_own_lines(true);
  session_.InputLine("early bird");
  EXPECT_EQ(lines_, std::vector<std::string>{}) << "not shown before it is sent";
  ASSERT_TRUE(conn_.Start());
  Pump();
  ASSERT_TRUE(session_.joined());
  EXPECT_EQ(lines_,
            (std::vector<std::string>{"-!- joined as alice; 1 online", "<alice> early bird"}));
}

// A ClientSession joined as alice to a ScriptedServer, which sends whatever the test says.
class ScriptedRoomTest : public testing::ScriptedSessionTest {
 protected:
  ScriptedRoomTest() : ScriptedSessionTest(/*clocked=*/false) {}

  void SetUp() override {
    ASSERT_TRUE(conn_.Start());
    Pump();
    ASSERT_TRUE(session_.joined());
    lines_.clear();
  }

  // Send has the server send `m`, then lets the two sides talk until both are quiet.
  void Send(const msg::ServerMessage& m) {
    ASSERT_TRUE(server_.Send(m));
    Pump();
  }
};

// The structured messages alone keep the client's state and show nothing: the line for the
// user is the NOTICE that follows each of them.
TEST_F(ScriptedRoomTest, MemberMessagesKeepTheStateAndShowNothing) {
  using V = std::vector<std::string>;
  Send(msg::MemberJoined{"bob"});
  Send(msg::MemberJoined{"carol"});
  EXPECT_EQ(session_.KnownNicks(), (V{"bob", "carol"}));
  session_.InputLine("/ignore bob");
  lines_.clear();

  Send(msg::MemberRenamed{"bob", "robert"});
  EXPECT_EQ(session_.KnownNicks(), (V{"carol", "robert"}));
  EXPECT_TRUE(session_.ignored().contains("robert"));
  EXPECT_FALSE(session_.ignored().contains("bob"));

  Send(msg::MemberRenamed{"ALICE", "al"});  // our own rename, in the server's spelling
  EXPECT_EQ(session_.nick(), "al");
  EXPECT_EQ(session_.KnownNicks(), (V{"carol", "robert"}));

  Send(msg::MemberLeft{"carol"});
  EXPECT_EQ(session_.KnownNicks(), V{"robert"});
  EXPECT_EQ(lines_, V{});
  EXPECT_FALSE(session_.finished());
}

// A server that only sends NOTICEs (protocol v1 before MEMBER_*): each is shown once, and its
// prose changes nothing: not the nick set, not our own nick.
TEST_F(ScriptedRoomTest, NoticesAloneAreShownAndNeverParsed) {
  using V = std::vector<std::string>;
  Send(msg::Notice{"bob joined"});
  Send(msg::Notice{"bob is now known as robert"});
  Send(msg::Notice{"alice is now known as mallory"});
  Send(msg::Notice{"robert left"});
  EXPECT_EQ(lines_, (V{"-!- bob joined", "-!- bob is now known as robert",
                       "-!- alice is now known as mallory", "-!- robert left"}));
  EXPECT_EQ(session_.KnownNicks(), V{});
  EXPECT_EQ(session_.nick(), "alice");
  EXPECT_FALSE(session_.finished());
  // The nick set still follows CHAT senders (and WHO answers).
  Send(msg::Chat{"robert", 0, 0, "hi"});
  EXPECT_EQ(session_.KnownNicks(), V{"robert"});
}

TEST(HelpTest, EveryCommandHasOneHelpLine) {
  const std::vector<std::string> help = ClientSession::HelpLines();
  for (const std::string& command : ClientSession::Commands()) {
    int lines = 0;
    for (const std::string& l : help) {
      lines += l.rfind(Cat("-!-   ", command, " "), 0) == 0;
    }
    EXPECT_EQ(lines, 1) << command;
  }
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  net.Type(alice, "/help");
  for (const std::string& l : help) {
    EXPECT_TRUE(alice.Saw(l)) << l;
  }
  net.Type(alice, "/dance wildly");
  EXPECT_TRUE(alice.Saw("!! unknown command /dance; /help lists the commands"));
}

TEST(CompletionTest, CommandsAtTheStartNicksElsewhere) {
  const std::vector<std::string> commands = ClientSession::Commands();
  const std::vector<std::string> nicks = {"albert", "alice", "bob"};
  using V = std::vector<std::string>;
  EXPECT_EQ(CompletionCandidates("/ms", 0, commands, nicks), V{"/msg"});
  EXPECT_EQ(CompletionCandidates("/", 0, commands, nicks), commands);
  EXPECT_EQ(CompletionCandidates("/un", 0, commands, nicks), (V{"/unban", "/unignore", "/unmute"}));
  EXPECT_EQ(CompletionCandidates("/unb", 0, commands, nicks), V{"/unban"});
  EXPECT_EQ(CompletionCandidates("/x", 0, commands, nicks), V{});
  EXPECT_EQ(CompletionCandidates("al", 5, commands, nicks), (V{"albert", "alice"}));
  EXPECT_EQ(CompletionCandidates("ali", 0, commands, nicks), V{"alice:"}) << "addressing alice";
  EXPECT_EQ(CompletionCandidates("", 5, commands, nicks), nicks);
  EXPECT_EQ(CompletionCandidates("Al", 5, commands, nicks), V{}) << "nicks are case-sensitive";
  EXPECT_EQ(CompletionCandidates("/ms", 3, commands, nicks), V{}) << "commands start a line";
}

TEST(PasteGuardTest, ShortBurstsGoWithoutAsking) {
  PasteGuard g;
  EXPECT_FALSE(g.MsUntilTick(1000).has_value());
  EXPECT_TRUE(g.Typed("one", 1000).send.empty());
  EXPECT_EQ(g.MsUntilTick(1000), 100u);
  EXPECT_TRUE(g.Tick(1050).send.empty());
  g.Typed("two", 1050);
  EXPECT_TRUE(g.Tick(1149).send.empty()) << "the burst goes on until 100 ms of quiet";
  const PasteGuard::Result r = g.Tick(1150);
  EXPECT_EQ(r.send, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(r.ask, 0u);
  EXPECT_FALSE(g.MsUntilTick(1150).has_value());

  for (int i = 0; i < 5; ++i) {
    g.Typed("line", 2000);
  }
  EXPECT_EQ(g.Tick(2100).send.size(), 5u) << "five lines are not a paste";
}

TEST(PasteGuardTest, ALongPasteIsHeldUntilTheUserSaysYes) {
  PasteGuard g;
  for (int i = 0; i < 12; ++i) {
    g.Typed("pasted " + std::to_string(i), 1000);
  }
  PasteGuard::Result r = g.Tick(1100);
  EXPECT_TRUE(r.send.empty());
  EXPECT_EQ(r.ask, 12u);
  EXPECT_TRUE(g.asking());
  EXPECT_FALSE(g.MsUntilTick(5000).has_value()) << "no timer while waiting for the answer";
  EXPECT_TRUE(g.Tick(9000).send.empty());
  r = g.Key("y");
  ASSERT_EQ(r.send.size(), 12u);
  EXPECT_EQ(r.send.front(), "pasted 0");
  EXPECT_EQ(r.send.back(), "pasted 11");
  EXPECT_FALSE(g.asking());
  EXPECT_EQ(g.held(), 0u);
  EXPECT_TRUE(g.Key("y").send.empty()) << "a key without a question is nothing";
}

// PasteHeld types six lines at 0 ms and ends the burst: the question is asked.
void PasteHeld(PasteGuard& g) {
  for (int i = 0; i < 6; ++i) {
    g.Typed("x", 0);
  }
  ASSERT_EQ(g.Tick(100).ask, 6u);
}

// The answer is one key: y or Y sends; n, N, Enter (CR or LF) and Escape drop.
TEST(PasteGuardTest, OneKeyAnswers) {
  for (const char* key : {"y", "Y"}) {
    PasteGuard g;
    ASSERT_NO_FATAL_FAILURE(PasteHeld(g));
    const PasteGuard::Result r = g.Key(key);
    EXPECT_EQ(r.send.size(), 6u) << key;
    EXPECT_EQ(r.dropped, 0u) << key;
    EXPECT_FALSE(g.asking());
  }
  for (const char* key : {"n", "N", "\r", "\n", "\x1b"}) {
    PasteGuard g;
    ASSERT_NO_FATAL_FAILURE(PasteHeld(g));
    const PasteGuard::Result r = g.Key(key);
    EXPECT_TRUE(r.send.empty()) << ::testing::PrintToString(key);
    EXPECT_EQ(r.dropped, 6u) << ::testing::PrintToString(key);
    EXPECT_FALSE(g.asking());
    EXPECT_EQ(g.held(), 0u);
  }
}

// Nothing else answers: other keys, several bytes in one read (the rest of a paste, keys typed
// ahead, an arrow's escape sequence, a character of more than one byte), nor a line, which
// joins the held ones. The question stays until a real answer.
TEST(PasteGuardTest, PastedTextAndOtherKeysNeverAnswer) {
  PasteGuard g;
  ASSERT_NO_FATAL_FAILURE(PasteHeld(g));
  for (const char* keys :
       {"q", " ", "\x7f", "", "yes", "y\n", "Y\r", "n\n", "yy", "\x1b[A", "\xc3\xbf"}) {
    const PasteGuard::Result r = g.Key(keys);
    EXPECT_TRUE(r.send.empty()) << ::testing::PrintToString(keys);
    EXPECT_EQ(r.dropped, 0u) << ::testing::PrintToString(keys);
    EXPECT_TRUE(g.asking()) << ::testing::PrintToString(keys);
  }
  const PasteGuard::Result more = g.Typed("y", 500);
  EXPECT_TRUE(more.send.empty());
  EXPECT_EQ(more.ask, 7u) << "asked again, with the line held too";
  EXPECT_TRUE(g.asking());
  EXPECT_EQ(g.Key("n").dropped, 7u);
}

TEST(BackoffTest, DoublesToTheCapWithJitterAndResets) {
  Backoff b;
  const uint64_t nominal[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
  for (uint64_t d : nominal) {
    Backoff low = b, high = b;
    EXPECT_EQ(low.NextMs(0), d / 2);
    EXPECT_EQ(high.NextMs(static_cast<uint32_t>(d / 2)), d);
    const uint64_t got = b.NextMs(0xDEADBEEF);
    EXPECT_GE(got, d / 2);
    EXPECT_LE(got, d);
  }
  b.Reset();
  EXPECT_LE(b.NextMs(0xFFFFFFFF), 1000u);
}

TEST(OfflineTest, LocalCommandsWorkAndNothingIsQueuedWithoutAConnection) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  net.core().Shutdown();
  net.Pump();
  ASSERT_TRUE(alice.session.finished());
  EXPECT_FALSE(alice.session.OfflineLine("hello"));
  EXPECT_TRUE(alice.Saw("!! not sent: not connected (reconnecting; /quit to leave)"));
  EXPECT_FALSE(alice.session.OfflineLine("/ignore bob"));
  EXPECT_TRUE(alice.Saw("-!- ignoring bob for this session; /unignore bob to undo"));
  EXPECT_FALSE(alice.session.OfflineLine("/help"));
  EXPECT_TRUE(alice.Saw("-!-   /quit [REASON]   leave the chat, telling the room why"));
  EXPECT_TRUE(alice.session.OfflineLine("/quit"));
}

}  // namespace
}  // namespace securechat
