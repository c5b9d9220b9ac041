// The securechat v1 handshake: one CLIENT_HELLO, one SERVER_HELLO.
//
// The client wraps a fresh 32-byte secret to the server's pinned RSA key (OAEP) and sends an
// ephemeral X25519 share; the server answers with its own share and a confirm value. Both
// derive the session keys from wrap_secret || X25519 over the transcript hash:
//   th   = SHA-256(CLIENT_HELLO frame || first 69 bytes of the SERVER_HELLO frame)
//   prk  = HKDF-Extract(th, wrap_secret || dh); okm = HKDF-Expand(prk, "securechat v1 keys", 128)
// Steps compute into locals and hand keys out only when every check passed.
#ifndef SECURECHAT_CRYPTO_HANDSHAKE_H_
#define SECURECHAT_CRYPTO_HANDSHAKE_H_

#include <cstdint>
#include <vector>

#include "securechat/crypto/keys.h"
#include "securechat/crypto/primitives.h"
#include "securechat/crypto/random.h"
#include "securechat/crypto/record.h"

namespace securechat {

// The four keys of an established session, and its transcript hash (not a secret: what a
// user key signs to authenticate on this connection, PROTOCOL.md 6.9).
struct SessionKeys {
  EncKey c2s_enc;
  MacKey c2s_mac;
  EncKey s2c_enc;
  MacKey s2c_mac;
  Sha256Digest th{};
};

// Everything the key schedule produces, for tests and vectors.
struct KeySchedule {
  Sha256Digest th{};
  Secret<proto::kHashLen> prk;
  Secret<proto::kOkmLen> okm;
  SessionKeys keys;
  std::array<uint8_t, proto::kConfirmLen> confirm{};
};

// DeriveKeySchedule runs the key schedule from the two hello frames (the whole CLIENT_HELLO
// and at least the first 69 bytes of SERVER_HELLO), wrap_secret and dh. Returns false only if
// OpenSSL fails or the frames are too short.
[[nodiscard]] bool DeriveKeySchedule(ByteView client_hello, ByteView server_hello,
                                     const Secret<proto::kWrapSecretLen>& wrap_secret,
                                     const Secret<proto::kX25519Len>& dh, KeySchedule* out);

// ClientHandshake holds the client's secrets between CLIENT_HELLO and SERVER_HELLO.
class ClientHandshake {
 public:
  // Start draws client_random, the ephemeral X25519 key and wrap_secret from `rng` (in that
  // order), wraps the secret to `server_key` and appends the CLIENT_HELLO frame to *out.
  // Returns false if the key is unusable or OpenSSL fails.
  [[nodiscard]] bool Start(const ServerPublicKey& server_key, RandomSource& rng,
                           std::vector<uint8_t>* out);

  enum class Result {
    kOk,
    kConfirmFailed,  // wrong server key or tampered handshake
    kBadHello,       // malformed SERVER_HELLO (version, zero dh) or an OpenSSL failure
  };
  // Finish checks a whole SERVER_HELLO frame (header already accepted) and, on kOk, moves the
  // session keys into *keys. Secrets are wiped whatever the outcome.
  [[nodiscard]] Result Finish(ByteView server_hello, SessionKeys* keys);

 private:
  std::vector<uint8_t> client_hello_;
  X25519Private ephemeral_;
  Secret<proto::kWrapSecretLen> wrap_secret_;
  bool started_ = false;
};

enum class ServerHandshakeResult {
  kOk,                  // *out holds the SERVER_HELLO frame, *keys the session keys
  kUnsupportedVersion,  // answer ALERT 2, then close
  kClose,               // close without a reply (all-zero dh, OpenSSL failure)
};

// ServerHandshake answers one whole CLIENT_HELLO frame (header already accepted for this
// key's size). It draws, in order, the fallback wrap secret, server_random and the ephemeral
// X25519 key from `rng`. A failed RSA-OAEP unwrap silently uses the fallback secret: the reply
// is built the same way, so the client cannot tell a failed unwrap from a wrong server.
[[nodiscard]] ServerHandshakeResult ServerHandshake(const ServerPrivateKey& key, RandomSource& rng,
                                                    ByteView client_hello,
                                                    std::vector<uint8_t>* out, SessionKeys* keys);

// UnwrapSecret is the heart of the rule above: it decrypts `wrapped` and returns, without a
// branch on the outcome, the 32 decrypted bytes when decryption gave exactly 32 bytes and
// `fallback` otherwise. Exposed for tests and the constant-time check.
void UnwrapSecret(const ServerPrivateKey& key, ByteView wrapped,
                  const Secret<proto::kWrapSecretLen>& fallback,
                  Secret<proto::kWrapSecretLen>* out);

// MeasureUnwrapSeconds times a few RSA-OAEP unwraps with `key` (of a ciphertext that fails,
// which costs the same) and returns the fastest, in seconds: the handshake's CPU cost, from
// which a server sizes its handshake budget.
double MeasureUnwrapSeconds(const ServerPrivateKey& key);

// HandshakeBudget is how many handshakes a server starts per second: in all, and for any one
// address.
struct HandshakeBudget {
  double per_second = 0;
  double per_second_per_address = 0;
};

// ChooseHandshakeBudget is the server's handshake budget: `per_second` when it is above 0,
// else half a core's worth of `key`'s RSA unwraps (timed with MeasureUnwrapSeconds), at least
// 1; each address gets a quarter of the total, at least 1.
HandshakeBudget ChooseHandshakeBudget(const ServerPrivateKey& key, double per_second);

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_HANDSHAKE_H_
