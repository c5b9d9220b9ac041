// LineInput: where typed lines come from, for the client's loop and the server's console: a
// pipe or a file, or a line editor at a terminal (src/securechat/tty), which the loops reach
// only through this interface.
#ifndef SECURECHAT_NET_LINE_INPUT_H_
#define SECURECHAT_NET_LINE_INPUT_H_

#include <functional>
#include <string_view>

namespace securechat::net {

class LineInput {
 public:
  using OnLine = std::function<void(std::string_view line)>;
  virtual ~LineInput() = default;
  // fd is the descriptor to wait on for input; -1 once the input has ended.
  virtual int fd() const = 0;
  // Read takes what is waiting on fd() and passes each complete line (without its newline) to
  // `on_line`. Returns false at the end of input, after passing on the lines before it.
  virtual bool Read(const OnLine& on_line) = 0;
};

}  // namespace securechat::net

#endif  // SECURECHAT_NET_LINE_INPUT_H_
