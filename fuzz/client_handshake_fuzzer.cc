// Fuzzes the client's side of the handshake through ClientConnection: what it does with
// SERVER_HELLO and ALERT, whole or cut into pieces.
//
// Input: mode u8, the client's 96 random bytes, then by mode:
//   0  the server's bytes, as u16-prefixed pieces, from the first byte on;
//   1  server_random[32] and an X25519 key[32] for a real SERVER_HELLO, n = u8 % 4 changes
//      (u16 position, u8 xor), then u16-prefixed pieces to cut it into: the client must
//      establish exactly when the hello arrived unchanged;
//   2  an ALERT code u8 and a u16-prefixed reason: the client must report exactly that alert.
// Before it is established the client sends nothing after its CLIENT_HELLO; after a failure
// or an alert it accepts nothing more.
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "handshake_util.h"
#include "securechat/engine/client_connection.h"
#include "securechat/wire/frame.h"

namespace securechat::fuzz {
namespace {

using Step = ClientConnection::Step;

// Feed gives `bytes` to the client until it has consumed them or stopped. Returns the last
// step that was not kNeedMore (kNeedMore if there was none).
Step Feed(ClientConnection& conn, ByteView bytes, size_t hello_len) {
  Step last = Step::kNeedMore;
  ByteView in = bytes;
  for (;;) {
    msg::ServerMessage m;
    const Step s = conn.Next(&in, &m);
    if (conn.state() != ClientConnection::State::kEstablished) {
      FUZZ_CHECK(conn.output().size() == hello_len);
    }
    if (s == Step::kNeedMore) {
      FUZZ_CHECK(in.empty());
      return last;
    }
    last = s;
    if (s == Step::kFailed || s == Step::kAlert) {
      FUZZ_CHECK(conn.state() == ClientConnection::State::kClosed);
      // Nothing more is accepted.
      ByteView more = in;
      FUZZ_CHECK(conn.Next(&more, &m) == Step::kFailed);
      return last;
    }
    if (s == Step::kEstablished) {
      FUZZ_CHECK(conn.state() == ClientConnection::State::kEstablished);
    }
  }
}

// FeedPieces cuts `bytes` by the input's u16 lengths (the rest in one piece at the end).
Step FeedPieces(ClientConnection& conn, ByteView bytes, Input& input, size_t hello_len) {
  Step last = Step::kNeedMore;
  ByteView left = bytes;
  while (!left.empty() && conn.state() != ClientConnection::State::kClosed) {
    size_t n = input.empty() ? left.size() : std::min<size_t>(input.U16(), left.size());
    const Step s = Feed(conn, left.first(n), hello_len);
    left.remove_prefix(n);
    if (s != Step::kNeedMore) {
      last = s;
    }
  }
  return last;
}

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat;
  using namespace securechat::fuzz;
  Input input(data, size);
  const uint8_t mode = input.U8() % 3;
  const std::vector<uint8_t> script = ClientScript(input);
  ScriptedRandom rng(script);
  ClientConnection conn(TestPublicKey(), rng);
  FUZZ_CHECK(conn.Start());
  FUZZ_CHECK(conn.state() == ClientConnection::State::kAwaitServerHello);
  const std::vector<uint8_t> hello(conn.output().pending().begin(), conn.output().pending().end());
  FUZZ_CHECK(hello.size() == kClientShareAt + proto::kShareLen + TestKey().size());

  switch (mode) {
    case 0: {
      while (!input.empty() && conn.state() != ClientConnection::State::kClosed) {
        Feed(conn, input.Chunk(), hello.size());
      }
      break;
    }
    case 1: {
      ServerSide server;
      std::vector<uint8_t> reply;
      if (!server.Establish(hello, script, input, &reply)) {
        FUZZ_CHECK(false);  // the client's own share is never refused
      }
      const std::vector<uint8_t> sent = reply;
      for (int n = input.U8() % 4; n > 0; --n) {
        const size_t at = input.U16() % reply.size();
        reply[at] ^= input.U8();
      }
      const Step last = FeedPieces(conn, reply, input, hello.size());
      if (reply == sent) {
        FUZZ_CHECK(last == Step::kEstablished);
      } else {
        FUZZ_CHECK(last != Step::kEstablished);
        FUZZ_CHECK(conn.state() != ClientConnection::State::kEstablished);
      }
      break;
    }
    default: {
      const uint8_t code = input.U8();
      const ByteView reason = input.Chunk();
      std::vector<uint8_t> alert;
      AppendAlert(static_cast<proto::AlertCode>(code), AsText(reason), &alert);
      const Step last = FeedPieces(conn, alert, input, hello.size());
      FUZZ_CHECK(last == Step::kAlert);
      FUZZ_CHECK(conn.alert().code == code);
      FUZZ_CHECK(conn.alert().reason == AsText(reason).substr(0, proto::kMaxAlertReasonLen));
      break;
    }
  }
  return 0;
}
