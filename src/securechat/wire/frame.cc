#include "securechat/wire/frame.h"

#include <algorithm>
#include <cstdlib>

#include "securechat/wire/writer.h"

namespace securechat {
namespace {

bool IsClientHello(const FramePolicy& policy, proto::FrameType type, size_t len) {
  return type == proto::FrameType::kClientHello && proto::IsAllowedRsaLen(policy.rsa_len) &&
         len == proto::kClientHelloFixedLen + policy.rsa_len;
}

bool IsAlert(proto::FrameType type, size_t len) {
  return type == proto::FrameType::kAlert && len >= proto::kAlertMinBodyLen &&
         len <= proto::kAlertMaxBodyLen;
}

bool BodyLenAllowed(const FramePolicy& policy, proto::FrameType type, size_t len) {
  using proto::FrameType;
  switch (policy.expect) {
    case FrameExpect::kClientHelloOrKeyRequest:
      if (type == FrameType::kKeyRequest) {
        return len == proto::kKeyRequestBodyLen;
      }
      return IsClientHello(policy, type, len);
    case FrameExpect::kClientHello:
      return IsClientHello(policy, type, len);
    case FrameExpect::kServerKey:
      if (type == FrameType::kServerKey) {
        return len >= proto::kServerKeyMinBodyLen && len <= proto::kServerKeyMaxBodyLen;
      }
      return IsAlert(type, len);
    case FrameExpect::kServerHello:
      if (type == FrameType::kServerHello) {
        return len == proto::kServerHelloBodyLen;
      }
      return IsAlert(type, len);
    case FrameExpect::kRecord:
      return type == FrameType::kRecord && len >= proto::kRecordMinBodyLen &&
             len <= proto::kRecordMaxBodyLen &&
             (len - proto::kRecordOverhead) % proto::kAesBlockLen == 0;
    case FrameExpect::kNothing:
      return false;
  }
  return false;
}

}  // namespace

bool CheckFrameHeader(const FramePolicy& policy, ByteView header, FrameHeader* out) {
  Reader r(header);
  uint8_t type, flags;
  uint16_t len;
  if (!r.ReadU8(&type) || !r.ReadU8(&flags) || !r.ReadU16(&len) || !r.empty()) {
    return false;
  }
  if (flags != proto::kFrameFlags) {
    return false;
  }
  auto t = static_cast<proto::FrameType>(type);
  if (!BodyLenAllowed(policy, t, len)) {
    return false;
  }
  *out = FrameHeader{t, len};
  return true;
}

FrameAssembler::FrameAssembler() { buf_.reserve(proto::kMaxFrameLen); }

FrameResult FrameAssembler::Take(const FramePolicy& policy, ByteView* in) {
  if (failed_) {
    return FrameResult::kError;
  }
  if (complete_) {
    buf_.clear();
    header_ok_ = false;
    complete_ = false;
  }
  while (!in->empty()) {
    // Until the header is accepted we want exactly its 4 bytes; then exactly its body.
    size_t want = header_ok_ ? proto::kFrameHeaderLen + header_.body_len : proto::kFrameHeaderLen;
    size_t n = std::min(want - buf_.size(), in->size());
    buf_.insert(buf_.end(), in->begin(), in->begin() + n);
    in->remove_prefix(n);
    if (buf_.size() < want) {
      return FrameResult::kNeedMore;
    }
    if (!header_ok_) {
      if (!CheckFrameHeader(policy, ByteView(buf_.data(), buf_.size()), &header_)) {
        failed_ = true;
        return FrameResult::kError;
      }
      header_ok_ = true;
    }
    if (buf_.size() == proto::kFrameHeaderLen + header_.body_len) {
      complete_ = true;
      return FrameResult::kFrame;
    }
  }
  return FrameResult::kNeedMore;
}

bool DecodeAlert(ByteView body, AlertBody* out) {
  Reader r(body);
  uint8_t code;
  std::string_view reason;
  if (!r.ReadU8(&code) || !r.ReadStr(&reason) || !r.empty() ||
      reason.size() > proto::kMaxAlertReasonLen) {
    return false;
  }
  *out = AlertBody{code, reason};
  return true;
}

void AppendAlert(proto::AlertCode code, std::string_view reason, std::vector<uint8_t>* out) {
  Writer w(out);
  size_t start = w.BeginFrame(proto::FrameType::kAlert);
  w.U8(static_cast<uint8_t>(code));
  w.Str(reason.substr(0, proto::kMaxAlertReasonLen));
  w.EndFrame(start);
}

void AppendKeyRequest(std::vector<uint8_t>* out) {
  Writer w(out);
  w.EndFrame(w.BeginFrame(proto::FrameType::kKeyRequest));
}

void AppendServerKey(ByteView der, std::vector<uint8_t>* out) {
  if (der.size() < proto::kServerKeyMinBodyLen || der.size() > proto::kServerKeyMaxBodyLen) {
    abort();  // keys are checked when loaded (CheckRsaKey)
  }
  Writer w(out);
  const size_t start = w.BeginFrame(proto::FrameType::kServerKey);
  w.Bytes(der);
  w.EndFrame(start);
}

}  // namespace securechat
