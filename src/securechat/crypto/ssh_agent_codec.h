// The ssh-agent messages securechat needs, as bytes: listing the agent's keys and asking it to
// sign with an Ed25519 one (draft-miller-ssh-agent, OpenSSH's PROTOCOL.agent). Pure and
// I/O-free: net/ssh_agent.h talks to the agent's socket and calls these.
//
// Every message, both ways, is `u32 length || body`, and a body starts with its type byte.
// Strings are SSH's `u32 length || bytes` (RFC 4251 5). Every number and bound of the agent
// protocol that securechat uses is named here and nowhere else.
#ifndef SECURECHAT_CRYPTO_SSH_AGENT_CODEC_H_
#define SECURECHAT_CRYPTO_SSH_AGENT_CODEC_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/crypto/ed25519.h"
#include "securechat/wire/reader.h"

namespace securechat::ssh_agent {

// Message numbers (draft-miller-ssh-agent 5.1).
inline constexpr uint8_t kFailure = 5;             // SSH_AGENT_FAILURE
inline constexpr uint8_t kRequestIdentities = 11;  // SSH_AGENTC_REQUEST_IDENTITIES
inline constexpr uint8_t kIdentitiesAnswer = 12;   // SSH_AGENT_IDENTITIES_ANSWER
inline constexpr uint8_t kSignRequest = 13;        // SSH_AGENTC_SIGN_REQUEST
inline constexpr uint8_t kSignResponse = 14;       // SSH_AGENT_SIGN_RESPONSE
// Older agents answer a refusal with one of these instead of kFailure; OpenSSH's client
// (authfd.c, agent_failed) treats all three alike, and so do we.
inline constexpr uint8_t kSsh2Failure = 30;     // SSH2_AGENT_FAILURE
inline constexpr uint8_t kSshComFailure = 102;  // SSH_COM_AGENT2_FAILURE

// kLengthLen is the size of the length that starts every message.
inline constexpr size_t kLengthLen = 4;
using LengthHeader = std::array<uint8_t, kLengthLen>;
// kMaxReplyLen bounds a reply's body (OpenSSH's own agent refuses messages over 256 KiB):
// a longer length is refused before a byte of its body is read.
inline constexpr uint32_t kMaxReplyLen = 256 * 1024;
// kMaxIdentities bounds the key count an identities answer may announce.
inline constexpr uint32_t kMaxIdentities = 1000;
// kMaxSignDataLen bounds the data we ask the agent to sign: securechat signs a short,
// fixed-layout statement, far under the agent's own limit.
inline constexpr size_t kMaxSignDataLen = 64 * 1024;
// kSignFlags: no flags. They choose RSA's hash and mean nothing for Ed25519.
inline constexpr uint32_t kSignFlags = 0;
// kEd25519Name is both the key type in an Ed25519 key blob and the signature format name in
// a signature from one (RFC 8709 4 and 6).
inline constexpr std::string_view kEd25519Name = "ssh-ed25519";

// Identity is one Ed25519 key the agent holds, with the comment it was added with (raw agent
// bytes: escape them before showing them to anyone).
struct Identity {
  Ed25519Public key{};
  std::string comment;

  bool operator==(const Identity&) const = default;
};

// How a reply parsed: the answer asked for, the agent's refusal (a failure message), or
// anything else (a wrong type, a bad field, a bound exceeded, bytes left over).
enum class Reply { kOk, kRefused, kMalformed };

// EncodeRequestIdentities is the whole SSH_AGENTC_REQUEST_IDENTITIES message.
std::vector<uint8_t> EncodeRequestIdentities();

// EncodeSignRequest sets *out to the whole SSH_AGENTC_SIGN_REQUEST message asking for a
// signature of `data` by `key` (flags kSignFlags). Returns false, with *out untouched, if
// `data` is longer than kMaxSignDataLen.
[[nodiscard]] bool EncodeSignRequest(const Ed25519Public& key, ByteView data,
                                     std::vector<uint8_t>* out);

// ReplyLength reads the length that starts a reply. Returns false for an empty body or one
// longer than kMaxReplyLen; *len is set only on success.
[[nodiscard]] bool ReplyLength(const LengthHeader& header, uint32_t* len);

// ParseIdentitiesAnswer reads the body of a reply to EncodeRequestIdentities (the bytes after
// the length). kOk: *keys holds the Ed25519 keys in the agent's order and *other_keys counts
// the keys of other types skipped (RSA, ECDSA, certificates, security keys: all legal there).
// kRefused: the agent sent a failure. kMalformed: anything else, including a count over
// kMaxIdentities or larger than the bytes left could hold, an "ssh-ed25519" blob that is not
// exactly SshEd25519Blob, or a trailing byte. The outputs are set only on kOk.
[[nodiscard]] Reply ParseIdentitiesAnswer(ByteView body, std::vector<Identity>* keys,
                                          size_t* other_keys);

// ParseSignResponse reads the body of a reply to EncodeSignRequest. kOk: *sig is the 64-byte
// Ed25519 signature carried as string "ssh-ed25519" || string sig, with nothing after either
// (not verified here: the caller checks it against the key). kRefused and kMalformed as for
// ParseIdentitiesAnswer. *sig is set only on kOk.
[[nodiscard]] Reply ParseSignResponse(ByteView body, Ed25519Signature* sig);

// What an agent sends, each as a whole message with its length: for tests, the fuzz target
// and stand-in agents. EncodeIdentitiesAnswer lists `keys` as Ed25519 blobs, in order.
std::vector<uint8_t> EncodeIdentitiesAnswer(const std::vector<Identity>& keys);
std::vector<uint8_t> EncodeSignResponse(const Ed25519Signature& sig);
std::vector<uint8_t> EncodeFailure();

}  // namespace securechat::ssh_agent

#endif  // SECURECHAT_CRYPTO_SSH_AGENT_CODEC_H_
