// Fuzzes key loading: ServerPublicKey::FromPem and ServerPrivateKey::FromPem, the latter
// without a passphrase, with the fuzzer's passphrase and with the one the encrypted seeds use.
// A key that loads must be RSA of an allowed size and survive a PEM round trip with the same
// fingerprint.
//
// Input: mode u8 (0 public, 1 private, 2 private with a u16-prefixed passphrase from the
// input, 3 private with kSeedPassphrase), then the PEM text.
#include <string>

#include "fuzz_util.h"
#include "securechat/crypto/keys.h"
#include "securechat/wire/protocol.h"

namespace securechat::fuzz {
namespace {

// The passphrase of the encrypted keys in fuzz/corpus/pem/ (written by fuzz/make_seeds.py).
constexpr std::string_view kSeedPassphrase = "securechat fuzz";

void CheckPublic(const ServerPublicKey& key) {
  FUZZ_CHECK(proto::IsAllowedRsaLen(key.size()));
  const std::string pem = key.ToPem();
  auto again = ServerPublicKey::FromPem(pem);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->Fingerprint() == key.Fingerprint());
  FUZZ_CHECK(again->size() == key.size());
}

void Public(std::string_view pem) {
  auto key = ServerPublicKey::FromPem(pem);
  if (key.ok()) {
    CheckPublic(*key);
  }
}

void Private(std::string_view pem, const Passphrase* passphrase) {
  KeyLoadError why = KeyLoadError::kNone;
  auto key = ServerPrivateKey::FromPem(pem, passphrase, &why);
  // The reason agrees with the outcome: none exactly when a key loaded, and a passphrase is
  // asked for only when none was given.
  FUZZ_CHECK(key.ok() == (why == KeyLoadError::kNone));
  FUZZ_CHECK(why != KeyLoadError::kNeedsPassphrase || passphrase == nullptr);
  if (!key.ok()) {
    return;
  }
  FUZZ_CHECK(proto::IsAllowedRsaLen(key->size()));
  const ServerPublicKey pub = key->PublicKey();
  FUZZ_CHECK(pub.size() == key->size());
  CheckPublic(pub);
  auto plain = key->ToPem(nullptr);
  FUZZ_CHECK(plain.ok());
  auto again = ServerPrivateKey::FromPem(AsChars(plain->Expose()), nullptr);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->PublicKey().Fingerprint() == pub.Fingerprint());
}

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat;
  using namespace securechat::fuzz;
  Input input(data, size);
  switch (input.U8() % 4) {
    case 0:
      Public(AsText(input.Rest()));
      break;
    case 1:
      Private(AsText(input.Rest()), nullptr);
      break;
    case 2: {
      const Passphrase passphrase{std::string(AsText(input.Chunk()))};
      Private(AsText(input.Rest()), &passphrase);
      break;
    }
    default: {
      const Passphrase passphrase{std::string(kSeedPassphrase)};
      Private(AsText(input.Rest()), &passphrase);
      break;
    }
  }
  return 0;
}
