// Fuzzes the client's side of the key request (PROTOCOL.md 4.8): the server's answer, cut
// where the input says, goes through ServerKeyRequest. A key it returns must be exactly the
// bytes of the SERVER_KEY body (canonical DER, so that its fingerprint is SHA-256 of what the
// server sent) and of an allowed size; nothing may follow it. The body alone also goes
// through ServerPublicKey::FromDer, which must agree.
//
// Input: n = u8 % 8, then n u16 cut lengths, then the server's bytes.
#include <algorithm>
#include <vector>

#include "fuzz_util.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/primitives.h"
#include "securechat/engine/key_request.h"
#include "securechat/wire/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat;
  using namespace securechat::fuzz;
  Input input(data, size);
  std::vector<size_t> cuts(input.U8() % 8);
  for (size_t& c : cuts) {
    c = input.U16();
  }
  const ByteView stream = input.Rest();

  ServerKeyRequest request;
  FUZZ_CHECK(request.Start());
  const std::vector<uint8_t> want_request = {0x05, 0x00, 0x00, 0x00};
  FUZZ_CHECK(SameBytes(request.output().pending(), want_request));

  ByteView left = stream;
  ServerKeyRequest::Step step = ServerKeyRequest::Step::kNeedMore;
  size_t cut = 0;
  while (step == ServerKeyRequest::Step::kNeedMore && !left.empty()) {
    const size_t n = cut < cuts.size() ? std::min(cuts[cut++], left.size()) : left.size();
    ByteView in = left.first(n);
    step = request.Next(&in);
    left.remove_prefix(n - in.size());
  }
  if (step == ServerKeyRequest::Step::kKey) {
    const ByteView consumed = stream.first(stream.size() - left.size());
    const ByteView body = consumed.subspan(proto::kFrameHeaderLen);
    FUZZ_CHECK(consumed[0] == static_cast<uint8_t>(proto::FrameType::kServerKey));
    FUZZ_CHECK(SameBytes(request.key()->Der(), body));
    FUZZ_CHECK(proto::IsAllowedRsaLen(request.key()->size()));
    Sha256Digest digest;
    Sha256 h;
    FUZZ_CHECK(h.Update(body) && h.Final(&digest));
    FUZZ_CHECK(request.key()->FingerprintDigest() == digest);
  }
  if (step != ServerKeyRequest::Step::kNeedMore) {
    ByteView more = left;
    FUZZ_CHECK(request.Next(&more) == ServerKeyRequest::Step::kFailed);  // one answer only
  }

  // FromDer alone, on the stream after the header: a key only for canonical DER.
  if (stream.size() >= proto::kFrameHeaderLen) {
    const ByteView der = stream.subspan(proto::kFrameHeaderLen);
    absl::StatusOr<ServerPublicKey> key = ServerPublicKey::FromDer(der);
    if (key.ok()) {
      FUZZ_CHECK(SameBytes(key->Der(), der));
    }
  }
  return 0;
}
