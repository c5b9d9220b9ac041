// Fuzzes the ssh-agent reply decoders (crypto/ssh_agent_codec.h): ReplyLength, and the bodies
// of an identities answer and a sign response, alone or behind their length as AgentSigner
// reads them. Each must accept or refuse without crashing, within its bounds, and what it
// accepts must encode back to the same bytes.
//
// Input: mode u8 (0 identities answer body, 1 sign response body, 2 a whole message: length,
// then the body, to both), then the bytes.
#include <algorithm>
#include <vector>

#include "fuzz_util.h"
#include "securechat/crypto/ssh_agent_codec.h"

namespace securechat::fuzz {
namespace {

using ssh_agent::Reply;

// WithoutLength is a whole message from the codec's encoders, less its length.
ByteView WithoutLength(const std::vector<uint8_t>& msg) {
  FUZZ_CHECK(msg.size() > ssh_agent::kLengthLen);
  return ByteView(msg).subspan(ssh_agent::kLengthLen);
}

bool IsFailureMessage(ByteView body) {
  return body.size() == 1 &&
         (body[0] == ssh_agent::kFailure || body[0] == ssh_agent::kSsh2Failure ||
          body[0] == ssh_agent::kSshComFailure);
}

// CheckVerdict checks a verdict against the body: a refusal is a lone failure byte, and a lone
// failure byte is never malformed. Returns whether the verdict was kOk.
bool CheckVerdict(Reply verdict, ByteView body) {
  if (verdict != Reply::kOk) {
    FUZZ_CHECK((verdict == Reply::kRefused) == IsFailureMessage(body));
  }
  return verdict == Reply::kOk;
}

void Identities(ByteView body) {
  std::vector<ssh_agent::Identity> keys;
  size_t others = 0;
  if (!CheckVerdict(ssh_agent::ParseIdentitiesAnswer(body, &keys, &others), body)) {
    return;
  }
  FUZZ_CHECK(keys.size() + others <= ssh_agent::kMaxIdentities);
  if (others == 0) {
    // Only Ed25519 keys: nothing was skipped, so the answer encodes back exactly.
    FUZZ_CHECK(SameBytes(WithoutLength(ssh_agent::EncodeIdentitiesAnswer(keys)), body));
  }
}

void Signature(ByteView body) {
  Ed25519Signature sig{};
  if (CheckVerdict(ssh_agent::ParseSignResponse(body, &sig), body)) {
    FUZZ_CHECK(SameBytes(WithoutLength(ssh_agent::EncodeSignResponse(sig)), body));
  }
}

// Message reads a length and then exactly that many bytes, as AgentSigner does.
void Message(Input& in) {
  const ByteView head = in.Bytes(ssh_agent::kLengthLen);
  if (head.size() < ssh_agent::kLengthLen) {
    return;
  }
  ssh_agent::LengthHeader header;
  std::copy(head.begin(), head.end(), header.begin());
  const uint32_t announced =
      uint32_t{header[0]} << 24 | uint32_t{header[1]} << 16 | uint32_t{header[2]} << 8 | header[3];
  uint32_t len = 0;
  const bool ok = ssh_agent::ReplyLength(header, &len);
  FUZZ_CHECK(ok == (announced >= 1 && announced <= ssh_agent::kMaxReplyLen));
  if (!ok) {
    return;
  }
  FUZZ_CHECK(len == announced);
  const ByteView body = in.Bytes(len);
  if (body.size() < len) {
    return;  // the agent would still owe bytes
  }
  Identities(body);
  Signature(body);
}

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat::fuzz;
  Input in(data, size);
  const uint8_t mode = in.U8();
  switch (mode % 3) {
    case 0:
      Identities(in.Rest());
      break;
    case 1:
      Signature(in.Rest());
      break;
    case 2:
      Message(in);
      break;
  }
  return 0;
}
