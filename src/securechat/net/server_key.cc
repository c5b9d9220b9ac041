#include "securechat/net/server_key.h"

#include <fcntl.h>
#include <sys/select.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "securechat/base/cat.h"
#include "securechat/client/session.h"
#include "securechat/crypto/key_files.h"
#include "securechat/crypto/secret.h"
#include "securechat/engine/key_request.h"
#include "securechat/net/tcp.h"
#include "securechat/net/terminal.h"
#include "securechat/net/user_paths.h"
#include "securechat/wire/text.h"

namespace securechat::net {
namespace {

// The file's name in UserConfigDir().
constexpr std::string_view kKnownServersName = "known_servers";
// The longest answer read to kTrustQuestion.
constexpr size_t kMaxAnswerLen = 64;

// WaitFor waits until `fd` is readable (or writable) or `deadline_ms` passes. Returns false at
// the deadline or on a failure of select.
bool WaitFor(int fd, bool write, uint64_t deadline_ms) {
  for (;;) {
    const uint64_t now = MonotonicMs();
    if (now >= deadline_ms) {
      return false;
    }
    const uint64_t ms = deadline_ms - now;
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms / 1000);
    tv.tv_usec = static_cast<suseconds_t>(ms % 1000 * 1000);
    const int n = select(fd + 1, write ? nullptr : &set, write ? &set : nullptr, nullptr, &tv);
    if (n > 0) {
      return true;
    }
    if (n < 0 && errno != EINTR) {
      return false;
    }
  }
}

absl::Status NoKey(std::string_view why) {
  return absl::UnavailableError(Cat("the server did not send its key: ", why));
}

}  // namespace

absl::StatusOr<ServerPublicKey> FetchServerKey(ByteStream& stream, uint64_t timeout_ms) {
  const uint64_t deadline = MonotonicMs() + timeout_ms;
  ServerKeyRequest request;
  if (!request.Start()) {
    return NoKey("cannot build KEY_REQUEST");
  }
  while (!request.output().empty()) {
    const IoResult written = stream.Write(request.output().pending());
    if (written.outcome == IoOutcome::kBytes) {
      request.output().Consume(written.bytes);
    } else if (written.outcome != IoOutcome::kWouldBlock) {
      return NoKey("the connection failed");
    } else if (!WaitFor(stream.fd(), /*write=*/true, deadline)) {
      return NoKey("timed out");
    }
  }
  std::array<uint8_t, proto::kFrameHeaderLen + proto::kServerKeyMaxBodyLen> buf;
  for (;;) {
    if (!stream.HasBufferedInput() && !WaitFor(stream.fd(), /*write=*/false, deadline)) {
      return NoKey(Cat("no answer within ", timeout_ms / 1000, " s"));
    }
    const IoResult read = stream.Read(absl::MakeSpan(buf));
    if (read.outcome == IoOutcome::kWouldBlock) {
      continue;
    }
    if (read.outcome != IoOutcome::kBytes) {
      return NoKey(
          "it closed the connection (a server older than key requests does: give its key "
          "file with --server_key)");
    }
    ByteView in(buf.data(), read.bytes);
    switch (request.Next(&in)) {
      case ServerKeyRequest::Step::kNeedMore:
        continue;
      case ServerKeyRequest::Step::kKey:
        if (!in.empty()) {
          return NoKey("it sent more than its key");
        }
        return std::move(*request.TakeKey());
      case ServerKeyRequest::Step::kAlert:
        return NoKey(Cat("it refused the connection: ",
                         EscapeForDisplay(std::string_view(
                             reinterpret_cast<const char*>(request.alert().reason.data()),
                             request.alert().reason.size()))));
      case ServerKeyRequest::Step::kFailed:
        return NoKey("its answer is not a valid SERVER_KEY");
    }
  }
}

absl::StatusOr<std::string> KnownServersPath() {
  absl::StatusOr<std::string> dir = UserConfigDir();
  if (!dir.ok()) {
    return dir.status();
  }
  return Cat(*dir, "/", kKnownServersName);
}

absl::StatusOr<client::KnownServers> ReadKnownServers(const std::string& path) {
  Fd file(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!file.valid()) {
    if (errno == ENOENT) {
      return client::KnownServers();
    }
    return absl::ErrnoToStatus(errno, Cat("cannot open ", path));
  }
  // Not secret, but read with the one bounded reader of whole files.
  Secret<> text;
  const absl::Status read = ReadAllSecret(file.get(), client::kMaxKnownServersFileBytes, 0, &text);
  if (absl::IsOutOfRange(read)) {
    return absl::InvalidArgumentError(
        Cat(path, " is larger than ", client::kMaxKnownServersFileBytes, " bytes"));
  }
  if (!read.ok()) {
    return absl::Status(read.code(), Cat("cannot read ", path, ": ", read.message()));
  }
  absl::StatusOr<client::KnownServers> known = client::KnownServers::Parse(AsChars(text.Expose()));
  if (!known.ok()) {
    return absl::InvalidArgumentError(Cat(path, ": ", known.status().message()));
  }
  return known;
}

absl::Status AppendKnownServer(const std::string& path, std::string_view line) {
  if (absl::StatusOr<std::string> dir = PrepareUserConfigDir(); !dir.ok()) {
    return dir.status();
  }
  Fd file(open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600));
  if (!file.valid()) {
    return absl::ErrnoToStatus(errno, Cat("cannot open ", path));
  }
  ssize_t n;
  do {
    n = write(file.get(), line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return absl::ErrnoToStatus(errno, Cat("cannot write ", path));
  }
  if (static_cast<size_t>(n) != line.size()) {
    return absl::DataLossError(Cat("short write to ", path));
  }
  return absl::OkStatus();
}

ServerKeyGate::ServerKeyGate(HostPort addr, std::string host_port, client::TrustOptions trust,
                             uint64_t timeout_ms, uint64_t connect_timeout_ms)
    : addr_(std::move(addr)),
      host_port_(std::move(host_port)),
      trust_(std::move(trust)),
      timeout_ms_(timeout_ms),
      connect_timeout_ms_(connect_timeout_ms) {}

absl::StatusOr<std::unique_ptr<ByteStream>> ServerKeyGate::DialAndFetch(
    std::optional<ServerPublicKey>* key) {
  ConnectError error;
  absl::StatusOr<std::unique_ptr<ByteStream>> stream = DialTcp(addr_, &error, connect_timeout_ms_);
  if (!stream.ok()) {
    return stream.status();
  }
  absl::StatusOr<ServerPublicKey> fetched = FetchServerKey(**stream, timeout_ms_);
  if (!fetched.ok()) {
    return fetched.status();
  }
  *key = std::move(*fetched);
  return stream;
}

std::optional<ServerKeyGate::Refusal> ServerKeyGate::FirstContact(
    const std::function<void(std::string_view)>& say) {
  std::string path;
  client::KnownServers known;
  if (!trust_.pinned) {
    absl::StatusOr<std::string> p = KnownServersPath();
    if (!p.ok()) {
      return Refusal{kExitUsage, std::string(p.status().message())};
    }
    path = std::move(*p);
    absl::StatusOr<client::KnownServers> read = ReadKnownServers(path);
    if (!read.ok()) {
      return Refusal{kExitUsage, std::string(read.status().message())};
    }
    known = std::move(*read);
  }
  std::optional<ServerPublicKey> key;
  absl::StatusOr<std::unique_ptr<ByteStream>> stream = DialAndFetch(&key);
  if (!stream.ok()) {
    return Refusal{kExitCannotConnect, std::string(stream.status().message())};
  }
  const Sha256Digest fingerprint = key->FingerprintDigest();
  client::TrustDecision decision = DecideTrust(trust_, known, path, host_port_, fingerprint);
  bool asked = false;
  if (decision.verdict == client::TrustDecision::Verdict::kAsk) {
    say(decision.text);
    absl::StatusOr<std::string> answer = AskLine(client::kTrustQuestion, kMaxAnswerLen);
    decision = client::AnswerTrust(answer.ok() ? *answer : "", path, host_port_);
    asked = true;
  }
  if (decision.verdict != client::TrustDecision::Verdict::kTrusted) {
    return Refusal{kExitConfirmFailed, decision.text};
  }
  if (decision.add) {
    absl::Status added =
        AppendKnownServer(path, client::KnownServers::Line(host_port_, fingerprint));
    if (!added.ok()) {
      return Refusal{kExitUsage, std::string(added.message())};
    }
    say(client::AddedText(path, host_port_, fingerprint));
  }
  key_ = std::move(key);
  if (!asked) {
    first_ = std::move(*stream);
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<ByteStream>> ServerKeyGate::Dial() {
  if (first_ != nullptr) {
    return std::move(first_);
  }
  std::optional<ServerPublicKey> key;
  absl::StatusOr<std::unique_ptr<ByteStream>> stream = DialAndFetch(&key);
  if (!stream.ok()) {
    return stream.status();
  }
  if (key->FingerprintDigest() != key_->FingerprintDigest()) {
    return absl::PermissionDeniedError(
        Cat("the server at ", host_port_, " now sends the key ", key->Fingerprint(),
            ", not the key ", key_->Fingerprint(),
            " accepted when this client started: someone could be intercepting the "
            "connection. Refusing to connect."));
  }
  return stream;
}

}  // namespace securechat::net
