// ServerKeyRequest: the client's side of the exchange before CLIENT_HELLO that asks a server
// for its public key (PROTOCOL.md 4.8), without a socket. Start() queues KEY_REQUEST; bytes
// from the server go into Next(), which reports SERVER_KEY, an ALERT or a failure. The key it
// returns is unauthenticated: the caller checks its fingerprint, and the handshake that
// follows on the same connection proves that the server holds it.
#ifndef SECURECHAT_ENGINE_KEY_REQUEST_H_
#define SECURECHAT_ENGINE_KEY_REQUEST_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "securechat/crypto/keys.h"
#include "securechat/engine/output_queue.h"
#include "securechat/wire/frame.h"

namespace securechat {

class ServerKeyRequest {
 public:
  enum class State { kIdle, kAwaitServerKey, kDone };
  enum class Step {
    kNeedMore,  // all input consumed
    kKey,       // key() holds the server's key, which is not yet trusted
    kAlert,     // the server sent ALERT instead: alert() says which
    kFailed,    // a frame the protocol does not allow here, or a key that does not parse
  };

  // Start queues KEY_REQUEST in output(). Returns false if called twice.
  [[nodiscard]] bool Start();

  // Next consumes bytes from the front of *in until SERVER_KEY or ALERT is whole. The server
  // sends nothing after SERVER_KEY until it reads CLIENT_HELLO, so bytes left in *in after kKey
  // are the caller's to refuse. After kKey, kAlert or kFailed, every call returns kFailed.
  Step Next(ByteView* in);

  State state() const { return state_; }
  // The key after kKey; TakeKey moves it out.
  const std::optional<ServerPublicKey>& key() const { return key_; }
  std::optional<ServerPublicKey> TakeKey() { return std::move(key_); }
  // The alert after kAlert; its reason views bytes this object owns.
  const AlertBody& alert() const { return alert_; }
  OutputQueue& output() { return output_; }

 private:
  State state_ = State::kIdle;
  FrameAssembler frames_;
  std::optional<ServerPublicKey> key_;
  std::vector<uint8_t> alert_frame_;  // owns the bytes alert_ views
  AlertBody alert_{};
  OutputQueue output_;
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_KEY_REQUEST_H_
