// Transfers: files sent from one member to another (PROTOCOL.md 6.14). The sender offers a
// file; the server numbers the transfer and tells the receiver; the receiver accepts or
// declines; the sender streams the file in chunks that the server relays at once, each as it
// comes; the receiver says when it has the whole file. Either side may cancel at any time, an
// offer nobody answers expires, and a side that leaves the server ends its transfers.
//
// The server keeps no file data: a chunk is relayed into the receiver's output queue as it is
// read. Flow control is WantsRead: the network layer stops reading a sender while the
// receiver of a transfer it streams has a window's worth of output queued.
//
// Transfers finds receivers in the Room (#lobby: every member) and sends through the
// ConnectionTable; it never calls up.
#ifndef SECURECHAT_ENGINE_TRANSFERS_H_
#define SECURECHAT_ENGINE_TRANSFERS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/engine/connection_table.h"
#include "securechat/engine/room.h"
#include "securechat/engine/server_sinks.h"
#include "securechat/wire/message.h"

namespace securechat {

// The limits of file transfer, each a chat-server flag.
struct TransferLimits {
  uint64_t max_file_bytes = uint64_t{1} << 30;  // one file (--max_file_bytes)
  size_t max_transfers = 64;                    // live transfers on the server, offers included
  size_t max_transfers_per_client = 4;          // live transfers one client is a side of
  size_t max_offers_per_minute = 10;    // offers from one connection (a token bucket); 0: none
  uint64_t offer_timeout_ms = 120'000;  // an offer nobody answers ends as expired
  // A sender is not read while a receiver of its holds this much output; it must be at most
  // half of a client's output queue (chat-server refuses to start otherwise), so that file
  // data alone never overflows a receiver's queue.
  size_t file_window = 256 * 1024;
  // A sender held back this long by one transfer (its receiver does not take the data) ends
  // that transfer as stalled, so that a receiver that stops reading cannot hold its sender,
  // which the server does not read meanwhile, for ever (--file_stall_timeout).
  uint64_t stall_timeout_ms = 30'000;
};

class Transfers {
 public:
  // `table`, `sinks` and `lobby` must outlive the transfers.
  Transfers(ConnectionTable& table, const ServerSinks& sinks, const Room& lobby,
            TransferLimits limits);
  Transfers(const Transfers&) = delete;
  Transfers& operator=(const Transfers&) = delete;
  ~Transfers();

  // What members do. Each answers `c` with what the protocol gives when it cannot: a refused
  // offer with FILE_END refused (id 0, the offer's tag), anything else with ERROR 17.
  //
  // Offer offers a file from `c` to another member; `muted`: a mute holds `c`, which refuses
  // it (a file is not a room line, but a mute is meant to silence a member).
  void Offer(Connection& c, const msg::FileOffer& m, bool muted);
  // Accept: the receiver of offered transfer `id` takes it; the sender may stream.
  void Accept(Connection& c, uint32_t id);
  // Cancel: either side of transfer `id` stops it, with `reason` (empty or as AWAY's).
  void Cancel(Connection& c, uint32_t id, std::string_view reason);
  // Chunk relays the sender's next bytes of a streaming transfer to its receiver.
  void Chunk(Connection& c, const msg::FileChunk& m);
  // Done: the receiver of transfer `id` has every byte, and the transfer ends as done.
  void Done(Connection& c, uint32_t id);

  // How the rate limit treats a well-formed FILE_CHUNK from joined member `c` (PROTOCOL.md
  // 7.1), before it is handled.
  enum class ChunkCharge {
    kFree,     // a transfer `c` streams: flow control paces it, it costs no token
    kDropped,  // in flight when a transfer `c` sent ended: dropped unanswered, no token
    kCharged,  // anything else: a token, and then Chunk answers it
  };
  // ChargeChunk says which. A late chunk is dropped free only if it goes on in order from where
  // the relayed data (or the last late chunk) stopped, within the offered size; the sender's
  // socket and ours can hold megabytes of them, and an honest sender must not be disconnected
  // for its own cancel's or its receiver's.
  ChunkCharge ChargeChunk(Connection& c, const msg::FileChunk& m);

  // WantsRead is false while `c` streams a transfer whose receiver has file_window bytes or
  // more of output queued. O(transfers `c` is a side of).
  bool WantsRead(const Connection& c) const;

  // Leave ends every transfer `c` is a side of, telling the other side (FILE_END gone): `c`
  // is leaving the server.
  void Leave(Connection& c);
  // Expire ends the offers nobody answered in time (FILE_END expired to both sides) and the
  // transfers that held their sender back for stall_timeout_ms (FILE_END stalled). A sender
  // held back is not read, so the time does not count against its idle deadline: each call
  // restarts the deadline of every sender held back (ConnectionTable::Touch).
  void Expire(uint64_t now);
  // MsUntilExpiry is how long until Expire has work: the next offer to expire or transfer to
  // stall (nullopt: none).
  std::optional<uint64_t> MsUntilExpiry(uint64_t now) const;
  // Clear forgets every transfer without telling anyone (the server is shutting down).
  void Clear();

  size_t size() const { return live_.size(); }
  const TransferLimits& limits() const { return limits_; }

  // The most ended transfers a connection keeps for the chunks it still had in flight.
  static constexpr size_t kMaxEndedPerClient = 8;

 private:
  struct Transfer {
    uint32_t id = 0;
    uint32_t tag = 0;  // the sender's number for its offer
    Connection* sender = nullptr;
    Connection* receiver = nullptr;
    uint64_t size = 0;
    uint64_t relayed = 0;  // bytes relayed to the receiver so far
    bool accepted = false;
    uint64_t expires_ms = 0;     // while not accepted
    uint64_t held_since_ms = 0;  // since when it holds its sender back; 0: it does not
  };
  // Holds is true while `t` holds its sender back: streaming, with its receiver's queue at
  // the window.
  bool Holds(const Transfer& t) const;

  // Refuse answers offer `m` of `c` with FILE_END refused and `reason`.
  void Refuse(Connection& c, const msg::FileOffer& m, std::string_view reason);
  // Find returns live transfer `id`, or nullptr.
  Transfer* Find(uint32_t id);
  // NextId is a new transfer's id: not 0, and not a live transfer's.
  uint32_t NextId();
  // End ends `t`: FILE_END `why` with `reason` to each side but `gone`, and forgets it.
  void End(Transfer& t, proto::FileEnd why, std::string_view reason,
           const Connection* gone = nullptr);
  // Busy is true if `c` is a side of max_transfers_per_client transfers already.
  bool Busy(const Connection& c) const;
  // Name is how logs show one side: "#12 alice".
  static std::string Name(const Connection& c);

  ConnectionTable& table_;
  const ServerSinks& sinks_;
  const Room& lobby_;
  const TransferLimits limits_;
  uint32_t last_id_ = 0;
  std::map<uint32_t, Transfer> live_;  // at most max_transfers
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_TRANSFERS_H_
