// Wycheproof vectors for the primitives in securechat/crypto/primitives.h.
//
// Every vector is one value-parameterised test, named after its tcId, so a failure names the
// case. Each algorithm also has one counting test that reloads the file, runs every case
// through the same checker and asserts that the expected number of valid cases really ran and
// passed: a loader that silently finds nothing (a renamed field, a wrong filter, a truncated
// file) cannot make the suite pass vacuously.
//
// Vector files and their schema: tests/vectors/wycheproof/README.md.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <iostream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "securechat/crypto/constant_time.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/crypto/openssl_util.h"
#include "securechat/crypto/primitives.h"
#include "securechat/crypto/secret.h"
#include "securechat/wire/protocol.h"
#include "support/test_util.h"

namespace securechat {
namespace {

using ::securechat::testing::Hex;
using ::securechat::testing::Json;
using ::securechat::testing::LoadJson;
using ::securechat::testing::ToHex;
using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

// Expected numbers of valid cases, from the table in tests/vectors/wycheproof/README.md. The
// counting tests compare what the loaders found in the files against these.
constexpr int kAes128ValidCases = 24;       // The 128-bit group of aes_cbc_pkcs5_test.json.
constexpr int kHmacValidCases = 66;         // hmac_sha256_test.json.
constexpr int kHkdfValidCases = 83;         // hkdf_sha256_test.json.
constexpr int kX25519ValidCases = 264;      // x25519_test.json.
constexpr int kX25519ZeroSharedCases = 31;  // x25519_test.json cases whose shared is all zero.
constexpr int kOaepValidCases = 86;
constexpr int kEd25519ValidCases = 88;  // ed25519_test.json (151 cases, 63 invalid).         // 3 x
                                        // 18 in the per-size files + 32 in the misc file.

// ---------------------------------------------------------------------------------------------
// What every vector has.

enum class Expected { kValid, kInvalid, kAcceptable };

struct VectorInfo {
  std::string prefix;  // Distinguishes files that share tcIds ("" when there is one file).
  int tc_id = 0;
  std::string comment;
  std::vector<std::string> flags;
  Expected result = Expected::kInvalid;
};

Expected ParseResult(const std::string& s) {
  if (s == "valid") {
    return Expected::kValid;
  }
  if (s == "invalid") {
    return Expected::kInvalid;
  }
  if (s == "acceptable") {
    return Expected::kAcceptable;
  }
  throw std::runtime_error("unknown Wycheproof result: " + s);
}

std::string_view ResultName(Expected e) {
  switch (e) {
    case Expected::kValid:
      return "valid";
    case Expected::kInvalid:
      return "invalid";
    case Expected::kAcceptable:
      return "acceptable";
  }
  return "?";
}

VectorInfo ParseInfo(std::string prefix, const Json& test) {
  VectorInfo info;
  info.prefix = std::move(prefix);
  info.tc_id = test.at("tcId").get<int>();
  info.comment = test.at("comment").get<std::string>();
  info.flags = test.at("flags").get<std::vector<std::string>>();
  info.result = ParseResult(test.at("result").get<std::string>());
  return info;
}

std::vector<uint8_t> HexField(const Json& j, const char* field) {
  return Hex(j.at(field).get<std::string>());
}

// Describe names a case in failure messages: file, tcId, expected result, comment and flags.
std::string Describe(const VectorInfo& info) {
  std::string out = info.prefix.empty() ? "" : info.prefix + " ";
  out += "tcId " + std::to_string(info.tc_id) + " (" + std::string(ResultName(info.result)) +
         ", \"" + info.comment + "\"";
  for (size_t i = 0; i < info.flags.size(); ++i) {
    out += (i == 0 ? ", flags " : ",") + info.flags[i];
  }
  return out + ")";
}

// TestName is the gtest name of a case: [prefix_]tc<id>_<result>[_<first flag>], reduced to
// [A-Za-z0-9_].
std::string TestName(const VectorInfo& info) {
  std::string name = info.prefix.empty() ? "" : info.prefix + "_";
  name += "tc" + std::to_string(info.tc_id) + "_" + std::string(ResultName(info.result));
  if (!info.flags.empty()) {
    name += "_" + info.flags.front();
  }
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) {
      c = '_';
    }
  }
  return name;
}

// LoadOrEmpty runs a loader for INSTANTIATE_TEST_SUITE_P. A missing or malformed file gives no
// cases (gtest then reports the suite as uninstantiated) instead of an uncaught exception; the
// counting test loads the file again and fails with the reason.
template <typename Case>
std::vector<Case> LoadOrEmpty(std::vector<Case> (*load)()) {
  try {
    return load();
  } catch (const std::exception& e) {
    std::cerr << "cannot load Wycheproof vectors: " << e.what() << "\n";
    return {};
  }
}

// Tally counts what the checker made of a file.
struct Tally {
  int total = 0;
  int passed = 0;
  int valid = 0;
  int valid_passed = 0;
  std::vector<std::string> failed;  // [prefix ]tcId of each case that failed.
};

template <typename Case>
Tally Count(const std::vector<Case>& cases, AssertionResult (*check)(const Case&)) {
  Tally t;
  for (const Case& c : cases) {
    const bool ok = static_cast<bool>(check(c));
    ++t.total;
    t.passed += ok ? 1 : 0;
    if (c.info.result == Expected::kValid) {
      ++t.valid;
      t.valid_passed += ok ? 1 : 0;
    }
    if (!ok) {
      t.failed.push_back((c.info.prefix.empty() ? "" : c.info.prefix + " ") +
                         std::to_string(c.info.tc_id));
    }
  }
  return t;
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) {
    out += (out.empty() ? "" : ", ") + id;
  }
  return out.empty() ? "none" : out;
}

void ExpectTally(std::string_view what, const Tally& t, int expected_valid) {
  std::printf("[ wycheproof ] %.*s: %d/%d valid passed, %d/%d cases passed\n",
              static_cast<int>(what.size()), what.data(), t.valid_passed, t.valid, t.passed,
              t.total);
  EXPECT_GT(t.valid, 0) << what << ": no valid cases loaded";
  EXPECT_EQ(t.valid, expected_valid) << what << ": unexpected number of valid cases";
  EXPECT_EQ(t.valid_passed, t.valid) << what << ": failed tcIds " << JoinIds(t.failed);
  EXPECT_EQ(t.passed, t.total) << what << ": failed tcIds " << JoinIds(t.failed);
}

template <typename Case>
std::string ParamName(const ::testing::TestParamInfo<Case>& p) {
  return TestName(p.param.info);
}

// ---------------------------------------------------------------------------------------------
// AES-128-CBC with PKCS#7 padding.

struct AesCase {
  VectorInfo info;
  std::vector<uint8_t> key, iv, msg, ct;
};

void PrintTo(const AesCase& c, std::ostream* os) { *os << Describe(c.info); }

std::vector<AesCase> LoadAesCases() {
  const Json doc = LoadJson("wycheproof/aes_cbc_pkcs5_test.json");
  std::vector<AesCase> cases;
  for (const Json& group : doc.at("testGroups")) {
    // The project uses AES-128 only.
    if (group.at("keySize").get<int>() != 8 * static_cast<int>(proto::kAesKeyLen)) {
      continue;
    }
    for (const Json& test : group.at("tests")) {
      cases.push_back(AesCase{ParseInfo("", test), HexField(test, "key"), HexField(test, "iv"),
                              HexField(test, "msg"), HexField(test, "ct")});
    }
  }
  return cases;
}

// EncryptCbcPkcs7 encrypts the whole blocks of `msg` in one Run, then the padded tail block
// under the last ciphertext block (or `iv` when there was no whole block), as a record does.
bool EncryptCbcPkcs7(ByteView key, ByteView iv, ByteView msg, std::vector<uint8_t>* ct) {
  constexpr size_t kBlock = proto::kAesBlockLen;
  AesCbc128 enc;
  if (!enc.Init(key, /*encrypt=*/true)) {
    return false;
  }
  const size_t whole = msg.size() - msg.size() % kBlock;
  ct->assign(whole + kBlock, 0);
  absl::Span<uint8_t> out = absl::MakeSpan(*ct);
  if (whole > 0 && !enc.Run(iv, msg.first(whole), out.first(whole))) {
    return false;
  }
  const ByteView last_iv = whole == 0 ? iv : ByteView(*ct).subspan(whole - kBlock, kBlock);
  const std::array<uint8_t, kBlock> last = Pkcs7PadBlock(msg.subspan(whole));
  return enc.Run(last_iv, last, out.subspan(whole, kBlock));
}

AssertionResult CheckAes(const AesCase& c) {
  AesCbc128 dec;
  if (!dec.Init(c.key, /*encrypt=*/false)) {
    return AssertionFailure() << "Init(decrypt) refused a " << c.key.size() << "-byte key";
  }
  std::vector<uint8_t> plain(c.ct.size());
  // Run refuses a ciphertext that is not a whole number of blocks; that is a rejection too.
  const bool ran = dec.Run(c.iv, c.ct, absl::MakeSpan(plain));
  const size_t pad = ran ? Pkcs7PaddingLen(plain) : 0;
  if (c.info.result != Expected::kValid) {
    if (ran && pad != 0) {
      return AssertionFailure() << "accepted a bad ciphertext: padding length " << pad
                                << ", plaintext " << ToHex(plain);
    }
    return AssertionSuccess();
  }
  if (!ran) {
    return AssertionFailure() << "Run refused a " << c.ct.size() << "-byte ciphertext";
  }
  if (pad == 0) {
    return AssertionFailure() << "rejected the padding of " << ToHex(plain);
  }
  plain.resize(plain.size() - pad);
  if (plain != c.msg) {
    return AssertionFailure() << "decrypted to " << ToHex(plain) << ", want " << ToHex(c.msg);
  }
  std::vector<uint8_t> ct;
  if (!EncryptCbcPkcs7(c.key, c.iv, c.msg, &ct)) {
    return AssertionFailure() << "encryption failed";
  }
  if (ct != c.ct) {
    return AssertionFailure() << "encrypted to " << ToHex(ct) << ", want " << ToHex(c.ct);
  }
  return AssertionSuccess();
}

class AesCbcPkcs5Wycheproof : public ::testing::TestWithParam<AesCase> {};

TEST_P(AesCbcPkcs5Wycheproof, Vector) {
  const AesCase& c = GetParam();
  EXPECT_TRUE(CheckAes(c)) << Describe(c.info);
}

INSTANTIATE_TEST_SUITE_P(Wycheproof, AesCbcPkcs5Wycheproof,
                         ::testing::ValuesIn(LoadOrEmpty(&LoadAesCases)), ParamName<AesCase>);

TEST(AesCbcPkcs5WycheproofFile, AllValidCasesPass) {
  const Tally t = Count(LoadAesCases(), &CheckAes);
  ExpectTally("AES-128-CBC-PKCS5", t, kAes128ValidCases);
  EXPECT_GT(t.total - t.valid, 0) << "no invalid cases loaded";
}

// The file's 192- and 256-bit keys must not key AesCbc128.
TEST(AesCbcPkcs5WycheproofFile, RefusesOtherKeySizes) {
  const Json doc = LoadJson("wycheproof/aes_cbc_pkcs5_test.json");
  int refused = 0;
  for (const Json& group : doc.at("testGroups")) {
    if (group.at("keySize").get<int>() == 8 * static_cast<int>(proto::kAesKeyLen)) {
      continue;
    }
    for (const Json& test : group.at("tests")) {
      const std::vector<uint8_t> key = HexField(test, "key");
      AesCbc128 aes;
      EXPECT_FALSE(aes.Init(key, /*encrypt=*/false)) << "tcId " << test.at("tcId");
      EXPECT_FALSE(aes.Init(key, /*encrypt=*/true)) << "tcId " << test.at("tcId");
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
}

// ---------------------------------------------------------------------------------------------
// HMAC-SHA-256, tags possibly truncated.

struct HmacCase {
  VectorInfo info;
  size_t tag_len = 0;  // Bytes of the full tag that are compared.
  std::vector<uint8_t> key, msg, tag;
};

void PrintTo(const HmacCase& c, std::ostream* os) { *os << Describe(c.info); }

std::vector<HmacCase> LoadHmacCases() {
  const Json doc = LoadJson("wycheproof/hmac_sha256_test.json");
  std::vector<HmacCase> cases;
  for (const Json& group : doc.at("testGroups")) {
    const size_t tag_len = group.at("tagSize").get<size_t>() / 8;
    for (const Json& test : group.at("tests")) {
      cases.push_back(HmacCase{ParseInfo("", test), tag_len, HexField(test, "key"),
                               HexField(test, "msg"), HexField(test, "tag")});
    }
  }
  return cases;
}

// A message unlike any in the file, computed on a keyed object before the vector's message.
const std::vector<uint8_t>& OtherMessage() {
  static const auto* msg = new std::vector<uint8_t>(securechat::testing::Bytes(
      "a different message that must not leak into the next tag computed after Begin()"));
  return *msg;
}

AssertionResult CheckHmac(const HmacCase& c) {
  if (c.tag_len == 0 || c.tag_len > proto::kTagLen) {
    return AssertionFailure() << "bad tagSize " << 8 * c.tag_len;
  }
  std::array<uint8_t, proto::kTagLen> one_shot{};
  if (!HmacSha256::Compute(c.key, c.msg, absl::MakeSpan(one_shot))) {
    return AssertionFailure() << "Compute failed";
  }
  // The streaming path on one keyed object: a finished message, an abandoned one, then the
  // vector's message in two pieces. Begin() must leave nothing of the earlier two.
  HmacSha256 h;
  std::array<uint8_t, proto::kTagLen> scratch{};
  std::array<uint8_t, proto::kTagLen> streamed{};
  const ByteView msg(c.msg);
  const size_t half = msg.size() / 2;
  if (!h.Init(c.key) || !h.Begin() || !h.Update(OtherMessage()) ||
      !h.Final(absl::MakeSpan(scratch)) || !h.Begin() || !h.Update(OtherMessage()) || !h.Begin() ||
      !h.Update(msg.first(half)) || !h.Update(msg.subspan(half)) ||
      !h.Final(absl::MakeSpan(streamed))) {
    return AssertionFailure() << "Init/Begin/Update/Final failed";
  }
  if (streamed != one_shot) {
    return AssertionFailure() << "streamed tag " << ToHex(streamed) << " != one-shot tag "
                              << ToHex(one_shot);
  }
  const bool match =
      c.tag.size() == c.tag_len && ConstantTimeEqual(ByteView(one_shot).first(c.tag_len), c.tag);
  if (c.info.result == Expected::kValid && !match) {
    return AssertionFailure() << "tag " << ToHex(ByteView(one_shot).first(c.tag_len)) << ", want "
                              << ToHex(c.tag);
  }
  if (c.info.result == Expected::kInvalid && match) {
    return AssertionFailure() << "accepted the modified tag " << ToHex(c.tag);
  }
  return AssertionSuccess();
}

class HmacSha256Wycheproof : public ::testing::TestWithParam<HmacCase> {};

TEST_P(HmacSha256Wycheproof, Vector) {
  const HmacCase& c = GetParam();
  EXPECT_TRUE(CheckHmac(c)) << Describe(c.info);
}

INSTANTIATE_TEST_SUITE_P(Wycheproof, HmacSha256Wycheproof,
                         ::testing::ValuesIn(LoadOrEmpty(&LoadHmacCases)), ParamName<HmacCase>);

TEST(HmacSha256WycheproofFile, AllValidCasesPass) {
  const Tally t = Count(LoadHmacCases(), &CheckHmac);
  ExpectTally("HMAC-SHA-256", t, kHmacValidCases);
  EXPECT_GT(t.total - t.valid, 0) << "no invalid cases loaded";
}

// One keyed object computes several different messages in a row; each Begin() must restart
// from the key alone. Checked against the file's tags and against one-shot Compute.
TEST(HmacSha256WycheproofFile, BeginRestartsForEachMessage) {
  std::vector<HmacCase> full_tags;
  for (HmacCase& c : LoadHmacCases()) {
    if (c.info.result == Expected::kValid && c.tag_len == proto::kTagLen) {
      full_tags.push_back(std::move(c));
    }
  }
  ASSERT_GE(full_tags.size(), 2u);
  int checked = 0;
  for (size_t i = 0; i < full_tags.size(); ++i) {
    const HmacCase& a = full_tags[i];
    const HmacCase& b = full_tags[(i + 1) % full_tags.size()];
    ASSERT_NE(a.msg, b.msg) << Describe(a.info) << " and " << Describe(b.info);
    std::array<uint8_t, proto::kTagLen> b_under_a{};
    ASSERT_TRUE(HmacSha256::Compute(a.key, b.msg, absl::MakeSpan(b_under_a)));

    HmacSha256 h;
    ASSERT_TRUE(h.Init(a.key)) << Describe(a.info);
    // a, b, a again: the second a must come out the same as the first.
    const std::vector<uint8_t>* msgs[] = {&a.msg, &b.msg, &a.msg};
    const std::vector<uint8_t>* want[] = {&a.tag, nullptr, &a.tag};
    for (size_t k = 0; k < 3; ++k) {
      std::array<uint8_t, proto::kTagLen> tag{};
      ASSERT_TRUE(h.Begin() && h.Update(*msgs[k]) && h.Final(absl::MakeSpan(tag)))
          << Describe(a.info);
      const std::string expected =
          want[k] != nullptr ? ToHex(*want[k]) : ToHex(absl::MakeConstSpan(b_under_a));
      EXPECT_EQ(ToHex(tag), expected)
          << "message " << k << " on one keyed object; key of " << Describe(a.info)
          << ", second message from " << Describe(b.info);
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// ---------------------------------------------------------------------------------------------
// HKDF-SHA-256.

struct HkdfCase {
  VectorInfo info;
  std::vector<uint8_t> ikm, salt, info_bytes, okm;
  size_t size = 0;
};

void PrintTo(const HkdfCase& c, std::ostream* os) { *os << Describe(c.info); }

std::vector<HkdfCase> LoadHkdfCases() {
  const Json doc = LoadJson("wycheproof/hkdf_sha256_test.json");
  std::vector<HkdfCase> cases;
  for (const Json& group : doc.at("testGroups")) {
    for (const Json& test : group.at("tests")) {
      cases.push_back(HkdfCase{ParseInfo("", test), HexField(test, "ikm"), HexField(test, "salt"),
                               HexField(test, "info"), HexField(test, "okm"),
                               test.at("size").get<size_t>()});
    }
  }
  return cases;
}

AssertionResult CheckHkdf(const HkdfCase& c) {
  std::array<uint8_t, proto::kHashLen> prk{};
  if (!HkdfExtract(c.salt, c.ikm, absl::MakeSpan(prk))) {
    return AssertionFailure() << "HkdfExtract failed";
  }
  std::vector<uint8_t> okm(c.size);
  const bool expanded = HkdfExpand(prk, c.info_bytes, absl::MakeSpan(okm));
  if (c.info.result != Expected::kValid) {
    if (expanded) {
      return AssertionFailure() << "HkdfExpand accepted an output of " << c.size << " bytes";
    }
    return AssertionSuccess();
  }
  if (!expanded) {
    return AssertionFailure() << "HkdfExpand refused an output of " << c.size << " bytes";
  }
  if (okm != c.okm) {
    return AssertionFailure() << "okm " << ToHex(okm) << ", want " << ToHex(c.okm);
  }
  return AssertionSuccess();
}

class HkdfSha256Wycheproof : public ::testing::TestWithParam<HkdfCase> {};

TEST_P(HkdfSha256Wycheproof, Vector) {
  const HkdfCase& c = GetParam();
  EXPECT_TRUE(CheckHkdf(c)) << Describe(c.info);
}

INSTANTIATE_TEST_SUITE_P(Wycheproof, HkdfSha256Wycheproof,
                         ::testing::ValuesIn(LoadOrEmpty(&LoadHkdfCases)), ParamName<HkdfCase>);

TEST(HkdfSha256WycheproofFile, AllValidCasesPass) {
  const Tally t = Count(LoadHkdfCases(), &CheckHkdf);
  ExpectTally("HKDF-SHA-256", t, kHkdfValidCases);
  EXPECT_GT(t.total - t.valid, 0) << "no invalid (SizeTooLarge) cases loaded";
}

// ---------------------------------------------------------------------------------------------
// X25519.

struct X25519Case {
  VectorInfo info;
  std::vector<uint8_t> priv, pub, shared;
};

void PrintTo(const X25519Case& c, std::ostream* os) { *os << Describe(c.info); }

std::vector<X25519Case> LoadX25519Cases() {
  const Json doc = LoadJson("wycheproof/x25519_test.json");
  std::vector<X25519Case> cases;
  for (const Json& group : doc.at("testGroups")) {
    if (group.at("curve").get<std::string>() != "curve25519") {
      continue;
    }
    for (const Json& test : group.at("tests")) {
      cases.push_back(X25519Case{ParseInfo("", test), HexField(test, "private"),
                                 HexField(test, "public"), HexField(test, "shared")});
    }
  }
  return cases;
}

bool AllZero(ByteView bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

AssertionResult CheckX25519(const X25519Case& c) {
  if (c.priv.size() != proto::kX25519Len) {
    return AssertionFailure() << "vector has a " << c.priv.size() << "-byte private key";
  }
  const X25519Private priv = X25519Private::FromBytes(c.priv);
  Secret<proto::kX25519Len> shared;
  const bool ok = X25519(priv, c.pub, &shared);
  // The protocol aborts on an all-zero DH output, whatever Wycheproof calls the case, and a
  // public key of any other length than 32 bytes is not a key.
  if (c.info.result == Expected::kInvalid || AllZero(c.shared) ||
      c.pub.size() != proto::kX25519Len) {
    if (ok) {
      return AssertionFailure() << "accepted; shared " << ToHex(shared.Expose());
    }
    return AssertionSuccess();
  }
  // Valid and acceptable cases with a non-zero result must compute it.
  if (!ok) {
    return AssertionFailure() << "rejected a public key with a non-zero shared secret";
  }
  if (ToHex(shared.Expose()) != ToHex(c.shared)) {
    return AssertionFailure() << "shared " << ToHex(shared.Expose()) << ", want "
                              << ToHex(c.shared);
  }
  return AssertionSuccess();
}

class X25519Wycheproof : public ::testing::TestWithParam<X25519Case> {};

TEST_P(X25519Wycheproof, Vector) {
  const X25519Case& c = GetParam();
  EXPECT_TRUE(CheckX25519(c)) << Describe(c.info);
}

INSTANTIATE_TEST_SUITE_P(Wycheproof, X25519Wycheproof,
                         ::testing::ValuesIn(LoadOrEmpty(&LoadX25519Cases)), ParamName<X25519Case>);

TEST(X25519WycheproofFile, AllValidCasesPass) {
  const std::vector<X25519Case> cases = LoadX25519Cases();
  ExpectTally("X25519", Count(cases, &CheckX25519), kX25519ValidCases);
  // The all-zero outputs are the low-order public keys: every one must be refused.
  int zero = 0;
  int zero_refused = 0;
  for (const X25519Case& c : cases) {
    if (AllZero(c.shared)) {
      ++zero;
      Secret<proto::kX25519Len> shared;
      const bool ok = X25519(X25519Private::FromBytes(c.priv), c.pub, &shared);
      zero_refused += ok ? 0 : 1;
      EXPECT_FALSE(ok) << Describe(c.info);
    }
  }
  std::printf("[ wycheproof ] X25519: %d/%d all-zero shared secrets refused\n", zero_refused, zero);
  EXPECT_EQ(zero, kX25519ZeroSharedCases);
  EXPECT_EQ(zero_refused, zero);
}

// A public key that is short, long or empty is refused before any arithmetic.
TEST(X25519WycheproofFile, RejectsPublicKeysThatAreNot32Bytes) {
  const std::vector<X25519Case> cases = LoadX25519Cases();
  const auto it = std::find_if(cases.begin(), cases.end(), [](const X25519Case& c) {
    return c.info.result == Expected::kValid && !AllZero(c.shared);
  });
  ASSERT_NE(it, cases.end());
  const X25519Private priv = X25519Private::FromBytes(it->priv);
  Secret<proto::kX25519Len> shared;
  ASSERT_TRUE(X25519(priv, it->pub, &shared)) << Describe(it->info);

  const std::vector<uint8_t> empty;
  const std::vector<uint8_t> short_by_one(it->pub.begin(), it->pub.end() - 1);
  std::vector<uint8_t> trailing_byte = it->pub;
  trailing_byte.push_back(0);
  std::vector<uint8_t> twice = it->pub;
  twice.insert(twice.end(), it->pub.begin(), it->pub.end());
  const std::vector<uint8_t> bad[] = {empty, short_by_one, trailing_byte, twice};
  for (const std::vector<uint8_t>& pub : bad) {
    EXPECT_FALSE(X25519(priv, pub, &shared)) << pub.size() << "-byte public key";
  }
}

// ---------------------------------------------------------------------------------------------
// RSA-OAEP with SHA-256 and MGF1-SHA-256.

struct OaepCase {
  VectorInfo info;
  int key_bits = 0;
  std::string key_pem;  // The group's PKCS#8 private key.
  std::vector<uint8_t> label, msg, ct;
};

void PrintTo(const OaepCase& c, std::ostream* os) { *os << Describe(c.info); }

struct OaepFile {
  const char* path;
  const char* prefix;
};

constexpr OaepFile kOaepFiles[] = {
    {"wycheproof/rsa_oaep_2048_sha256_mgf1sha256_test.json", "rsa2048"},
    {"wycheproof/rsa_oaep_3072_sha256_mgf1sha256_test.json", "rsa3072"},
    {"wycheproof/rsa_oaep_4096_sha256_mgf1sha256_test.json", "rsa4096"},
    {"wycheproof/rsa_oaep_misc_test.json", "misc"},
};

std::vector<OaepCase> LoadOaepCases() {
  std::vector<OaepCase> cases;
  for (const OaepFile& file : kOaepFiles) {
    const Json doc = LoadJson(file.path);
    for (const Json& group : doc.at("testGroups")) {
      if (group.at("sha").get<std::string>() != "SHA-256" ||
          group.at("mgf").get<std::string>() != "MGF1" ||
          group.at("mgfSha").get<std::string>() != "SHA-256") {
        continue;
      }
      const int key_bits = group.at("keySize").get<int>();
      const std::string pem = group.at("privateKeyPem").get<std::string>();
      for (const Json& test : group.at("tests")) {
        cases.push_back(OaepCase{ParseInfo(file.prefix, test), key_bits, pem,
                                 HexField(test, "label"), HexField(test, "msg"),
                                 HexField(test, "ct")});
      }
    }
  }
  return cases;
}

EvpPkeyPtr LoadPrivateKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) {
    return nullptr;
  }
  return EvpPkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// Decrypt runs RsaOaepDecrypt into a modulus-sized buffer and checks that a failure reports
// length 0. Returns the plaintext through *plain.
AssertionResult Decrypt(EVP_PKEY* key, ByteView label, ByteView ct, bool* ok,
                        std::vector<uint8_t>* plain) {
  std::vector<uint8_t> out(static_cast<size_t>(EVP_PKEY_get_size(key)));
  size_t len = out.size() + 1;  // Poisoned: must be overwritten either way.
  *ok = RsaOaepDecrypt(key, label, ct, absl::MakeSpan(out), &len);
  if (!*ok) {
    plain->clear();
    if (len != 0) {
      return AssertionFailure() << "failed decryption left *out_len = " << len;
    }
    return AssertionSuccess();
  }
  if (len > out.size()) {
    return AssertionFailure() << "*out_len " << len << " is past the buffer";
  }
  plain->assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(len));
  return AssertionSuccess();
}

AssertionResult CheckOaep(const OaepCase& c) {
  const EvpPkeyPtr key = LoadPrivateKey(c.key_pem);
  if (key == nullptr) {
    return AssertionFailure() << "cannot load the " << c.key_bits
                              << "-bit key: " << OpenSslErrorString();
  }
  bool ok = false;
  std::vector<uint8_t> plain;
  if (AssertionResult r = Decrypt(key.get(), c.label, c.ct, &ok, &plain); !r) {
    return r;
  }
  if (!ok) {
    if (c.info.result == Expected::kValid) {
      return AssertionFailure() << "rejected a valid ciphertext";
    }
    return AssertionSuccess();
  }
  if (c.info.result == Expected::kInvalid) {
    return AssertionFailure() << "accepted an invalid ciphertext; plaintext " << ToHex(plain);
  }
  if (plain != c.msg) {
    return AssertionFailure() << "plaintext " << ToHex(plain) << ", want " << ToHex(c.msg);
  }
  if (c.info.result != Expected::kValid) {
    return AssertionSuccess();
  }

  // Attacks on a valid ciphertext: a different label, one flipped bit.
  std::vector<uint8_t> other_label = c.label;
  other_label.push_back(0);
  if (AssertionResult r = Decrypt(key.get(), other_label, c.ct, &ok, &plain); !r || ok) {
    return AssertionFailure() << "with the label extended by a zero byte: "
                              << (ok ? "accepted" : r.message());
  }
  std::vector<uint8_t> flipped = c.ct;
  flipped.back() ^= 1;
  if (AssertionResult r = Decrypt(key.get(), c.label, flipped, &ok, &plain); !r || ok) {
    return AssertionFailure() << "with the last ciphertext bit flipped: "
                              << (ok ? "accepted" : r.message());
  }

  // Round trip through RsaOaepEncrypt.
  std::vector<uint8_t> ct;
  if (!RsaOaepEncrypt(key.get(), c.label, c.msg, &ct)) {
    return AssertionFailure() << "RsaOaepEncrypt failed";
  }
  if (ct.size() != static_cast<size_t>(EVP_PKEY_get_size(key.get()))) {
    return AssertionFailure() << "RsaOaepEncrypt gave " << ct.size() << " bytes";
  }
  if (AssertionResult r = Decrypt(key.get(), c.label, ct, &ok, &plain); !r || !ok) {
    return AssertionFailure() << "own ciphertext did not decrypt: " << r.message();
  }
  if (plain != c.msg) {
    return AssertionFailure() << "round trip gave " << ToHex(plain) << ", want " << ToHex(c.msg);
  }
  return AssertionSuccess();
}

class RsaOaepSha256Wycheproof : public ::testing::TestWithParam<OaepCase> {};

TEST_P(RsaOaepSha256Wycheproof, Vector) {
  const OaepCase& c = GetParam();
  EXPECT_TRUE(CheckOaep(c)) << Describe(c.info) << ", " << c.key_bits << "-bit key";
}

INSTANTIATE_TEST_SUITE_P(Wycheproof, RsaOaepSha256Wycheproof,
                         ::testing::ValuesIn(LoadOrEmpty(&LoadOaepCases)), ParamName<OaepCase>);

TEST(RsaOaepSha256WycheproofFile, AllValidCasesPass) {
  const std::vector<OaepCase> cases = LoadOaepCases();
  for (const OaepFile& file : kOaepFiles) {
    int valid = 0;
    int invalid = 0;
    int acceptable = 0;
    for (const OaepCase& c : cases) {
      if (c.info.prefix == file.prefix) {
        valid += c.info.result == Expected::kValid ? 1 : 0;
        invalid += c.info.result == Expected::kInvalid ? 1 : 0;
        acceptable += c.info.result == Expected::kAcceptable ? 1 : 0;
      }
    }
    std::printf("[ wycheproof ] RSA-OAEP %s: tested %d valid, %d invalid, %d acceptable\n",
                file.prefix, valid, invalid, acceptable);
    EXPECT_GT(valid, 0) << file.path;
  }
  const Tally t = Count(cases, &CheckOaep);
  ExpectTally("RSA-OAEP SHA-256/MGF1-SHA-256", t, kOaepValidCases);
  EXPECT_GT(t.total - t.valid, 0) << "no invalid cases loaded";
}

// ---------------------------------------------------------------------------------------------
// Ed25519 verification. Every case is judged, invalid ones included: a signature that OpenSSL
// would let through with S >= L, a non-canonical R or a wrong length must be refused.

struct Ed25519Case {
  VectorInfo info;
  std::vector<uint8_t> pub, msg, sig;
};

void PrintTo(const Ed25519Case& c, std::ostream* os) { *os << Describe(c.info); }

std::vector<Ed25519Case> LoadEd25519Cases() {
  const Json doc = LoadJson("wycheproof/ed25519_test.json");
  std::vector<Ed25519Case> cases;
  for (const Json& group : doc.at("testGroups")) {
    const Json& key = group.at("publicKey");
    if (key.at("curve").get<std::string>() != "edwards25519") {
      continue;
    }
    const std::vector<uint8_t> pub = HexField(key, "pk");
    for (const Json& test : group.at("tests")) {
      cases.push_back(
          Ed25519Case{ParseInfo("", test), pub, HexField(test, "msg"), HexField(test, "sig")});
    }
  }
  return cases;
}

AssertionResult CheckEd25519(const Ed25519Case& c) {
  if (c.pub.size() != proto::kEd25519PublicLen) {
    return AssertionFailure() << "vector has a " << c.pub.size() << "-byte public key";
  }
  Ed25519Public pub;
  std::copy(c.pub.begin(), c.pub.end(), pub.begin());
  const bool verified = Ed25519Verify(pub, c.msg, c.sig);
  const bool want = c.info.result == Expected::kValid;
  if (verified != want) {
    return AssertionFailure() << (verified ? "accepted" : "refused") << " signature "
                              << ToHex(c.sig);
  }
  return AssertionSuccess();
}

class Ed25519Wycheproof : public ::testing::TestWithParam<Ed25519Case> {};

TEST_P(Ed25519Wycheproof, Vector) {
  const Ed25519Case& c = GetParam();
  EXPECT_TRUE(CheckEd25519(c)) << Describe(c.info);
}

INSTANTIATE_TEST_SUITE_P(Wycheproof, Ed25519Wycheproof,
                         ::testing::ValuesIn(LoadOrEmpty(&LoadEd25519Cases)),
                         ParamName<Ed25519Case>);

TEST(Ed25519WycheproofFile, AllCasesPass) {
  const std::vector<Ed25519Case> cases = LoadEd25519Cases();
  const Tally t = Count(cases, &CheckEd25519);
  ExpectTally("Ed25519", t, kEd25519ValidCases);
  EXPECT_EQ(t.total, 151) << "ed25519_test.json has 151 cases";
}

}  // namespace
}  // namespace securechat
