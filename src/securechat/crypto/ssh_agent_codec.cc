#include "securechat/crypto/ssh_agent_codec.h"

#include <algorithm>
#include <cstdlib>

#include "securechat/wire/writer.h"

namespace securechat::ssh_agent {
namespace {

// kMinIdentityLen is the least an identity takes in an answer: two empty strings.
constexpr size_t kMinIdentityLen = 2 * kLengthLen;

ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

bool SameBytes(ByteView a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// SshStr writes SSH's string, `u32 length || bytes`. Aborts past kMaxReplyLen: every caller
// writes a key, a signature or data already bounded far below it.
void SshStr(Writer& w, ByteView b) {
  if (b.size() > kMaxReplyLen) {
    abort();
  }
  w.U32(static_cast<uint32_t>(b.size()));
  w.Bytes(b);
}

// Message is `body` behind its u32 length.
std::vector<uint8_t> Message(const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out;
  Writer w(&out);
  w.U32(static_cast<uint32_t>(body.size()));
  w.Bytes(body);
  return out;
}

bool IsFailure(uint8_t type) {
  return type == kFailure || type == kSsh2Failure || type == kSshComFailure;
}

// ReadType reads a reply's type byte: kOk if it is `expected`, kRefused for a failure that is
// the whole body, kMalformed otherwise.
Reply ReadType(Reader& r, uint8_t expected) {
  uint8_t type;
  if (!r.ReadU8(&type)) {
    return Reply::kMalformed;
  }
  if (type == expected) {
    return Reply::kOk;
  }
  return IsFailure(type) && r.empty() ? Reply::kRefused : Reply::kMalformed;
}

// What a key blob in an identities answer holds.
enum class Blob { kEd25519, kOtherType, kBad };

// ReadKeyBlob reads one key blob: kEd25519, with *key set, for exactly SshEd25519Blob;
// kOtherType for a blob that starts with another type name (to be skipped); kBad otherwise.
Blob ReadKeyBlob(ByteView blob, Ed25519Public* key) {
  Reader r(blob);
  ByteView type;
  if (!r.ReadSshStr(&type)) {
    return Blob::kBad;
  }
  if (!SameBytes(type, kEd25519Name)) {
    return Blob::kOtherType;
  }
  ByteView raw;
  if (!r.ReadSshStr(&raw) || raw.size() != key->size() || !r.empty()) {
    return Blob::kBad;
  }
  std::copy(raw.begin(), raw.end(), key->begin());
  return Blob::kEd25519;
}

}  // namespace

std::vector<uint8_t> EncodeRequestIdentities() { return Message({kRequestIdentities}); }

bool EncodeSignRequest(const Ed25519Public& key, ByteView data, std::vector<uint8_t>* out) {
  if (data.size() > kMaxSignDataLen) {
    return false;
  }
  std::vector<uint8_t> body;
  Writer w(&body);
  w.U8(kSignRequest);
  SshStr(w, SshEd25519Blob(key));
  SshStr(w, data);
  w.U32(kSignFlags);
  *out = Message(body);
  return true;
}

bool ReplyLength(const LengthHeader& header, uint32_t* len) {
  Reader r(header);
  uint32_t n;
  if (!r.ReadU32(&n) || n == 0 || n > kMaxReplyLen) {
    return false;
  }
  *len = n;
  return true;
}

Reply ParseIdentitiesAnswer(ByteView body, std::vector<Identity>* keys, size_t* other_keys) {
  Reader r(body);
  if (Reply type = ReadType(r, kIdentitiesAnswer); type != Reply::kOk) {
    return type;
  }
  uint32_t count;
  if (!r.ReadU32(&count) || count > kMaxIdentities || count > r.remaining() / kMinIdentityLen) {
    return Reply::kMalformed;
  }
  std::vector<Identity> found;
  size_t others = 0;
  for (uint32_t i = 0; i < count; ++i) {
    ByteView blob;
    ByteView comment;
    if (!r.ReadSshStr(&blob) || !r.ReadSshStr(&comment)) {
      return Reply::kMalformed;
    }
    Identity id;
    switch (ReadKeyBlob(blob, &id.key)) {
      case Blob::kEd25519:
        id.comment.assign(comment.begin(), comment.end());
        found.push_back(std::move(id));
        break;
      case Blob::kOtherType:
        ++others;
        break;
      case Blob::kBad:
        return Reply::kMalformed;
    }
  }
  if (!r.empty()) {
    return Reply::kMalformed;
  }
  *keys = std::move(found);
  *other_keys = others;
  return Reply::kOk;
}

Reply ParseSignResponse(ByteView body, Ed25519Signature* sig) {
  Reader r(body);
  if (Reply type = ReadType(r, kSignResponse); type != Reply::kOk) {
    return type;
  }
  ByteView signature;
  if (!r.ReadSshStr(&signature) || !r.empty()) {
    return Reply::kMalformed;
  }
  Reader s(signature);
  ByteView format;
  ByteView raw;
  if (!s.ReadSshStr(&format) || !SameBytes(format, kEd25519Name) || !s.ReadSshStr(&raw) ||
      raw.size() != sig->size() || !s.empty()) {
    return Reply::kMalformed;
  }
  std::copy(raw.begin(), raw.end(), sig->begin());
  return Reply::kOk;
}

std::vector<uint8_t> EncodeIdentitiesAnswer(const std::vector<Identity>& keys) {
  std::vector<uint8_t> body;
  Writer w(&body);
  w.U8(kIdentitiesAnswer);
  w.U32(static_cast<uint32_t>(keys.size()));
  for (const Identity& id : keys) {
    SshStr(w, SshEd25519Blob(id.key));
    SshStr(w, AsBytes(id.comment));
  }
  return Message(body);
}

std::vector<uint8_t> EncodeSignResponse(const Ed25519Signature& sig) {
  std::vector<uint8_t> signature;
  Writer s(&signature);
  SshStr(s, AsBytes(kEd25519Name));
  SshStr(s, sig);
  std::vector<uint8_t> body;
  Writer w(&body);
  w.U8(kSignResponse);
  SshStr(w, signature);
  return Message(body);
}

std::vector<uint8_t> EncodeFailure() { return Message({kFailure}); }

}  // namespace securechat::ssh_agent
