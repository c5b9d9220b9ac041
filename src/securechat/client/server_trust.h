// Deciding whether to trust the key a server sent before the handshake (SERVER_KEY,
// PROTOCOL.md 4.8), as ssh decides on a host key: a key pinned by its fingerprint
// (--server_fingerprint), else the known_servers file (known_servers.h), else the user's
// answer at a terminal or --trust_on_first_use. Only the decision and its words are here: the
// program reads the file, asks the question and appends the line.
#ifndef SECURECHAT_CLIENT_SERVER_TRUST_H_
#define SECURECHAT_CLIENT_SERVER_TRUST_H_

#include <optional>
#include <string>
#include <string_view>

#include "securechat/client/known_servers.h"
#include "securechat/crypto/primitives.h"

namespace securechat::client {

// The question asked at a terminal about an unknown server; only "yes" trusts it.
inline constexpr std::string_view kTrustQuestion = "trust this server? (yes/no) ";

struct TrustOptions {
  // --server_fingerprint: only the key with this fingerprint; known_servers is not consulted.
  std::optional<Sha256Digest> pinned;
  // --trust_on_first_use: an unknown server is added without asking.
  bool trust_on_first_use = false;
  // There is a terminal to ask on.
  bool can_ask = false;
};

struct TrustDecision {
  enum class Verdict {
    kTrusted,  // go on with the handshake
    kAsk,      // show `text`, then ask kTrustQuestion and pass the answer to AnswerTrust
    kRefused,  // show `text` and exit (code 3): do not connect
  };
  Verdict verdict = Verdict::kRefused;
  // kTrusted: the server is new and its line (KnownServers::Line) goes into the file.
  bool add = false;
  // What to tell the user, one or more lines without the last newline ("" for nothing).
  std::string text;
};

// DecideTrust judges `fingerprint`, the key the server at `host_port` sent, against
// `options` and `known` (the file at `path`, named in messages).
TrustDecision DecideTrust(const TrustOptions& options, const KnownServers& known,
                          std::string_view path, std::string_view host_port,
                          const Sha256Digest& fingerprint);

// AnswerTrust is the decision after the user answered kTrustQuestion with `answer`: "yes"
// (in any case, spaces around it ignored) trusts and adds the server; anything else refuses.
TrustDecision AnswerTrust(std::string_view answer, std::string_view path,
                          std::string_view host_port);

// AddedText is the line said once a new server was added to the file at `path`.
std::string AddedText(std::string_view path, std::string_view host_port,
                      const Sha256Digest& fingerprint);

}  // namespace securechat::client

#endif  // SECURECHAT_CLIENT_SERVER_TRUST_H_
