// Learning the server's key before the handshake (PROTOCOL.md 4.8): the KEY_REQUEST and
// SERVER_KEY frames in each state, the server's one answer, the client's request engine, and
// the client's decision on the key (known_servers, --server_fingerprint, a question).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/client/server_trust.h"
#include "securechat/crypto/random.h"
#include "securechat/engine/client_connection.h"
#include "securechat/engine/key_request.h"
#include "securechat/engine/server_connection.h"
#include "securechat/wire/frame.h"
#include "support/in_memory.h"
#include "support/test_util.h"

namespace securechat {
namespace {

using testing::Hex;
using testing::TestKey2048;

const ServerPrivateKey& TestKey3072() {
  static const auto* key = new ServerPrivateKey(
      ServerPrivateKey::FromPem(testing::ReadFileOrDie(std::string(SECURECHAT_TEST_KEY_DIR) +
                                                       "/test_rsa3072_private.pem"),
                                nullptr)
          .value());
  return *key;
}

bool Accepts(FrameExpect expect, std::string_view header_hex, size_t k = 256) {
  FrameHeader h;
  return CheckFrameHeader(FramePolicy{expect, k}, Hex(header_hex), &h);
}

std::vector<uint8_t> ServerKeyFrame(const ServerPrivateKey& key) {
  std::vector<uint8_t> frame;
  AppendServerKey(key.PublicKeyDer(), &frame);
  return frame;
}

TEST(KeyRequestFrameTest, OnlyAsTheServersFirstFrameAndOnlyEmpty) {
  EXPECT_TRUE(Accepts(FrameExpect::kClientHelloOrKeyRequest, "05000000"));
  EXPECT_TRUE(Accepts(FrameExpect::kClientHelloOrKeyRequest, "01000141"));   // CLIENT_HELLO, k 256
  EXPECT_FALSE(Accepts(FrameExpect::kClientHelloOrKeyRequest, "05000001"));  // a body
  EXPECT_FALSE(Accepts(FrameExpect::kClientHelloOrKeyRequest, "05000141"));
  EXPECT_FALSE(Accepts(FrameExpect::kClientHelloOrKeyRequest, "05010000"));  // flags
  EXPECT_FALSE(Accepts(FrameExpect::kClientHelloOrKeyRequest, "06000126"));  // SERVER_KEY
  // After the answer (and everywhere else) KEY_REQUEST is a header failure.
  for (FrameExpect later : {FrameExpect::kClientHello, FrameExpect::kServerHello,
                            FrameExpect::kServerKey, FrameExpect::kRecord, FrameExpect::kNothing}) {
    EXPECT_FALSE(Accepts(later, "05000000")) << static_cast<int>(later);
  }
}

TEST(ServerKeyFrameTest, LengthBoundedByTheKeySizes) {
  EXPECT_TRUE(Accepts(FrameExpect::kServerKey, "06000100"));   // 256, the least
  EXPECT_TRUE(Accepts(FrameExpect::kServerKey, "06000126"));   // 294, a 2048-bit key
  EXPECT_TRUE(Accepts(FrameExpect::kServerKey, "06000240"));   // 576, the most
  EXPECT_FALSE(Accepts(FrameExpect::kServerKey, "060000ff"));  // 255
  EXPECT_FALSE(Accepts(FrameExpect::kServerKey, "06000241"));  // 577
  EXPECT_FALSE(Accepts(FrameExpect::kServerKey, "06000000"));
  EXPECT_FALSE(Accepts(FrameExpect::kServerKey, "06010126"));    // flags
  EXPECT_TRUE(Accepts(FrameExpect::kServerKey, "03000003"));     // ALERT
  EXPECT_FALSE(Accepts(FrameExpect::kServerKey, "02000061"));    // SERVER_HELLO
  EXPECT_FALSE(Accepts(FrameExpect::kServerHello, "06000126"));  // only after asking
  EXPECT_FALSE(Accepts(FrameExpect::kClientHelloOrKeyRequest, "06000126"));
  EXPECT_EQ(ServerKeyFrame(TestKey2048()).size(), 4u + 294);
  EXPECT_EQ(ServerKeyFrame(TestKey3072()).size(), 4u + 422);
}

// The server answers KEY_REQUEST with its DER key, whose SHA-256 is the fingerprint it prints,
// and goes on waiting for CLIENT_HELLO.
TEST(ServerKeyAnswerTest, AnswersOnceWithTheFingerprintedBytes) {
  OsRandom rng;
  ServerConnection server(TestKey2048(), rng);
  const std::vector<uint8_t> request = Hex("05000000");
  ByteView in(request);
  ByteView plaintext;
  EXPECT_EQ(server.Next(&in, &plaintext), ServerConnection::Step::kNeedMore);
  EXPECT_EQ(server.state(), ServerConnection::State::kKeySent);
  const ByteView out = server.output().pending();
  ASSERT_EQ(std::vector<uint8_t>(out.begin(), out.end()), ServerKeyFrame(TestKey2048()));
  auto key = ServerPublicKey::FromDer(out.subspan(proto::kFrameHeaderLen));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->Fingerprint(), TestKey2048().PublicKey().Fingerprint());

  // A second KEY_REQUEST is a header failure: closed, nothing more queued.
  const size_t queued = server.output().size();
  ByteView again(request);
  EXPECT_EQ(server.Next(&again, &plaintext), ServerConnection::Step::kClose);
  EXPECT_STREQ(server.close_reason(), "bad frame header");
  EXPECT_EQ(server.output().size(), queued);
}

TEST(ServerKeyAnswerTest, KeyRequestAfterClientHelloCloses) {
  OsRandom rng;
  const ServerPublicKey pinned = TestKey2048().PublicKey();
  ClientConnection client(pinned, rng);
  ASSERT_TRUE(client.Start());
  std::vector<uint8_t> bytes(client.output().pending().begin(), client.output().pending().end());
  const std::vector<uint8_t> request = Hex("05000000");
  bytes.insert(bytes.end(), request.begin(), request.end());
  ServerConnection server(TestKey2048(), rng);
  ByteView in(bytes);
  ByteView plaintext;
  EXPECT_EQ(server.Next(&in, &plaintext), ServerConnection::Step::kHelloReady);
  EXPECT_EQ(server.Next(&in, &plaintext), ServerConnection::Step::kClose);
  EXPECT_TRUE(server.output().empty()) << "no SERVER_KEY after CLIENT_HELLO";
}

// The whole first contact in memory: ask, check the key, then the handshake on the same
// connection proves the server holds it. KEY_REQUEST and CLIENT_HELLO may arrive in one read.
TEST(ServerKeyAnswerTest, HandshakeFollowsOnTheSameConnection) {
  OsRandom rng;
  ServerConnection server(TestKey2048(), rng);
  ServerKeyRequest request;
  ASSERT_TRUE(request.Start());
  EXPECT_FALSE(request.Start());
  ByteView plaintext;
  ByteView up = request.output().pending();
  ASSERT_EQ(server.Next(&up, &plaintext), ServerConnection::Step::kNeedMore);
  ByteView down = server.output().pending();
  ASSERT_EQ(request.Next(&down), ServerKeyRequest::Step::kKey);
  EXPECT_TRUE(down.empty());
  server.output().Clear();
  const std::optional<ServerPublicKey> key = request.TakeKey();
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->FingerprintDigest(), TestKey2048().PublicKey().FingerprintDigest());

  ClientConnection client(*key, rng);
  ASSERT_TRUE(client.Start());
  ByteView hello = client.output().pending();
  ASSERT_EQ(server.Next(&hello, &plaintext), ServerConnection::Step::kHelloReady);
  ASSERT_TRUE(server.CompleteHandshake());
  ByteView reply = server.output().pending();
  msg::ServerMessage m;
  EXPECT_EQ(client.Next(&reply, &m), ClientConnection::Step::kEstablished);

  // Both frames in one read: the answer is queued and the hello reported.
  ServerConnection server2(TestKey2048(), rng);
  const ServerPublicKey pinned = TestKey2048().PublicKey();
  ClientConnection client2(pinned, rng);
  ASSERT_TRUE(client2.Start());
  std::vector<uint8_t> both = Hex("05000000");
  both.insert(both.end(), client2.output().pending().begin(), client2.output().pending().end());
  ByteView in(both);
  EXPECT_EQ(server2.Next(&in, &plaintext), ServerConnection::Step::kHelloReady);
  EXPECT_EQ(server2.output().size(), ServerKeyFrame(TestKey2048()).size());
}

TEST(ServerKeyRequestTest, SplitAtEveryByte) {
  const std::vector<uint8_t> frame = ServerKeyFrame(TestKey3072());
  ServerKeyRequest request;
  ASSERT_TRUE(request.Start());
  for (size_t i = 0; i + 1 < frame.size(); ++i) {
    ByteView one(&frame[i], 1);
    ASSERT_EQ(request.Next(&one), ServerKeyRequest::Step::kNeedMore) << i;
  }
  ByteView last(&frame.back(), 1);
  ASSERT_EQ(request.Next(&last), ServerKeyRequest::Step::kKey);
  EXPECT_EQ(request.key()->size(), 384u);
  ByteView more(frame);
  EXPECT_EQ(request.Next(&more), ServerKeyRequest::Step::kFailed) << "one answer only";
}

// A key the client cannot take is a failure, never a key: a flipped byte that breaks the DER,
// BER that is not DER, bytes after the key, another frame type.
TEST(ServerKeyRequestTest, RefusesWhatIsNotOneCanonicalKey) {
  const std::vector<uint8_t> good = ServerKeyFrame(TestKey2048());
  auto run = [](const std::vector<uint8_t>& frame) {
    ServerKeyRequest request;
    EXPECT_TRUE(request.Start());
    ByteView in(frame);
    return request.Next(&in);
  };
  EXPECT_EQ(run(good), ServerKeyRequest::Step::kKey);
  size_t flips_refused = 0;
  for (size_t i = proto::kFrameHeaderLen; i < good.size(); ++i) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x01;
    ServerKeyRequest request;
    ASSERT_TRUE(request.Start());
    ByteView in(bad);
    const ServerKeyRequest::Step step = request.Next(&in);
    if (step == ServerKeyRequest::Step::kKey) {
      // A flip inside the modulus is another valid key: another fingerprint, which the user's
      // check refuses.
      EXPECT_NE(request.key()->FingerprintDigest(), TestKey2048().PublicKey().FingerprintDigest());
    } else {
      EXPECT_EQ(step, ServerKeyRequest::Step::kFailed) << i;
      ++flips_refused;
    }
  }
  EXPECT_GT(flips_refused, 20u);

  // The outer SEQUENCE's length in a longer form than needed: BER, not DER.
  const ByteView der = TestKey2048().PublicKeyDer();
  ASSERT_EQ(der[0], 0x30);
  ASSERT_EQ(der[1], 0x82);
  std::vector<uint8_t> ber = {0x30, 0x83, 0x00};
  ber.insert(ber.end(), der.begin() + 2, der.end());
  EXPECT_FALSE(ServerPublicKey::FromDer(ber).ok());
  std::vector<uint8_t> trailing(der.begin(), der.end());
  trailing.push_back(0);
  EXPECT_FALSE(ServerPublicKey::FromDer(trailing).ok());
  std::vector<uint8_t> framed_trailing;
  AppendServerKey(trailing, &framed_trailing);
  EXPECT_EQ(run(framed_trailing), ServerKeyRequest::Step::kFailed);

  std::vector<uint8_t> hello = Hex("02000061");
  hello.resize(4 + 97);
  EXPECT_EQ(run(hello), ServerKeyRequest::Step::kFailed);
}

TEST(ServerKeyRequestTest, AlertInsteadOfTheKey) {
  std::vector<uint8_t> alert;
  AppendAlert(proto::AlertCode::kServerFull, "server full", &alert);
  ServerKeyRequest request;
  ASSERT_TRUE(request.Start());
  ByteView in(alert);
  ASSERT_EQ(request.Next(&in), ServerKeyRequest::Step::kAlert);
  EXPECT_EQ(request.alert().code, static_cast<uint8_t>(proto::AlertCode::kServerFull));
  EXPECT_EQ(std::string(request.alert().reason.begin(), request.alert().reason.end()),
            "server full");
}

}  // namespace
}  // namespace securechat

namespace securechat::client {
namespace {

using Verdict = TrustDecision::Verdict;

constexpr std::string_view kPath = "/home/u/.config/securechat/known_servers";

Sha256Digest DigestOf(uint8_t fill) {
  Sha256Digest d;
  d.fill(fill);
  return d;
}

KnownServers Known() {
  return KnownServers::Parse(
             Cat("# mine\n", "chat.example.org:7000 ", FingerprintText(DigestOf(1)), "\n"))
      .value();
}

TEST(ServerTrustTest, KnownServerGoesOn) {
  const TrustDecision d = DecideTrust({}, Known(), kPath, "Chat.Example.org:7000", DigestOf(1));
  EXPECT_EQ(d.verdict, Verdict::kTrusted);
  EXPECT_FALSE(d.add);
}

TEST(ServerTrustTest, ChangedKeyIsRefusedLoudlyNamingTheFileAndLine) {
  for (bool tofu : {false, true}) {
    TrustOptions options;
    options.trust_on_first_use = tofu;
    options.can_ask = true;
    const TrustDecision d =
        DecideTrust(options, Known(), kPath, "chat.example.org:7000", DigestOf(2));
    EXPECT_EQ(d.verdict, Verdict::kRefused) << "--trust_on_first_use never accepts a change";
    EXPECT_NE(d.text.find("SERVER IDENTIFICATION HAS CHANGED"), std::string::npos) << d.text;
    EXPECT_NE(d.text.find(Cat(kPath, " line 2")), std::string::npos) << d.text;
    EXPECT_NE(d.text.find(FingerprintText(DigestOf(1))), std::string::npos) << d.text;
    EXPECT_NE(d.text.find(FingerprintText(DigestOf(2))), std::string::npos) << d.text;
    EXPECT_NE(d.text.find(Cat("sed -i '2d' ", kPath)), std::string::npos) << d.text;
  }
}

TEST(ServerTrustTest, UnknownServerInAPipeIsRefusedSayingHow) {
  const TrustDecision d = DecideTrust({}, Known(), kPath, "other.example.org:7000", DigestOf(3));
  EXPECT_EQ(d.verdict, Verdict::kRefused);
  EXPECT_NE(d.text.find(Cat("--server_fingerprint=", FingerprintText(DigestOf(3)))),
            std::string::npos)
      << d.text;
  EXPECT_NE(d.text.find("--trust_on_first_use"), std::string::npos) << d.text;
}

TEST(ServerTrustTest, UnknownServerWithTrustOnFirstUseIsAdded) {
  TrustOptions options;
  options.trust_on_first_use = true;
  const TrustDecision d =
      DecideTrust(options, Known(), kPath, "other.example.org:7000", DigestOf(3));
  EXPECT_EQ(d.verdict, Verdict::kTrusted);
  EXPECT_TRUE(d.add);
}

TEST(ServerTrustTest, UnknownServerAtATerminalIsAskedAndOnlyYesTrusts) {
  TrustOptions options;
  options.can_ask = true;
  const TrustDecision d =
      DecideTrust(options, Known(), kPath, "other.example.org:7000", DigestOf(3));
  EXPECT_EQ(d.verdict, Verdict::kAsk);
  EXPECT_NE(d.text.find(FingerprintText(DigestOf(3))), std::string::npos) << d.text;
  for (std::string_view yes : {"yes", "YES", " yes \r"}) {
    const TrustDecision a = AnswerTrust(yes, kPath, "other.example.org:7000");
    EXPECT_EQ(a.verdict, Verdict::kTrusted) << yes;
    EXPECT_TRUE(a.add);
  }
  for (std::string_view no : {"no", "", "y", "yes please", "ye"}) {
    EXPECT_EQ(AnswerTrust(no, kPath, "other.example.org:7000").verdict, Verdict::kRefused) << no;
  }
}

TEST(ServerTrustTest, PinnedFingerprintIgnoresTheFile) {
  TrustOptions options;
  options.pinned = DigestOf(9);
  EXPECT_EQ(DecideTrust(options, Known(), kPath, "other.example.org:7000", DigestOf(9)).verdict,
            Verdict::kTrusted);
  // Even a server the file lists with another key: the pin decides.
  EXPECT_EQ(DecideTrust(options, Known(), kPath, "chat.example.org:7000", DigestOf(9)).verdict,
            Verdict::kTrusted);
  const TrustDecision wrong =
      DecideTrust(options, Known(), kPath, "chat.example.org:7000", DigestOf(1));
  EXPECT_EQ(wrong.verdict, Verdict::kRefused);
  EXPECT_FALSE(wrong.add);
  EXPECT_NE(wrong.text.find(FingerprintText(DigestOf(9))), std::string::npos) << wrong.text;
}

}  // namespace
}  // namespace securechat::client
