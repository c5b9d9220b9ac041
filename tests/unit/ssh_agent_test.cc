// The ssh-agent codec (crypto/ssh_agent_codec.h), byte by byte and against every malformed
// reply shape, and AgentSigner (net/ssh_agent.h) against a stand-in agent on a unix socket
// that answers what each test scripts: refusals, lies, silence, hang-ups. The real ssh-agent
// is tests/integration/real_ssh_agent_test.cc.
#include "securechat/net/ssh_agent.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "securechat/crypto/ssh_agent_codec.h"
#include "securechat/net/socket.h"

namespace securechat {
namespace {

using ssh_agent::Identity;
using ssh_agent::Reply;

// Bytes builds agent messages by hand, independently of the codec's encoders.
class Bytes {
 public:
  Bytes& U8(uint8_t v) {
    b_.push_back(v);
    return *this;
  }
  Bytes& U32(uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      b_.push_back(static_cast<uint8_t>(v >> shift));
    }
    return *this;
  }
  Bytes& Raw(ByteView v) {
    b_.insert(b_.end(), v.begin(), v.end());
    return *this;
  }
  Bytes& Raw(std::string_view v) {
    b_.insert(b_.end(), v.begin(), v.end());
    return *this;
  }
  Bytes& Str(ByteView v) { return U32(static_cast<uint32_t>(v.size())).Raw(v); }
  Bytes& Str(std::string_view v) { return U32(static_cast<uint32_t>(v.size())).Raw(v); }
  const std::vector<uint8_t>& get() const { return b_; }
  operator ByteView() const { return b_; }

 private:
  std::vector<uint8_t> b_;
};

std::vector<uint8_t> WithLength(const Bytes& body) { return Bytes().Str(body).get(); }

Ed25519Public KeyOf(uint8_t fill) {
  Ed25519Public k;
  k.fill(fill);
  return k;
}

std::vector<uint8_t> Ed25519Blob(ByteView key) {
  return Bytes().Str(std::string_view("ssh-ed25519")).Str(key).get();
}

// An RSA key blob as ssh-agent lists it: string "ssh-rsa", mpint e, mpint n.
std::vector<uint8_t> RsaBlob() {
  const uint8_t e[] = {1, 0, 1};
  const std::vector<uint8_t> n(257, 0xC3);
  return Bytes().Str(std::string_view("ssh-rsa")).Str(ByteView(e)).Str(n).get();
}

std::vector<uint8_t> EcdsaBlob() {
  const std::vector<uint8_t> point(65, 0x04);
  return Bytes()
      .Str(std::string_view("ecdsa-sha2-nistp256"))
      .Str(std::string_view("nistp256"))
      .Str(point)
      .get();
}

// Answer is an identities answer body holding `blobs`, each with comment "cN".
Bytes Answer(const std::vector<std::vector<uint8_t>>& blobs) {
  Bytes b;
  b.U8(ssh_agent::kIdentitiesAnswer).U32(static_cast<uint32_t>(blobs.size()));
  for (size_t i = 0; i < blobs.size(); ++i) {
    b.Str(blobs[i]).Str("c" + std::to_string(i));
  }
  return b;
}

Reply ParseAnswer(ByteView body, std::vector<Identity>* keys = nullptr) {
  std::vector<Identity> got = {{KeyOf(0xEE), "untouched"}};
  size_t others = 12345;
  const Reply r = ssh_agent::ParseIdentitiesAnswer(body, &got, &others);
  if (r != Reply::kOk) {
    EXPECT_EQ(got.size(), 1u);  // the outputs are left alone on failure
    EXPECT_EQ(others, 12345u);
  }
  if (keys != nullptr) {
    *keys = got;
  }
  return r;
}

// Signature is a sign response body carrying `format` and `sig`.
Bytes SignResponse(std::string_view format, ByteView sig) {
  const std::vector<uint8_t> inner = Bytes().Str(format).Str(sig).get();
  return Bytes().U8(ssh_agent::kSignResponse).Str(inner);
}

Reply ParseSig(ByteView body, Ed25519Signature* sig = nullptr) {
  Ed25519Signature got;
  got.fill(0xEE);
  const Reply r = ssh_agent::ParseSignResponse(body, &got);
  if (r != Reply::kOk) {
    Ed25519Signature untouched;
    untouched.fill(0xEE);
    EXPECT_EQ(got, untouched);
  }
  if (sig != nullptr) {
    *sig = got;
  }
  return r;
}

TEST(SshAgentCodecTest, RequestIdentitiesIsFiveBytes) {
  EXPECT_EQ(ssh_agent::EncodeRequestIdentities(),
            (std::vector<uint8_t>{0, 0, 0, 1, ssh_agent::kRequestIdentities}));
}

TEST(SshAgentCodecTest, SignRequestIsKeyBlobDataAndZeroFlags) {
  const Ed25519Public key = KeyOf(7);
  const std::string data = "the statement to sign";
  std::vector<uint8_t> out;
  ASSERT_TRUE(ssh_agent::EncodeSignRequest(
      key, ByteView(reinterpret_cast<const uint8_t*>(data.data()), data.size()), &out));
  const Bytes body = Bytes().U8(ssh_agent::kSignRequest).Str(Ed25519Blob(key)).Str(data).U32(0);
  EXPECT_EQ(out, WithLength(body));
  EXPECT_EQ(Ed25519Blob(key), SshEd25519Blob(key));
}

TEST(SshAgentCodecTest, SignRequestRefusesDataOverTheBound) {
  const std::vector<uint8_t> fits(ssh_agent::kMaxSignDataLen, 'x');
  const std::vector<uint8_t> over(ssh_agent::kMaxSignDataLen + 1, 'x');
  std::vector<uint8_t> out = {9};
  EXPECT_TRUE(ssh_agent::EncodeSignRequest(KeyOf(1), fits, &out));
  out = {9};
  EXPECT_FALSE(ssh_agent::EncodeSignRequest(KeyOf(1), over, &out));
  EXPECT_EQ(out, std::vector<uint8_t>{9});
}

TEST(SshAgentCodecTest, ReplyLengthIsBoundedBeforeTheBody) {
  auto len_of = [](uint32_t n) -> std::optional<uint32_t> {
    ssh_agent::LengthHeader h;
    const std::vector<uint8_t> b = Bytes().U32(n).get();
    std::copy(b.begin(), b.end(), h.begin());
    uint32_t len = 77;
    if (!ssh_agent::ReplyLength(h, &len)) {
      EXPECT_EQ(len, 77u);
      return std::nullopt;
    }
    return len;
  };
  EXPECT_EQ(len_of(1), 1u);
  EXPECT_EQ(len_of(ssh_agent::kMaxReplyLen), ssh_agent::kMaxReplyLen);
  EXPECT_EQ(len_of(0), std::nullopt);
  EXPECT_EQ(len_of(ssh_agent::kMaxReplyLen + 1), std::nullopt);
  EXPECT_EQ(len_of(0xFFFFFFFF), std::nullopt);
}

TEST(SshAgentCodecTest, IdentitiesAnswerKeepsEd25519KeysInOrderAndSkipsOthers) {
  const Ed25519Public a = KeyOf(0xA1);
  const Ed25519Public b = KeyOf(0xB2);
  const std::vector<uint8_t> cert =
      Bytes().Str(std::string_view("ssh-ed25519-cert-v01@openssh.com")).Str(a).get();
  const std::vector<uint8_t> sk = Bytes()
                                      .Str(std::string_view("sk-ssh-ed25519@openssh.com"))
                                      .Str(a)
                                      .Str(std::string_view("ssh:"))
                                      .get();
  std::vector<Identity> keys;
  size_t others = 0;
  const Bytes body = Answer({RsaBlob(), Ed25519Blob(a), EcdsaBlob(), cert, sk, Ed25519Blob(b)});
  ASSERT_EQ(ssh_agent::ParseIdentitiesAnswer(body, &keys, &others), Reply::kOk);
  EXPECT_EQ(keys, (std::vector<Identity>{{a, "c1"}, {b, "c5"}}));
  EXPECT_EQ(others, 4u);
}

TEST(SshAgentCodecTest, IdentitiesAnswerMayBeEmpty) {
  std::vector<Identity> keys = {{KeyOf(1), "x"}};
  size_t others = 9;
  ASSERT_EQ(ssh_agent::ParseIdentitiesAnswer(Answer({}), &keys, &others), Reply::kOk);
  EXPECT_TRUE(keys.empty());
  EXPECT_EQ(others, 0u);
}

TEST(SshAgentCodecTest, FailureIsARefusalOnlyWhenItIsTheWholeBody) {
  for (uint8_t type : {ssh_agent::kFailure, ssh_agent::kSsh2Failure, ssh_agent::kSshComFailure}) {
    EXPECT_EQ(ParseAnswer(Bytes().U8(type)), Reply::kRefused) << int{type};
    EXPECT_EQ(ParseSig(Bytes().U8(type)), Reply::kRefused) << int{type};
    EXPECT_EQ(ParseAnswer(Bytes().U8(type).U8(0)), Reply::kMalformed) << int{type};
    EXPECT_EQ(ParseSig(Bytes().U8(type).U8(0)), Reply::kMalformed) << int{type};
  }
  const std::vector<uint8_t> failure = WithLength(Bytes().U8(ssh_agent::kFailure));
  EXPECT_EQ(ssh_agent::EncodeFailure(), failure);
}

TEST(SshAgentCodecTest, AnyOtherTypeIsMalformed) {
  EXPECT_EQ(ParseAnswer(Bytes()), Reply::kMalformed);
  EXPECT_EQ(ParseSig(Bytes()), Reply::kMalformed);
  EXPECT_EQ(ParseAnswer(SignResponse("ssh-ed25519", Ed25519Signature{})), Reply::kMalformed);
  Bytes answer_as_sig = Answer({});
  EXPECT_EQ(ParseSig(answer_as_sig), Reply::kMalformed);
  for (int type : {0, 6, 11, 13, 28, 255}) {
    EXPECT_EQ(ParseAnswer(Bytes().U8(static_cast<uint8_t>(type)).U32(0)), Reply::kMalformed)
        << type;
  }
}

TEST(SshAgentCodecTest, IdentitiesAnswerTruncatedAnywhereIsMalformed) {
  const Bytes body = Answer({Ed25519Blob(KeyOf(1)), RsaBlob(), Ed25519Blob(KeyOf(2))});
  ASSERT_EQ(ParseAnswer(body), Reply::kOk);
  const std::vector<uint8_t>& all = body.get();
  for (size_t len = 0; len < all.size(); ++len) {
    EXPECT_EQ(ParseAnswer(ByteView(all.data(), len)), Reply::kMalformed) << len;
  }
}

TEST(SshAgentCodecTest, IdentitiesAnswerWithATrailingByteIsMalformed) {
  Bytes body = Answer({Ed25519Blob(KeyOf(1))});
  EXPECT_EQ(ParseAnswer(body.U8(0)), Reply::kMalformed);
}

TEST(SshAgentCodecTest, IdentitiesCountIsBounded) {
  // Keys of another type, the shortest kind: a blob holding only a type name.
  const std::vector<uint8_t> tiny = Bytes().Str(std::string_view("x")).get();
  std::vector<std::vector<uint8_t>> blobs(ssh_agent::kMaxIdentities, tiny);
  EXPECT_EQ(ParseAnswer(Answer(blobs)), Reply::kOk);
  blobs.push_back(tiny);
  EXPECT_EQ(ParseAnswer(Answer(blobs)), Reply::kMalformed);
}

TEST(SshAgentCodecTest, IdentitiesCountBeyondTheBytesLeftIsMalformed) {
  Bytes one = Bytes().U8(ssh_agent::kIdentitiesAnswer).U32(2);
  one.Str(Ed25519Blob(KeyOf(1))).Str("c");
  EXPECT_EQ(ParseAnswer(one), Reply::kMalformed);
  EXPECT_EQ(ParseAnswer(Bytes().U8(ssh_agent::kIdentitiesAnswer).U32(0xFFFFFFFF)),
            Reply::kMalformed);
  // Eight bytes per announced key are the least that could hold it.
  EXPECT_EQ(ParseAnswer(Bytes().U8(ssh_agent::kIdentitiesAnswer).U32(2).U32(0).U32(0).U32(0)),
            Reply::kMalformed);
}

TEST(SshAgentCodecTest, Ed25519BlobMustBeExactlyTheSshForm) {
  const std::vector<uint8_t> k31(31, 1), k33(33, 1), k32(32, 1);
  const std::vector<std::vector<uint8_t>> bad = {
      {},                                                                   // no type name
      Bytes().U32(11).Raw(std::string_view("ssh-ed2")).get(),               // type name cut short
      Bytes().Str(std::string_view("ssh-ed25519")).get(),                   // no key
      Ed25519Blob(k31),                                                     // short key
      Ed25519Blob(k33),                                                     // long key
      Bytes().Raw(Ed25519Blob(k32)).U8(0).get(),                            // trailing byte
      Bytes().Str(std::string_view("ssh-ed25519")).U32(32).Raw(k31).get(),  // key cut short
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(ParseAnswer(Answer({bad[i]})), Reply::kMalformed) << i;
    // One bad blob spoils the answer, whatever good keys come with it.
    EXPECT_EQ(ParseAnswer(Answer({Ed25519Blob(k32), bad[i]})), Reply::kMalformed) << i;
  }
}

TEST(SshAgentCodecTest, SignResponseCarriesExactlyAnEd25519Signature) {
  Ed25519Signature sig;
  for (size_t i = 0; i < sig.size(); ++i) {
    sig[i] = static_cast<uint8_t>(i);
  }
  Ed25519Signature got;
  ASSERT_EQ(ParseSig(SignResponse("ssh-ed25519", sig), &got), Reply::kOk);
  EXPECT_EQ(got, sig);
  EXPECT_EQ(ssh_agent::EncodeSignResponse(sig), WithLength(SignResponse("ssh-ed25519", sig)));

  const std::vector<uint8_t> s63(63, 1), s65(65, 1);
  EXPECT_EQ(ParseSig(SignResponse("ssh-ed25519", s63)), Reply::kMalformed);
  EXPECT_EQ(ParseSig(SignResponse("ssh-ed25519", s65)), Reply::kMalformed);
  EXPECT_EQ(ParseSig(SignResponse("ssh-rsa", sig)), Reply::kMalformed);
  EXPECT_EQ(ParseSig(SignResponse("rsa-sha2-256", sig)), Reply::kMalformed);
  EXPECT_EQ(ParseSig(SignResponse("sk-ssh-ed25519@openssh.com", sig)), Reply::kMalformed);
  EXPECT_EQ(ParseSig(SignResponse("", sig)), Reply::kMalformed);
  // A trailing byte inside the signature string, and after it.
  const std::vector<uint8_t> inner_extra =
      Bytes().Str(std::string_view("ssh-ed25519")).Str(sig).U8(0).get();
  EXPECT_EQ(ParseSig(Bytes().U8(ssh_agent::kSignResponse).Str(inner_extra)), Reply::kMalformed);
  Bytes outer_extra = SignResponse("ssh-ed25519", sig);
  EXPECT_EQ(ParseSig(outer_extra.U8(0)), Reply::kMalformed);
  // A bare signature, without its format name.
  EXPECT_EQ(ParseSig(Bytes().U8(ssh_agent::kSignResponse).Str(sig)), Reply::kMalformed);
}

TEST(SshAgentCodecTest, SignResponseTruncatedAnywhereIsMalformed) {
  const Bytes body = SignResponse("ssh-ed25519", Ed25519Signature{});
  const std::vector<uint8_t>& all = body.get();
  for (size_t len = 0; len < all.size(); ++len) {
    EXPECT_EQ(ParseSig(ByteView(all.data(), len)), Reply::kMalformed) << len;
  }
}

TEST(SshAgentCodecTest, EncodedAnswersParseBack) {
  const std::vector<Identity> ids = {{KeyOf(1), "alice@laptop"}, {KeyOf(2), ""}};
  const std::vector<uint8_t> msg = ssh_agent::EncodeIdentitiesAnswer(ids);
  ASSERT_GT(msg.size(), ssh_agent::kLengthLen);
  std::vector<Identity> keys;
  size_t others = 1;
  ASSERT_EQ(ssh_agent::ParseIdentitiesAnswer(ByteView(msg).subspan(ssh_agent::kLengthLen), &keys,
                                             &others),
            Reply::kOk);
  EXPECT_EQ(keys, ids);
  EXPECT_EQ(others, 0u);
}

// FakeAgent listens on a unix socket in a private directory and serves one scripted step per
// connection, in order: it reads the request, keeps its body, then acts. Every wait is bounded,
// so a test that connects fewer times than scripted still ends.
class FakeAgent {
 public:
  struct Step {
    std::vector<uint8_t> reply;  // sent after the request (whole messages, with lengths)
    bool dribble = false;        // send it one byte at a time
    bool close_first = false;    // close without reading or answering
  };

  explicit FakeAgent(std::vector<Step> steps) : steps_(std::move(steps)) {
    char tmpl[] = "/tmp/securechat-agent-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/agent.sock";
    listener_ = net::Fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    EXPECT_EQ(bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listener_.get(), 4), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeAgent() {
    thread_.join();
    std::filesystem::remove_all(dir_);
  }

  const std::string& path() const { return path_; }
  // requests are the bodies of the requests served so far (read them after the signer call
  // has returned: the agent has then read the request).
  std::vector<std::vector<uint8_t>> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  static constexpr int kWaitMs = 5000;

  static bool WaitReadable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, kWaitMs) == 1;
  }
  static bool ReadN(int fd, uint8_t* out, size_t n) {
    while (n > 0) {
      if (!WaitReadable(fd)) {
        return false;
      }
      const ssize_t got = read(fd, out, n);
      if (got <= 0) {
        return false;
      }
      out += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }

  void Serve() {
    for (const Step& step : steps_) {
      if (!WaitReadable(listener_.get())) {
        return;
      }
      net::Fd conn(accept(listener_.get(), nullptr, nullptr));
      if (!conn.valid() || step.close_first) {
        continue;
      }
      uint8_t len[4];
      if (!ReadN(conn.get(), len, sizeof(len))) {
        continue;
      }
      std::vector<uint8_t> body(uint32_t{len[0]} << 24 | uint32_t{len[1]} << 16 |
                                uint32_t{len[2]} << 8 | len[3]);
      if (!ReadN(conn.get(), body.data(), body.size())) {
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(body);
      }
      const size_t chunk = step.dribble ? 1 : step.reply.size();
      for (size_t at = 0; at < step.reply.size(); at += chunk) {
        const size_t n = std::min(chunk, step.reply.size() - at);
        if (send(conn.get(), step.reply.data() + at, n, MSG_NOSIGNAL) != static_cast<ssize_t>(n)) {
          break;
        }
      }
      // Stay until the client hangs up: an agent that sent no reply is a hung agent.
      uint8_t rest;
      while (WaitReadable(conn.get()) && read(conn.get(), &rest, 1) > 0) {
      }
    }
  }

  std::vector<Step> steps_;
  std::string dir_;
  std::string path_;
  net::Fd listener_;
  std::mutex mu_;
  std::vector<std::vector<uint8_t>> requests_;
  std::thread thread_;
};

ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Key is a real key pair for the stand-in agent to "hold".
Ed25519Key NewKey() {
  std::optional<Ed25519Key> k = Ed25519Key::Generate();
  EXPECT_TRUE(k.has_value());
  return std::move(*k);
}

Ed25519Signature SignWith(const Ed25519Key& key, std::string_view msg) {
  Ed25519Signature sig{};
  EXPECT_TRUE(key.Sign(AsBytes(msg), &sig));
  return sig;
}

std::vector<uint8_t> ListOf(const std::vector<Identity>& ids) {
  return ssh_agent::EncodeIdentitiesAnswer(ids);
}

net::AgentOptions At(const FakeAgent& agent, std::string fingerprint = "", int timeout_ms = 5000) {
  net::AgentOptions o;
  o.socket = agent.path();
  o.fingerprint = std::move(fingerprint);
  o.timeout_ms = timeout_ms;
  return o;
}

bool Contains(const absl::Status& s, std::string_view text) {
  return std::string_view(s.message().data(), s.message().size()).find(text) !=
         std::string_view::npos;
}

TEST(AgentSignerTest, SignsWithTheFirstEd25519KeyAndChecksTheSignature) {
  const Ed25519Key key = NewKey();
  const std::string msg = "securechat statement";
  FakeAgent agent({{.reply = ListOf({{key.public_key(), "alice@laptop"}})},
                   {.reply = ssh_agent::EncodeSignResponse(SignWith(key, msg)), .dribble = true}});
  absl::StatusOr<net::AgentSigner> signer = net::AgentSigner::Open(At(agent));
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(signer->public_key(), key.public_key());
  EXPECT_EQ(signer->Describe(), Ed25519Fingerprint(key.public_key()) + " (alice@laptop)");
  Ed25519Signature sig{};
  ASSERT_TRUE(signer->Sign(AsBytes(msg), &sig).ok());
  EXPECT_TRUE(Ed25519Verify(key.public_key(), AsBytes(msg), sig));
  const std::vector<std::vector<uint8_t>> requests = agent.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0], std::vector<uint8_t>{ssh_agent::kRequestIdentities});
  std::vector<uint8_t> want;
  ASSERT_TRUE(ssh_agent::EncodeSignRequest(key.public_key(), AsBytes(msg), &want));
  EXPECT_EQ(requests[1], std::vector<uint8_t>(want.begin() + ssh_agent::kLengthLen, want.end()));
}

TEST(AgentSignerTest, ALyingAgentsSignatureIsAnError) {
  const Ed25519Key key = NewKey();
  const Ed25519Key other = NewKey();
  const std::string msg = "securechat statement";
  FakeAgent agent({{.reply = ListOf({{key.public_key(), ""}})},
                   {.reply = ssh_agent::EncodeSignResponse(SignWith(key, "another statement"))},
                   {.reply = ssh_agent::EncodeSignResponse(SignWith(other, msg))}});
  absl::StatusOr<net::AgentSigner> signer = net::AgentSigner::Open(At(agent));
  ASSERT_TRUE(signer.ok()) << signer.status();
  for (int i = 0; i < 2; ++i) {
    Ed25519Signature sig;
    sig.fill(0x5A);
    const absl::Status s = signer->Sign(AsBytes(msg), &sig);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_TRUE(Contains(s, "signature that does not verify")) << s;
    Ed25519Signature untouched;
    untouched.fill(0x5A);
    EXPECT_EQ(sig, untouched);
  }
}

TEST(AgentSignerTest, ARefusalToSignSaysSo) {
  const Ed25519Key key = NewKey();
  FakeAgent agent(
      {{.reply = ListOf({{key.public_key(), "k"}})}, {.reply = ssh_agent::EncodeFailure()}});
  absl::StatusOr<net::AgentSigner> signer = net::AgentSigner::Open(At(agent));
  ASSERT_TRUE(signer.ok()) << signer.status();
  Ed25519Signature sig;
  const absl::Status s = signer->Sign(AsBytes("x"), &sig);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_TRUE(Contains(
      s, "ssh-agent refused to sign with " + Ed25519Fingerprint(key.public_key()) + " (k)"))
      << s;
}

TEST(AgentSignerTest, PicksTheKeyByFingerprintAndListsTheKeysWhenNoneMatches) {
  const Ed25519Key a = NewKey();
  const Ed25519Key b = NewKey();
  const Ed25519Key absent = NewKey();
  const std::vector<uint8_t> list = ListOf({{a.public_key(), "a"}, {b.public_key(), "b\x1b[2J"}});
  FakeAgent agent({{.reply = list}, {.reply = list}, {.reply = list}});
  absl::StatusOr<net::AgentSigner> signer =
      net::AgentSigner::Open(At(agent, Ed25519Fingerprint(b.public_key())));
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(signer->public_key(), b.public_key());
  EXPECT_EQ(signer->Describe(), Ed25519Fingerprint(b.public_key()) + " (b\\x1B[2J)");

  absl::StatusOr<net::AgentSigner> missing =
      net::AgentSigner::Open(At(agent, Ed25519Fingerprint(absent.public_key())));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.status(),
                       "holds no Ed25519 key " + Ed25519Fingerprint(absent.public_key()) +
                           "; its Ed25519 keys: " + Ed25519Fingerprint(a.public_key()) + " (a), " +
                           Ed25519Fingerprint(b.public_key()) + " (b\\x1B[2J)"))
      << missing.status();

  absl::StatusOr<net::AgentSigner> garbled = net::AgentSigner::Open(At(agent, "SHA256:nope"));
  EXPECT_EQ(garbled.status().code(), absl::StatusCode::kInvalidArgument) << garbled.status();
  EXPECT_TRUE(Contains(garbled.status(), "not a key fingerprint: SHA256:nope"));
}

TEST(AgentSignerTest, AnAgentWithoutEd25519KeysSaysWhatItHolds) {
  const std::vector<uint8_t> rsa_only = WithLength(Answer({RsaBlob(), EcdsaBlob()}));
  FakeAgent agent(
      {{.reply = ListOf({})}, {.reply = rsa_only}, {.reply = ssh_agent::EncodeFailure()}});
  absl::StatusOr<net::AgentSigner> empty = net::AgentSigner::Open(At(agent));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(empty.status(), "holds no keys: add one with ssh-add")) << empty.status();
  absl::StatusOr<net::AgentSigner> rsa = net::AgentSigner::Open(At(agent));
  EXPECT_TRUE(Contains(rsa.status(), "holds 2 key(s) but no Ed25519 key")) << rsa.status();
  absl::StatusOr<net::AgentSigner> refused = net::AgentSigner::Open(At(agent));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(refused.status(), "refused to list its keys")) << refused.status();
}

TEST(AgentSignerTest, AHungAgentIsATimeoutNotAHang) {
  FakeAgent agent({FakeAgent::Step{}});  // reads the request, never answers
  absl::StatusOr<net::AgentSigner> signer = net::AgentSigner::Open(At(agent, "", 200));
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kDeadlineExceeded) << signer.status();
  EXPECT_TRUE(Contains(signer.status(), "did not answer within 200 ms")) << signer.status();
}

TEST(AgentSignerTest, AnOversizedReplyIsRefusedBeforeItsBody) {
  // Only the length arrives; waiting for the body would run into the (long) timeout.
  FakeAgent agent({{.reply = Bytes().U32(ssh_agent::kMaxReplyLen + 1).get()}});
  absl::StatusOr<net::AgentSigner> signer = net::AgentSigner::Open(At(agent, "", 60000));
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kDataLoss) << signer.status();
  EXPECT_TRUE(Contains(signer.status(), "sent a malformed reply")) << signer.status();
}

TEST(AgentSignerTest, MalformedAndCutRepliesAreErrors) {
  std::vector<uint8_t> trailing = ListOf({{KeyOf(3), ""}});
  trailing[3]++;          // the length covers one more byte...
  trailing.push_back(0);  // ...which is there, after the answer
  std::vector<uint8_t> cut = ListOf({{KeyOf(3), ""}});
  cut.pop_back();
  FakeAgent agent(
      {{.reply = trailing}, {.reply = cut}, {.reply = {}, .dribble = false, .close_first = true}});
  absl::StatusOr<net::AgentSigner> s1 = net::AgentSigner::Open(At(agent));
  EXPECT_TRUE(Contains(s1.status(), "sent a malformed reply")) << s1.status();
  // The cut reply: the agent stays silent after it, so the exchange ends at the deadline.
  absl::StatusOr<net::AgentSigner> s2 = net::AgentSigner::Open(At(agent, "", 200));
  EXPECT_EQ(s2.status().code(), absl::StatusCode::kDeadlineExceeded) << s2.status();
  absl::StatusOr<net::AgentSigner> s3 = net::AgentSigner::Open(At(agent));
  EXPECT_EQ(s3.status().code(), absl::StatusCode::kUnavailable) << s3.status();
}

TEST(AgentSignerTest, SocketComesFromTheEnvironment) {
  const Ed25519Key key = NewKey();
  FakeAgent agent({{.reply = ListOf({{key.public_key(), ""}})}});
  const char* saved = getenv("SSH_AUTH_SOCK");
  const std::optional<std::string> old = saved ? std::optional<std::string>(saved) : std::nullopt;

  unsetenv("SSH_AUTH_SOCK");
  absl::StatusOr<net::AgentSigner> none = net::AgentSigner::Open({});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(none.status().message(), "no ssh-agent: SSH_AUTH_SOCK is not set");
  setenv("SSH_AUTH_SOCK", "", 1);
  EXPECT_EQ(net::AgentSigner::Open({}).status().code(), absl::StatusCode::kFailedPrecondition);

  setenv("SSH_AUTH_SOCK", (agent.path() + ".absent").c_str(), 1);
  absl::StatusOr<net::AgentSigner> absent = net::AgentSigner::Open({});
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(absent.status(), "cannot connect to ssh-agent at " + agent.path() +
                                            ".absent: No such file or directory"))
      << absent.status();

  setenv("SSH_AUTH_SOCK", agent.path().c_str(), 1);
  absl::StatusOr<net::AgentSigner> found = net::AgentSigner::Open({});
  EXPECT_TRUE(found.ok()) << found.status();

  if (old) {
    setenv("SSH_AUTH_SOCK", old->c_str(), 1);
  } else {
    unsetenv("SSH_AUTH_SOCK");
  }
}

TEST(AgentSignerTest, TooMuchDataIsRefusedWithoutAskingTheAgent) {
  const Ed25519Key key = NewKey();
  FakeAgent agent({{.reply = ListOf({{key.public_key(), ""}})}});
  absl::StatusOr<net::AgentSigner> signer = net::AgentSigner::Open(At(agent));
  ASSERT_TRUE(signer.ok()) << signer.status();
  const std::vector<uint8_t> big(ssh_agent::kMaxSignDataLen + 1, 'x');
  Ed25519Signature sig;
  EXPECT_EQ(signer->Sign(big, &sig).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(agent.requests().size(), 1u);
}

}  // namespace
}  // namespace securechat
