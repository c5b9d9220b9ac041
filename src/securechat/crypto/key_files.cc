#include "securechat/crypto/key_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/strings/str_format.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/ed25519.h"

namespace securechat {
namespace {

// KeyFile is a descriptor opened by OpenKeyFile; it is closed when the object goes away.
class KeyFile {
 public:
  explicit KeyFile(int fd) : fd_(fd) {}
  ~KeyFile() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  KeyFile(KeyFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  KeyFile(const KeyFile&) = delete;
  KeyFile& operator=(const KeyFile&) = delete;
  KeyFile& operator=(KeyFile&&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// TooOpen is the error for a file or directory that other users may use: it names the mode,
// as ssh does, says what is at stake and gives the chmod that fixes it.
absl::Status TooOpen(const std::string& path, mode_t mode, std::string_view why,
                     std::string_view fixed_mode) {
  return absl::PermissionDeniedError(Cat(path, ": permissions ",
                                         absl::StrFormat("%04o", mode & 07777), " are too open; ",
                                         why, ": run `chmod ", fixed_mode, " ", path, "`"));
}

// OpenKeyFile opens `path` for reading and checks what it opened: a regular file and, when
// `private_what` is not null, one that group and others may neither read nor write (the error
// names the mode, as ssh does, and says how to fix it). O_NONBLOCK makes the open of a FIFO
// return at once instead of waiting for a writer; on a regular file it changes nothing. When
// `size` is not null it gets the file's size.
absl::StatusOr<KeyFile> OpenKeyFile(const std::string& path, const char* private_what,
                                    size_t* size = nullptr) {
  KeyFile file(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (file.get() < 0) {
    return absl::ErrnoToStatus(errno, Cat("cannot open ", path));
  }
  struct stat st;
  if (fstat(file.get(), &st) != 0) {
    return absl::ErrnoToStatus(errno, Cat("cannot stat ", path));
  }
  if (size != nullptr) {
    *size = st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(Cat(path, " is not a regular file"));
  }
  if (private_what != nullptr && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return TooOpen(path, st.st_mode, Cat("group and others must not read or write ", private_what),
                   "600");
  }
  return file;
}

// ReadUpTo reads from `fd` until `buf` is full or the file ends. Returns how many bytes it read.
absl::StatusOr<size_t> ReadUpTo(int fd, const std::string& path, absl::Span<uint8_t> buf) {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = read(fd, buf.data() + done, buf.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return absl::ErrnoToStatus(errno, Cat("cannot read ", path));
    }
    if (n == 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

// ReadKeyFile reads a whole key file (at most kMaxKeyFileLen bytes) into `out`, refusing a
// private key file that others may use. The buffer is sized from the file's size, so it grows
// only if the file grows while it is read (and then wipes what it leaves, as Secret<> does).
absl::Status ReadKeyFile(const std::string& path, bool private_key, Secret<>* out) {
  size_t size = 0;
  absl::StatusOr<KeyFile> file = OpenKeyFile(path, private_key ? "a private key" : nullptr, &size);
  if (!file.ok()) {
    return file.status();
  }
  // One byte more than the file holds, so that the read that sees its end needs no new block.
  absl::Status read =
      ReadAllSecret(file->get(), kMaxKeyFileLen, std::min(size, kMaxKeyFileLen) + 1, out);
  if (absl::IsOutOfRange(read)) {
    return absl::InvalidArgumentError(Cat(path, " is too large for a key file"));
  }
  if (!read.ok()) {
    return absl::Status(read.code(), Cat("cannot read ", path, ": ", read.message()));
  }
  return absl::OkStatus();
}

// KeyLoadErrorOf classifies a failure to open or read a key file.
KeyLoadError KeyLoadErrorOf(const absl::Status& status) {
  return absl::IsNotFound(status) ? KeyLoadError::kNotFound : KeyLoadError::kFileRefused;
}

// IsPublicKeyFile is true when `path` holds a PEM public key: the file someone gave where the
// private key was wanted (the two sit side by side).
bool IsPublicKeyFile(const std::string& path) {
  Secret<> text;
  if (!ReadKeyFile(path, /*private_key=*/false, &text).ok()) {
    return false;
  }
  const std::string_view pem = AsChars(text.Expose());
  return pem.find("-----BEGIN PUBLIC KEY-----") != std::string_view::npos ||
         pem.find("-----BEGIN RSA PUBLIC KEY-----") != std::string_view::npos;
}

absl::Status PublicKeyGiven(const std::string& path) {
  return absl::InvalidArgumentError(
      Cat(path,
          " is a public key; give the private key (chat-keygen writes it beside the public "
          "one, as server_private.pem)"));
}

}  // namespace

absl::Status ReadAllSecret(int fd, size_t max_len, size_t size_hint, Secret<>* out) {
  constexpr size_t kFirstCapacity = 1024;
  out->Wipe();
  for (;;) {
    if (out->Spare().empty()) {
      // Full (and, checked below, not past max_len): double, but never past one byte more than
      // max_len, the byte that tells a file that is too long from one of exactly max_len.
      const size_t grown =
          out->capacity() == 0 ? (size_hint > 0 ? size_hint : kFirstCapacity) : 2 * out->capacity();
      if (!out->Reserve(std::min(grown, max_len + 1))) {
        out->Wipe();
        return absl::ResourceExhaustedError("out of memory");
      }
    }
    const absl::Span<uint8_t> spare = out->Spare();
    const ssize_t n = read(fd, spare.data(), spare.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int error = errno;
      out->Wipe();
      return absl::ErrnoToStatus(error, "read failed");
    }
    if (n == 0) {
      break;
    }
    out->Commit(static_cast<size_t>(n));
    if (out->size() > max_len) {
      out->Wipe();
      return absl::OutOfRangeError("too long");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerPublicKey> ServerPublicKey::ReadFile(const std::string& path) {
  Secret<> pem;
  if (absl::Status s = ReadKeyFile(path, /*private_key=*/false, &pem); !s.ok()) {
    return s;
  }
  auto key = FromPem(AsChars(pem.Expose()));
  if (!key.ok()) {
    return absl::Status(key.status().code(), Cat(path, ": ", key.status().message()));
  }
  return key;
}

absl::StatusOr<ServerPrivateKey> ServerPrivateKey::ReadFile(const std::string& path,
                                                            const Passphrase* passphrase,
                                                            KeyLoadError* why) {
  Secret<> pem;
  if (absl::Status s = ReadKeyFile(path, /*private_key=*/true, &pem); !s.ok()) {
    if (why != nullptr) {
      *why = KeyLoadErrorOf(s);
    }
    // A public key is world-readable by design: say what it is, not how to chmod it.
    if (absl::IsPermissionDenied(s) && IsPublicKeyFile(path)) {
      if (why != nullptr) {
        *why = KeyLoadError::kBadKey;
      }
      return PublicKeyGiven(path);
    }
    return s;
  }
  auto key = FromPem(AsChars(pem.Expose()), passphrase, why);
  if (!key.ok()) {
    if (IsPublicKeyFile(path)) {
      return PublicKeyGiven(path);
    }
    return absl::Status(key.status().code(), Cat(path, ": ", key.status().message()));
  }
  return key;
}

absl::StatusOr<Ed25519Key> Ed25519Key::ReadFile(const std::string& path,
                                                const Passphrase* passphrase, KeyLoadError* why) {
  Secret<> pem;
  if (absl::Status s = ReadKeyFile(path, /*private_key=*/true, &pem); !s.ok()) {
    if (why != nullptr) {
      *why = KeyLoadErrorOf(s);
    }
    return s;
  }
  auto key = FromPem(AsChars(pem.Expose()), passphrase, why);
  if (!key.ok()) {
    return absl::Status(key.status().code(), Cat(path, ": ", key.status().message()));
  }
  return key;
}

absl::Status WriteKeyFile(const std::string& path, std::string_view contents, int mode,
                          bool overwrite) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = mkostemp(tmp.data(), O_CLOEXEC);  // created with mode 0600
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, Cat("cannot create a file next to ", path));
  }
  absl::Status status;
  size_t done = 0;
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    status = absl::ErrnoToStatus(errno, Cat("cannot set the mode of ", tmp));
  }
  while (status.ok() && done < contents.size()) {
    ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      status = absl::ErrnoToStatus(errno, Cat("cannot write ", tmp));
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (status.ok() && fsync(fd) != 0) {
    status = absl::ErrnoToStatus(errno, Cat("cannot sync ", tmp));
  }
  close(fd);
  if (status.ok()) {
    if (overwrite) {
      if (rename(tmp.c_str(), path.c_str()) != 0) {
        status = absl::ErrnoToStatus(errno, Cat("cannot rename to ", path));
      }
    } else if (link(tmp.c_str(), path.c_str()) != 0) {
      status = errno == EEXIST ? absl::AlreadyExistsError(Cat(path, " already exists"))
                               : absl::ErrnoToStatus(errno, Cat("cannot create ", path));
    }
  }
  unlink(tmp.c_str());  // After rename this fails harmlessly; after link it drops the temp name.
  return status;
}

absl::StatusOr<Passphrase> ReadPassphraseFile(const std::string& path) {
  absl::StatusOr<KeyFile> file = OpenKeyFile(path, "a passphrase file");
  if (!file.ok()) {
    return file.status();
  }
  // Room for the longest passphrase and its "\r\n": a first line that does not end in it is
  // too long, and nothing after it is read.
  Secret<kMaxPassphraseLen + 2> buf;
  absl::StatusOr<size_t> n = ReadUpTo(file->get(), path, buf.Expose());
  if (!n.ok()) {
    return n.status();
  }
  const std::string_view text = AsChars(buf.Expose().first(*n));
  const size_t newline = text.find('\n');
  if (newline == std::string_view::npos && *n == buf.kSize) {
    return TooLongPassphrase(Cat(path, ": the first line"));
  }
  std::string_view line = text.substr(0, newline);
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (line.size() > kMaxPassphraseLen) {
    return TooLongPassphrase(Cat(path, ": the first line"));
  }
  if (line.empty()) {
    return absl::InvalidArgumentError(Cat(path, ": the passphrase is empty"));
  }
  return Passphrase(line);
}

absl::Status PrepareKeyDirectory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) == 0) {
    return absl::OkStatus();
  }
  if (errno != EEXIST) {
    return absl::ErrnoToStatus(errno, Cat("cannot create ", dir));
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(errno, Cat("cannot stat ", dir));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(Cat(dir, " is not a directory"));
  }
  // Whoever owns the directory may rename or replace what is written there (as ssh's
  // StrictModes judges it): it must be ours or root's.
  if (st.st_uid != geteuid() && st.st_uid != 0) {
    return absl::FailedPreconditionError(
        Cat(dir, " belongs to another user (uid ", st.st_uid,
            "), who could replace the key files written there; use a directory of your own"));
  }
  // In a sticky directory only a file's owner, the directory's owner and root may rename or
  // remove it.
  const bool others_may_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  const bool sticky_and_ours =
      (st.st_mode & S_ISVTX) != 0 && (st.st_uid == geteuid() || st.st_uid == 0);
  if (others_may_write && !sticky_and_ours) {
    return TooOpen(dir, st.st_mode, "other users could replace the key files written there", "700");
  }
  return absl::OkStatus();
}

}  // namespace securechat
