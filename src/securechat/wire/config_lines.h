// ForEachConfigLine: the one reader of the project's line-based files (the server's members
// file, the client's known_servers), so that each of them is bounded and split the same way.
#ifndef SECURECHAT_WIRE_CONFIG_LINES_H_
#define SECURECHAT_WIRE_CONFIG_LINES_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/types/span.h"

namespace securechat {

struct ConfigLineError {
  size_t line = 0;  // 1-based; 0 when the file as a whole is refused (too large)
  std::string why;
  // Text is "line N: why", or just why for the whole file.
  std::string Text() const;
};

// ForEachConfigLine splits `text` into lines ('\n', with a '\r' before it dropped) and each line
// into fields (runs of spaces and tabs between them), and calls `fn(line_number, fields)` for
// every line that has fields and whose first field does not start with '#'. `fn` returns an
// empty string to go on, or why the line is wrong. A file over `max_file_bytes`, a line over
// `max_line_bytes`, or a line with a control character (other than tab) or a byte that is not
// ASCII is refused before `fn` sees it. Returns the first error, or nullopt.
std::optional<ConfigLineError> ForEachConfigLine(
    std::string_view text, size_t max_file_bytes, size_t max_line_bytes,
    absl::FunctionRef<std::string(size_t, absl::Span<const std::string_view>)> fn);

}  // namespace securechat

#endif  // SECURECHAT_WIRE_CONFIG_LINES_H_
