#include "support/json.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace securechat::testing {

// JsonParser walks one cursor over the text; every method that reads a value leaves the cursor
// just past it, or throws.
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  Json ParseDocument() {
    SkipSpace();
    Json value = ParseValue(0);
    SkipSpace();
    if (pos_ != text_.size()) {
      Fail("trailing " + Describe(text_[pos_]) + " after the value");
    }
    return value;
  }

 private:
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void Fail(const std::string& what) const {
    const std::string_view before = text_.substr(0, pos_);
    const size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
    const size_t line_start = before.rfind('\n');
    const size_t column = line_start == std::string_view::npos ? pos_ + 1 : pos_ - line_start;
    throw JsonError("json: line " + std::to_string(line) + ", column " + std::to_string(column) +
                    " (byte " + std::to_string(pos_) + "): " + what);
  }

  static std::string Describe(char c) {
    if (c >= 0x21 && c < 0x7F) {
      return std::string("'") + c + "'";
    }
    return "byte " + std::to_string(static_cast<unsigned char>(c));
  }

  bool AtEnd() const { return pos_ == text_.size(); }

  // Peek is the next byte; fails at the end of the input.
  char Peek() const {
    if (AtEnd()) {
      Fail("unexpected end of input");
    }
    return text_[pos_];
  }

  // Accept reads `c` if it comes next.
  bool Accept(char c) {
    if (AtEnd() || text_[pos_] != c) {
      return false;
    }
    ++pos_;
    return true;
  }

  void Expect(char c) {
    if (!Accept(c)) {
      Fail(std::string("expected '") + c + "', found " + Describe(Peek()));
    }
  }

  bool AcceptWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) {
      return false;
    }
    pos_ += word.size();
    return true;
  }

  void SkipSpace() {
    while (Accept(' ') || Accept('\t') || Accept('\n') || Accept('\r')) {
    }
  }

  // ParseValue reads a value inside `depth` arrays and objects.
  Json ParseValue(int depth) {
    const char c = Peek();
    if ((c == '{' || c == '[') && depth == kMaxDepth) {
      Fail("nested deeper than " + std::to_string(kMaxDepth));
    }
    if (c == '{') {
      return ParseObject(depth);
    }
    if (c == '[') {
      return ParseArray(depth);
    }
    if (c == '"') {
      return Json(ParseString());
    }
    if (c == '-' || IsDigit(c)) {
      return ParseNumber();
    }
    if (AcceptWord("true")) {
      return Json(true);
    }
    if (AcceptWord("false")) {
      return Json(false);
    }
    if (AcceptWord("null")) {
      return Json();
    }
    Fail("expected a value, found " + Describe(c));
  }

  // ParseList reads "open element, element ... close" (no comma after the last element),
  // calling read_element with the cursor at each element.
  template <typename ReadElement>
  void ParseList(char open, char close, ReadElement read_element) {
    Expect(open);
    SkipSpace();
    if (Accept(close)) {
      return;
    }
    do {
      SkipSpace();
      read_element();
      SkipSpace();
    } while (Accept(','));
    Expect(close);
  }

  Json ParseObject(int depth) {
    Json object = Json::Object();
    auto& members = std::get<Json::Members>(object.value_);
    ParseList('{', '}', [&] {
      const size_t key_at = pos_;
      if (Peek() != '"') {
        Fail("expected a key string, found " + Describe(Peek()));
      }
      std::string key = ParseString();
      SkipSpace();
      Expect(':');
      SkipSpace();
      if (!members.emplace(key, ParseValue(depth + 1)).second) {
        pos_ = key_at;
        Fail("duplicate key \"" + key + "\"");
      }
    });
    return object;
  }

  Json ParseArray(int depth) {
    Json array = Json::Array();
    auto& items = std::get<Json::Items>(array.value_);
    ParseList('[', ']', [&] { items.push_back(ParseValue(depth + 1)); });
    return array;
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  // ParseNumber keeps the text of -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  Json ParseNumber() {
    const size_t start = pos_;
    Accept('-');
    if (Accept('0')) {
      if (!AtEnd() && IsDigit(text_[pos_])) {
        Fail("leading zero in a number");
      }
    } else {
      Digits();
    }
    if (Accept('.')) {
      Digits();
    }
    if (Accept('e') || Accept('E')) {
      if (!Accept('+')) {
        Accept('-');
      }
      Digits();
    }
    return Json(Json::Number{std::string(text_.substr(start, pos_ - start))});
  }

  // Digits reads one or more decimal digits.
  void Digits() {
    if (!IsDigit(Peek())) {
      Fail("expected a digit, found " + Describe(Peek()));
    }
    while (!AtEnd() && IsDigit(text_[pos_])) {
      ++pos_;
    }
  }

  // ParseString reads a quoted string, escapes resolved (\uXXXX as UTF-8). Other bytes are
  // copied as they are: raw UTF-8 is not validated.
  std::string ParseString() {
    static constexpr std::string_view kEscapes = "\"\\/bfnrt";
    static constexpr std::string_view kEscaped = "\"\\/\b\f\n\r\t";  // what each one means
    Expect('"');
    std::string out;
    while (!Accept('"')) {
      if (AtEnd()) {
        Fail("unterminated string");
      }
      const char c = text_[pos_];
      if (static_cast<unsigned char>(c) < 0x20) {
        Fail("unescaped control character (" + Describe(c) + ") in a string");
      }
      ++pos_;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (AtEnd()) {
        Fail("unterminated string");
      }
      const char e = text_[pos_++];
      if (const size_t i = kEscapes.find(e); i != std::string_view::npos) {
        out.push_back(kEscaped[i]);
      } else if (e == 'u') {
        AppendUtf8(ParseCodePoint(), &out);
      } else {
        pos_ -= 2;
        Fail("bad escape \\" + std::string(1, e));
      }
    }
    return out;
  }

  // ParseCodePoint reads the XXXX of \uXXXX (the cursor is past the 'u') and, for a high
  // surrogate, the \uXXXX of the low surrogate that must follow.
  uint32_t ParseCodePoint() {
    const size_t escape_at = pos_ - 2;
    const uint32_t unit = Hex4();
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      pos_ = escape_at;
      Fail("lone low surrogate");
    }
    if (unit < 0xD800 || unit > 0xDBFF) {
      return unit;
    }
    const uint32_t low = AcceptWord("\\u") ? Hex4() : 0;
    if (low < 0xDC00 || low > 0xDFFF) {
      pos_ = escape_at;
      Fail("high surrogate without a low surrogate");
    }
    return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
  }

  uint32_t Hex4() {
    const char* begin = text_.data() + pos_;
    uint32_t unit = 0;
    const char* end =
        std::from_chars(begin, begin + std::min<size_t>(4, text_.size() - pos_), unit, 16).ptr;
    pos_ += static_cast<size_t>(end - begin);
    if (end != begin + 4) {
      Fail("\\u needs four hex digits, found " + Describe(Peek()));
    }
    return unit;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    auto put = [out](uint32_t byte) { out->push_back(static_cast<char>(byte)); };
    if (cp < 0x80) {
      put(cp);
    } else if (cp < 0x800) {
      put(0xC0 | (cp >> 6));
      put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      put(0xE0 | (cp >> 12));
      put(0x80 | ((cp >> 6) & 0x3F));
      put(0x80 | (cp & 0x3F));
    } else {
      put(0xF0 | (cp >> 18));
      put(0x80 | ((cp >> 12) & 0x3F));
      put(0x80 | ((cp >> 6) & 0x3F));
      put(0x80 | (cp & 0x3F));
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

Json Json::Parse(std::string_view text) { return JsonParser(text).ParseDocument(); }

Json::Json(std::initializer_list<Member> members) : value_(Members(members)) {
  if (std::get<Members>(value_).size() != members.size()) {
    throw JsonError("json: duplicate key in an object literal");
  }
}

Json Json::Array(std::vector<Json> items) {
  Json array;
  array.value_ = std::move(items);
  return array;
}

void Json::WrongType(std::string_view wanted) const {
  static constexpr std::string_view kFound[] = {"null",     "a bool",   "a number",
                                                "a string", "an array", "an object"};
  throw JsonError("json: expected " + std::string(wanted) + ", found " +
                  std::string(kFound[value_.index()]));
}

const Json& Json::at(std::string_view key) const {
  const Members& m = members();
  const auto it = m.find(key);
  if (it == m.end()) {
    throw JsonError("json: no key \"" + std::string(key) + "\"");
  }
  return it->second;
}

bool Json::contains(std::string_view key) const { return members().contains(key); }

void Json::insert_or_assign(std::string key, Json value) {
  As<Members>("an object");
  std::get<Members>(value_).insert_or_assign(std::move(key), std::move(value));
}

const Json& Json::at(size_t index) const {
  const Items& a = items();
  if (index >= a.size()) {
    throw JsonError("json: index " + std::to_string(index) + " out of range (size " +
                    std::to_string(a.size()) + ")");
  }
  return a[index];
}

void Json::push_back(Json item) {
  As<Items>("an array");
  std::get<Items>(value_).push_back(std::move(item));
}

size_t Json::size() const {
  if (is_object()) {
    return members().size();
  }
  if (!is_array()) {
    WrongType("an array or an object");
  }
  return items().size();
}

bool operator==(const Json& a, const Json& b) { return a.value_ == b.value_; }

namespace {

void PrintString(std::ostream& os, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  os << '"';
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      os << '\\' << c;
    } else if (c == '\n') {
      os << "\\n";
    } else if (byte < 0x20) {
      os << "\\u00" << kHex[byte >> 4] << kHex[byte & 0xF];
    } else {
      os << c;
    }
  }
  os << '"';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Json& j) {
  if (j.is_null()) {
    os << "null";
  } else if (j.is_bool()) {
    os << (j.get<bool>() ? "true" : "false");
  } else if (j.is_number()) {
    os << j.number_text();
  } else if (j.is_string()) {
    PrintString(os, j.str());
  } else if (j.is_array()) {
    os << '[';
    for (size_t i = 0; i < j.size(); ++i) {
      os << (i == 0 ? "" : ",") << j[i];
    }
    os << ']';
  } else {
    const char* separator = "";
    os << '{';
    for (const auto& [key, value] : j.members()) {
      os << separator;
      PrintString(os, key);
      os << ':' << value;
      separator = ",";
    }
    os << '}';
  }
  return os;
}

}  // namespace securechat::testing
