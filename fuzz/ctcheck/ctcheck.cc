// ctcheck: the constant-time check. Run under valgrind memcheck (ci/ctcheck.sh) with secret
// inputs marked undefined, so that memcheck reports every conditional jump, and every memory
// address, computed from a secret. Natively the client requests do nothing and the program
// only checks that each scenario computes the right answer.
//
// What is judged, scenario by scenario (fuzz/README.md has the full account):
//   tag-compare    ConstantTimeEqual on two secret tags.
//   is-zero        ConstantTimeIsZero on a secret.
//   select         ConstantTimeSelect with a secret choice between two secrets.
//   padding        Pkcs7PaddingLen on secret plaintext blocks, for every pad value and for
//                  broken pads.
//   open-tag       RecordOpener::Open with the received tag secret: the MAC comparison.
//   open-all       RecordOpener::Open with iv, ciphertext and tag secret: the MAC over secret
//                  bytes, the decryption, then the padding and length checks on a secret
//                  plaintext.
//   unwrap-padding-oracle
//                  UnwrapSecret with the outcome of the RSA-OAEP decryption secret: the
//                  wrapper below makes EVP_PKEY_decrypt's result, length and output undefined
//                  as they leave OpenSSL, so everything after it (RsaOaepDecrypt's handling of
//                  the result, the `ok` bit, the fallback selection) is judged.
// Open decides accept or reject, and after an authentic record the plaintext length; both
// become public there, so the branches in Open's own body on those verdicts are the
// declassification points, suppressed by name in ctcheck.supp for the open-* scenarios only.
// Every function Open calls is judged.
//
// `ctcheck --canary` runs a comparison with an early exit on secret data instead: memcheck must
// report it, which shows that the check can fail (ci/ctcheck.sh requires that it does).
#include <openssl/evp.h>
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "securechat/crypto/constant_time.h"
#include "securechat/crypto/handshake.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/primitives.h"
#include "securechat/crypto/random.h"
#include "securechat/crypto/record.h"
#include "test_key.h"

namespace {

bool g_secret_decrypt = false;   // set while the unwrap scenario runs
int g_decrypt_calls_marked = 0;  // how often the wrapper below marked a result secret

}  // namespace

// Valgrind's function wrapping: under valgrind, calls to libcrypto.so.3's EVP_PKEY_decrypt
// come here. The result leaves OpenSSL marked secret: the return value, the length and the
// plaintext buffer. (OpenSSL computes them without branches, per its own design; that part is
// OpenSSL's and is not judged here.)
extern "C" int I_WRAP_SONAME_FNNAME_ZU(libcryptoZdsoZd3,
                                       EVP_PKEY_decrypt)(EVP_PKEY_CTX* ctx, unsigned char* out,
                                                         size_t* outlen, const unsigned char* in,
                                                         size_t inlen) {
  OrigFn fn;
  VALGRIND_GET_ORIG_FN(fn);
  const size_t capacity = (out != nullptr && outlen != nullptr) ? *outlen : 0;
  int result;
  CALL_FN_W_5W(result, fn, ctx, out, outlen, in, inlen);
  if (g_secret_decrypt && out != nullptr) {
    (void)VALGRIND_MAKE_MEM_UNDEFINED(&result, sizeof(result));
    (void)VALGRIND_MAKE_MEM_UNDEFINED(outlen, sizeof(*outlen));
    (void)VALGRIND_MAKE_MEM_UNDEFINED(out, capacity);
    ++g_decrypt_calls_marked;
  }
  return result;
}

namespace securechat {
namespace {

int g_failures = 0;

void Expect(bool ok, const char* scenario, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "ctcheck: %s: wrong result: %s\n", scenario, what);
    ++g_failures;
  }
}

// MarkSecret makes memcheck treat n bytes at p as secret (undefined).
void MarkSecret(void* p, size_t n) { (void)VALGRIND_MAKE_MEM_UNDEFINED(p, n); }

// Public declassifies a result so the check may look at it.
template <typename T>
T Public(T v) {
  (void)VALGRIND_MAKE_MEM_DEFINED(&v, sizeof(v));
  return v;
}

void TagCompare() {
  for (int differ_at : {-1, 0, 15, 31}) {
    std::array<uint8_t, 32> a, b;
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = b[i] = static_cast<uint8_t>(i * 7 + 1);
    }
    if (differ_at >= 0) {
      b[static_cast<size_t>(differ_at)] ^= 0x40;
    }
    MarkSecret(a.data(), a.size());
    MarkSecret(b.data(), b.size());
    const bool equal = Public(ConstantTimeEqual(a, b));
    Expect(equal == (differ_at < 0), "tag-compare", "ConstantTimeEqual");
  }
}

void IsZero() {
  for (int set : {-1, 0, 31}) {
    std::array<uint8_t, 32> a{};
    if (set >= 0) {
      a[static_cast<size_t>(set)] = 1;
    }
    MarkSecret(a.data(), a.size());
    Expect(Public(ConstantTimeIsZero(a)) == (set < 0), "is-zero", "ConstantTimeIsZero");
  }
}

void Select() {
  for (bool choose_a : {true, false}) {
    std::array<uint8_t, 32> a, b, out;
    a.fill(0xA5);
    b.fill(0x5A);
    bool choice = choose_a;
    MarkSecret(&choice, sizeof(choice));
    MarkSecret(a.data(), a.size());
    MarkSecret(b.data(), b.size());
    ConstantTimeSelect(choice, a, b, absl::MakeSpan(out));
    (void)VALGRIND_MAKE_MEM_DEFINED(out.data(), out.size());
    Expect(out[0] == (choose_a ? 0xA5 : 0x5A) && out[31] == out[0], "select", "ConstantTimeSelect");
  }
}

// RefPaddingLen is the plain definition, for the expected answers.
size_t RefPaddingLen(const std::vector<uint8_t>& p) {
  const size_t pad = p.back();
  if (pad == 0 || pad > 16) {
    return 0;
  }
  for (size_t i = 1; i <= pad; ++i) {
    if (p[p.size() - i] != pad) {
      return 0;
    }
  }
  return pad;
}

void Padding() {
  for (size_t blocks : {1, 2}) {
    for (int pad = 0; pad <= 17; ++pad) {
      for (bool broken : {false, true}) {
        std::vector<uint8_t> plain(16 * blocks, 0x61);
        const size_t n = std::min<size_t>(static_cast<size_t>(pad), plain.size());
        for (size_t i = 0; i < n; ++i) {
          plain[plain.size() - 1 - i] = static_cast<uint8_t>(pad);
        }
        if (broken && pad >= 2 && pad <= 16) {
          plain[plain.size() - static_cast<size_t>(pad)] ^= 1;  // first pad byte
        }
        const size_t want = RefPaddingLen(plain);
        MarkSecret(plain.data(), plain.size());
        const size_t got = Public(Pkcs7PaddingLen(plain));
        Expect(got == want, "padding", "Pkcs7PaddingLen");
      }
    }
  }
}

// The record keys of the vectors (any fixed keys would do).
constexpr std::array<uint8_t, 16> kEnc = {0xa9, 0x61, 0x4b, 0x7b, 0xa4, 0x0f, 0x3b, 0xfd,
                                          0x02, 0x25, 0x85, 0x1b, 0xb8, 0x7c, 0x6e, 0x9f};
constexpr std::array<uint8_t, 32> kMac = {
    0xab, 0x28, 0xeb, 0x9b, 0x55, 0x06, 0xd5, 0xb1, 0x63, 0x17, 0x8c, 0x66, 0xcc, 0xf5, 0x0c, 0xdd,
    0xad, 0x6b, 0x1b, 0x8e, 0x0a, 0xf6, 0x9e, 0x6d, 0xac, 0xb7, 0x95, 0x05, 0xba, 0x8d, 0x62, 0x91};

std::vector<uint8_t> Seal(std::string_view plaintext) {
  RecordSealer sealer;
  ScriptedRandom rng;
  std::vector<uint8_t> frame;
  if (!sealer.Init(EncKey::FromBytes(kEnc), MacKey::FromBytes(kMac)) ||
      !sealer.Seal(ByteView(reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size()),
                   rng, &frame)) {
    std::fprintf(stderr, "ctcheck: cannot seal\n");
    ++g_failures;
  }
  return frame;
}

// CheckOpen opens `frame` with bytes [secret_from, size - secret_back) marked secret.
// (Named in ctcheck.supp: Open's own verdict branches are allowed when called from here.)
__attribute__((noinline)) bool CheckOpen(std::vector<uint8_t> frame, size_t secret_from,
                                         std::vector<uint8_t>* plaintext) {
  RecordOpener opener;
  if (!opener.Init(EncKey::FromBytes(kEnc), MacKey::FromBytes(kMac))) {
    return false;
  }
  MarkSecret(frame.data() + secret_from, frame.size() - secret_from);
  const bool opened = Public(opener.Open(frame, plaintext));
  // The vector's own pointers were set from the (public) length: declassify them too.
  (void)VALGRIND_MAKE_MEM_DEFINED(plaintext, sizeof(*plaintext));
  (void)VALGRIND_MAKE_MEM_DEFINED(plaintext->data(), plaintext->size());
  return opened;
}

void OpenScenarios() {
  const std::string_view texts[] = {"\x02\x00\x05hello", std::string_view("\x04", 1),
                                    "sixteen bytes!!!"};
  for (const std::string_view text : texts) {
    const std::vector<uint8_t> frame = Seal(text);
    const size_t tag_at = frame.size() - 32;
    std::vector<uint8_t> plaintext;
    const bool tag_ok = CheckOpen(frame, tag_at, &plaintext);
    Expect(tag_ok && plaintext.size() == text.size(), "open-tag", "authentic record refused");
    std::vector<uint8_t> forged = frame;
    forged.back() ^= 1;
    Expect(!CheckOpen(forged, tag_at, &plaintext), "open-tag", "forged tag accepted");
    forged = frame;
    forged[tag_at] ^= 0x80;
    Expect(!CheckOpen(forged, tag_at, &plaintext), "open-tag", "forged tag accepted");
    const bool all_ok = CheckOpen(frame, 4, &plaintext);
    Expect(all_ok && std::memcmp(plaintext.data(), text.data(), text.size()) == 0, "open-all",
           "authentic record refused");
    forged = frame;
    forged[20] ^= 1;
    Expect(!CheckOpen(forged, 4, &plaintext), "open-all", "forged record accepted");
  }
}

void Unwrap() {
  auto key = ServerPrivateKey::FromPem(fuzz::kTestKeyPem, nullptr);
  if (!key.ok()) {
    std::fprintf(stderr, "ctcheck: cannot load the test key\n");
    ++g_failures;
    return;
  }
  const ServerPublicKey pub = key->PublicKey();
  const std::string_view label = proto::kOaepLabel;
  const ByteView label_bytes(reinterpret_cast<const uint8_t*>(label.data()), label.size());
  std::array<uint8_t, 32> fallback_bytes;
  fallback_bytes.fill(0xFB);
  struct Case {
    const char* name;
    size_t secret_len;
    bool corrupt;
  };
  for (const Case& c : {Case{"32 bytes", 32, false}, Case{"31 bytes", 31, false},
                        Case{"33 bytes", 33, false}, Case{"corrupted", 32, true}}) {
    std::vector<uint8_t> secret(c.secret_len, 0x5E);
    std::vector<uint8_t> wrapped;
    if (!RsaOaepEncrypt(pub.get(), label_bytes, secret, &wrapped)) {
      Expect(false, "unwrap", "cannot wrap");
      continue;
    }
    if (c.corrupt) {
      wrapped[100] ^= 1;
    }
    auto fallback = Secret<32>::FromBytes(fallback_bytes);
    Secret<32> out;
    MarkSecret(fallback.Expose().data(), 32);
    g_secret_decrypt = true;
    UnwrapSecret(*key, wrapped, fallback, &out);
    g_secret_decrypt = false;
    (void)VALGRIND_MAKE_MEM_DEFINED(out.Expose().data(), 32);
    // Under valgrind the wrapper must have run, or this scenario judged nothing (a libcrypto
    // with another soname would not be wrapped).
    Expect(!RUNNING_ON_VALGRIND || g_decrypt_calls_marked > 0, "unwrap",
           "EVP_PKEY_decrypt was not wrapped: update the soname in ctcheck.cc");
    const bool want_secret = c.secret_len == 32 && !c.corrupt;
    Expect(out.Expose()[0] == (want_secret ? 0x5E : 0xFB) && out.Expose()[31] == out.Expose()[0],
           "unwrap", c.name);
  }
}

// Canary: an early-exit comparison on secret data, which memcheck must report.
__attribute__((noinline)) bool LeakyEqual(const uint8_t* a, const uint8_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  return true;
}

int Canary() {
  std::array<uint8_t, 32> a{}, b{};
  MarkSecret(a.data(), a.size());
  return Public(LeakyEqual(a.data(), b.data(), a.size())) ? 0 : 1;
}

}  // namespace
}  // namespace securechat

int main(int argc, char** argv) {
  using namespace securechat;
  struct Scenario {
    std::string_view name;
    void (*run)();
  };
  static constexpr Scenario kScenarios[] = {
      {"tag-compare", TagCompare},
      {"is-zero", IsZero},
      {"select", Select},
      {"padding", Padding},
      {"open", OpenScenarios},  // open-tag and open-all
      {"unwrap-padding-oracle", Unwrap},
  };
  std::string_view only;
  if (argc > 1) {
    const std::string_view arg = argv[1];
    if (arg == "--canary") {
      return Canary();
    }
    if (arg.substr(0, 7) != "--only=" || argc > 2) {
      std::fprintf(stderr, "usage: %s [--only=SCENARIO | --canary]\n", argv[0]);
      return 2;
    }
    only = arg.substr(7);
  }
  if (!RUNNING_ON_VALGRIND) {
    std::fprintf(stderr, "ctcheck: not under valgrind: checking results only (ci/ctcheck.sh)\n");
  }
  int ran = 0;
  for (const Scenario& s : kScenarios) {
    if (only.empty() || only == s.name) {
      s.run();
      std::printf("ctcheck: %.*s\n", static_cast<int>(s.name.size()), s.name.data());
      ++ran;
    }
  }
  if (ran == 0) {
    std::fprintf(stderr, "ctcheck: no scenario %.*s\n", static_cast<int>(only.size()), only.data());
    return 2;
  }
  if (g_failures != 0) {
    std::fprintf(stderr, "ctcheck: %d wrong results\n", g_failures);
    return 1;
  }
  return 0;
}
