// User authentication (PROTOCOL.md 6.9): what a client's Ed25519 key signs to prove, inside
// one connection's records, that it holds the key.
//
// The signed bytes are OpenSSH's SSHSIG signed-data blob (PROTOCOL.sshsig, the layout
// `ssh-keygen -Y sign` signs) of the message "securechat v1 client auth" || th, in the namespace
// "securechat", hashed with SHA-512. One form serves a key file and a key in ssh-agent alike.
// The form makes the signature useless anywhere else: it cannot pass for an SSH user
// authentication (whose signed data starts with the session identifier, never "SSHSIG"), nor
// for an SSHSIG signature of a file, a git commit or anything in another namespace; and th
// ties it to one connection, so it cannot be replayed on another.
#ifndef SECURECHAT_CRYPTO_AUTH_H_
#define SECURECHAT_CRYPTO_AUTH_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "securechat/crypto/ed25519.h"
#include "securechat/crypto/primitives.h"

namespace securechat {

// AuthSignedData is the SSHSIG blob a client signs on the connection with transcript hash
// `th`:
//   "SSHSIG" || string "securechat" || string "" || string "sha512"
//            || string SHA-512("securechat v1 client auth" || th)
// each `string` a u32 big-endian length and its bytes. Empty if OpenSSL fails.
std::vector<uint8_t> AuthSignedData(const Sha256Digest& th);

// AuthVerify is true when `sig` is `key`'s signature of AuthSignedData(th).
[[nodiscard]] bool AuthVerify(const Ed25519Public& key, const Sha256Digest& th, ByteView sig);

// AuthSign signs AuthSignedData(th) with a key file's key. False only if OpenSSL fails.
[[nodiscard]] bool AuthSign(const Ed25519Key& key, const Sha256Digest& th, Ed25519Signature* sig);

// UserKey is a user key a client authenticates with: a key file's (FileUserKey), or one held
// by ssh-agent (net/ssh_agent.h), which signs without the client ever seeing the private key.
class UserKey {
 public:
  virtual ~UserKey() = default;
  virtual const Ed25519Public& public_key() const = 0;
  // Sign signs `data` into *sig; false, with *why for people, if it cannot.
  virtual bool Sign(ByteView data, Ed25519Signature* sig, std::string* why) = 0;
};

// FileUserKey is a UserKey read from a key file.
class FileUserKey : public UserKey {
 public:
  explicit FileUserKey(Ed25519Key key) : key_(std::move(key)) {}
  const Ed25519Public& public_key() const override { return key_.public_key(); }
  bool Sign(ByteView data, Ed25519Signature* sig, std::string* why) override;

 private:
  Ed25519Key key_;
};

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_AUTH_H_
