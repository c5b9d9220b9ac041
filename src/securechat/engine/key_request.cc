#include "securechat/engine/key_request.h"

#include <utility>

namespace securechat {

bool ServerKeyRequest::Start() {
  if (state_ != State::kIdle) {
    return false;
  }
  AppendKeyRequest(output_.buffer());
  state_ = State::kAwaitServerKey;
  return true;
}

ServerKeyRequest::Step ServerKeyRequest::Next(ByteView* in) {
  if (state_ != State::kAwaitServerKey) {
    return Step::kFailed;
  }
  switch (frames_.Take(FramePolicy{FrameExpect::kServerKey, 0}, in)) {
    case FrameResult::kNeedMore:
      return Step::kNeedMore;
    case FrameResult::kError:
      state_ = State::kDone;
      return Step::kFailed;
    case FrameResult::kFrame:
      break;
  }
  state_ = State::kDone;
  const ByteView body = frames_.frame().subspan(proto::kFrameHeaderLen);
  if (frames_.header().type == proto::FrameType::kAlert) {
    alert_frame_.assign(body.begin(), body.end());
    return DecodeAlert(alert_frame_, &alert_) ? Step::kAlert : Step::kFailed;
  }
  absl::StatusOr<ServerPublicKey> key = ServerPublicKey::FromDer(body);
  if (!key.ok()) {
    return Step::kFailed;
  }
  key_ = std::move(*key);
  return Step::kKey;
}

}  // namespace securechat
