// Json: a strict reader for the JSON vector files of the tests (RFC 8259), and the few builders
// the tests use to state what they expect in the same shape.
//
// Every failure throws JsonError, which fails the test that hit it with its message: input that
// is not JSON (the message gives line, column and byte offset), a missing key, an index out of
// range, a value of another type, or a number that does not fit the type asked for.
#ifndef SECURECHAT_TESTS_SUPPORT_JSON_H_
#define SECURECHAT_TESTS_SUPPORT_JSON_H_

#include <charconv>
#include <concepts>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace securechat::testing {

namespace json_internal {
template <typename T>
constexpr bool kIsVector = false;
template <typename T>
constexpr bool kIsVector<std::vector<T>> = true;
template <typename T>
concept Integer = std::integral<T> && !std::same_as<T, bool>;
}  // namespace json_internal

class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Json {
 public:
  using Member = std::pair<const std::string, Json>;

  // Parse reads one JSON value that fills all of `text` (whitespace aside). Rejects anything
  // the grammar of RFC 8259 does not allow, and also duplicate keys, lone surrogates and
  // nesting deeper than 64; the JsonError names the line, column and byte where the input went
  // wrong. Strings come out as UTF-8 (\uXXXX and surrogate pairs encoded); raw bytes of a
  // string are copied without a UTF-8 check.
  static Json Parse(std::string_view text);

  // Builders. Json() is null; Json{{"nick", "alice"}, {"online", 2}} is an object (a
  // duplicate key throws); Json::Array({"alice", "bob"}) an array.
  Json() = default;
  template <std::same_as<bool> B>  // exactly bool: no pointer or double becomes true
  Json(B b) : value_(static_cast<bool>(b)) {}
  template <json_internal::Integer T>
  Json(T n) : value_(Number{std::to_string(n)}) {}
  Json(const char* s) : value_(std::string(s)) {}
  Json(std::string s) : value_(std::move(s)) {}
  Json(std::initializer_list<Member> members);
  static Json Array(std::vector<Json> items = {});
  static Json Object() { return Json(Members()); }

  bool is_null() const { return std::holds_alternative<std::monostate>(value_); }
  bool is_bool() const { return std::holds_alternative<bool>(value_); }
  bool is_number() const { return std::holds_alternative<Number>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_array() const { return std::holds_alternative<Items>(value_); }
  bool is_object() const { return std::holds_alternative<Members>(value_); }

  // Objects. at() throws when the key is missing; value() returns `fallback` instead.
  const Json& at(std::string_view key) const;
  bool contains(std::string_view key) const;
  template <typename T>
  T value(std::string_view key, T fallback) const {
    return contains(key) ? at(key).get<T>() : fallback;
  }
  void insert_or_assign(std::string key, Json value);

  // Arrays: element access (throws when out of range) and range-for.
  const Json& at(size_t index) const;
  const Json& operator[](size_t index) const { return at(index); }
  std::vector<Json>::const_iterator begin() const { return items().begin(); }
  std::vector<Json>::const_iterator end() const { return items().end(); }
  void push_back(Json item);

  // Arrays and objects: the number of elements or members.
  size_t size() const;
  bool empty() const { return size() == 0; }

  // str is the string itself, for views that must outlive the call.
  const std::string& str() const { return As<std::string>("a string"); }

  // get converts to bool, std::string, double, any integer type (the number must be an
  // integer that fits T exactly) or std::vector of those (from an array).
  template <typename T>
  T get() const;

  // Equal values: objects whatever their key order; numbers as written, so 1 and 1.0 differ.
  friend bool operator==(const Json& a, const Json& b);

  // Prints compact JSON with the keys sorted.
  friend std::ostream& operator<<(std::ostream& os, const Json& j);

 private:
  friend class JsonParser;

  struct Number {
    std::string text;  // as written: integers stay exact whatever their size
    friend bool operator==(const Number&, const Number&) = default;
  };
  using Items = std::vector<Json>;
  using Members = std::map<std::string, Json, std::less<>>;

  explicit Json(Number n) : value_(std::move(n)) {}
  explicit Json(Members m) : value_(std::move(m)) {}

  [[noreturn]] void WrongType(std::string_view wanted) const;
  // As is the value held as T; throws, naming `wanted`, when it holds another type.
  template <typename T>
  const T& As(std::string_view wanted) const {
    if (const T* held = std::get_if<T>(&value_)) {
      return *held;
    }
    WrongType(wanted);
  }
  const Items& items() const { return As<Items>("an array"); }
  const Members& members() const { return As<Members>("an object"); }
  const std::string& number_text() const { return As<Number>("a number").text; }

  std::variant<std::monostate, bool, Number, std::string, Items, Members> value_;
};

template <typename T>
T Json::get() const {
  if constexpr (std::is_same_v<T, bool>) {
    return As<bool>("a bool");
  } else if constexpr (std::is_same_v<T, std::string>) {
    return str();
  } else if constexpr (std::is_integral_v<T> || std::is_same_v<T, double>) {
    const std::string& text = number_text();
    T out{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || end != text.data() + text.size()) {
      throw JsonError("json: " + text + " is not " +
                      (std::is_same_v<T, double>
                           ? std::string("a finite double")
                           : (std::is_signed_v<T> ? "a signed " : "an unsigned ") +
                                 std::to_string(8 * sizeof(T)) + "-bit integer"));
    }
    return out;
  } else if constexpr (json_internal::kIsVector<T>) {
    T out;
    for (const Json& item : items()) {
      out.push_back(item.get<typename T::value_type>());
    }
    return out;
  } else {
    static_assert(json_internal::kIsVector<T>, "Json::get: unsupported type");
  }
}

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_SUPPORT_JSON_H_
