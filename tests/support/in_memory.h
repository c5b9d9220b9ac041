// An in-memory network: a ServerCore and any number of clients (ClientConnection plus
// ClientSession, exactly as the program uses them), wired together without sockets.
#ifndef SECURECHAT_TESTS_SUPPORT_IN_MEMORY_H_
#define SECURECHAT_TESTS_SUPPORT_IN_MEMORY_H_

#include <memory>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/client/session.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/random.h"
#include "securechat/engine/server_core.h"
#include "support/test_util.h"

namespace securechat::testing {

// kTestAddress is where a test's connections come from unless it says otherwise: an address
// of TEST-NET-1 (RFC 5737), in the form the server names peers, so that bans and mutes of
// guests by address hold it as they would a real peer.
inline constexpr std::string_view kTestAddress = "192.0.2.1";

inline const ServerPrivateKey& TestKey2048() {
  static const auto* key = new ServerPrivateKey(
      ServerPrivateKey::FromPem(
          ReadFileOrDie(std::string(SECURECHAT_TEST_KEY_DIR) + "/test_rsa2048_private.pem"),
          nullptr)
          .value());
  return *key;
}

class InMemoryNet {
 public:
  struct Member {
    Member(const ServerPublicKey& k, RandomSource& rng, std::string nick,
           ClientSession::Clock clock)
        : key(ServerPublicKey::FromPem(k.ToPem()).value()),
          conn(key, rng),
          session(conn, std::move(nick), ClientSession::Display([this](const DisplayLine& l) {
                    events.push_back(l);
                    lines.push_back(PlainLine(l));
                  }),
                  std::move(clock)) {}
    ServerPublicKey key;
    ClientConnection conn;
    ClientSession session;
    std::vector<std::string> lines;   // what the plain client prints
    std::vector<DisplayLine> events;  // the same lines, structured
    ConnId id = 0;
    bool server_gone = false;
    bool reading = true;  // false: the server's output piles up, as for a client that hangs

    bool Saw(std::string_view line) const {
      for (const auto& l : lines) {
        if (l == line) return true;
      }
      return false;
    }
    bool SawContaining(std::string_view part) const {
      for (const auto& l : lines) {
        if (l.find(part) != std::string::npos) return true;
      }
      return false;
    }
  };

  explicit InMemoryNet(ServerOptions options = {}, const ServerPrivateKey& key = TestKey2048())
      : key_(key),
        core_(key_, rng_, std::move(options),
              ServerSinks{[this](std::string_view l) { log.emplace_back(l); },
                          [this](std::string_view nick, std::string_view text) {
                            room.push_back(nick.empty() ? Cat("-!- ", text)
                                                        : Cat("<", nick, "> ", text));
                          },
                          [this] { return now_ms; }, [this] { return mono_ms; }}) {}

  // Connect opens a connection (from kTestAddress, or `address`), runs the handshake and
  // JOIN, and returns the member.
  Member& Connect(const std::string& nick) { return Connect(nick, key_.PublicKey()); }
  Member& ConnectFrom(const std::string& address, const std::string& nick) {
    return Connect(nick, key_.PublicKey(), address);
  }
  // ConnectWithKey is Connect for a client that authenticates with `user_key` (which must
  // outlive the net) before it joins.
  Member& ConnectWithKey(const std::string& nick, UserKey& user_key,
                         const std::string& address = std::string(kTestAddress)) {
    return Connect(nick, key_.PublicKey(), address, &user_key);
  }
  Member& Connect(const std::string& nick, const ServerPublicKey& pinned,
                  const std::string& address = std::string(kTestAddress),
                  UserKey* user_key = nullptr) {
    ClientSession::Clock clock;
    if (paced_clients) {
      clock = [this] { return mono_ms; };
    }
    members_.push_back(std::make_unique<Member>(pinned, rng_, nick, std::move(clock)));
    Member& m = *members_.back();
    m.session.set_user_key(user_key);
    m.session.set_alternate_nicks(alternate_nicks);
    m.id = core_.Accept(address);
    if (!m.conn.Start()) {
      throw std::runtime_error("client handshake could not start");
    }
    Pump();
    return m;
  }

  // Pump moves bytes both ways until nothing moves; closes what the server closes.
  void Pump() {
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      for (auto& mp : members_) {
        Member& m = *mp;
        if (m.server_gone) continue;
        ByteView out = m.conn.output().pending();
        if (!out.empty()) {
          std::vector<uint8_t> copy(out.begin(), out.end());
          m.conn.output().Consume(copy.size());
          core_.Receive(m.id, copy);
          moved = true;
        }
        ByteView in = m.reading ? core_.Pending(m.id) : ByteView();
        if (!in.empty()) {
          std::vector<uint8_t> copy(in.begin(), in.end());
          core_.Consumed(m.id, copy.size());
          if (!m.session.finished()) m.session.Received(copy);
          moved = true;
        }
        if (core_.ShouldClose(m.id)) {
          core_.Forget(m.id);
          m.server_gone = true;
          if (!m.session.finished()) m.session.ServerClosed();
          moved = true;
        }
      }
      if (!moved) return;
    }
    throw std::runtime_error("in-memory network did not settle");
  }

  // Say types a line at member m and pumps.
  void Type(Member& m, std::string_view line) {
    m.session.InputLine(line);
    Pump();
  }

  // Advance moves the monotonic clock on, runs the server's timers and pumps.
  void Advance(uint64_t ms) {
    mono_ms += ms;
    core_.Tick();
    for (auto& m : members_) {
      m->session.Tick();
    }
    Pump();
  }

  ServerCore& core() { return core_; }
  ScriptedRandom& rng() { return rng_; }
  std::vector<std::string> log;
  std::vector<std::string> room;
  uint64_t now_ms = 1700000000000;  // wall clock: CHAT time
  uint64_t mono_ms = 1000;          // monotonic clock: limits and timers
  bool paced_clients = false;       // clients made from now on pace lines and send keepalives
  bool alternate_nicks = false;     // clients made from now on try NICK2 ... on a refused nick

 private:
  const ServerPrivateKey& key_;
  ScriptedRandom rng_;
  ServerCore core_;
  std::vector<std::unique_ptr<Member>> members_;
};

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_SUPPORT_IN_MEMORY_H_
