// KnownServers: the servers a user has trusted, as ssh's known_hosts: one `HOST:PORT
// FINGERPRINT` a line in ~/.config/securechat/known_servers (the folder XDG_CONFIG_HOME names,
// when set). `#` starts a comment line; blank lines are skipped. A server may have several
// lines (a key being rolled over): any of its fingerprints is accepted.
//
// Parsing is all or nothing: a file with a bad line is refused, naming the line, rather than
// read in part, since a line skipped could be the one that would have refused a changed key.
#ifndef SECURECHAT_CLIENT_KNOWN_SERVERS_H_
#define SECURECHAT_CLIENT_KNOWN_SERVERS_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "securechat/crypto/primitives.h"

namespace securechat::client {

inline constexpr size_t kMaxKnownServersFileBytes = 1 << 20;
inline constexpr size_t kMaxKnownServersLineBytes = 1024;

class KnownServers {
 public:
  // Parse reads the text of a known_servers file. On failure the status message is
  // "line N: why" (or says the file is too large).
  static absl::StatusOr<KnownServers> Parse(std::string_view text);

  // ServerKey is the key form of HOST:PORT: the host in lower case. Empty if `host_port` is not
  // HOST:PORT (a name or IPv4 address, or an IPv6 address in brackets, then a port 1..65535).
  static std::string ServerKey(std::string_view host_port);

  struct Check {
    enum class Verdict { kUnknown, kKnown, kChanged };
    Verdict verdict = Verdict::kUnknown;
    size_t line = 0;  // kKnown: the line that matched; kChanged: the first line for the server
    std::string old_fingerprint;  // kChanged: the fingerprint on that line
  };
  // Find says whether `fingerprint` is one the file lists for `host_port`.
  Check Find(std::string_view host_port, const Sha256Digest& fingerprint) const;

  // Line is the line to append for a server newly trusted (with its newline).
  static std::string Line(std::string_view host_port, const Sha256Digest& fingerprint);

  size_t size() const { return count_; }

 private:
  struct Entry {
    Sha256Digest fingerprint{};
    size_t line = 0;
  };
  std::map<std::string, std::vector<Entry>> servers_;  // by ServerKey
  size_t count_ = 0;
};

}  // namespace securechat::client

#endif  // SECURECHAT_CLIENT_KNOWN_SERVERS_H_
