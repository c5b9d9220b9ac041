#include "securechat/engine/server_connection.h"

namespace securechat {

ServerConnection::ServerConnection(const ServerPrivateKey& key, RandomSource& rng)
    : key_(key), rng_(rng) {}

ServerConnection::Step ServerConnection::Fail(const char* reason) {
  if (state_ != State::kClosed) {
    close_reason_ = reason;
    state_ = State::kClosed;
  }
  return Step::kClose;
}

bool ServerConnection::CompleteHandshake() {
  if (state_ != State::kHelloPending) {
    return false;
  }
  SessionKeys keys;
  switch (ServerHandshake(key_, rng_, frames_.frame(), output_.buffer(), &keys)) {
    case ServerHandshakeResult::kOk:
      break;
    case ServerHandshakeResult::kUnsupportedVersion:
      AppendAlert(proto::AlertCode::kUnsupportedVersion, "unsupported protocol version",
                  output_.buffer());
      Fail("unsupported protocol version");
      return false;
    case ServerHandshakeResult::kClose:
      Fail("handshake failed");
      return false;
  }
  if (!sealer_.Init(keys.s2c_enc, keys.s2c_mac) || !opener_.Init(keys.c2s_enc, keys.c2s_mac)) {
    Fail("cannot set up record keys");
    return false;
  }
  th_ = keys.th;
  state_ = State::kEstablished;
  return true;
}

FramePolicy ServerConnection::Policy() const {
  switch (state_) {
    case State::kAwaitClientHello:
      return FramePolicy{FrameExpect::kClientHelloOrKeyRequest, key_.size()};
    case State::kKeySent:
      return FramePolicy{FrameExpect::kClientHello, key_.size()};
    case State::kEstablished:
      return FramePolicy{FrameExpect::kRecord, 0};
    case State::kHelloPending:
    case State::kClosed:
      break;
  }
  return FramePolicy{FrameExpect::kNothing, 0};
}

ServerConnection::Step ServerConnection::Next(ByteView* in, ByteView* plaintext) {
  while (state_ != State::kClosed) {
    if (state_ == State::kHelloPending) {
      // A client sends nothing more until it has read SERVER_HELLO.
      return in->empty() ? Step::kNeedMore : Fail("data before the handshake finished");
    }
    switch (frames_.Take(Policy(), in)) {
      case FrameResult::kNeedMore:
        return Step::kNeedMore;
      case FrameResult::kError:
        return Fail("bad frame header");
      case FrameResult::kFrame:
        break;
    }
    if (frames_.header().type == proto::FrameType::kKeyRequest) {
      // Only the kAwaitClientHello policy admits KEY_REQUEST, so it is answered once.
      AppendServerKey(key_.PublicKeyDer(), output_.buffer());
      state_ = State::kKeySent;
      continue;
    }
    if (state_ == State::kAwaitClientHello || state_ == State::kKeySent) {
      state_ = State::kHelloPending;
      return Step::kHelloReady;
    }
    if (!opener_.Open(frames_.frame(), &plaintext_)) {
      return Fail("record failed to open");
    }
    *plaintext = ByteView(plaintext_.data(), plaintext_.size());
    return Step::kMessage;
  }
  return Step::kClose;
}

bool ServerConnection::Send(const msg::ServerMessage& m) {
  if (state_ != State::kEstablished) {
    return false;
  }
  scratch_.clear();
  msg::EncodeMessage(m, &scratch_);
  return SendEncoded(scratch_);
}

bool ServerConnection::SendEncoded(ByteView message) {
  if (state_ != State::kEstablished) {
    return false;
  }
  if (!sealer_.Seal(message, rng_, output_.buffer())) {
    Fail("cannot seal a record");
    return false;
  }
  return true;
}

}  // namespace securechat
