// Learning the server's key before the handshake, when the client has no key file: ask for it
// (KEY_REQUEST, PROTOCOL.md 4.8), judge it as ssh judges a host key (client/server_trust.h,
// the known_servers file), and make sure every later connection meets the same key.
#ifndef SECURECHAT_NET_SERVER_KEY_H_
#define SECURECHAT_NET_SERVER_KEY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "securechat/client/known_servers.h"
#include "securechat/client/server_trust.h"
#include "securechat/crypto/keys.h"
#include "securechat/net/socket.h"
#include "securechat/net/transport.h"

namespace securechat::net {

// FetchServerKey sends KEY_REQUEST on `stream` and waits up to `timeout_ms` for SERVER_KEY.
// Returns the key the server sent, not yet trusted. Fails with Unavailable, saying why: the
// stream closed or failed (as a server older than KEY_REQUEST does), an ALERT (its reason
// escaped for display), no answer in time, or an answer that is not a valid SERVER_KEY.
absl::StatusOr<ServerPublicKey> FetchServerKey(ByteStream& stream, uint64_t timeout_ms);

// KnownServersPath is the known_servers file in UserConfigDir().
absl::StatusOr<std::string> KnownServersPath();

// ReadKnownServers reads and parses the file at `path`; a missing file is an empty list.
// Fails, naming the file (and the line, for a line that does not parse).
absl::StatusOr<client::KnownServers> ReadKnownServers(const std::string& path);

// AppendKnownServer appends `line` to the file at `path` in UserConfigDir() with one write
// under O_APPEND, creating the folder (mode 0700, PrepareUserConfigDir) and the file (0600).
absl::Status AppendKnownServer(const std::string& path, std::string_view line);

// ServerKeyGate makes the client's connections when it has no key file: the first one learns
// and judges the key, the later ones (reconnections) must meet the same key.
class ServerKeyGate {
 public:
  // `host_port` is the server as the user named it (--connect), the key of known_servers.
  // `timeout_ms` bounds fetching the key; `connect_timeout_ms` each TCP connect.
  ServerKeyGate(HostPort addr, std::string host_port, client::TrustOptions trust,
                uint64_t timeout_ms, uint64_t connect_timeout_ms = kConnectTimeoutMs);

  struct Refusal {
    int code;             // the client's exit code (ExitCode)
    std::string message;  // why, for stderr (may span lines)
  };
  // FirstContact connects, fetches the key and decides on it: pinned by fingerprint, known,
  // added (--trust_on_first_use) or asked about at the terminal and added on "yes". `say`
  // gets what the user should read meanwhile (the question's explanation, "added ..."). On
  // success key() is the trusted key; on failure nothing was sent past KEY_REQUEST.
  std::optional<Refusal> FirstContact(const std::function<void(std::string_view)>& say);

  // Dial makes a connection whose server sent the key FirstContact accepted; the first call
  // hands out FirstContact's own connection, unless the user was asked (the server may have
  // stopped waiting for CLIENT_HELLO meanwhile). Fails with PermissionDenied when the server
  // sent another key, otherwise as DialTcp or FetchServerKey.
  absl::StatusOr<std::unique_ptr<ByteStream>> Dial();

  // key is the trusted key, after a FirstContact that succeeded.
  const ServerPublicKey& key() const { return *key_; }

 private:
  // DialAndFetch connects and fetches the key into *key.
  absl::StatusOr<std::unique_ptr<ByteStream>> DialAndFetch(std::optional<ServerPublicKey>* key);

  const HostPort addr_;
  const std::string host_port_;
  const client::TrustOptions trust_;
  const uint64_t timeout_ms_;
  const uint64_t connect_timeout_ms_;
  std::optional<ServerPublicKey> key_;
  std::unique_ptr<ByteStream> first_;
};

}  // namespace securechat::net

#endif  // SECURECHAT_NET_SERVER_KEY_H_
