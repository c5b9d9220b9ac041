// Fuzzes the decoders of user-written files and key strings: the server's members file
// (Members::Parse), the client's known_servers (KnownServers::Parse, ServerKey), a public key
// line's two fields in either format (ParsePublicKey), a SHA256: fingerprint
// (ParseFingerprintText) and the server's bans file (BanList::Parse). Each must accept or
// refuse without crashing, and what it accepts must read back the same when written out again.
//
// Input: mode u8 (0 members file, 1 known_servers file, 2 KEYTYPE and BASE64 split at the
// first space, 3 fingerprint text, 4 HOST:PORT, 5 bans file), then the text.
#include <string>

#include "fuzz_util.h"
#include "securechat/client/known_servers.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/engine/bans.h"
#include "securechat/engine/members.h"

namespace securechat::fuzz {
namespace {

using client::KnownServers;

void MembersFile(std::string_view text) {
  auto m = Members::Parse(text);
  if (!m.ok()) {
    FUZZ_CHECK(m.status().message().size() > 0);
    return;
  }
  FUZZ_CHECK(m->key_count() >= m->nick_count());
  FUZZ_CHECK(m->key_count() <= kMaxMemberKeys);
}

void KnownServersFile(std::string_view text) {
  auto known = KnownServers::Parse(text);
  if (!known.ok()) {
    return;
  }
  // A server trusted now is found again, whatever else the file holds.
  Sha256Digest d{};
  d[0] = 0x5a;
  const std::string more = std::string(text) + "\n" + KnownServers::Line("fuzz.example:7000", d);
  auto again = KnownServers::Parse(more);
  if (again.ok()) {  // the added line may push the file past its bound
    FUZZ_CHECK(again->Find("Fuzz.Example:7000", d).verdict == KnownServers::Check::Verdict::kKnown);
  }
}

void KeyFields(std::string_view text) {
  const size_t space = text.find(' ');
  const std::string_view type = text.substr(0, space);
  const std::string_view base64 =
      space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  std::string why;
  const std::optional<Ed25519Public> key = ParsePublicKey(type, base64, &why);
  if (!key) {
    FUZZ_CHECK(!why.empty());
    return;
  }
  // Written out again in our own format, the key reads back the same.
  const std::string line = PublicKeyLine(*key, "");
  const size_t at = line.find(' ');
  FUZZ_CHECK(at != std::string::npos);
  std::string why_again;
  FUZZ_CHECK(ParsePublicKey(std::string_view(line).substr(0, at),
                            std::string_view(line).substr(at + 1), &why_again) == key);
}

void Fingerprint(std::string_view text) {
  const std::optional<Sha256Digest> d = ParseFingerprintText(text);
  if (d) {
    FUZZ_CHECK(FingerprintText(*d) == text);
  }
}

void HostPort(std::string_view text) {
  const std::string key = KnownServers::ServerKey(text);
  if (!key.empty()) {
    FUZZ_CHECK(KnownServers::ServerKey(key) == key);
  }
}

// A bans file read as the server reads it at start: a list small enough for the seeds to reach
// its bound, at a fixed time between the seeds' entries that have ended and those that have not.
constexpr size_t kFuzzMaxBans = 8;
constexpr uint64_t kFuzzNowMs = 1'800'000'000'000;

void BansFile(std::string_view text) {
  auto bans = BanList::Parse(text, kFuzzMaxBans, kFuzzNowMs);
  if (!bans.ok()) {
    FUZZ_CHECK(bans.status().message().substr(0, 5) == "line ");
    return;
  }
  FUZZ_CHECK(bans->entries().size() <= kFuzzMaxBans);
  // Written out and read again, the same entries; and each is one Add accepts as it is.
  auto again = BanList::Parse(bans->Serialize(), kFuzzMaxBans, kFuzzNowMs);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->entries() == bans->entries());
  BanList added(kFuzzMaxBans);
  for (const Ban& b : bans->entries()) {
    FUZZ_CHECK(added.Add(b) == BanList::AddResult::kAdded);
    FUZZ_CHECK(b.until_ms == 0 || b.until_ms > kFuzzNowMs);
  }
  FUZZ_CHECK(added.entries() == bans->entries());
}

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat::fuzz;
  Input in(data, size);
  const uint8_t mode = in.U8();
  const std::string_view text = AsText(in.Rest());
  switch (mode % 6) {
    case 0:
      MembersFile(text);
      break;
    case 1:
      KnownServersFile(text);
      break;
    case 2:
      KeyFields(text);
      break;
    case 3:
      Fingerprint(text);
      break;
    case 4:
      HostPort(text);
      break;
    case 5:
      BansFile(text);
      break;
  }
  return 0;
}
