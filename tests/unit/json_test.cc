// The JSON reader of the tests (support/json.h): what it reads, what it gives back, and every
// kind of malformed input it must refuse with a message that says where.

#include "support/json.h"

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace securechat::testing {
namespace {

// Rejects checks that Parse throws for `text` with a message that contains `part`.
::testing::AssertionResult Rejects(std::string_view text, std::string_view part) {
  try {
    const Json parsed = Json::Parse(text);
    return ::testing::AssertionFailure() << "accepted as " << parsed;
  } catch (const JsonError& e) {
    if (std::string_view(e.what()).find(part) == std::string_view::npos) {
      return ::testing::AssertionFailure()
             << "message \"" << e.what() << "\" lacks \"" << part << "\"";
    }
    return ::testing::AssertionSuccess();
  }
}

std::string Print(const Json& j) {
  std::ostringstream os;
  os << j;
  return os.str();
}

TEST(JsonTest, ReadsNestedStructures) {
  const Json doc = Json::Parse(R"( {"groups": [{"id": 1, "tests": [true, false, null]},
                                               {"id": 2, "tests": []}],
                                    "name": "x", "empty": {}} )");
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.size(), 3u);
  EXPECT_EQ(doc.at("name").get<std::string>(), "x");
  EXPECT_TRUE(doc.at("empty").is_object());
  EXPECT_TRUE(doc.at("empty").empty());
  const Json& groups = doc.at("groups");
  ASSERT_TRUE(groups.is_array());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].at("id").get<int>(), 2);
  EXPECT_TRUE(groups.at(1).at("tests").empty());
  std::vector<std::string> seen;
  for (const Json& item : groups[0].at("tests")) {
    seen.push_back(item.is_null() ? "null" : item.get<bool>() ? "true" : "false");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"true", "false", "null"}));
}

TEST(JsonTest, ResolvesEscapes) {
  EXPECT_EQ(Json::Parse(R"("\"\\\/\b\f\n\r\t")").str(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(Json::Parse(R"("\u0000")").str(), std::string(1, '\0'));
  EXPECT_EQ(Json::Parse(R"("\u0041\u00e9\u20AC\uFFFF")").str(),
            "A\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBF");
  // Raw UTF-8 comes through as it is.
  EXPECT_EQ(Json::Parse("\"\xC3\xA9\"").str(), "\xC3\xA9");
}

TEST(JsonTest, JoinsSurrogatePairs) {
  EXPECT_EQ(Json::Parse(R"("\ud83d\ude00")").str(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(Json::Parse(R"("\uD800\uDC00")").str(), "\xF0\x90\x80\x80");  // U+10000
  EXPECT_EQ(Json::Parse(R"("\uDBFF\uDFFF")").str(), "\xF4\x8F\xBF\xBF");  // U+10FFFF
}

TEST(JsonTest, IntegersAreExactAndRangeChecked) {
  const Json doc = Json::Parse(R"([18446744073709551615, 18446744073709551616, -9223372036854775808,
                      255, 256, -1, 1.5, 1e2, 65535])");
  EXPECT_EQ(doc[0].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(doc[0].get<size_t>(), std::numeric_limits<size_t>::max());
  EXPECT_THROW(doc[0].get<int64_t>(), JsonError);
  EXPECT_THROW(doc[1].get<uint64_t>(), JsonError);
  EXPECT_EQ(doc[2].get<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_THROW(doc[2].get<int>(), JsonError);
  EXPECT_EQ(doc[3].get<uint8_t>(), 255);
  EXPECT_THROW(doc[4].get<uint8_t>(), JsonError);
  EXPECT_EQ(doc[4].get<uint16_t>(), 256);
  EXPECT_EQ(doc[5].get<int>(), -1);
  EXPECT_THROW(doc[5].get<uint64_t>(), JsonError);
  EXPECT_THROW(doc[6].get<int>(), JsonError);
  EXPECT_EQ(doc[6].get<double>(), 1.5);
  EXPECT_THROW(doc[7].get<int>(), JsonError);
  EXPECT_EQ(doc[7].get<double>(), 100.0);
  EXPECT_EQ(doc[8].get<uint16_t>(), 65535);
  EXPECT_THROW(doc[8].get<int16_t>(), JsonError);
  EXPECT_THROW(Json::Parse("1e999").get<double>(), JsonError);
  // Printed back as written.
  EXPECT_EQ(Print(doc[0]), "18446744073709551615");
  EXPECT_EQ(Json(std::numeric_limits<uint64_t>::max()), doc[0]);
}

TEST(JsonTest, AccessorsThrowOnTheWrongShape) {
  const Json doc = Json::Parse(R"({"n": 7, "s": "x", "a": ["p", "q"], "b": true})");
  EXPECT_TRUE(doc.contains("n"));
  EXPECT_FALSE(doc.contains("m"));
  EXPECT_EQ(doc.value("n", -1), 7);
  EXPECT_EQ(doc.value("m", -1), -1);
  EXPECT_EQ(doc.at("a").get<std::vector<std::string>>(), (std::vector<std::string>{"p", "q"}));
  EXPECT_THROW(doc.at("m"), JsonError);
  EXPECT_THROW(doc.at("a").at(2), JsonError);
  EXPECT_THROW(doc.at("a")[0].get<int>(), JsonError);
  EXPECT_THROW(doc.at("n").get<std::string>(), JsonError);
  EXPECT_THROW(doc.at("s").get<bool>(), JsonError);
  EXPECT_THROW(doc.at("n").get<bool>(), JsonError);
  EXPECT_THROW(doc.at("b").get<int>(), JsonError);
  EXPECT_THROW(doc.at("s").size(), JsonError);
  EXPECT_THROW(doc.at("a").at("p"), JsonError);
  EXPECT_THROW(doc.at(0), JsonError);
  EXPECT_THROW(doc.begin(), JsonError);
  EXPECT_THROW(doc.at("a").get<std::vector<int>>(), JsonError);
}

TEST(JsonTest, BuildsWhatItReads) {
  const Json built{{"nick", "alice"},
                   {"online", 2},
                   {"time_ms", uint64_t{1700000000123}},
                   {"fatal", false},
                   {"nicks", Json::Array({"alice", "bob"})},
                   {"none", Json()},
                   {"fields", Json::Object()}};
  const Json parsed = Json::Parse(
      R"({"time_ms": 1700000000123, "online": 2, "nick": "alice", "fatal": false,
          "nicks": ["alice", "bob"], "none": null, "fields": {}})");
  EXPECT_EQ(built, parsed);
  EXPECT_EQ(parsed.at("nick"), "alice");
  EXPECT_NE(parsed.at("nicks"), Json::Array({"bob", "alice"}));
  EXPECT_NE(Json::Parse("1"), Json::Parse("1.0"));  // numbers compare as written
  EXPECT_NE(Json::Parse("1"), Json::Parse("\"1\""));
  EXPECT_NE(Json::Parse("0"), Json::Parse("false"));

  Json fields = Json::Object();
  fields.insert_or_assign("kind", "PONG");
  fields.insert_or_assign("kind", "PING");
  EXPECT_EQ(fields, (Json{{"kind", "PING"}}));
  Json list = Json::Array();
  list.push_back(fields);
  EXPECT_EQ(list.size(), 1u);
  EXPECT_THROW(fields.push_back(1), JsonError);
  EXPECT_THROW(list.insert_or_assign("k", 1), JsonError);
  EXPECT_THROW((Json{{"a", 1}, {"a", 2}}), JsonError);
}

TEST(JsonTest, PrintsCompactJsonThatReadsBack) {
  const Json doc = Json::Parse(R"({"b": [1, -2.5e3, "q\"\\\n\u0001", null], "a": true})");
  const std::string printed = Print(doc);
  EXPECT_EQ(printed, R"({"a":true,"b":[1,-2.5e3,"q\"\\\n\u0001",null]})");
  EXPECT_EQ(Json::Parse(printed), doc);
}

TEST(JsonTest, AcceptsSurroundingWhitespaceAndDeepNesting) {
  EXPECT_EQ(Json::Parse(" \t\r\n 5 \t\r\n").get<int>(), 5);
  EXPECT_EQ(Json::Parse(std::string(64, '[') + "1" + std::string(64, ']')).size(), 1u);
}

TEST(JsonTest, RejectsMalformedInput) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const Case cases[] = {
      {"", "unexpected end of input"},
      {"   ", "unexpected end of input"},
      {"[1, 2,]", "column 7 (byte 6): expected a value, found ']'"},
      {R"({"a": 1,})", "expected a key string, found '}'"},
      {"[1 2]", "expected ']', found '2'"},
      {R"({"a": 1 "b": 2})", "expected '}', found '\"'"},
      {"[1,", "unexpected end of input"},
      {R"({"a" 1})", "expected ':', found '1'"},
      {"{a: 1}", "expected a key string, found 'a'"},
      {"{'a': 1}", "expected a key string, found '''"},
      {R"({"a": 1, "a": 2})", "column 10 (byte 9): duplicate key \"a\""},
      {R"("abc)", "unterminated string"},
      {R"("abc\)", "unterminated string"},
      {R"(["a", "b)", "unterminated string"},
      {R"("\x")", "column 2 (byte 1): bad escape \\x"},
      {R"("\U0041")", "bad escape \\U"},
      {R"("\u12")", "\\u needs four hex digits, found '\"'"},
      {R"("\u12g4")", "\\u needs four hex digits, found 'g'"},
      {"\"a\nb\"", "unescaped control character (byte 10)"},
      {"\"a\tb\"", "unescaped control character (byte 9)"},
      {R"("\ud800")", "high surrogate without a low surrogate"},
      {R"("\ud800x")", "high surrogate without a low surrogate"},
      {R"("\ud800\u0041")", "high surrogate without a low surrogate"},
      {R"("\ud800\ud800")", "high surrogate without a low surrogate"},
      {R"("\udc00")", "column 2 (byte 1): lone low surrogate"},
      {R"("\ude00\ud83d")", "lone low surrogate"},
      {"x[]", "line 1, column 1 (byte 0): expected a value, found 'x'"},
      {"\xEF\xBB\xBF{}", "expected a value, found byte 239"},  // a byte order mark
      {"/* c */ {}", "expected a value, found '/'"},
      {"[] x", "column 4 (byte 3): trailing 'x' after the value"},
      {"{}}", "trailing '}' after the value"},
      {"1 2", "trailing '2' after the value"},
      {"\"a\"\"b\"", "trailing '\"' after the value"},
      {"null,", "trailing ',' after the value"},
      {std::string_view("1\0", 2), "trailing byte 0 after the value"},
      {"01", "leading zero"},
      {"-01", "leading zero"},
      {"-", "unexpected end of input"},
      {"-a", "expected a digit, found 'a'"},
      {"+1", "expected a value, found '+'"},
      {".5", "expected a value, found '.'"},
      {"1.", "unexpected end of input"},
      {"1.e5", "expected a digit, found 'e'"},
      {"1e", "unexpected end of input"},
      {"1e+", "unexpected end of input"},
      {"0x10", "trailing 'x' after the value"},
      {"NaN", "expected a value, found 'N'"},
      {"Infinity", "expected a value, found 'I'"},
      {"tru", "expected a value, found 't'"},
      {"True", "expected a value, found 'T'"},
      {"nul", "expected a value, found 'n'"},
      {"truex", "trailing 'x' after the value"},
      {"{\n  \"a\": [1,\n        tru]\n}", "line 3, column 9 (byte 21): expected a value"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(Rejects(c.text, c.message)) << "input: " << c.text;
  }
  EXPECT_TRUE(Rejects(std::string(65, '[') + std::string(65, ']'), "nested deeper than 64"));
}

}  // namespace
}  // namespace securechat::testing
