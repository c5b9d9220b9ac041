// ServerCore: the whole chat server without sockets. It owns every connection's protocol
// engine and the room; the network layer feeds it bytes and events and writes out what it
// queues. Tests and fuzzers drive it directly.
#ifndef SECURECHAT_ENGINE_SERVER_CORE_H_
#define SECURECHAT_ENGINE_SERVER_CORE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "securechat/crypto/keys.h"
#include "securechat/crypto/random.h"
#include "securechat/engine/server_connection.h"
#include "securechat/engine/token_bucket.h"
#include "securechat/wire/nick.h"

namespace securechat {

using ConnId = uint64_t;

struct ServerOptions {
  size_t max_clients = 256;     // connections at once, in the handshake or joined: ALERT 1
  size_t max_per_address = 16;  // connections at once from one address: ALERT 3
  uint64_t handshake_timeout_ms = 10'000;  // from accept until a successful JOIN
  uint64_t idle_timeout_ms = 300'000;      // a joined client that sends nothing is closed
  size_t max_queue_bytes = 1 << 20;  // unsent output per client; beyond it the client is dropped
  double rate = 5;                   // client messages per second (token bucket), 0: no limit
  double burst = 10;                 // bucket size; more consecutive refusals disconnect
  double handshakes_per_second = 0;  // RSA private operations per second, 0: no limit
  double handshakes_per_second_per_address = 0;  // the same for one address, 0: no limit
  uint64_t linger_ms = 2'000;  // how long a closed connection may take to flush its output
  std::string motd = "welcome to securechat";
};

// What the core tells the operator: log lines (never message text) and, for a console that is
// a terminal, the room as a member sees it.
struct ServerSinks {
  std::function<void(std::string_view)> log;
  // room shows one room event: a CHAT said by `nick`, or a notice (joins, leaves, renames)
  // when `nick` is empty. `text` is escaped for display; the sink lays it out. May be empty.
  std::function<void(std::string_view nick, std::string_view text)> room;
  std::function<uint64_t()> now_ms;   // server clock, Unix milliseconds (CHAT time)
  std::function<uint64_t()> mono_ms;  // monotonic milliseconds, for limits and timers
};

class ServerCore {
 public:
  // `key` and `rng` must outlive the core.
  ServerCore(const ServerPrivateKey& key, RandomSource& rng, ServerOptions options,
             ServerSinks sinks);
  ~ServerCore();

  // Accept registers a new connection from `address` (its IP: the unit of the per-address
  // limits) and returns its id; `peer` names it in logs (defaults to the address). A server
  // at max_clients queues ALERT 1, an address at max_per_address ALERT 3, and the connection
  // is marked to close after flushing: nothing of it is read.
  ConnId Accept(std::string_view address, std::string_view peer = {});

  // Receive feeds bytes read from connection `id`.
  void Receive(ConnId id, ByteView bytes);

  // PeerClosed: the peer closed or the socket failed. The connection leaves the room at once.
  void PeerClosed(ConnId id, std::string_view why);

  // ConsoleLine sends an operator line to every joined client as CHAT from "server". Returns
  // false (sending nothing) when the line is not valid text.
  bool ConsoleLine(std::string_view line);
  // kMaxConsoleLineLen is the longest line ConsoleLine takes: a CHAT's text. The network
  // layer drops longer console lines unread.
  static constexpr size_t kMaxConsoleLineLen = proto::kMaxTextLen;

  // RefusalBytes is what to send a connection the network layer cannot serve at all (its
  // descriptor is past what select() can watch), before it reaches Accept: ALERT 1, server
  // full, as Accept queues at max_clients. The view points into static storage.
  static ByteView RefusalBytes();

  // Shutdown sends ERROR 9 (fatal) to every established connection and closes them all.
  void Shutdown();

  // Tick runs the timers: handshakes waiting for the budget, handshake and idle deadlines,
  // connections that take too long to flush. Call it after each batch of events.
  void Tick();
  // MsUntilTick is how long the network layer may sleep before Tick has work (nullopt: no
  // timer is pending).
  std::optional<uint64_t> MsUntilTick();

  // For the network layer: what to write, what was written, and when to close.
  ByteView Pending(ConnId id) const;
  void Consumed(ConnId id, size_t n);
  // ShouldClose is true once the connection is closed and its output is flushed.
  bool ShouldClose(ConnId id) const;
  // Forget drops a connection the network layer has closed.
  void Forget(ConnId id);

  size_t connection_count() const { return clients_.size(); }
  size_t joined_count() const { return by_nick_.size(); }
  // Addresses the core keeps state for: those with a connection, and at most
  // kMaxIdleAddresses more (their handshake budgets), forgotten after a minute unused.
  size_t address_count() const { return addresses_.size(); }
  static constexpr size_t kMaxIdleAddresses = 4096;
  // Ids of every connection, in accept order.
  std::vector<ConnId> ids() const;

 private:
  struct Client;

  struct Address;

  Client* Find(ConnId id) const;
  uint64_t Mono() const { return sinks_.mono_ms(); }
  // Teardown happens after the event, never inside it: a handler may overflow or fail the
  // very connection it serves, or one that an enclosing loop is visiting. So handlers only
  // mark (Condemn, CloseAfterFlush); the connection stays in every table, receives nothing
  // more, and FinishTeardowns, run by each public entry point once its handlers have
  // returned (and after each message), takes it out of the room.
  //
  // Condemn closes a connection at once, discarding its unsent output.
  void Condemn(Client& c, std::string_view why);
  // CloseAfterFlush closes a connection after what is queued for it is written (within the
  // linger time).
  void CloseAfterFlush(Client& c, std::string_view why);
  void MarkForTeardown(Client& c, std::string_view why);
  void FinishTeardowns();
  void ReceiveRecords(Client& c, ByteView bytes);
  void RunPendingHandshakes(uint64_t now);
  void ReleaseAddress(Client& c);
  void ForgetIdleAddresses();
  void HandleMessage(Client& c, ByteView plaintext);
  // NickAvailable is true if `c` may take `nick`; otherwise it answers with ERROR 4 (bad
  // syntax, reserved, or looks like another member's nick) or 3 (the same nick in another
  // case). On success *skeleton is NickSkeleton(nick).
  bool NickAvailable(Client& c, std::string_view nick, std::string* skeleton);
  void TakeNick(Client& c, std::string_view nick, std::string skeleton);
  void DropNick(Client& c);
  void HandleJoin(Client& c, std::string_view nick);
  void HandleNick(Client& c, std::string_view nick);
  void HandleSay(Client& c, std::string_view text);
  void HandleWhisper(Client& c, std::string_view to, std::string_view text);
  void HandleWho(Client& c);
  void SendError(Client& c, proto::ErrorCode code, std::string_view text);
  void SendFatal(Client& c, proto::ErrorCode code, std::string_view text);
  // Send queues `m` for `c` unless it is condemned; an overflow condemns it.
  void Send(Client& c, const msg::ServerMessage& m);
  // SendEncoded queues encoded_ for `c`; an overflow or a failed seal condemns it.
  void SendEncoded(Client& c);
  // Broadcast sends to every joined client except `except` (nullptr for none).
  void Broadcast(const msg::ServerMessage& m, const Client* except);
  void Leave(Client& c, std::string_view why);
  void Log(std::string_view line) const;
  void ShowRoom(std::string_view nick, std::string_view text) const;

  const ServerPrivateKey& key_;
  RandomSource& rng_;
  ServerOptions options_;
  ServerSinks sinks_;
  ConnId next_id_ = 1;
  std::map<ConnId, std::unique_ptr<Client>> clients_;
  // Joined clients by nick in any case (sorted so for WHO), and by NickSkeleton (look-alikes).
  std::map<std::string, Client*, NickLess> by_nick_;
  std::map<std::string, Client*, std::less<>> by_skeleton_;
  std::map<std::string, std::unique_ptr<Address>, std::less<>> addresses_;
  std::deque<ConnId> pending_handshakes_;  // complete hellos waiting for the budget
  uint64_t handshake_turns_ = 0;           // handshakes done so far: the clock of turns
  TokenBucket handshake_budget_;
  uint64_t next_deadline_ms_ = 0;  // no deadline expires before this (0: scan on next Tick)
  std::vector<ConnId> condemned_;  // marked during this event, torn down at its end
  std::vector<uint8_t> encoded_;   // the message being sent, encoded once for everyone
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_SERVER_CORE_H_
