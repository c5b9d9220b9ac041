#include "securechat/net/bans_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "securechat/base/cat.h"
#include "securechat/crypto/key_files.h"
#include "securechat/net/files.h"
#include "securechat/net/socket.h"

namespace securechat::net {
namespace {

// MaxBansFileBytes is max_entries full lines and the slack, or the largest size_t if that
// would overflow (the list's own bound then refuses the file first).
size_t MaxBansFileBytes(size_t max_entries) {
  constexpr size_t kMax = std::numeric_limits<size_t>::max();
  if (max_entries > (kMax - kBansFileSlack) / kMaxBansLineBytes) {
    return kMax;
  }
  return max_entries * kMaxBansLineBytes + kBansFileSlack;
}

// DirectoryOf is the directory holding `path`, as open(2) takes it.
std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::StatusOr<BanList> LoadBans(const std::string& path, size_t max_entries, uint64_t now_ms) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, MaxBansFileBytes(max_entries));
  if (absl::IsNotFound(text.status())) {
    return BanList(max_entries);
  }
  if (!text.ok()) {
    return text.status();  // names the path
  }
  absl::StatusOr<BanList> bans = BanList::Parse(*text, max_entries, now_ms);
  if (!bans.ok()) {
    return absl::InvalidArgumentError(Cat(path, ": ", bans.status().message()));
  }
  return bans;
}

absl::Status SaveBans(const std::string& path, const BanList& bans) {
  if (absl::Status written = WriteKeyFile(path, bans.Serialize(), 0600, /*overwrite=*/true);
      !written.ok()) {
    return written;
  }
  // WriteKeyFile syncs the file before the rename but not the directory after it: without
  // this, a crash could bring back the old list (a lifted ban again, a new one gone).
  const std::string dir = DirectoryOf(path);
  const Fd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return absl::ErrnoToStatus(errno, Cat("cannot open ", dir, " to sync ", path));
  }
  if (fsync(fd.get()) != 0) {
    return absl::ErrnoToStatus(errno, Cat("cannot sync ", dir, " after writing ", path));
  }
  return absl::OkStatus();
}

}  // namespace securechat::net
