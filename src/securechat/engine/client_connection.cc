#include "securechat/engine/client_connection.h"

namespace securechat {

ClientConnection::ClientConnection(const ServerPublicKey& server_key, RandomSource& rng)
    : server_key_(server_key), rng_(rng) {
  plaintext_.reserve(proto::kRecordMaxBodyLen);
  scratch_.reserve(proto::kMaxPlaintextLen);
}

bool ClientConnection::Start() {
  if (state_ != State::kIdle || !handshake_.Start(server_key_, rng_, output_.buffer())) {
    return false;
  }
  state_ = State::kAwaitServerHello;
  return true;
}

ClientConnection::Step ClientConnection::Fail(Failure why) {
  if (state_ != State::kClosed) {
    failure_ = why;
    state_ = State::kClosed;
  }
  return Step::kFailed;
}

ClientConnection::Step ClientConnection::Next(ByteView* in, msg::ServerMessage* message) {
  while (state_ == State::kAwaitServerHello || state_ == State::kEstablished) {
    const FramePolicy policy = state_ == State::kAwaitServerHello
                                   ? FramePolicy{FrameExpect::kServerHello, 0}
                                   : FramePolicy{FrameExpect::kRecord, 0};
    switch (frames_.Take(policy, in)) {
      case FrameResult::kNeedMore:
        return Step::kNeedMore;
      case FrameResult::kError:
        return Fail(Failure::kProtocol);
      case FrameResult::kFrame:
        break;
    }
    const ByteView frame = frames_.frame();
    if (state_ == State::kAwaitServerHello) {
      if (frames_.header().type == proto::FrameType::kAlert) {
        alert_frame_.assign(frame.begin(), frame.end());
        if (!DecodeAlert(ByteView(alert_frame_).subspan(proto::kFrameHeaderLen), &alert_)) {
          return Fail(Failure::kProtocol);
        }
        state_ = State::kClosed;
        return Step::kAlert;
      }
      SessionKeys keys;
      switch (handshake_.Finish(frame, &keys)) {
        case ClientHandshake::Result::kOk:
          break;
        case ClientHandshake::Result::kConfirmFailed:
          return Fail(Failure::kConfirmFailed);
        case ClientHandshake::Result::kBadHello:
          return Fail(Failure::kProtocol);
      }
      if (!sealer_.Init(keys.c2s_enc, keys.c2s_mac) || !opener_.Init(keys.s2c_enc, keys.s2c_mac)) {
        return Fail(Failure::kProtocol);
      }
      th_ = keys.th;
      state_ = State::kEstablished;
      return Step::kEstablished;
    }
    if (!opener_.Open(frame, &plaintext_)) {
      return Fail(Failure::kProtocol);
    }
    switch (msg::DecodeServerMessage(plaintext_, message)) {
      case msg::DecodeStatus::kOk:
        return Step::kMessage;
      case msg::DecodeStatus::kUnknownKind:
        continue;  // a later version's message: skip it
      case msg::DecodeStatus::kMalformed:
        return Fail(Failure::kProtocol);
    }
  }
  return Step::kFailed;
}

bool ClientConnection::Send(const msg::ClientMessage& m) {
  if (state_ != State::kEstablished) {
    return false;
  }
  scratch_.clear();
  msg::EncodeMessage(m, &scratch_);
  if (!sealer_.Seal(scratch_, rng_, output_.buffer())) {
    Fail(Failure::kProtocol);
    return false;
  }
  return true;
}

}  // namespace securechat
