#include "securechat/net/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "securechat/base/cat.h"
#include "securechat/net/socket.h"

namespace securechat::net {

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: a FIFO in the file's place must not hold the caller (the server's loop) until
  // someone writes to it; it is refused below as not a regular file.
  const Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    const std::string why = Cat("cannot open ", path, ": ", strerror(errno));
    return errno == ENOENT ? absl::NotFoundError(why) : absl::InvalidArgumentError(why);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(Cat(path, " is not a regular file"));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return absl::InvalidArgumentError(Cat("cannot read ", path, ": ", strerror(errno)));
    }
    if (n == 0) {
      return text;
    }
    if (static_cast<size_t>(n) > max_bytes - text.size()) {
      return absl::InvalidArgumentError(Cat(path, " is larger than ", max_bytes, " bytes"));
    }
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace securechat::net
