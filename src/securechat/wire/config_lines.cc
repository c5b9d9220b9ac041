#include "securechat/wire/config_lines.h"

#include <vector>

#include "securechat/base/cat.h"

namespace securechat {
namespace {

// IsPlainAscii is true when every byte of `line` is printable ASCII or a tab.
bool IsPlainAscii(std::string_view line) {
  for (const char ch : line) {
    const auto c = static_cast<unsigned char>(ch);
    if (c != '\t' && (c < 0x20 || c > 0x7e)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string ConfigLineError::Text() const {
  return line == 0 ? why : Cat("line ", line, ": ", why);
}

std::optional<ConfigLineError> ForEachConfigLine(
    std::string_view text, size_t max_file_bytes, size_t max_line_bytes,
    absl::FunctionRef<std::string(size_t, absl::Span<const std::string_view>)> fn) {
  if (text.size() > max_file_bytes) {
    return ConfigLineError{0, Cat("the file is over ", max_file_bytes, " bytes")};
  }
  std::vector<std::string_view> fields;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);  // a file saved with CRLF line ends
    }
    if (line.size() > max_line_bytes) {
      return ConfigLineError{number, Cat("longer than ", max_line_bytes, " bytes")};
    }
    if (!IsPlainAscii(line)) {
      return ConfigLineError{number, "a control character or a byte that is not ASCII"};
    }
    fields.clear();
    while (!line.empty()) {
      const size_t start = line.find_first_not_of(" \t");
      if (start == std::string_view::npos) {
        break;
      }
      line.remove_prefix(start);
      const size_t stop = line.find_first_of(" \t");
      fields.push_back(line.substr(0, stop));
      line = stop == std::string_view::npos ? std::string_view() : line.substr(stop);
    }
    if (fields.empty() || fields.front().front() == '#') {
      continue;
    }
    if (std::string why = fn(number, fields); !why.empty()) {
      return ConfigLineError{number, std::move(why)};
    }
  }
  return std::nullopt;
}

}  // namespace securechat
