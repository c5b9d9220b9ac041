// ServerConnection: the server side of one connection, without a socket. Bytes go in; the
// handshake reply and sealed records come out in output(); client messages come out of Next.
#ifndef SECURECHAT_ENGINE_SERVER_CONNECTION_H_
#define SECURECHAT_ENGINE_SERVER_CONNECTION_H_

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

class ServerConnection {
 public:
  enum class State {
    kAwaitClientHello,  // the first frame: CLIENT_HELLO, or KEY_REQUEST (answered once)
    kKeySent,           // SERVER_KEY is queued; only CLIENT_HELLO may follow
    kHelloPending,      // a whole CLIENT_HELLO waits for the handshake budget
    kEstablished,
    kClosed,  // nothing more is read; output may still be flushed
  };
  enum class Step {
    kNeedMore,    // all input consumed
    kHelloReady,  // a whole CLIENT_HELLO arrived: call CompleteHandshake when the budget allows
    kMessage,     // *plaintext holds one decrypted client message
    kClose,       // the connection must close; see close_reason()
  };

  // `key` and `rng` must outlive the connection.
  ServerConnection(const ServerPrivateKey& key, RandomSource& rng);

  // Next consumes bytes from the front of *in until one client message is ready. The view in
  // *plaintext is valid until the next call. After kClose, every call returns kClose. A
  // KEY_REQUEST before CLIENT_HELLO is answered here: SERVER_KEY goes into output() and the
  // connection keeps waiting for CLIENT_HELLO (PROTOCOL.md 4.8).
  Step Next(ByteView* in, ByteView* plaintext);

  // CompleteHandshake answers the CLIENT_HELLO that Next reported (the RSA private operation:
  // the expensive step a server budgets). Returns false if the connection closed instead.
  bool CompleteHandshake();

  // Send seals one message into output(). Returns false if the connection cannot send (not
  // established, closed, or the sequence number is exhausted); the caller then closes it.
  [[nodiscard]] bool Send(const msg::ServerMessage& m);
  // SendEncoded is Send for a message already encoded by msg::EncodeMessage, so that a
  // message for many recipients is encoded once and only sealed for each. Fails like Send.
  [[nodiscard]] bool SendEncoded(ByteView message);

  // Close stops reading; output() keeps what was queued so it can still be flushed.
  void Close() { state_ = State::kClosed; }

  State state() const { return state_; }
  OutputQueue& output() { return output_; }
  const OutputQueue& output() const { return output_; }
  const char* close_reason() const { return close_reason_; }
  size_t buffered_input() const { return frames_.buffered(); }
  // transcript_hash is the handshake's th once established (zero before): what a user key
  // signs to authenticate on this connection (PROTOCOL.md 6.9).
  const Sha256Digest& transcript_hash() const { return th_; }

 private:
  Step Fail(const char* reason);
  // Policy is the frame policy of the current state (kAwaitClientHello, kKeySent or
  // kEstablished).
  FramePolicy Policy() const;

  const ServerPrivateKey& key_;
  RandomSource& rng_;
  State state_ = State::kAwaitClientHello;
  FrameAssembler frames_;
  RecordSealer sealer_;
  RecordOpener opener_;
  // Both grow to the largest message seen and keep their capacity: nothing is reserved up
  // front, so an idle connection costs only what it used.
  std::vector<uint8_t> plaintext_;
  std::vector<uint8_t> scratch_;
  OutputQueue output_;
  Sha256Digest th_{};
  const char* close_reason_ = "";
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_SERVER_CONNECTION_H_
