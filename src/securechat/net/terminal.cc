#include "securechat/net/terminal.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string_view>

#include "securechat/base/cat.h"
#include "securechat/crypto/secret.h"
#include "securechat/net/socket.h"
#include "securechat/net/stop_signals.h"

namespace securechat::net {

bool IsTerminal(int fd) { return isatty(fd) == 1; }

bool SameTerminal(int a, int b) {
  struct stat sa {};
  struct stat sb {};
  return IsTerminal(a) && IsTerminal(b) && fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
         sa.st_rdev == sb.st_rdev;
}

size_t TerminalColumns(int fd) {
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0) {
    return 0;
  }
  return ws.ws_col;
}

HourMinute LocalHourMinute(uint64_t unix_ms) {
  const time_t t = static_cast<time_t>(unix_ms / 1000);
  tm local{};
  if (localtime_r(&t, &local) == nullptr) {
    return {};
  }
  return {.hour = local.tm_hour,
          .minute = local.tm_min,
          .year = local.tm_year + 1900,
          .month = local.tm_mon + 1,
          .day = local.tm_mday};
}

uint64_t WallClockMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

bool HaveTerminal() {
  Fd tty(open("/dev/tty", O_RDWR | O_CLOEXEC));
  return tty.valid();
}

absl::StatusOr<Passphrase> AskPassphrase(const std::string& prompt) {
  Fd tty(open("/dev/tty", O_RDWR | O_CLOEXEC));
  if (!tty.valid()) {
    return absl::FailedPreconditionError("no terminal to ask for a passphrase on");
  }
  termios saved{};
  if (tcgetattr(tty.get(), &saved) != 0) {
    return absl::ErrnoToStatus(errno, "cannot read the terminal settings");
  }
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  [[maybe_unused]] ssize_t w = write(tty.get(), prompt.data(), prompt.size());
  if (tcsetattr(tty.get(), TCSAFLUSH, &quiet) != 0) {
    return absl::ErrnoToStatus(errno, "cannot turn off echo");
  }
  // Room for the longest passphrase and one byte more, to tell that a line is too long. The
  // line is read here, on the stack, and wiped; the Passphrase is its only copy.
  Secret<kMaxPassphraseLen + 1> line;
  size_t len = 0;
  uint8_t c = 0;
  bool stopped = false;
  while (len < line.kSize) {
    ssize_t n = read(tty.get(), &c, 1);
    if (n < 0 && errno == EINTR) {
      if (!StopRequested()) {
        continue;
      }
      stopped = true;
      break;
    }
    if (n <= 0 || c == '\n') {
      break;
    }
    line.Expose()[len++] = c;
  }
  c = 0;
  tcsetattr(tty.get(), TCSAFLUSH, &saved);  // also drops what is left of a long line
  if (stopped) {
    [[maybe_unused]] ssize_t nl = write(tty.get(), "\n", 1);  // echo is off: end the prompt
    return absl::CancelledError("stopped by SIGINT or SIGTERM");
  }
  if (len > kMaxPassphraseLen) {
    return absl::InvalidArgumentError(Cat("the passphrase is longer than ", kMaxPassphraseLen,
                                          " bytes, the most securechat accepts"));
  }
  if (len == 0) {
    return absl::InvalidArgumentError("empty passphrase");
  }
  return Passphrase(line.Expose().first(len));
}

absl::StatusOr<std::string> AskLine(std::string_view prompt, size_t max_len) {
  Fd tty(open("/dev/tty", O_RDWR | O_CLOEXEC));
  if (!tty.valid()) {
    return absl::FailedPreconditionError("no terminal to ask on");
  }
  [[maybe_unused]] ssize_t w = write(tty.get(), prompt.data(), prompt.size());
  std::string line;
  char c = 0;
  for (;;) {
    const ssize_t n = read(tty.get(), &c, 1);
    if (n < 0 && errno == EINTR) {
      if (StopRequested()) {
        return absl::CancelledError("stopped by SIGINT or SIGTERM");
      }
      continue;
    }
    if (n <= 0 || c == '\n') {
      break;
    }
    if (line.size() <= max_len) {
      line.push_back(c);
    }
  }
  if (line.size() > max_len) {
    return absl::InvalidArgumentError("the answer is too long");
  }
  return line;
}

}  // namespace securechat::net
