#include "securechat/net/lines.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <utility>

namespace securechat::net {

void LineSplitter::Add(std::string_view bytes, const OnLine& on_line,
                       const OnOverlong& on_overlong) {
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    const std::string_view part = bytes.substr(0, nl);
    const bool ended = nl != std::string_view::npos;
    bytes.remove_prefix(ended ? nl + 1 : bytes.size());
    if (!skipping_ && pending_.size() + part.size() > max_line_len_) {
      pending_.clear();
      skipping_ = true;
      if (on_overlong) {
        on_overlong();
      }
    }
    if (skipping_) {
      skipping_ = !ended;
      continue;
    }
    if (!ended) {
      pending_.append(part);
    } else if (pending_.empty()) {
      on_line(part);  // the common case: the whole line arrived in one read
    } else {
      pending_.append(part);
      on_line(pending_);
      pending_.clear();
    }
  }
}

std::string LineSplitter::TakeRest() {
  skipping_ = false;
  return std::exchange(pending_, std::string());
}

ReadStatus ReadLines(int fd, LineSplitter& lines, const LineSplitter::OnLine& on_line,
                     const LineSplitter::OnOverlong& on_overlong) {
  std::array<char, 16 * 1024> buf;
  const ssize_t n = read(fd, buf.data(), buf.size());
  if (n > 0) {
    lines.Add(std::string_view(buf.data(), static_cast<size_t>(n)), on_line, on_overlong);
    return ReadStatus::kOpen;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return ReadStatus::kOpen;
  }
  return ReadStatus::kEnded;
}

}  // namespace securechat::net
