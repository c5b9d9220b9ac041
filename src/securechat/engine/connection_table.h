// ConnectionTable: every connection the server holds, its explicit state, its deadline, its
// output queue, and how it ends. It is the bottom of the server engine: Admission, the Room and
// ServerCore call it, and it never calls any of them. What it decides (a connection to tear down, a
// deadline that passed) it hands back for the caller to act on.
#ifndef SECURECHAT_ENGINE_CONNECTION_TABLE_H_
#define SECURECHAT_ENGINE_CONNECTION_TABLE_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/crypto/ed25519.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/random.h"
#include "securechat/engine/server_connection.h"
#include "securechat/engine/server_sinks.h"
#include "securechat/engine/token_bucket.h"
#include "securechat/wire/message.h"

namespace securechat {

using ConnId = uint64_t;

// ConnTag is how logs name a connection: "#12".
std::string ConnTag(ConnId id);

// ConnState is where a connection is in its life. Every client message is judged against it
// (the Dispatcher's table); a state a later feature needs is a new value here and a new column
// there.
enum class ConnState : uint8_t {
  kHandshaking,    // from accept until the handshake completes
  kEstablished,    // records flow; the client has not authenticated or joined
  kAuthenticated,  // AUTH proved a user key (Connection::identity); not joined yet
  kJoined,         // a member of the room, under a nick
  kClosing,        // closed: nothing more is read or handled; its output may still be flushed
};
inline constexpr size_t kConnStateCount = 5;
std::string_view ConnStateName(ConnState s);

// StateSet is a set of states, for "allowed in" columns.
class StateSet {
 public:
  constexpr StateSet() = default;
  constexpr StateSet(std::initializer_list<ConnState> states) {
    for (ConnState s : states) {
      bits_ |= Bit(s);
    }
  }
  constexpr bool Has(ConnState s) const { return (bits_ & Bit(s)) != 0; }

 private:
  static constexpr uint8_t Bit(ConnState s) {
    return static_cast<uint8_t>(1u << static_cast<uint8_t>(s));
  }
  uint8_t bits_ = 0;
};

struct ConnectionLimits {
  uint64_t handshake_timeout_ms = 10'000;  // from accept until a successful JOIN
  uint64_t idle_timeout_ms = 300'000;      // a joined client that sends nothing is closed
  uint64_t linger_ms = 2'000;        // how long a closed connection may take to flush its output
  double rate = 5;                   // client messages per second (token bucket), 0: no limit
  double burst = 10;                 // bucket size
  size_t max_queue_bytes = 1 << 20;  // unsent output; beyond it the connection is dropped
};

// Identity is what AUTH proved of a connection (PROTOCOL.md 6.9).
struct Identity {
  Ed25519Public key{};
  std::string member;       // the nick the members file lists for the key; empty: a guest
  std::string fingerprint;  // Ed25519Fingerprint(key), "SHA256:..."
};

// Connection is one row of the table. The table owns it; its address never changes while it
// is in the table, so the Room may point at it.
struct Connection {
  Connection(ConnId id_in, std::string_view address_in, std::string_view peer_in,
             const ServerPrivateKey& key, RandomSource& rng, const ConnectionLimits& limits,
             uint64_t now)
      : id(id_in),
        address(address_in),
        peer(peer_in),
        conn(key, rng),
        rate(limits.rate, limits.burst),
        deadline_ms(now + limits.handshake_timeout_ms) {}

  const ConnId id;
  const std::string address;  // the unit of per-address limits
  const std::string peer;     // how logs name it
  ServerConnection conn;
  std::string nick;  // the Room's: set while joined
  // The Room's, while joined (PROTOCOL.md 6.10): when it joined and when it last said anything
  // (monotonic), its away reason (empty: here), and the reason told to the room when it
  // leaves (empty: none): its QUIT's, or who removed it and why.
  uint64_t joined_mono_ms = 0;
  uint64_t last_said_mono_ms = 0;
  std::string away;
  std::string quit_reason;
  // The Room's: the client's HISTORY (PROTOCOL.md 6.11), what it has seen of the room's
  // lines; set, it gets room lines as ROOM_LINE and, on JOIN, the history it has not seen.
  struct HistoryAsk {
    uint64_t epoch = 0;
    uint64_t after = 0;
  };
  std::optional<HistoryAsk> history;
  // The Rooms': the rooms besides #lobby it is in, by their names (PROTOCOL.md 6.13); at most
  // RoomLimits::max_rooms_per_client.
  std::vector<std::string> rooms;
  // The Transfers' (PROTOCOL.md 6.14): the transfers it is a side of, by id (at most
  // TransferLimits::max_transfers_per_client); its offers' bucket, made at its first offer;
  // and the streaming transfers it sent that ended lately (at most
  // Transfers::kMaxEndedPerClient), each with where its late chunks go on.
  std::vector<uint32_t> transfers;
  std::optional<TokenBucket> offers;
  // A transfer it sent that ended after it was accepted: the chunks it still had on the way
  // are dropped free while they go on where the relayed ones stopped, within the file's size.
  struct EndedSend {
    uint32_t id = 0;
    uint64_t next = 0;  // the offset the next late chunk starts at
    uint64_t size = 0;  // the offered size: no honest chunk goes past it
  };
  std::vector<EndedSend> ended_sends;
  std::optional<Identity> identity;  // the Gate's: set by a successful AUTH
  // Moderation's, while joined: until when (Unix milliseconds) a mute holds it; 0: none,
  // UINT64_MAX: for good. Kept here so that a room line costs no search of the ban list.
  uint64_t muted_until_ms = 0;
  TokenBucket rate;
  int strikes = 0;           // messages refused in a row by the rate limit
  bool holds_place = false;  // counted in its address's connections (Admission's)

  ConnState state() const { return state_; }
  bool condemned() const { return condemned_; }

 private:
  friend class ConnectionTable;
  ConnState state_ = ConnState::kHandshaking;
  uint64_t deadline_ms;  // handshake, then idle, then linger deadline, by state
  bool condemned_ = false;
  std::string why_;  // why it was condemned: the first reason stands
};

class ConnectionTable {
 public:
  // `key`, `rng` and `sinks` must outlive the table.
  ConnectionTable(const ServerPrivateKey& key, RandomSource& rng, ConnectionLimits limits,
                  const ServerSinks& sinks);
  ~ConnectionTable();
  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;

  // Add registers a new connection in state kHandshaking, its handshake deadline running.
  Connection& Add(std::string_view address, std::string_view peer, uint64_t now);
  // Find returns the connection, or nullptr if there is none with that id.
  Connection* Find(ConnId id) const;

  // The forward transitions. Each checks the state it leaves; a connection that is closing
  // stays closing.
  //
  // Established: the handshake completed.
  void Established(Connection& c);
  // Authenticated: AUTH proved the client's key (the handshake deadline runs on until JOIN).
  void Authenticated(Connection& c);
  // Joined: the client joined the room; its idle deadline starts.
  void Joined(Connection& c, uint64_t now);
  // Touch restarts a joined connection's idle deadline (it sent something).
  void Touch(Connection& c, uint64_t now);

  // Sending. Nothing is sent to a closing connection. A connection whose queue grows past
  // max_queue_bytes (it is not reading), or that cannot seal, is condemned.
  //
  // Send queues `m` for `c`.
  void Send(Connection& c, const msg::ServerMessage& m);
  // Encode encodes `m` once for SendEncoded to many connections; the view is valid until the
  // next Encode or Send.
  ByteView Encode(const msg::ServerMessage& m);
  // SendEncoded queues a message Encode made for `c`: only sealed, with c's keys.
  void SendEncoded(Connection& c, ByteView encoded);
  // HistoryBudget is how many bytes of history `c` may be sent now: what keeps its queue within
  // half of max_queue_bytes (the other half is for what happens meanwhile). chat-server checks
  // that one full history fits that half, so a client that joins one room gets it whole.
  size_t HistoryBudget(const Connection& c) const {
    const size_t half = limits_.max_queue_bytes / 2;
    const size_t queued = c.conn.output().size();
    return queued < half ? half - queued : 0;
  }
  // Error queues a non-fatal ERROR; Fatal queues a fatal one, logs it, and closes `c` after
  // flushing. FatalLogged is Fatal for a caller that has logged the refusal itself, under a
  // kind of line the log rate limits (the Gate's "auth" lines): a flood of refusals then
  // cannot flood the log.
  void Error(Connection& c, proto::ErrorCode code, std::string_view text);
  void Fatal(Connection& c, proto::ErrorCode code, std::string_view text);
  void FatalLogged(Connection& c, proto::ErrorCode code, std::string_view text);

  // Ending a connection happens after the event, never inside it: a handler may overflow or
  // fail the very connection it serves, or one that an enclosing loop visits. So these only
  // mark it: it moves to kClosing, stays in the table (and in the Room) and gets nothing
  // more, and the caller takes it from NextCondemned once its handlers have returned.
  //
  // Condemn closes `c` at once, discarding its unsent output.
  void Condemn(Connection& c, std::string_view why);
  // CloseAfterFlush closes `c` once what is queued for it is written, within the linger time.
  void CloseAfterFlush(Connection& c, std::string_view why, uint64_t now);
  // NextCondemned returns a connection marked since the last call, with why it was marked,
  // or nullopt when none is left. Each connection is returned once in its life.
  struct Condemned {
    ConnId id;
    std::string why;
  };
  std::optional<Condemned> NextCondemned();

  // Expired collects into *out the connections whose deadline has passed at `now`, in id
  // order, each reported once per deadline. A closing one has not flushed within the linger
  // time: its output is dropped here (so it closes) and it is reported only if there was
  // output to drop. For the others (handshake or idle timeout: see their state) the caller
  // decides. Cheap when nothing expired.
  void Expired(uint64_t now, std::vector<ConnId>* out);
  // MsUntilDeadline is how long until the next deadline (nullopt: none is set).
  std::optional<uint64_t> MsUntilDeadline(uint64_t now) const;

  // For the network layer: what to write, what was written, and when to close.
  ByteView Pending(ConnId id) const;
  void Consumed(ConnId id, size_t n);
  // ShouldClose is true once the connection is closing and its output is flushed (or it is
  // not in the table).
  bool ShouldClose(ConnId id) const;
  // Erase drops a connection from the table. It must have been taken from NextCondemned.
  void Erase(ConnId id);

  size_t size() const { return rows_.size(); }
  // ForEach calls f(Connection&) for every connection in id order; f must not add or erase.
  template <typename F>
  void ForEach(F f) {
    for (auto& [id, c] : rows_) {
      f(*c);
    }
  }
  std::vector<ConnId> ids() const;
  const ConnectionLimits& limits() const { return limits_; }

 private:
  void SetDeadline(Connection& c, uint64_t deadline_ms);
  void Mark(Connection& c, std::string_view why);

  const ServerPrivateKey& key_;
  RandomSource& rng_;
  const ConnectionLimits limits_;
  const ServerSinks& sinks_;
  std::vector<uint8_t> encoded_;  // the message being sent, encoded once for everyone
  ConnId next_id_ = 1;
  std::map<ConnId, std::unique_ptr<Connection>> rows_;
  // No deadline passes before this (UINT64_MAX: none is set).
  uint64_t next_deadline_ms_ = std::numeric_limits<uint64_t>::max();
  std::vector<ConnId> condemned_;  // marked, not yet taken by NextCondemned
  size_t condemned_taken_ = 0;
};

// SendNickPages sends `c` the nicks as pages of at most proto::kUsersPerPage, each a copy of
// `page` (USERS or ROOM_USERS) with its `nicks` and `more` set: `more` is 1 on every page but
// the last. Returns false if `c` closed on the way (its queue overflowed: the rest would be
// thrown away).
template <typename Page>
bool SendNickPages(ConnectionTable& table, Connection& c, Page page,
                   const std::vector<std::string_view>& nicks) {
  page.nicks.reserve(std::min(nicks.size(), proto::kUsersPerPage));
  for (size_t i = 0; i < nicks.size(); ++i) {
    page.nicks.push_back(nicks[i]);
    if (page.nicks.size() == proto::kUsersPerPage && i + 1 < nicks.size()) {
      page.more = 1;
      table.Send(c, page);
      if (c.state() == ConnState::kClosing) {
        return false;
      }
      page.nicks.clear();
    }
  }
  page.more = 0;
  table.Send(c, page);
  return c.state() != ConnState::kClosing;
}

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_CONNECTION_TABLE_H_
