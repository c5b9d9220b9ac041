// ServerCore: the whole chat server without sockets. It owns every connection's protocol
// engine and the room; the network layer feeds it bytes and events and writes out what it
// queues. Tests and fuzzers drive it directly.
#ifndef SECURECHAT_ENGINE_SERVER_CORE_H_
#define SECURECHAT_ENGINE_SERVER_CORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "securechat/crypto/keys.h"
#include "securechat/crypto/random.h"
#include "securechat/engine/server_connection.h"

namespace securechat {

using ConnId = uint64_t;

struct ServerOptions {
  size_t max_clients = 256;  // connections at once, in the handshake or joined
  std::string motd = "welcome to securechat";
};

// What the core tells the operator: log lines (never message text) and, for a console that is
// a terminal, the room as a member sees it.
struct ServerSinks {
  std::function<void(std::string_view)> log;
  std::function<void(std::string_view)> room;  // may be empty
  std::function<uint64_t()> now_ms;            // server clock, Unix milliseconds
};

class ServerCore {
 public:
  // `key` and `rng` must outlive the core.
  ServerCore(const ServerPrivateKey& key, RandomSource& rng, ServerOptions options,
             ServerSinks sinks);
  ~ServerCore();

  // Accept registers a new connection from `peer` (for logs) and returns its id. When the
  // server is full, the connection gets ALERT 1 queued and is marked to close after flushing.
  ConnId Accept(std::string_view peer);

  // Receive feeds bytes read from connection `id`.
  void Receive(ConnId id, ByteView bytes);

  // PeerClosed: the peer closed or the socket failed. The connection leaves the room at once.
  void PeerClosed(ConnId id, std::string_view why);

  // ConsoleLine sends an operator line to every joined client as CHAT from "server". Returns
  // false (sending nothing) when the line is not valid text.
  bool ConsoleLine(std::string_view line);

  // Shutdown sends ERROR 9 (fatal) to every established connection and closes them all.
  void Shutdown();

  // For the network layer: what to write, what was written, and when to close.
  ByteView Pending(ConnId id) const;
  void Consumed(ConnId id, size_t n);
  // ShouldClose is true once the connection is closed and its output is flushed.
  bool ShouldClose(ConnId id) const;
  // Forget drops a connection the network layer has closed.
  void Forget(ConnId id);

  size_t connection_count() const { return clients_.size(); }
  size_t joined_count() const { return by_nick_.size(); }
  // Ids of every connection, in accept order.
  std::vector<ConnId> ids() const;

 private:
  struct Client;

  Client* Find(ConnId id) const;
  void HandleMessage(Client& c, ByteView plaintext);
  void HandleJoin(Client& c, std::string_view nick);
  void HandleNick(Client& c, std::string_view nick);
  void HandleSay(Client& c, std::string_view text);
  void HandleWhisper(Client& c, std::string_view to, std::string_view text);
  void HandleWho(Client& c);
  void SendError(Client& c, proto::ErrorCode code, std::string_view text);
  void SendFatal(Client& c, proto::ErrorCode code, std::string_view text);
  void Send(Client& c, const msg::ServerMessage& m);
  // Broadcast sends to every joined client except `except` (nullptr for none).
  void Broadcast(const msg::ServerMessage& m, const Client* except);
  void Leave(Client& c, std::string_view why);
  void Log(std::string_view line) const;
  void ShowRoom(std::string_view line) const;

  const ServerPrivateKey& key_;
  RandomSource& rng_;
  ServerOptions options_;
  ServerSinks sinks_;
  ConnId next_id_ = 1;
  std::map<ConnId, std::unique_ptr<Client>> clients_;
  std::map<std::string, ConnId, std::less<>> by_nick_;  // joined clients, sorted for WHO
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_SERVER_CORE_H_
