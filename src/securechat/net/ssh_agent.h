// AgentSigner: signs with an Ed25519 key held by ssh-agent, over the agent's unix socket
// ($SSH_AUTH_SOCK), so that a user's SSH key can be their securechat identity without
// securechat ever seeing the private key. The bytes are crypto/ssh_agent_codec.h's; this file
// makes the system calls.
//
// Each request (listing the keys, each signature) opens its own connection to the agent and
// closes it after the reply, so an agent restarted between two signatures is simply found
// again at the same path. Every exchange is bounded in time: a hung agent is an error after
// the timeout, never a hung client.
#ifndef SECURECHAT_NET_SSH_AGENT_H_
#define SECURECHAT_NET_SSH_AGENT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/crypto/ssh_agent_codec.h"

namespace securechat::net {

// kAgentSocketEnv names the environment variable that holds the agent's socket path.
inline constexpr char kAgentSocketEnv[] = "SSH_AUTH_SOCK";
// kAgentTimeoutMs bounds one exchange with the agent: connecting, sending, and the whole
// reply.
inline constexpr int kAgentTimeoutMs = 10000;

struct AgentOptions {
  // socket is the agent's socket path; empty means the one $SSH_AUTH_SOCK names.
  std::string socket;
  // fingerprint picks the key: "SHA256:..." as ssh-keygen -l prints it; empty means the
  // agent's first Ed25519 key.
  std::string fingerprint;
  // timeout_ms bounds each exchange with the agent, in milliseconds.
  int timeout_ms = kAgentTimeoutMs;
};

class AgentSigner {
 public:
  // Open asks the agent for its keys and picks one as `options` says. Fails, with a sentence
  // for the user, when SSH_AUTH_SOCK is not set (and no socket is given), the agent cannot be
  // reached or does not answer in time, its reply is malformed, the fingerprint is not one,
  // the agent holds no Ed25519 key, or none with that fingerprint (the error then lists the
  // Ed25519 keys it does hold).
  static absl::StatusOr<AgentSigner> Open(const AgentOptions& options);

  // public_key is the chosen key.
  const Ed25519Public& public_key() const { return identity_.key; }
  // Describe is the chosen key for people: its fingerprint and, if the agent has one, its
  // comment, escaped for a terminal: "SHA256:... (alice@laptop)".
  std::string Describe() const;

  // Sign asks the agent for the Ed25519 signature of `data` (at most
  // ssh_agent::kMaxSignDataLen bytes) and writes it into *sig once it has verified against
  // public_key(). Fails, with *sig untouched, if the agent cannot be reached or does not
  // answer in time, refuses (a key added with `ssh-add -c` whose confirmation was declined,
  // a locked agent, a key removed since Open), answers malformed bytes, or returns a signature
  // that does not verify.
  absl::Status Sign(ByteView data, Ed25519Signature* sig) const;

 private:
  AgentSigner(std::string socket, int timeout_ms, ssh_agent::Identity identity)
      : socket_(std::move(socket)), timeout_ms_(timeout_ms), identity_(std::move(identity)) {}

  std::string socket_;
  int timeout_ms_;
  ssh_agent::Identity identity_;
};

}  // namespace securechat::net

#endif  // SECURECHAT_NET_SSH_AGENT_H_
