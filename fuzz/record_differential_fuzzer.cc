// A differential target for the record layer. RecordSealer and RecordOpener reuse keyed
// contexts, encrypt in place and check the padding in constant time; the reference below does
// the same job the plainest way, with one-shot OpenSSL calls (EVP_EncryptInit/Update/Final with
// OpenSSL's own PKCS#7 padding, and HMAC()). Both must give the same bytes and verdicts. The
// record layer's HMAC is Nettle's (crypto/primitives.h), so the tags are checked across two
// libraries.
//
// Input: mode u8, seq u64, then by mode:
//   0  n = u8 % 4 + 1, then n times: iv[16] and a u16-prefixed plaintext. Each plaintext is
//      sealed by both (same IV); frames must be identical, and each side opens the other's.
//   1  a frame, opened by both.
//   2  iv || ct, framed and tagged by the reference, opened by both.
//   3  a 4-byte header, then iv || ct, tagged by the reference, opened by both.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "fuzz_util.h"
#include "record_util.h"
#include "securechat/crypto/random.h"

namespace securechat::fuzz {
namespace {

// The reference follows PROTOCOL.md 5 and writes its numbers out.
constexpr size_t kRefMaxPlaintext = 16384;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

std::vector<uint8_t> RefTag(uint64_t seq, ByteView covered) {
  std::vector<uint8_t> input;
  for (int shift = 56; shift >= 0; shift -= 8) {
    input.push_back(static_cast<uint8_t>(seq >> shift));
  }
  input.insert(input.end(), covered.begin(), covered.end());
  std::vector<uint8_t> tag(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  FUZZ_CHECK(HMAC(EVP_sha256(), kC2sMac.data(), static_cast<int>(kC2sMac.size()), input.data(),
                  input.size(), tag.data(), &len) != nullptr);
  FUZZ_CHECK(len == 32);
  tag.resize(len);
  return tag;
}

// RefSeal returns the frame for `plaintext`, or nothing when the plaintext may not be sent.
std::optional<std::vector<uint8_t>> RefSeal(uint64_t seq, ByteView iv, ByteView plaintext) {
  if (plaintext.empty() || plaintext.size() > kRefMaxPlaintext) {
    return std::nullopt;
  }
  std::vector<uint8_t> ct(plaintext.size() + 16);
  int n1 = 0, n2 = 0;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  FUZZ_CHECK(ctx != nullptr);
  FUZZ_CHECK(EVP_EncryptInit(ctx.get(), EVP_aes_128_cbc(), kC2sEnc.data(), iv.data()) == 1);
  FUZZ_CHECK(EVP_EncryptUpdate(ctx.get(), ct.data(), &n1, plaintext.data(),
                               static_cast<int>(plaintext.size())) == 1);
  FUZZ_CHECK(EVP_EncryptFinal(ctx.get(), ct.data() + n1, &n2) == 1);
  ct.resize(static_cast<size_t>(n1 + n2));
  const size_t body_len = 16 + ct.size() + 32;
  std::vector<uint8_t> frame = {0x04, 0x00, static_cast<uint8_t>(body_len >> 8),
                                static_cast<uint8_t>(body_len)};
  frame.insert(frame.end(), iv.begin(), iv.end());
  frame.insert(frame.end(), ct.begin(), ct.end());
  const std::vector<uint8_t> tag = RefTag(seq, frame);
  frame.insert(frame.end(), tag.begin(), tag.end());
  return frame;
}

// RefOpen returns the plaintext of an authentic, well-formed record, or nothing.
std::optional<std::vector<uint8_t>> RefOpen(uint64_t seq, ByteView frame) {
  if (frame.size() < 4 || frame[0] != 0x04 || frame[1] != 0x00) {
    return std::nullopt;
  }
  const size_t body_len = static_cast<size_t>(frame[2]) << 8 | frame[3];
  if (body_len != frame.size() - 4 || body_len < 64 || body_len > 16448 ||
      (body_len - 48) % 16 != 0) {
    return std::nullopt;
  }
  const ByteView covered = frame.first(frame.size() - 32);
  const ByteView tag = frame.subspan(frame.size() - 32);
  const std::vector<uint8_t> want = RefTag(seq, covered);
  if (CRYPTO_memcmp(want.data(), tag.data(), 32) != 0) {
    return std::nullopt;
  }
  const ByteView iv = frame.subspan(4, 16);
  const ByteView ct = covered.subspan(20);
  std::vector<uint8_t> plain(ct.size() + 16);
  int n1 = 0, n2 = 0;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  FUZZ_CHECK(ctx != nullptr);
  FUZZ_CHECK(EVP_DecryptInit(ctx.get(), EVP_aes_128_cbc(), kC2sEnc.data(), iv.data()) == 1);
  FUZZ_CHECK(
      EVP_DecryptUpdate(ctx.get(), plain.data(), &n1, ct.data(), static_cast<int>(ct.size())) == 1);
  if (EVP_DecryptFinal(ctx.get(), plain.data() + n1, &n2) != 1) {
    return std::nullopt;  // bad padding
  }
  plain.resize(static_cast<size_t>(n1 + n2));
  if (plain.empty() || plain.size() > kRefMaxPlaintext) {
    return std::nullopt;
  }
  return plain;
}

std::optional<std::vector<uint8_t>> Open(uint64_t seq, ByteView frame) {
  RecordOpener opener;
  FUZZ_CHECK(InitWith(&opener, kC2sEnc, kC2sMac, seq));
  std::vector<uint8_t> plaintext;
  if (!opener.Open(frame, &plaintext)) {
    FUZZ_CHECK(plaintext.empty());
    return std::nullopt;
  }
  return plaintext;
}

void CompareOpen(uint64_t seq, ByteView frame) {
  const auto got = Open(seq, frame);
  const auto want = RefOpen(seq, frame);
  FUZZ_CHECK(got.has_value() == want.has_value());
  if (got) {
    FUZZ_CHECK(*got == *want);
  }
}

void CompareSeal(Input& input, uint64_t seq) {
  RecordSealer sealer;
  FUZZ_CHECK(InitWith(&sealer, kC2sEnc, kC2sMac, seq));
  const int n = input.U8() % 4 + 1;
  for (int i = 0; i < n; ++i) {
    std::vector<uint8_t> iv(16);
    const ByteView given = input.Bytes(16);
    std::copy(given.begin(), given.end(), iv.begin());
    ScriptedRandom rng(iv);  // the sealer draws its IV only for a record it will send
    const ByteView plaintext = input.Chunk();
    const uint64_t at = sealer.sequence();
    std::vector<uint8_t> got;
    const bool sealed = sealer.Seal(plaintext, rng, &got);
    const auto want = RefSeal(at, iv, plaintext);
    if (!want) {
      FUZZ_CHECK(!sealed && got.empty());
      continue;
    }
    if (!sealed) {
      // The sealer stops, and only stops, once the last sequence number has been used.
      FUZZ_CHECK(at == std::numeric_limits<uint64_t>::max() && i > 0 && got.empty());
      continue;
    }
    FUZZ_CHECK(got == *want);
    const auto opened = RefOpen(at, got);
    FUZZ_CHECK(opened && SameBytes(*opened, plaintext));
    const auto ours = Open(at, *want);
    FUZZ_CHECK(ours && SameBytes(*ours, plaintext));
  }
}

// Tagged frames the record with a valid tag around `header || iv_ct`, so that the opener's
// checks after the MAC are reached.
std::vector<uint8_t> Tagged(ByteView header, ByteView iv_ct, uint64_t seq) {
  std::vector<uint8_t> frame(header.begin(), header.end());
  frame.insert(frame.end(), iv_ct.begin(), iv_ct.end());
  const std::vector<uint8_t> tag = RefTag(seq, frame);
  frame.insert(frame.end(), tag.begin(), tag.end());
  return frame;
}

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat::fuzz;
  Input input(data, size);
  const uint8_t mode = input.U8() % 4;
  const uint64_t seq = input.U64();
  switch (mode) {
    case 0:
      CompareSeal(input, seq);
      break;
    case 1:
      CompareOpen(seq, input.Rest());
      break;
    case 2: {
      const ByteView iv_ct = input.Rest();
      const size_t body_len = iv_ct.size() + 32;
      const uint8_t header[4] = {0x04, 0x00, static_cast<uint8_t>(body_len >> 8),
                                 static_cast<uint8_t>(body_len)};
      CompareOpen(seq, Tagged(header, iv_ct, seq));
      break;
    }
    default: {
      const ByteView header = input.Bytes(4);
      CompareOpen(seq, Tagged(header, input.Rest(), seq));
      break;
    }
  }
  return 0;
}
