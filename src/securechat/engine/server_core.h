// ServerCore: the whole chat server without sockets. The network layer feeds it bytes and
// events and writes out what it queues; tests and fuzzers drive it directly. It is built from
// parts, none of which calls up into the one above it:
//   - Dispatcher: one table that routes each client message by kind and connection state;
//   - Moderation (kicks, bans and mutes), over the Room (#lobby: what members do, and the nick
//     rules), the Rooms and the Transfers beside it (the other rooms; files sent from member to
//     member) and the Gate (who may join), beside
//     Admission (who may connect, and when each handshake is served), below it;
//   - ConnectionTable, below them all: every connection, its state, its deadline, its output
//     queue, and how it ends.
// ServerCore ties them to the network layer's events and runs the teardowns and timers.
#ifndef SECURECHAT_ENGINE_SERVER_CORE_H_
#define SECURECHAT_ENGINE_SERVER_CORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "securechat/crypto/keys.h"
#include "securechat/crypto/random.h"
#include "securechat/engine/admission.h"
#include "securechat/engine/connection_table.h"
#include "securechat/engine/dispatch.h"
#include "securechat/engine/gate.h"
#include "securechat/engine/members.h"
#include "securechat/engine/moderation.h"
#include "securechat/engine/room.h"
#include "securechat/engine/rooms.h"
#include "securechat/engine/server_sinks.h"
#include "securechat/engine/transfers.h"

namespace securechat {

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
  Members members{};              // who holds which nick (engine/members.h); empty: no one
  Access access = Access::kOpen;  // kMembers: only keys `members` lists may join
  HistoryLimits history{};        // the room's last lines, kept in memory (PROTOCOL.md 6.11)
  // Names this run's history to clients that come back (PROTOCOL.md 6.11): not 0, and random
  // so that another run's numbers are never taken for this one's. chat-server draws it from
  // the CSPRNG; the core does not, so that tests that script the core's random bytes keep them.
  uint64_t history_epoch = 1;
  BanList bans{};      // bans and mutes in force (engine/bans.h): read from --bans, or empty
  RoomLimits rooms{};  // rooms besides #lobby (PROTOCOL.md 6.13); each keeps `history` too
  TransferLimits transfers{};  // file transfer (PROTOCOL.md 6.14)
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

  // ReloadMembers puts a new members list in force (the server re-read its file): every
  // connection it no longer admits as it was admitted gets a fatal ERROR 10 (Gate::Reload).
  // Returns how many were closed.
  size_t ReloadMembers(Members members);

  // ConsoleLine handles a line typed at the server's console (engine/console.h): a command
  // for the operator, or a line sent to every joined client as CHAT from "server".
  struct ConsoleAnswer {
    bool sent = false;               // the line went to the room
    std::vector<std::string> notes;  // for the operator only: a command's answer, or why not
  };
  ConsoleAnswer ConsoleLine(std::string_view line);
  // kMaxConsoleLineLen is the longest line ConsoleLine takes: a CHAT's text. The network
  // layer drops longer console lines unread.
  static constexpr size_t kMaxConsoleLineLen = proto::kMaxTextLen;
  // bans is the list of bans and mutes in force; the program writes it to its --bans file
  // whenever bans().generation() changes.
  const BanList& bans() const { return moderation_.bans(); }

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
  ByteView Pending(ConnId id) const { return table_.Pending(id); }
  void Consumed(ConnId id, size_t n) { table_.Consumed(id, n); }
  // WantsRead is false while the network layer must not read connection `id` (nor watch it
  // for reading): it streams a file to a receiver that has a window's worth of output queued
  // (flow control, PROTOCOL.md 6.14). The receiver's draining makes it true again.
  bool WantsRead(ConnId id) const;
  // ShouldClose is true once the connection is closed and its output is flushed.
  bool ShouldClose(ConnId id) const { return table_.ShouldClose(id); }
  // Forget drops a connection the network layer has closed.
  void Forget(ConnId id);

  size_t connection_count() const { return table_.size(); }
  size_t joined_count() const { return room_.size(); }
  // room_count: the rooms besides #lobby.
  size_t room_count() const { return rooms_.size(); }
  // transfer_count: live file transfers, offers not yet answered included.
  size_t transfer_count() const { return transfers_.size(); }
  // Nicks: the nicks in the room, ordered without regard to case (the console completes them).
  std::vector<std::string> Nicks() const;
  // Addresses the core keeps state for: those with a connection, and at most
  // kMaxIdleAddresses more (their handshake budgets), forgotten after a minute unused.
  size_t address_count() const { return admission_.address_count(); }
  static constexpr size_t kMaxIdleAddresses = Admission::kMaxIdleAddresses;
  // Ids of every connection, in accept order.
  std::vector<ConnId> ids() const { return table_.ids(); }
  // StateOf is connection `id`'s state (nullopt: no such connection).
  std::optional<ConnState> StateOf(ConnId id) const;

 private:
  uint64_t Mono() const { return sinks_.Mono(); }
  // FinishTeardowns takes every connection marked to close (ConnectionTable::Condemn and
  // CloseAfterFlush) out of the room and frees its address's place. Each public entry point
  // runs it once its handlers have returned, and Receive after each message: a handler never
  // tears down the connection it serves.
  void FinishTeardowns();
  void ReceiveRecords(Connection& c, ByteView bytes);
  void RunPendingHandshakes(uint64_t now);

  ServerOptions options_;
  ServerSinks sinks_;
  ConnectionTable table_;
  Admission admission_;
  Gate gate_;
  Room room_;
  Rooms rooms_;
  Transfers transfers_;
  Moderation moderation_;
  Dispatcher dispatcher_;
  std::vector<ConnId> expired_;  // Tick's scratch list
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_SERVER_CORE_H_
