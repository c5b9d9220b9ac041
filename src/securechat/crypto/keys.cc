#include "securechat/crypto/keys.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/primitives.h"
#include "securechat/crypto/secret.h"
#include "securechat/wire/protocol.h"

namespace securechat {
namespace {

// A std::string that wipes itself, for PEM text of private keys.
class WipedString {
 public:
  WipedString() = default;
  ~WipedString() {
    s_.resize(s_.capacity());  // never reallocates; the bytes past size() are wiped too
    OPENSSL_cleanse(s_.data(), s_.size());
  }
  WipedString(const WipedString&) = delete;
  WipedString& operator=(const WipedString&) = delete;
  std::string& get() { return s_; }

 private:
  std::string s_;
};

absl::Status CheckRsaKey(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError("not an RSA key");
  }
  int bits = EVP_PKEY_get_bits(key);
  if (bits != 2048 && bits != 3072 && bits != 4096) {
    return absl::InvalidArgumentError(
        Cat("RSA key of ", bits, " bits; securechat uses 2048, 3072 or 4096"));
  }
  if (!proto::IsAllowedRsaLen(static_cast<size_t>(EVP_PKEY_get_size(key)))) {
    return absl::InvalidArgumentError("RSA modulus size not allowed");
  }
  return absl::OkStatus();
}

BioPtr MemBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

struct PassphraseRequest {
  const Passphrase* passphrase;
  bool asked = false;
};

// OpenSSL offers the callback PEM_BUFSIZE bytes when it decrypts a PEM key.
static_assert(kMaxPassphraseLen <= PEM_BUFSIZE, "a passphrase must fit the PEM callback buffer");

// TooLongPassphrase is the error for a passphrase over kMaxPassphraseLen, from any source.
absl::Status TooLongPassphrase(std::string_view what) {
  return absl::InvalidArgumentError(Cat(what, " is longer than ", kMaxPassphraseLen,
                                        " bytes, the most securechat accepts for a passphrase"));
}

int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* user) {
  auto* req = static_cast<PassphraseRequest*>(user);
  req->asked = true;
  if (req->passphrase == nullptr || size <= 0) {
    return -1;
  }
  std::string_view p = req->passphrase->Expose();
  if (p.size() > static_cast<size_t>(size)) {
    return -1;
  }
  std::memcpy(buf, p.data(), p.size());
  return static_cast<int>(p.size());
}

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
// return at once instead of waiting for a writer; on a regular file it changes nothing.
absl::StatusOr<KeyFile> OpenKeyFile(const std::string& path, const char* private_what) {
  KeyFile file(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (file.get() < 0) {
    return absl::ErrnoToStatus(errno, Cat("cannot open ", path));
  }
  struct stat st;
  if (fstat(file.get(), &st) != 0) {
    return absl::ErrnoToStatus(errno, Cat("cannot stat ", path));
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
absl::StatusOr<size_t> ReadUpTo(int fd, const std::string& path, absl::Span<char> buf) {
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

// ReadKeyFile reads a whole key file (at most 64 KiB) into `out`, refusing a private key file
// that others may use. `out` is sized once, before any byte is read, and only shrinks after:
// it is never reallocated, so no copy of a private key is left behind in a freed block.
absl::Status ReadKeyFile(const std::string& path, bool private_key, std::string* out) {
  constexpr size_t kMaxKeyFile = 64 * 1024;
  absl::StatusOr<KeyFile> file = OpenKeyFile(path, private_key ? "a private key" : nullptr);
  if (!file.ok()) {
    return file.status();
  }
  out->resize(kMaxKeyFile + 1);
  absl::StatusOr<size_t> n = ReadUpTo(file->get(), path, absl::MakeSpan(*out));
  if (!n.ok()) {
    return n.status();
  }
  if (*n > kMaxKeyFile) {
    return absl::InvalidArgumentError(Cat(path, " is too large for a key file"));
  }
  out->resize(*n);
  return absl::OkStatus();
}

}  // namespace

Passphrase::Passphrase(std::string_view text)
    : bytes_(std::make_unique<char[]>(text.size())), len_(text.size()) {
  if (len_ > 0) {
    std::memcpy(bytes_.get(), text.data(), len_);
  }
}

Passphrase::~Passphrase() {
  if (bytes_ != nullptr) {
    OPENSSL_cleanse(bytes_.get(), len_);
  }
}

Passphrase::Passphrase(Passphrase&& other) noexcept
    : bytes_(std::move(other.bytes_)), len_(std::exchange(other.len_, 0)) {}

absl::StatusOr<ServerPublicKey> ServerPublicKey::FromPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  EvpPkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (key == nullptr) {
    OpenSslErrorString();
    return absl::InvalidArgumentError("not a PEM public key (expected BEGIN PUBLIC KEY)");
  }
  if (absl::Status s = CheckRsaKey(key.get()); !s.ok()) {
    return s;
  }
  return ServerPublicKey(std::move(key));
}

absl::StatusOr<ServerPublicKey> ServerPublicKey::ReadFile(const std::string& path) {
  std::string pem;
  if (absl::Status s = ReadKeyFile(path, /*private_key=*/false, &pem); !s.ok()) {
    return s;
  }
  auto key = FromPem(pem);
  if (!key.ok()) {
    return absl::Status(key.status().code(), Cat(path, ": ", key.status().message()));
  }
  return key;
}

size_t ServerPublicKey::size() const { return static_cast<size_t>(EVP_PKEY_get_size(key_.get())); }

std::string ServerPublicKey::Fingerprint() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  if (len <= 0) {
    abort();  // Encoding a key we hold cannot fail but for lack of memory.
  }
  Sha256Digest digest;
  Sha256 h;
  if (!h.Update(ByteView(der, static_cast<size_t>(len))) || !h.Final(&digest)) {
    abort();
  }
  OPENSSL_free(der);
  std::string b64 = absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  while (!b64.empty() && b64.back() == '=') {
    b64.pop_back();
  }
  return Cat("SHA256:", b64);
}

std::string ServerPublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    abort();
  }
  return BioToString(bio.get());
}

absl::StatusOr<ServerPrivateKey> ServerPrivateKey::Generate(int bits) {
  if (bits != 2048 && bits != 3072 && bits != 4096) {
    return absl::InvalidArgumentError(Cat("--bits must be 2048, 3072 or 4096, not ", bits));
  }
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  if (key == nullptr) {
    return absl::InternalError(Cat("RSA key generation failed: ", OpenSslErrorString()));
  }
  return ServerPrivateKey(std::move(key));
}

absl::StatusOr<ServerPrivateKey> ServerPrivateKey::FromPem(std::string_view pem,
                                                           const Passphrase* passphrase) {
  if (passphrase != nullptr && passphrase->Expose().size() > kMaxPassphraseLen) {
    return TooLongPassphrase("the passphrase");
  }
  BioPtr bio = MemBio(pem);
  PassphraseRequest req{passphrase};
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, PassphraseCallback, &req)
                     : nullptr);
  if (key == nullptr) {
    OpenSslErrorString();
    if (req.asked && passphrase == nullptr) {
      return absl::InvalidArgumentError(
          "the private key is passphrase-protected: give --passphrase_file or run on a terminal "
          "to be asked");
    }
    if (req.asked) {
      return absl::InvalidArgumentError("wrong passphrase for the private key");
    }
    return absl::InvalidArgumentError("not a PEM private key (expected PKCS#8)");
  }
  if (absl::Status s = CheckRsaKey(key.get()); !s.ok()) {
    return s;
  }
  return ServerPrivateKey(std::move(key));
}

absl::StatusOr<ServerPrivateKey> ServerPrivateKey::ReadFile(const std::string& path,
                                                            const Passphrase* passphrase) {
  WipedString pem;
  if (absl::Status s = ReadKeyFile(path, /*private_key=*/true, &pem.get()); !s.ok()) {
    return s;
  }
  auto key = FromPem(pem.get(), passphrase);
  if (!key.ok()) {
    return absl::Status(key.status().code(), Cat(path, ": ", key.status().message()));
  }
  return key;
}

size_t ServerPrivateKey::size() const { return static_cast<size_t>(EVP_PKEY_get_size(key_.get())); }

ServerPublicKey ServerPrivateKey::PublicKey() const {
  // Round-trip through DER so the public object holds no private material.
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  if (len <= 0) {
    abort();
  }
  const unsigned char* p = der;
  EvpPkeyPtr pub(d2i_PUBKEY(nullptr, &p, len));
  OPENSSL_free(der);
  if (pub == nullptr) {
    abort();
  }
  return ServerPublicKey(std::move(pub));
}

absl::StatusOr<std::string> ServerPrivateKey::ToPem(const Passphrase* passphrase) const {
  if (passphrase != nullptr && passphrase->Expose().size() > kMaxPassphraseLen) {
    return TooLongPassphrase("the passphrase");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) {
    return absl::ResourceExhaustedError("out of memory");
  }
  int ok;
  if (passphrase != nullptr) {
    std::string_view p = passphrase->Expose();
    ok = PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), EVP_aes_256_cbc(),
                                       const_cast<char*>(p.data()), static_cast<int>(p.size()),
                                       nullptr, nullptr);
  } else {
    ok =
        PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  }
  if (ok != 1) {
    return absl::InternalError(Cat("cannot encode the key: ", OpenSslErrorString()));
  }
  std::string pem = BioToString(bio.get());
  // Wipe the BIO's copy before it is freed.
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len > 0) {
    OPENSSL_cleanse(data, static_cast<size_t>(len));
  }
  return pem;
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
      status =
          errno == EEXIST
              ? absl::AlreadyExistsError(Cat(path, " already exists; use --force to replace it"))
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
  std::array<char, kMaxPassphraseLen + 2> buf;
  ScopedWipe wipe(absl::MakeSpan(reinterpret_cast<uint8_t*>(buf.data()), buf.size()));
  absl::StatusOr<size_t> n = ReadUpTo(file->get(), path, absl::MakeSpan(buf));
  if (!n.ok()) {
    return n.status();
  }
  std::string_view text(buf.data(), *n);
  const size_t newline = text.find('\n');
  if (newline == std::string_view::npos && *n == buf.size()) {
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
