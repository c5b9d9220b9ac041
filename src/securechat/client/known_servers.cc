#include "securechat/client/known_servers.h"

#include <cctype>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "securechat/base/cat.h"
#include "securechat/wire/config_lines.h"

namespace securechat::client {
namespace {

// IsHostChar: what a host name or an address may hold (IPv6 in brackets adds ':').
bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

}  // namespace

std::string KnownServers::ServerKey(std::string_view host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return {};
  }
  std::string_view host = host_port.substr(0, colon);
  const std::string_view port = host_port.substr(colon + 1);
  uint32_t number = 0;
  if (port.empty() || port.size() > 5 || port.front() == '0' ||
      !absl::SimpleAtoi(absl::string_view(port.data(), port.size()), &number) || number == 0 ||
      number > 65535) {
    return {};
  }
  std::string_view inner = host;
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) {
    inner = host.substr(1, host.size() - 2);
  }
  for (const char c : inner) {
    if (!IsHostChar(c) && !(bracketed && c == ':')) {
      return {};
    }
  }
  std::string key(host);
  for (char& c : key) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return Cat(key, ":", port);
}

absl::StatusOr<KnownServers> KnownServers::Parse(std::string_view text) {
  KnownServers known;
  const std::optional<ConfigLineError> error = ForEachConfigLine(
      text, kMaxKnownServersFileBytes, kMaxKnownServersLineBytes,
      [&known](size_t number, absl::Span<const std::string_view> fields) -> std::string {
        if (fields.size() != 2) {
          return "expected HOST:PORT SHA256:FINGERPRINT";
        }
        const std::string key = ServerKey(fields[0]);
        if (key.empty()) {
          return "the first field is not HOST:PORT";
        }
        const std::optional<Sha256Digest> fingerprint = ParseFingerprintText(fields[1]);
        if (!fingerprint) {
          return "the second field is not a SHA256: fingerprint";
        }
        known.servers_[key].push_back(Entry{*fingerprint, number});
        ++known.count_;
        return {};
      });
  if (error) {
    return absl::InvalidArgumentError(error->Text());
  }
  return known;
}

KnownServers::Check KnownServers::Find(std::string_view host_port,
                                       const Sha256Digest& fingerprint) const {
  Check check;
  auto it = servers_.find(ServerKey(host_port));
  if (it == servers_.end()) {
    return check;
  }
  for (const Entry& e : it->second) {
    if (e.fingerprint == fingerprint) {
      check.verdict = Check::Verdict::kKnown;
      check.line = e.line;
      return check;
    }
  }
  check.verdict = Check::Verdict::kChanged;
  check.line = it->second.front().line;
  check.old_fingerprint = FingerprintText(it->second.front().fingerprint);
  return check;
}

std::string KnownServers::Line(std::string_view host_port, const Sha256Digest& fingerprint) {
  return Cat(ServerKey(host_port), " ", FingerprintText(fingerprint), "\n");
}

}  // namespace securechat::client
