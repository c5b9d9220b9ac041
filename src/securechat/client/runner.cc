#include "securechat/client/runner.h"

#include <array>
#include <cstring>
#include <utility>

#include "securechat/base/cat.h"

namespace securechat {

ClientRunner::ClientRunner(const ServerPublicKey& server_key, RandomSource& rng, Options options,
                           std::string nick, ClientSession::Display display,
                           ClientSession::Clock clock)
    : server_key_(server_key),
      rng_(rng),
      options_(std::move(options)),
      conn_(std::make_unique<ClientConnection>(server_key_, rng_)),
      session_(*conn_, std::move(nick), std::move(display), std::move(clock)) {
  // Said only once the handshake has confirmed the pinned key: before that, nothing about
  // the server is known.
  session_.set_established_notice(
      Cat("connected to ", options_.address, "; server key ", server_key_.Fingerprint()));
}

bool ClientRunner::Retryable(int code, bool ever_joined) {
  switch (code) {
    case kExitCannotConnect:
    case kExitServerFull:
    case kExitConnectionLost:
      return true;
    case kExitNickRefused:
      return ever_joined;
    default:
      return false;
  }
}

int ClientRunner::Attempt(Environment& env) {
  // A connection engine carries one connection. One that a failed dial never used keeps its
  // CLIENT_HELLO, never sent, for the next dial; the session moves to a new one only after a
  // connection was made.
  if (conn_used_) {
    conn_ = std::make_unique<ClientConnection>(server_key_, rng_);
    session_.Reattach(*conn_);
    conn_used_ = false;
  }
  if (conn_->state() == ClientConnection::State::kIdle && !conn_->Start()) {
    final_message_ = "cannot build the handshake with this server key";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<Link>> link = env.Dial();
  if (!link.ok()) {
    final_message_ = std::string(link.status().message());
    return absl::IsPermissionDenied(link.status()) ? kExitConfirmFailed : kExitCannotConnect;
  }
  conn_used_ = true;
  connected_ = true;
  const int code = (*link)->Run(*conn_);
  connected_ = false;
  final_message_ = session_.final_message();
  if (session_.joined()) {
    ever_joined_ = true;
    backoff_.Reset();
  }
  return code;
}

int ClientRunner::Run(Environment& env) {
  for (;;) {
    const int code = Attempt(env);
    if (!options_.reconnect || !Retryable(code, ever_joined_) || !env.InputOpen()) {
      return code;
    }
    std::array<uint8_t, sizeof(uint32_t)> random;
    rng_.Fill(absl::MakeSpan(random));
    uint32_t jitter = 0;
    std::memcpy(&jitter, random.data(), random.size());
    const uint64_t delay_ms = backoff_.NextMs(jitter);
    session_.ShowError(Cat(final_message_, "; reconnecting in ", FormatSeconds(delay_ms)));
    if (!env.WaitOffline(delay_ms)) {
      final_message_.clear();
      return kExitOk;  // the user left while waiting
    }
  }
}

void ClientRunner::InputLine(std::string_view line) {
  if (connected_) {
    session_.InputLine(line);
  } else if (session_.OfflineLine(line)) {
    quit_ = true;
  }
}

void ClientRunner::InputEof() {
  if (connected_) {
    session_.InputEof();
  } else {
    quit_ = true;
  }
}

}  // namespace securechat
