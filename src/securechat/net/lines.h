// LineSplitter: cuts bytes read from a pipe, a file or a console into lines, within a bound
// that the layer owning the lines chooses.
#ifndef SECURECHAT_NET_LINES_H_
#define SECURECHAT_NET_LINES_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace securechat::net {

class LineSplitter {
 public:
  using OnLine = std::function<void(std::string_view line)>;
  using OnOverlong = std::function<void()>;

  // `max_line_len` is the longest line passed on; it is also the most bytes held while a line
  // has not ended.
  explicit LineSplitter(size_t max_line_len) : max_line_len_(max_line_len) {}

  // Add takes bytes that were read and calls `on_line` with each line they complete (without
  // its '\n'). A line longer than max_line_len is never passed on, whole or in pieces: its
  // bytes are dropped up to its newline, and `on_overlong` is called once for it.
  void Add(std::string_view bytes, const OnLine& on_line, const OnOverlong& on_overlong);

  // TakeRest returns the unfinished last line, for the end of input, and forgets it. Empty if
  // there is none or the line being dropped was too long.
  std::string TakeRest();

 private:
  size_t max_line_len_;
  std::string pending_;    // the unfinished line
  bool skipping_ = false;  // dropping an over-long line until its newline
};

// ReadStatus is what ReadLines found.
enum class ReadStatus { kOpen, kEnded };

// ReadLines reads what descriptor `fd` holds now (once, never waiting if it is non-blocking)
// into `lines`, which passes on complete lines as Add does. Returns kEnded at end of input or
// on a read error; "would block" and interruptions leave it open.
ReadStatus ReadLines(int fd, LineSplitter& lines, const LineSplitter::OnLine& on_line,
                     const LineSplitter::OnOverlong& on_overlong);

}  // namespace securechat::net

#endif  // SECURECHAT_NET_LINES_H_
