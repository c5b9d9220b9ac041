#include "securechat/crypto/record.h"

#include <cstring>
#include <limits>

#include "securechat/crypto/constant_time.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/writer.h"

namespace securechat {
namespace {

using Tag = std::array<uint8_t, proto::kTagLen>;

std::array<uint8_t, proto::kSeqLen> EncodeSeq(uint64_t seq) {
  std::array<uint8_t, proto::kSeqLen> out;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(seq >> (8 * (out.size() - 1 - i)));
  }
  return out;
}

// ComputeTag computes HMAC(mac_key, u64(seq) || header || iv || ct), where `covered` is the
// frame's header, iv and ct in one contiguous run.
bool ComputeTag(HmacSha256& mac, uint64_t seq, ByteView covered, absl::Span<uint8_t> tag) {
  const auto seq_bytes = EncodeSeq(seq);
  return mac.Mac(seq_bytes, covered, tag);
}

}  // namespace

bool RecordSealer::Init(const EncKey& enc_key, const MacKey& mac_key) {
  ready_ = aes_.Init(enc_key.Expose(), /*encrypt=*/true) && mac_.Init(mac_key.Expose());
  seq_ = 0;
  exhausted_ = false;
  return ready_;
}

bool RecordSealer::Seal(ByteView plaintext, RandomSource& rng, std::vector<uint8_t>* out) {
  if (!ready_ || exhausted_ || plaintext.empty() || plaintext.size() > proto::kMaxPlaintextLen) {
    return false;
  }
  const size_t ct_len = (plaintext.size() / proto::kAesBlockLen + 1) * proto::kAesBlockLen;
  const size_t pad = ct_len - plaintext.size();  // 1..16
  const size_t start = out->size();

  Writer w(out);
  const size_t frame = w.BeginFrame(proto::FrameType::kRecord);
  // The body grows once; the padded plaintext goes where the ciphertext will be and is
  // encrypted in place in one call; the tag is computed into its place.
  out->resize(out->size() + proto::kIvLen + ct_len + proto::kTagLen);
  w.EndFrame(frame);
  uint8_t* iv = out->data() + start + proto::kFrameHeaderLen;
  uint8_t* ct = iv + proto::kIvLen;
  std::memcpy(ct, plaintext.data(), plaintext.size());
  std::memset(ct + plaintext.size(), static_cast<int>(pad), pad);
  rng.Fill(absl::MakeSpan(iv, proto::kIvLen));
  const bool ok =
      aes_.Run(ByteView(iv, proto::kIvLen), ByteView(ct, ct_len), absl::MakeSpan(ct, ct_len)) &&
      ComputeTag(mac_, seq_,
                 ByteView(out->data() + start, proto::kFrameHeaderLen + proto::kIvLen + ct_len),
                 absl::MakeSpan(ct + ct_len, proto::kTagLen));
  if (!ok) {
    out->resize(start);
    return false;
  }
  if (seq_ == std::numeric_limits<uint64_t>::max()) {
    exhausted_ = true;
  } else {
    ++seq_;
  }
  return true;
}

bool RecordOpener::Init(const EncKey& enc_key, const MacKey& mac_key) {
  ready_ = aes_.Init(enc_key.Expose(), /*encrypt=*/false) && mac_.Init(mac_key.Expose());
  seq_ = 0;
  exhausted_ = false;
  return ready_;
}

bool RecordOpener::Open(ByteView frame, std::vector<uint8_t>* plaintext) {
  // Every failure leaves *plaintext empty. Success resizes it without clearing it first, so a
  // buffer that held a message of about this size is not zero-filled again before the
  // decryption overwrites it.
  auto fail = [plaintext] {
    plaintext->clear();
    return false;
  };
  FrameHeader header;
  if (!ready_ || exhausted_ || frame.size() < proto::kFrameHeaderLen ||
      !CheckFrameHeader(FramePolicy{FrameExpect::kRecord, 0}, frame.first(proto::kFrameHeaderLen),
                        &header) ||
      frame.size() - proto::kFrameHeaderLen != header.body_len) {
    return fail();
  }
  Reader r(frame);
  ByteView covered, iv, ct, received_tag;
  const size_t ct_len = header.body_len - proto::kRecordOverhead;
  if (!r.ReadBytes(proto::kFrameHeaderLen + proto::kIvLen + ct_len, &covered) ||
      !r.ReadBytes(proto::kTagLen, &received_tag) || !r.empty()) {
    return fail();
  }
  Reader parts(covered.subspan(proto::kFrameHeaderLen));
  if (!parts.ReadBytes(proto::kIvLen, &iv) || !parts.ReadBytes(ct_len, &ct)) {
    return fail();
  }
  Tag tag;
  if (!ComputeTag(mac_, seq_, covered, absl::MakeSpan(tag)) ||
      !ConstantTimeEqual(tag, received_tag)) {
    return fail();
  }
  // Only an authentic record is decrypted.
  plaintext->resize(ct_len);
  const size_t pad = aes_.Run(iv, ct, absl::MakeSpan(*plaintext)) ? Pkcs7PaddingLen(*plaintext) : 0;
  const size_t len = ct_len - pad;
  if (pad == 0 || len == 0 || len > proto::kMaxPlaintextLen) {
    return fail();
  }
  plaintext->resize(len);
  if (seq_ == std::numeric_limits<uint64_t>::max()) {
    exhausted_ = true;
  } else {
    ++seq_;
  }
  return true;
}

}  // namespace securechat
