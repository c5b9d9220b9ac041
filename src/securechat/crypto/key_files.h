// Key files: reading and writing the server's key files and passphrase files, with the checks
// on modes, owners and sizes that keep them private. Encoding keys is in keys.h.
#ifndef SECURECHAT_CRYPTO_KEY_FILES_H_
#define SECURECHAT_CRYPTO_KEY_FILES_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/secret.h"

namespace securechat {

// The largest key file securechat reads, in bytes.
inline constexpr size_t kMaxKeyFileLen = 64 * 1024;

// ReadAllSecret reads `fd` until it ends into `out` (which it empties first). The buffer starts
// at `size_hint` bytes (a regular file's size; 0 when unknown, as for a pipe) and grows as
// Secret<> grows, so every block it outgrows is wiped before it is freed and no copy of what
// was read is left in freed memory. Fails with OutOfRange if there are more than `max_len`
// bytes, or with the read's errno; on failure `out` is empty and what was read is wiped.
absl::Status ReadAllSecret(int fd, size_t max_len, size_t size_hint, Secret<>* out);

// WriteKeyFile writes `contents` to `path` atomically with the given mode: a temporary file in
// the same directory, fsync, then a rename (or, without `overwrite`, a link that fails with
// AlreadyExists if `path` exists). The temporary file is removed on every failure.
absl::Status WriteKeyFile(const std::string& path, std::string_view contents, int mode,
                          bool overwrite);

// ReadPassphraseFile reads the first line of a passphrase file, without its newline (and a
// '\r' before it); nothing after the first line is read. Fails, saying why and naming the file,
// if the file is not a regular file, if group or others may read or write it ("permissions
// 0644 are too open", as ssh says of keys), if the line is longer than kMaxPassphraseLen or if
// it is empty. The file is read into a fixed buffer that is wiped, so the only copy left is
// the returned Passphrase.
absl::StatusOr<Passphrase> ReadPassphraseFile(const std::string& path);

// PrepareKeyDirectory makes `dir` ready to receive key files: creates it with mode 0700 if it
// is missing. Fails, saying why and how to fix it, if it is not a directory or if users other
// than its owner could replace files in it: group- or world-writable, unless it is sticky
// (like /tmp) and owned by this user or root, so that only we and root may rename or remove
// what we write there.
absl::Status PrepareKeyDirectory(const std::string& dir);

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_KEY_FILES_H_
