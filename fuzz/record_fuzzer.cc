// Fuzzes the record layer with fixed keys.
//
// Input: mode u8, seq u64, then by mode:
//   0  a frame, opened as it is (it must open only if it is authentic);
//   1  iv || ct, framed and given a valid tag here, so that decryption, the padding check and
//      the plaintext length check are reached with arbitrary decrypted bytes;
//   2  iv[16], n = u8 % 4 + 1, then n u16-prefixed plaintexts, a u16 bit position: each is
//      sealed then opened, and must come back unchanged; the record with one bit flipped, at
//      the wrong sequence number or under the other direction's keys must not open.
// Whenever a record opens, sealing its plaintext again with its IV must give the same frame.
#include <limits>
#include <vector>

#include "fuzz_util.h"
#include "record_util.h"
#include "securechat/crypto/primitives.h"
#include "securechat/crypto/random.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/writer.h"

namespace securechat::fuzz {
namespace {

// CheckOpened: an opened record's plaintext, sealed again under its IV and sequence number,
// gives back exactly the frame.
void CheckOpened(ByteView frame, uint64_t seq, const std::vector<uint8_t>& plaintext) {
  FUZZ_CHECK(!plaintext.empty() && plaintext.size() <= proto::kMaxPlaintextLen);
  RecordSealer sealer;
  FUZZ_CHECK(InitWith(&sealer, kC2sEnc, kC2sMac, seq));
  ScriptedRandom iv_source(
      std::vector<uint8_t>(frame.begin() + proto::kFrameHeaderLen,
                           frame.begin() + proto::kFrameHeaderLen + proto::kIvLen));
  std::vector<uint8_t> again;
  FUZZ_CHECK(sealer.Seal(plaintext, iv_source, &again));
  FUZZ_CHECK(SameBytes(again, frame));
}

void OpenAndCheck(ByteView frame, uint64_t seq) {
  RecordOpener opener;
  FUZZ_CHECK(InitWith(&opener, kC2sEnc, kC2sMac, seq));
  std::vector<uint8_t> plaintext = {0xEE};  // Open must replace whatever was there
  if (opener.Open(frame, &plaintext)) {
    FUZZ_CHECK(opener.sequence() == (seq == std::numeric_limits<uint64_t>::max() ? seq : seq + 1));
    CheckOpened(frame, seq, plaintext);
    // The same record never opens twice: the sequence number moved on (or is exhausted).
    std::vector<uint8_t> replayed;
    FUZZ_CHECK(!opener.Open(frame, &replayed));
  } else {
    FUZZ_CHECK(plaintext.empty());
    FUZZ_CHECK(opener.sequence() == seq);
  }
}

void FrameWithTag(ByteView iv_ct, uint64_t seq) {
  std::vector<uint8_t> frame;
  Writer w(&frame);
  const size_t start = w.BeginFrame(proto::FrameType::kRecord);
  w.Bytes(iv_ct);
  w.Bytes(std::array<uint8_t, proto::kTagLen>{});
  w.EndFrame(start);
  std::vector<uint8_t> covered(proto::kSeqLen);
  for (size_t i = 0; i < proto::kSeqLen; ++i) {
    covered[i] = static_cast<uint8_t>(seq >> (56 - 8 * i));
  }
  covered.insert(covered.end(), frame.begin(), frame.end() - proto::kTagLen);
  FUZZ_CHECK(HmacSha256::Compute(kC2sMac, covered,
                                 absl::MakeSpan(frame).subspan(frame.size() - proto::kTagLen)));
  OpenAndCheck(frame, seq);
}

void RoundTrips(Input& input, uint64_t seq) {
  // The first IV comes from the input; later ones from ScriptedRandom's counter stream.
  const ByteView first_iv = input.Bytes(proto::kIvLen);
  ScriptedRandom rng(std::vector<uint8_t>(first_iv.begin(), first_iv.end()));
  RecordSealer sealer;
  RecordOpener opener;
  FUZZ_CHECK(InitWith(&sealer, kC2sEnc, kC2sMac, seq));
  FUZZ_CHECK(InitWith(&opener, kC2sEnc, kC2sMac, seq));
  const int n = input.U8() % 4 + 1;
  std::vector<uint8_t> out;
  std::vector<uint8_t> plaintext;
  for (int i = 0; i < n; ++i) {
    const ByteView message = input.Chunk();
    const uint64_t at = sealer.sequence();
    out.clear();
    const bool sealed = sealer.Seal(message, rng, &out);
    if (message.empty() || message.size() > proto::kMaxPlaintextLen) {
      FUZZ_CHECK(!sealed && out.empty() && sealer.sequence() == at);
      continue;
    }
    if (!sealed) {
      // Only an exhausted sequence number refuses a good plaintext.
      FUZZ_CHECK(at == std::numeric_limits<uint64_t>::max() && out.empty());
      continue;
    }
    FrameHeader header;
    FUZZ_CHECK(out.size() >= proto::kFrameHeaderLen);
    FUZZ_CHECK(CheckFrameHeader(FramePolicy{FrameExpect::kRecord, 0},
                                ByteView(out).first(proto::kFrameHeaderLen), &header));
    FUZZ_CHECK(out.size() == proto::kFrameHeaderLen + header.body_len);
    FUZZ_CHECK(header.body_len ==
               proto::kRecordOverhead +
                   (message.size() / proto::kAesBlockLen + 1) * proto::kAesBlockLen);

    // Tampering: one flipped bit anywhere, the wrong sequence number, the other keys.
    std::vector<uint8_t> tampered = out;
    const size_t bit = input.U16() % (tampered.size() * 8);
    tampered[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    RecordOpener other;
    FUZZ_CHECK(InitWith(&other, kC2sEnc, kC2sMac, at));
    FUZZ_CHECK(!other.Open(tampered, &plaintext) && plaintext.empty());
    FUZZ_CHECK(InitWith(&other, kC2sEnc, kC2sMac, at + 1));
    FUZZ_CHECK(!other.Open(out, &plaintext));
    FUZZ_CHECK(InitWith(&other, kOtherEnc, kOtherMac, at));
    FUZZ_CHECK(!other.Open(out, &plaintext));

    FUZZ_CHECK(opener.Open(out, &plaintext));
    FUZZ_CHECK(SameBytes(plaintext, message));
    FUZZ_CHECK(opener.sequence() == sealer.sequence());
  }
}

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat::fuzz;
  Input input(data, size);
  const uint8_t mode = input.U8() % 3;
  const uint64_t seq = input.U64();
  switch (mode) {
    case 0:
      OpenAndCheck(input.Rest(), seq);
      break;
    case 1:
      FrameWithTag(input.Rest(), seq);
      break;
    default:
      RoundTrips(input, seq);
      break;
  }
  return 0;
}
