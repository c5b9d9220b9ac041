#include "securechat/net/user_paths.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include "absl/status/status.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/key_files.h"

namespace securechat::net {
namespace {

// AbsoluteEnv is the value of environment variable `name` when it is an absolute path.
std::string AbsoluteEnv(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] == '/' ? std::string(value) : std::string();
}

}  // namespace

absl::StatusOr<std::string> UserConfigDir() {
  if (std::string xdg = AbsoluteEnv("XDG_CONFIG_HOME"); !xdg.empty()) {
    return Cat(xdg, "/securechat");
  }
  if (std::string home = AbsoluteEnv("HOME"); !home.empty()) {
    return Cat(home, "/.config/securechat");
  }
  return absl::FailedPreconditionError(
      "neither XDG_CONFIG_HOME nor HOME is set to an absolute path: cannot find the folder for "
      "securechat's files");
}

absl::StatusOr<std::string> PrepareUserConfigDir() {
  absl::StatusOr<std::string> dir = UserConfigDir();
  if (!dir.ok()) {
    return dir.status();
  }
  const std::string parent = dir->substr(0, dir->rfind('/'));
  if (mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, Cat("cannot create ", parent));
  }
  if (absl::Status ready = PrepareKeyDirectory(*dir); !ready.ok()) {
    return ready;
  }
  return dir;
}

std::string ExpandHome(const std::string& path) {
  const char* home = std::getenv("HOME");
  if (path.starts_with("~/") && home != nullptr && home[0] == '/') {
    return Cat(home, path.substr(1));
  }
  return path;
}

}  // namespace securechat::net
