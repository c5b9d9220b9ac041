#include "securechat/client/server_trust.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "securechat/base/cat.h"

namespace securechat::client {
namespace {

TrustDecision Trusted(bool add) { return TrustDecision{TrustDecision::Verdict::kTrusted, add, ""}; }

TrustDecision Refused(std::string text) {
  return TrustDecision{TrustDecision::Verdict::kRefused, false, std::move(text)};
}

// ChangedText is ssh's "REMOTE HOST IDENTIFICATION HAS CHANGED", for a securechat server.
std::string ChangedText(std::string_view path, std::string_view host_port,
                        const KnownServers::Check& check, const Sha256Digest& fingerprint) {
  const std::string key = KnownServers::ServerKey(host_port);
  return Cat("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n",
             "@    WARNING: SERVER IDENTIFICATION HAS CHANGED!          @\n",
             "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n",
             "Someone could be intercepting the connection (a man-in-the-middle attack),\n",
             "or the server's key has been replaced.\n",  //
             "The server at ", key, " sent the key ", FingerprintText(fingerprint), "\n", "but ",
             path, " line ", check.line, " holds its old key ", check.old_fingerprint, "\n",
             "If you know that the key was changed, remove the lines for ", key, " from ", path,
             " (line ", check.line, ": sed -i '", check.line, "d' ", path, ") and connect again.\n",
             "Refusing to connect.");
}

}  // namespace

TrustDecision DecideTrust(const TrustOptions& options, const KnownServers& known,
                          std::string_view path, std::string_view host_port,
                          const Sha256Digest& fingerprint) {
  if (options.pinned) {
    if (*options.pinned == fingerprint) {
      return Trusted(false);
    }
    return Refused(Cat("the server at ", host_port, " sent the key ", FingerprintText(fingerprint),
                       ", not ", FingerprintText(*options.pinned),
                       " as --server_fingerprint says: someone could be intercepting the "
                       "connection, or the fingerprint is wrong. Refusing to connect."));
  }
  const KnownServers::Check check = known.Find(host_port, fingerprint);
  switch (check.verdict) {
    case KnownServers::Check::Verdict::kKnown:
      return Trusted(false);
    case KnownServers::Check::Verdict::kChanged:
      return Refused(ChangedText(path, host_port, check, fingerprint));
    case KnownServers::Check::Verdict::kUnknown:
      break;
  }
  if (options.trust_on_first_use) {
    return Trusted(true);
  }
  const std::string fp = FingerprintText(fingerprint);
  if (options.can_ask) {
    return TrustDecision{TrustDecision::Verdict::kAsk, false,
                         Cat("The server at ", KnownServers::ServerKey(host_port), " is not in ",
                             path, ".\n", "Its key fingerprint is ", fp, "\n",
                             "Compare it with the fingerprint the server's operator gave you.")};
  }
  return Refused(Cat("the server at ", KnownServers::ServerKey(host_port), " is not in ", path,
                     "; its key fingerprint is ", fp,
                     ". Check it with the server's operator, then connect with "
                     "--server_fingerprint=",
                     fp, ", or with --trust_on_first_use to add it to ", path, "."));
}

TrustDecision AnswerTrust(std::string_view answer, std::string_view path,
                          std::string_view host_port) {
  if (absl::EqualsIgnoreCase(
          absl::StripAsciiWhitespace(absl::string_view(answer.data(), answer.size())), "yes")) {
    return Trusted(true);
  }
  return Refused(Cat("not trusted: ", KnownServers::ServerKey(host_port), " was not added to ",
                     path, "; not connecting."));
}

std::string AddedText(std::string_view path, std::string_view host_port,
                      const Sha256Digest& fingerprint) {
  return Cat("added ", KnownServers::ServerKey(host_port), " with key ",
             FingerprintText(fingerprint), " to ", path);
}

}  // namespace securechat::client
