// ClientConnection: the client side of one connection, without a socket. Start() queues the
// CLIENT_HELLO; bytes from the server go into Next(), which reports the handshake's outcome,
// each server message and any failure; Send() seals client messages into output().
#ifndef SECURECHAT_ENGINE_CLIENT_CONNECTION_H_
#define SECURECHAT_ENGINE_CLIENT_CONNECTION_H_

#include <cstdint>
#include <vector>

#include "securechat/crypto/handshake.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/random.h"
#include "securechat/crypto/record.h"
#include "securechat/engine/output_queue.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/message.h"

namespace securechat {

class ClientConnection {
 public:
  enum class State { kIdle, kAwaitServerHello, kEstablished, kClosed };
  enum class Step {
    kNeedMore,     // all input consumed
    kEstablished,  // the server proved it holds the pinned key; Send() now works
    kMessage,      // *message holds a server message (views valid until the next call)
    kAlert,        // the server sent ALERT instead of SERVER_HELLO: alert() says which
    kFailed,       // the connection is dead: failure() says why
  };
  enum class Failure {
    kNone,
    kConfirmFailed,  // wrong server key or tampered handshake
    kProtocol,       // a frame, record or message the protocol does not allow
  };

  // `server_key` and `rng` must outlive the connection.
  ClientConnection(const ServerPublicKey& server_key, RandomSource& rng);

  // Start queues the CLIENT_HELLO. Returns false if it cannot be built.
  [[nodiscard]] bool Start();

  // Next consumes bytes from the front of *in until something happens. Messages of kinds this
  // client does not know are skipped, as the protocol asks. After kAlert or kFailed, every call
  // returns kFailed.
  Step Next(ByteView* in, msg::ServerMessage* message);

  // Send seals one message into output(). Returns false if not established or the sequence
  // number is exhausted (then the connection is closed).
  [[nodiscard]] bool Send(const msg::ClientMessage& m);

  State state() const { return state_; }
  Failure failure() const { return failure_; }
  const AlertBody& alert() const { return alert_; }
  OutputQueue& output() { return output_; }
  // transcript_hash is the handshake's th once established (zero before): what a user key
  // signs to authenticate on this connection (PROTOCOL.md 6.9).
  const Sha256Digest& transcript_hash() const { return th_; }

 private:
  Step Fail(Failure why);

  const ServerPublicKey& server_key_;
  RandomSource& rng_;
  State state_ = State::kIdle;
  Failure failure_ = Failure::kNone;
  ClientHandshake handshake_;
  FrameAssembler frames_;
  RecordSealer sealer_;
  RecordOpener opener_;
  std::vector<uint8_t> plaintext_;
  std::vector<uint8_t> scratch_;
  std::vector<uint8_t> alert_frame_;  // owns the bytes alert_ views
  AlertBody alert_{};
  OutputQueue output_;
  Sha256Digest th_{};
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_CLIENT_CONNECTION_H_
