#include "securechat/net/local_files.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "securechat/base/cat.h"
#include "securechat/net/socket.h"
#include "securechat/net/user_paths.h"
#include "securechat/wire/protocol.h"

namespace securechat::net {
namespace {

// ErrnoError is the error of a failed call on `path`: ResourceExhausted for a full disk or
// quota (the transfer says so to the sender), else FailedPrecondition.
absl::Status ErrnoError(int err, std::string_view what, std::string_view path) {
  const std::string message = Cat(what, " ", path, ": ", strerror(err));
  return err == ENOSPC || err == EDQUOT ? absl::ResourceExhaustedError(message)
                                        : absl::FailedPreconditionError(message);
}

class LocalReader final : public FileReader {
 public:
  LocalReader(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<uint8_t> buf) override {
    size_t got = 0;
    while (got < buf.size()) {
      const ssize_t n =
          pread(fd_.get(), buf.data() + got, buf.size() - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return ErrnoError(errno, "cannot read", path_);
      }
      if (n == 0) {
        break;
      }
      got += static_cast<size_t>(n);
    }
    return got;
  }

 private:
  Fd fd_;
  std::string path_;
};

class LocalTempFile final : public TempFile {
 public:
  LocalTempFile(Fd dir, std::string dir_path, Fd fd, std::string name)
      : dir_(std::move(dir)),
        dir_path_(std::move(dir_path)),
        fd_(std::move(fd)),
        name_(std::move(name)) {}
  ~LocalTempFile() override {
    if (!published_) {
      unlinkat(dir_.get(), name_.c_str(), 0);
    }
  }

  absl::Status Write(absl::Span<const uint8_t> data) override {
    while (!data.empty()) {
      const ssize_t n = write(fd_.get(), data.data(), data.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return ErrnoError(errno, "cannot write to", dir_path_);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (fsync(fd_.get()) != 0) {
      return ErrnoError(errno, "cannot write to", dir_path_);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Publish(std::string_view name) override {
    for (int n = 0; n < LocalFileSystem::kMaxNameTries; ++n) {
      const std::string candidate = NumberedName(std::string(name), n);
      int err = 0;
      // RENAME_NOREPLACE fails with EEXIST instead of replacing; where the file system does not
      // support it, a hard link does the same (link() never replaces either).
      if (renameat2(dir_.get(), name_.c_str(), dir_.get(), candidate.c_str(), RENAME_NOREPLACE) ==
          0) {
        published_ = true;
      } else if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
        err = errno;
      } else if (linkat(dir_.get(), name_.c_str(), dir_.get(), candidate.c_str(), 0) == 0) {
        unlinkat(dir_.get(), name_.c_str(), 0);
        published_ = true;
      } else {
        err = errno;
      }
      if (published_) {
        fsync(dir_.get());  // the new name on the disk too
        return Cat(dir_path_, "/", candidate);
      }
      if (err != EEXIST) {
        return ErrnoError(err, "cannot name the file in", dir_path_);
      }
    }
    return absl::AlreadyExistsError(Cat("cannot name the file in ", dir_path_, ": ", name, " and ",
                                        LocalFileSystem::kMaxNameTries - 1,
                                        " numbered names are taken"));
  }

 private:
  Fd dir_;
  std::string dir_path_;
  Fd fd_;
  std::string name_;
  bool published_ = false;
};

}  // namespace

std::string NumberedName(const std::string& name, int n) {
  if (n == 0) {
    return name;
  }
  std::string_view stem = name;
  std::string_view extension;
  // An extension as SafeFileName keeps one; a longer "extension" is part of the stem, so that
  // the number always fits.
  if (const size_t dot = name.rfind('.');
      dot != std::string::npos && dot > 0 && name.size() - dot <= kMaxKeptExtension) {
    stem = std::string_view(name).substr(0, dot);
    extension = std::string_view(name).substr(dot);
  }
  const std::string number = Cat(" (", n, ")");
  const size_t room =
      proto::kMaxFileNameLen - std::min(proto::kMaxFileNameLen, number.size() + extension.size());
  if (stem.size() > room) {
    size_t cut = room;
    while (cut > 0 && (static_cast<uint8_t>(stem[cut]) & 0xC0) == 0x80) {
      --cut;  // to the start of a code point
    }
    stem = stem.substr(0, cut);
  }
  return Cat(stem, number, extension);
}

absl::StatusOr<std::string> MakeDirectories(const std::string& dir) {
  const std::string path = ExpandHome(dir);
  if (path.empty()) {
    return absl::InvalidArgumentError("no folder given");
  }
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoError(errno, "cannot make the folder", prefix);
    }
    if (slash == std::string::npos) {
      break;
    }
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(Cat(path, " is not a folder"));
  }
  return path;
}

absl::StatusOr<std::unique_ptr<FileReader>> LocalFileSystem::OpenForReading(const std::string& path,
                                                                            uint64_t* size) {
  const std::string full = ExpandHome(path);
  // O_NONBLOCK: a FIFO in the file's place must not hold the client; it is refused below.
  Fd fd(open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) {
    return ErrnoError(errno, "cannot open", full);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(Cat(full, " is not a regular file"));
  }
  *size = static_cast<uint64_t>(st.st_size);
  return std::make_unique<LocalReader>(std::move(fd), full);
}

absl::StatusOr<uint64_t> LocalFileSystem::FreeBytes(const std::string& dir) {
  absl::StatusOr<std::string> path = MakeDirectories(dir);
  if (!path.ok()) {
    return path.status();
  }
  struct statvfs vfs {};
  if (statvfs(path->c_str(), &vfs) != 0) {
    return ErrnoError(errno, "cannot read the free space of", *path);
  }
  const uint64_t blocks = vfs.f_bavail;
  const uint64_t block = vfs.f_frsize;
  return block != 0 && blocks > UINT64_MAX / block ? UINT64_MAX : blocks * block;
}

absl::StatusOr<std::unique_ptr<TempFile>> LocalFileSystem::CreateTemp(const std::string& dir) {
  absl::StatusOr<std::string> path = MakeDirectories(dir);
  if (!path.ok()) {
    return path.status();
  }
  Fd dir_fd(open(path->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    return ErrnoError(errno, "cannot open the folder", *path);
  }
  static uint64_t counter = 0;
  for (int tries = 0; tries < 100; ++tries) {
    const std::string name = Cat(".securechat-", getpid(), "-", ++counter, ".part");
    Fd fd(openat(dir_fd.get(), name.c_str(),
                 O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
    if (fd.valid()) {
      return std::make_unique<LocalTempFile>(std::move(dir_fd), *path, std::move(fd), name);
    }
    if (errno != EEXIST) {
      return ErrnoError(errno, "cannot make a file in", *path);
    }
  }
  return absl::AlreadyExistsError(
      Cat("cannot make a file in ", *path, ": every name tried is taken"));
}

}  // namespace securechat::net
