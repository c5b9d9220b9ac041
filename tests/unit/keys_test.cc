// Key generation, PEM files, passphrases, file modes and fingerprints.
#include "securechat/crypto/keys.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/crypto/handshake.h"
#include "securechat/crypto/key_files.h"
#include "support/test_util.h"

namespace securechat {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

std::string TestKeyPem() {
  return testing::ReadFileOrDie(std::string(SECURECHAT_TEST_KEY_DIR) + "/test_rsa2048_private.pem");
}

TEST(KeysTest, FingerprintIsSha256OfTheSubjectPublicKeyInfo) {
  // The value an independent implementation computed for the rsa2048 vector key.
  auto key = ServerPrivateKey::FromPem(TestKeyPem(), nullptr);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->PublicKey().Fingerprint(), "SHA256:LqtvS1ABzmalR9bxu0QFrerKip1zL8J5ju6E1UxWPQ8");
  auto pub = ServerPublicKey::FromPem(key->PublicKey().ToPem());
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->Fingerprint(), key->PublicKey().Fingerprint());
  EXPECT_EQ(pub->size(), 256u);
}

TEST(KeysTest, GenerateRefusesOtherSizes) {
  for (int bits : {-2048, 0, 1024, 2047, 2056, 8192}) {
    EXPECT_FALSE(IsAllowedRsaBits(bits)) << bits;
    auto key = ServerPrivateKey::Generate(bits);
    ASSERT_FALSE(key.ok()) << bits;
    EXPECT_NE(std::string(key.status().message()).find("2048, 3072 or 4096"), std::string::npos)
        << key.status();
    EXPECT_EQ(std::string(key.status().message()).find("--"), std::string::npos) << key.status();
  }
  for (int bits : {2048, 3072, 4096}) {
    EXPECT_TRUE(IsAllowedRsaBits(bits)) << bits;
    EXPECT_TRUE(proto::IsAllowedRsaLen(static_cast<size_t>(bits) / 8)) << bits;
  }
}

TEST(KeysTest, PassphraseProtectedRoundTrip) {
  auto key = ServerPrivateKey::FromPem(TestKeyPem(), nullptr).value();
  Passphrase pass("correct horse battery staple");
  auto encrypted = key.ToPem(&pass);
  ASSERT_TRUE(encrypted.ok());
  const std::string_view pem = AsChars(encrypted->Expose());
  EXPECT_NE(pem.find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);

  KeyLoadError why = KeyLoadError::kNone;
  auto none = ServerPrivateKey::FromPem(pem, nullptr, &why);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(why, KeyLoadError::kNeedsPassphrase);
  EXPECT_NE(std::string(none.status().message()).find("passphrase-protected"), std::string::npos);
  // The library names no flag of any program: the programs add those.
  EXPECT_EQ(std::string(none.status().message()).find("--"), std::string::npos) << none.status();

  Passphrase wrong("wrong horse");
  auto bad = ServerPrivateKey::FromPem(pem, &wrong, &why);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(why, KeyLoadError::kWrongPassphrase);
  EXPECT_NE(std::string(bad.status().message()).find("wrong passphrase"), std::string::npos);

  auto good = ServerPrivateKey::FromPem(pem, &pass, &why);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(why, KeyLoadError::kNone);
  EXPECT_EQ(good->PublicKey().Fingerprint(), key.PublicKey().Fingerprint());
}

TEST(KeysTest, RejectsNonRsaAndSmallKeys) {
  EXPECT_FALSE(ServerPublicKey::FromPem("not a key").ok());
  EvpPkeyPtr small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_NE(small, nullptr);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), small.get()), 1);
  char* data;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto key = ServerPublicKey::FromPem(std::string(data, static_cast<size_t>(len)));
  ASSERT_FALSE(key.ok());
  EXPECT_NE(std::string(key.status().message()).find("1024 bits"), std::string::npos);
  EvpPkeyPtr ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  BioPtr bio2(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio2.get(), ec.get()), 1);
  len = BIO_get_mem_data(bio2.get(), &data);
  EXPECT_FALSE(ServerPublicKey::FromPem(std::string(data, static_cast<size_t>(len))).ok());
}

TEST(KeysTest, PrivateKeyFileReadableByOthersIsRefused) {
  TempDir dir("securechat-keys");
  const std::string path = dir.File("server_private.pem");
  ASSERT_TRUE(WriteKeyFile(path, TestKeyPem(), 0644, false).ok());
  KeyLoadError why = KeyLoadError::kNone;
  auto key = ServerPrivateKey::ReadFile(path, nullptr, &why);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(why, KeyLoadError::kFileRefused);
  EXPECT_NE(std::string(key.status().message()).find("chmod 600"), std::string::npos)
      << key.status();
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  EXPECT_TRUE(ServerPrivateKey::ReadFile(path, nullptr, &why).ok());
  EXPECT_EQ(why, KeyLoadError::kNone);
  // Not a key at all.
  ASSERT_TRUE(WriteKeyFile(path, "not a key\n", 0600, true).ok());
  EXPECT_FALSE(ServerPrivateKey::ReadFile(path, nullptr, &why).ok());
  EXPECT_EQ(why, KeyLoadError::kBadKey);
}

TEST(KeysTest, WriteKeyFileNeverOverwritesWithoutBeingAsked) {
  TempDir dir("securechat-keys");
  const std::string path = dir.File("k.pem");
  ASSERT_TRUE(WriteKeyFile(path, "first", 0600, false).ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  absl::Status again = WriteKeyFile(path, "second", 0600, false);
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  EXPECT_EQ(std::string(again.message()).find("--"), std::string::npos) << again;
  EXPECT_EQ(testing::ReadFileOrDie(path), "first");
  EXPECT_TRUE(WriteKeyFile(path, "third", 0600, true).ok());
  EXPECT_EQ(testing::ReadFileOrDie(path), "third");
  // No temporary file is left behind.
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.File(""))) {
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST(KeysTest, MissingFileSaysNotFound) {
  KeyLoadError why = KeyLoadError::kNone;
  auto key = ServerPrivateKey::ReadFile("/nonexistent/key.pem", nullptr, &why);
  EXPECT_TRUE(absl::IsNotFound(key.status())) << key.status();
  EXPECT_EQ(why, KeyLoadError::kNotFound);
}

TEST(KeysTest, PassphraseFileTakesTheFirstLine) {
  TempDir dir("securechat-keys");
  const std::string path = dir.File("pass");
  ASSERT_TRUE(WriteKeyFile(path, "s3cret\r\nignored\n", 0600, false).ok());
  auto p = ReadPassphraseFile(path);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(AsChars(p->Expose()), "s3cret");
  ASSERT_TRUE(WriteKeyFile(dir.File("empty"), "\n", 0600, false).ok());
  EXPECT_FALSE(ReadPassphraseFile(dir.File("empty")).ok());
}

// The longest accepted first line is kMaxPassphraseLen bytes, with or without "\r\n"; one byte
// more is refused, never cut, however the line ends.
TEST(KeysTest, PassphraseFileOverTheLimitIsRefused) {
  TempDir dir("securechat-keys");
  const std::string at_limit(kMaxPassphraseLen, 'a');
  for (const std::string& contents : {at_limit, at_limit + "\n", at_limit + "\r\n" + "more"}) {
    const std::string path = dir.File("ok");
    ASSERT_TRUE(WriteKeyFile(path, contents, 0600, true).ok());
    auto p = ReadPassphraseFile(path);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(AsChars(p->Expose()), at_limit);
  }
  const std::string over(kMaxPassphraseLen + 1, 'b');
  for (const std::string& contents :
       {over, over + "\n", over + "\r\n", std::string(5000, 'c'), over + "\nsecond line"}) {
    const std::string path = dir.File("long");
    ASSERT_TRUE(WriteKeyFile(path, contents, 0600, true).ok());
    auto p = ReadPassphraseFile(path);
    ASSERT_FALSE(p.ok()) << contents.size() << " bytes accepted";
    EXPECT_NE(std::string(p.status().message()).find("longer than 1024 bytes"), std::string::npos)
        << p.status();
  }
}

// Like ssh with keys: a passphrase file that group or others may read or write is refused,
// with its mode, its path and the fix in the message.
TEST(KeysTest, PassphraseFileOthersMayUseIsRefused) {
  TempDir dir("securechat-keys");
  const std::string path = dir.File("pass");
  ASSERT_TRUE(WriteKeyFile(path, "s3cret\n", 0600, false).ok());
  for (mode_t mode : {0644, 0640, 0604, 0660, 0620, 0602, 0610, 0601}) {
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
    auto p = ReadPassphraseFile(path);
    ASSERT_FALSE(p.ok()) << std::oct << mode;
    const std::string message(p.status().message());
    EXPECT_NE(message.find(absl::StrFormat("permissions %04o are too open", mode)),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(Cat("chmod 600 ", path)), std::string::npos) << message;
  }
  for (mode_t mode : {0600, 0400}) {
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
    EXPECT_TRUE(ReadPassphraseFile(path).ok()) << std::oct << mode;
  }
  EXPECT_FALSE(ReadPassphraseFile(dir.File("")).ok()) << "a directory was read";
}

// A key is never encrypted with a passphrase that the server's reader could not take back.
TEST(KeysTest, PassphraseOverTheLimitEncryptsNothing) {
  auto key = ServerPrivateKey::FromPem(TestKeyPem(), nullptr).value();
  const Passphrase over(std::string(kMaxPassphraseLen + 1, 'x'));
  auto pem = key.ToPem(&over);
  ASSERT_FALSE(pem.ok());
  EXPECT_NE(std::string(pem.status().message()).find("longer than 1024 bytes"), std::string::npos)
      << pem.status();

  const Passphrase at_limit(std::string(kMaxPassphraseLen, 'x'));
  auto encrypted = key.ToPem(&at_limit);
  ASSERT_TRUE(encrypted.ok()) << encrypted.status();
  auto opened = ServerPrivateKey::FromPem(AsChars(encrypted->Expose()), &at_limit);
  ASSERT_TRUE(opened.ok()) << opened.status();
  auto refused = ServerPrivateKey::FromPem(AsChars(encrypted->Expose()), &over);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(std::string(refused.status().message()).find("longer than 1024 bytes"),
            std::string::npos)
      << refused.status();
}

// A move hands the very bytes over, short passphrases included (a std::string would copy a
// short text from its own object into the other and leave it behind), and empties the source.
TEST(KeysTest, PassphraseMoveLeavesNoCopyBehind) {
  Passphrase first("short");
  const uint8_t* const where = first.Expose().data();
  Passphrase second(std::move(first));
  EXPECT_EQ(AsChars(second.Expose()), "short");
  EXPECT_EQ(second.Expose().data(), where) << "the move copied the passphrase";
  EXPECT_TRUE(first.Expose().empty());  // NOLINT(bugprone-use-after-move): what is left
}

// The server's handshake budget: as configured, or half a core of the key's unwraps; each
// address a quarter of it, never less than one.
TEST(KeysTest, HandshakeBudgetFromTheKeyOrAsConfigured) {
  auto key = ServerPrivateKey::FromPem(TestKeyPem(), nullptr).value();
  const HandshakeBudget given = ChooseHandshakeBudget(key, 40);
  EXPECT_EQ(given.per_second, 40);
  EXPECT_EQ(given.per_second_per_address, 10);
  const HandshakeBudget small = ChooseHandshakeBudget(key, 2);
  EXPECT_EQ(small.per_second_per_address, 1);
  const HandshakeBudget measured = ChooseHandshakeBudget(key, 0);
  EXPECT_GE(measured.per_second, 1);
  EXPECT_EQ(measured.per_second, std::floor(measured.per_second));
  // A 2048-bit unwrap takes well under half a second on any machine that runs these tests.
  EXPECT_GT(measured.per_second, 1);
  EXPECT_EQ(measured.per_second_per_address, std::max(1.0, measured.per_second / 4));
}

// ---------------------------------------------------------------------------------------------
// Ed25519 user keys.

Ed25519Public PublicFromHex(std::string_view hex) {
  const std::vector<uint8_t> bytes = testing::Hex(hex);
  Ed25519Public pub{};
  EXPECT_EQ(bytes.size(), pub.size());
  std::copy_n(bytes.begin(), std::min(bytes.size(), pub.size()), pub.begin());
  return pub;
}

// RFC 8032 7.1, TEST 1 and TEST 2: the seed gives the public key, and signing is deterministic.
TEST(Ed25519Test, Rfc8032SigningVectors) {
  struct Vector {
    const char* seed;
    const char* pub;
    const char* msg;
    const char* sig;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701c"
       "f9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0"
       "f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (const Vector& v : vectors) {
    const std::optional<Ed25519Key> key =
        Ed25519Key::FromSeed(Ed25519Seed::FromBytes(testing::Hex(v.seed)));
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(testing::ToHex(key->public_key()), v.pub);
    Ed25519Signature sig;
    const std::vector<uint8_t> msg = testing::Hex(v.msg);
    ASSERT_TRUE(key->Sign(msg, &sig));
    EXPECT_EQ(testing::ToHex(sig), v.sig);
    EXPECT_TRUE(Ed25519Verify(PublicFromHex(v.pub), msg, sig));
  }
}

TEST(Ed25519Test, AChangedMessageSignatureOrKeyDoesNotVerify) {
  const std::optional<Ed25519Key> key = Ed25519Key::Generate();
  const std::optional<Ed25519Key> other = Ed25519Key::Generate();
  ASSERT_TRUE(key.has_value() && other.has_value());
  ASSERT_NE(key->public_key(), other->public_key());
  const std::vector<uint8_t> msg = {'h', 'e', 'l', 'l', 'o'};
  Ed25519Signature sig;
  ASSERT_TRUE(key->Sign(msg, &sig));
  EXPECT_TRUE(Ed25519Verify(key->public_key(), msg, sig));
  EXPECT_FALSE(Ed25519Verify(other->public_key(), msg, sig));
  std::vector<uint8_t> changed = msg;
  changed[0] ^= 1;
  EXPECT_FALSE(Ed25519Verify(key->public_key(), changed, sig));
  for (size_t i = 0; i < sig.size(); i += 7) {
    Ed25519Signature flipped = sig;
    flipped[i] ^= 0x10;
    EXPECT_FALSE(Ed25519Verify(key->public_key(), msg, flipped)) << "byte " << i;
  }
  const ByteView whole(sig);
  EXPECT_FALSE(Ed25519Verify(key->public_key(), msg, whole.subspan(0, sig.size() - 1)));
  EXPECT_FALSE(Ed25519Verify(key->public_key(), msg, {}));
}

// RunOrDie runs a shell command and returns what it printed.
std::string RunOrDie(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return {};
  }
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof(buf), p) != nullptr) {
    out += buf;
  }
  EXPECT_EQ(pclose(p), 0) << command;
  return out;
}

// One key, one fingerprint: ours is the one OpenSSH prints for the same key, and our SSH
// public key blob is the one ssh-keygen writes (ssh-keygen comes from openssh-client, which
// ci/install-deps.sh installs).
TEST(Ed25519Test, BlobAndFingerprintAreOpenSshs) {
  TempDir dir("securechat-keys");
  const std::string key_path = dir.File("id");
  RunOrDie(Cat("ssh-keygen -q -t ed25519 -N '' -C test -f ", key_path));
  const std::string line = RunOrDie(Cat("cat ", key_path, ".pub"));
  const std::vector<std::string> fields = absl::StrSplit(line, ' ');
  ASSERT_GE(fields.size(), 2u) << line;
  ASSERT_EQ(fields[0], "ssh-ed25519");
  std::string blob;
  ASSERT_TRUE(absl::Base64Unescape(fields[1], &blob));
  ASSERT_GT(blob.size(), proto::kEd25519PublicLen);
  Ed25519Public pub;
  std::copy_n(blob.end() - static_cast<ptrdiff_t>(pub.size()), pub.size(), pub.begin());
  const std::vector<uint8_t> ours = SshEd25519Blob(pub);
  EXPECT_EQ(std::string(ours.begin(), ours.end()), blob);

  // `ssh-keygen -lf` prints "256 SHA256:... test (ED25519)".
  const std::string listed = RunOrDie(Cat("ssh-keygen -lf ", key_path, ".pub"));
  const std::vector<std::string> words = absl::StrSplit(listed, ' ');
  ASSERT_GE(words.size(), 2u) << listed;
  EXPECT_EQ(Ed25519Fingerprint(pub), words[1]);
}

}  // namespace
}  // namespace securechat
