#include "securechat/net/terminal.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "securechat/net/socket.h"

namespace securechat::net {

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
  std::string line;
  line.reserve(1025);  // on the heap from the start, so the move below copies no bytes
  char c;
  while (line.size() < 1024) {
    ssize_t n = read(tty.get(), &c, 1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0 || c == '\n') {
      break;
    }
    line.push_back(c);
  }
  c = 0;
  tcsetattr(tty.get(), TCSAFLUSH, &saved);
  Passphrase pass(std::move(line));
  if (pass.Expose().empty()) {
    return absl::InvalidArgumentError("empty passphrase");
  }
  return pass;
}

}  // namespace securechat::net
