#include "securechat/crypto/auth.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <string_view>

#include "securechat/wire/protocol.h"
#include "securechat/wire/writer.h"

namespace securechat {
namespace {

constexpr size_t kSha512Len = 64;

// SshString writes an SSH `string`: u32 length, then the bytes.
void SshString(Writer& w, ByteView bytes) {
  w.U32(static_cast<uint32_t>(bytes.size()));
  w.Bytes(bytes);
}

ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

std::vector<uint8_t> AuthSignedData(const Sha256Digest& th) {
  std::vector<uint8_t> message;
  Writer m(&message);
  m.Bytes(proto::kAuthContext);
  m.Bytes(th);
  std::array<uint8_t, kSha512Len> hash{};
  unsigned int hash_len = 0;
  if (EVP_Digest(message.data(), message.size(), hash.data(), &hash_len, EVP_sha512(), nullptr) !=
          1 ||
      hash_len != hash.size()) {
    ERR_clear_error();
    return {};
  }
  std::vector<uint8_t> blob;
  Writer w(&blob);
  w.Bytes(proto::kSshsigMagic);
  SshString(w, AsBytes(proto::kSshsigNamespace));
  SshString(w, {});  // reserved
  SshString(w, AsBytes(proto::kSshsigHash));
  SshString(w, hash);
  return blob;
}

bool AuthVerify(const Ed25519Public& key, const Sha256Digest& th, ByteView sig) {
  const std::vector<uint8_t> data = AuthSignedData(th);
  return !data.empty() && Ed25519Verify(key, data, sig);
}

bool AuthSign(const Ed25519Key& key, const Sha256Digest& th, Ed25519Signature* sig) {
  const std::vector<uint8_t> data = AuthSignedData(th);
  return !data.empty() && key.Sign(data, sig);
}

bool FileUserKey::Sign(ByteView data, Ed25519Signature* sig, std::string* why) {
  if (!key_.Sign(data, sig)) {
    *why = "cannot sign with the key file's key (OpenSSL failed)";
    return false;
  }
  return true;
}

}  // namespace securechat
