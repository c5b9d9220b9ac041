// Frames: judging a 4-byte header against the connection's state, and assembling whole frames
// from a byte stream split at arbitrary points.
#ifndef SECURECHAT_WIRE_FRAME_H_
#define SECURECHAT_WIRE_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "securechat/wire/protocol.h"
#include "securechat/wire/reader.h"

namespace securechat {

// What a connection is waiting for decides which frame headers are acceptable.
enum class FrameExpect {
  // server, first frame: CLIENT_HELLO as kClientHello, or KEY_REQUEST (empty body)
  kClientHelloOrKeyRequest,
  kClientHello,  // server, before the handshake: CLIENT_HELLO with a body of exactly 65 + k
  kServerKey,    // client, after KEY_REQUEST: SERVER_KEY (DER within bounds) or ALERT
  kServerHello,  // client, before the handshake: SERVER_HELLO or ALERT
  kRecord,       // either side, after the handshake: RECORD only
  kNothing,      // no further frame is acceptable (the connection is closing)
};

struct FramePolicy {
  FrameExpect expect = FrameExpect::kNothing;
  // k, the server's RSA modulus size in bytes (kClientHello and kClientHelloOrKeyRequest)
  size_t rsa_len = 0;
};

struct FrameHeader {
  proto::FrameType type;
  uint16_t body_len;
};

// CheckFrameHeader decodes the 4 bytes of a header and judges them against `policy`: known
// type allowed in this state, zero flags, body length within the type's bounds. Returns false
// for any header that must close the connection; *out is only written on success.
[[nodiscard]] bool CheckFrameHeader(const FramePolicy& policy, ByteView header, FrameHeader* out);

enum class FrameResult { kNeedMore, kFrame, kError };

// FrameAssembler collects one frame at a time from a stream. Its buffer never holds more than
// one frame of the largest size the policy allows, and no body byte is buffered before the
// header was accepted.
class FrameAssembler {
 public:
  FrameAssembler();

  // Take consumes bytes from the front of *in, up to the end of the current frame.
  // kNeedMore: all of *in was consumed and the frame is not complete yet.
  // kFrame: a whole frame is ready in frame(); *in holds what follows it. Call Take again
  //   (with the policy of the new state) to start the next frame.
  // kError: the header broke `policy`; the connection must be closed. Sticky.
  FrameResult Take(const FramePolicy& policy, ByteView* in);

  // The whole frame (header included) after Take returned kFrame; valid until the next Take.
  ByteView frame() const { return ByteView(buf_.data(), buf_.size()); }
  FrameHeader header() const { return header_; }
  // Bytes of an incomplete frame currently held.
  size_t buffered() const { return complete_ ? 0 : buf_.size(); }

 private:
  std::vector<uint8_t> buf_;
  FrameHeader header_{};
  bool header_ok_ = false;
  bool complete_ = false;
  bool failed_ = false;
};

// DecodeAlert decodes an ALERT body: code u8 || reason str (at most 256 bytes), nothing after.
// The views point into `body`.
struct AlertBody {
  uint8_t code;
  std::string_view reason;
};
[[nodiscard]] bool DecodeAlert(ByteView body, AlertBody* out);

// AppendAlert appends a whole ALERT frame; the reason is cut to the protocol's limit.
void AppendAlert(proto::AlertCode code, std::string_view reason, std::vector<uint8_t>* out);

// AppendKeyRequest appends a whole KEY_REQUEST frame (a header and no body).
void AppendKeyRequest(std::vector<uint8_t>* out);

// AppendServerKey appends a whole SERVER_KEY frame carrying `der`, which must be within the
// protocol's bounds (kServerKeyMinBodyLen to kServerKeyMaxBodyLen); aborts otherwise.
void AppendServerKey(ByteView der, std::vector<uint8_t>* out);

}  // namespace securechat

#endif  // SECURECHAT_WIRE_FRAME_H_
