// JsonObject: the JSON that chat-loadgen's reports need, written and never read. Keys come out
// sorted and one per line, so that `grep '"p99_ms"'` finds a figure in the output; values are
// numbers, strings, booleans, lists of strings, or nested objects.
#ifndef SECURECHAT_BENCH_JSON_WRITER_H_
#define SECURECHAT_BENCH_JSON_WRITER_H_

#include <charconv>
#include <cmath>
#include <concepts>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace securechat::bench {

class JsonObject {
 public:
  // A Value holds a scalar or a list already written as JSON text, or a nested object.
  class Value {
   public:
    Value& operator=(bool b) { return Set(b ? "true" : "false"); }
    template <std::integral T>
    Value& operator=(T v) {
      return Set(std::to_string(v));
    }
    // The shortest text that reads back as the same double; null for NaN and infinities,
    // which JSON cannot say.
    Value& operator=(double v) {
      char buf[32];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
      return Set(std::isfinite(v) && ec == std::errc() ? std::string(buf, end) : "null");
    }
    Value& operator=(std::string_view s) { return Set(Quote(s)); }
    Value& operator=(const char* s) { return *this = std::string_view(s); }
    Value& operator=(const std::vector<std::string>& list) {
      std::string text = "[";
      for (size_t i = 0; i < list.size(); ++i) {
        text += (i > 0 ? ", " : "") + Quote(list[i]);
      }
      return Set(text + "]");
    }
    Value& operator=(JsonObject object) {
      text_.clear();
      object_ = std::make_unique<JsonObject>(std::move(object));
      return *this;
    }

   private:
    friend class JsonObject;
    Value& Set(std::string text) {
      text_ = std::move(text);
      object_.reset();
      return *this;
    }
    // Quote writes s as a JSON string. Every byte outside printable ASCII is escaped, so the
    // output stays valid JSON whatever bytes an error message carries.
    static std::string Quote(std::string_view s) {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string out = "\"";
      for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
          out += '\\';
          out += ch;
        } else if (c >= 0x20 && c < 0x7F) {
          out += ch;
        } else {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        }
      }
      return out + "\"";
    }

    std::string text_;
    std::unique_ptr<JsonObject> object_;
  };

  Value& operator[](const std::string& key) { return fields_[key]; }
  bool contains(const std::string& key) const { return fields_.count(key) > 0; }

  // Dump writes the object indented by two spaces per level.
  std::string Dump() const {
    std::string out;
    Write(0, &out);
    return out;
  }

 private:
  void Write(size_t depth, std::string* out) const {
    if (fields_.empty()) {
      *out += "{}";
      return;
    }
    const std::string indent(2 * (depth + 1), ' ');
    *out += "{\n";
    bool first = true;
    for (const auto& [key, value] : fields_) {
      *out += first ? "" : ",\n";
      first = false;
      *out += indent + Value::Quote(key) + ": ";
      if (value.object_ != nullptr) {
        value.object_->Write(depth + 1, out);
      } else {
        *out += value.text_.empty() ? "null" : value.text_;
      }
    }
    *out += "\n" + std::string(2 * depth, ' ') + "}";
  }

  std::map<std::string, Value> fields_;
};

}  // namespace securechat::bench

#endif  // SECURECHAT_BENCH_JSON_WRITER_H_
