// Admission: who may connect and when their handshake is served. It keeps per-address state
// (connections held, a handshake budget, whose turn it is) and the queue of complete hellos
// waiting for the server-wide handshake budget. It knows connections only by id and address,
// and never calls the connection table or the room.
#ifndef SECURECHAT_ENGINE_ADMISSION_H_
#define SECURECHAT_ENGINE_ADMISSION_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "securechat/engine/connection_table.h"
#include "securechat/engine/token_bucket.h"

namespace securechat {

struct AdmissionLimits {
  size_t max_clients = 256;          // connections at once, in the handshake or joined: ALERT 1
  size_t max_per_address = 16;       // connections at once from one address: ALERT 3
  double handshakes_per_second = 0;  // RSA private operations per second, 0: none
  double handshakes_per_second_per_address = 0;  // the same for one address, 0: no limit
};

class Admission {
 public:
  explicit Admission(AdmissionLimits limits);
  ~Admission();
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  enum class Verdict { kAdmitted, kServerFull, kTooManyFromAddress };
  // Arrive judges a new connection from `address` while `connections` are held in all
  // (itself not included). kAdmitted counts it against its address until Depart.
  Verdict Arrive(std::string_view address, size_t connections, uint64_t now);
  // Depart frees the place an admitted connection held, and withdraws its hello if one waits.
  void Depart(ConnId id, std::string_view address, uint64_t now);

  // HelloReady queues connection `id`'s complete hello for the handshake budget.
  void HelloReady(ConnId id, std::string_view address);
  // NextHandshake returns the hello to serve now, or nullopt when none may be served yet (no
  // hello waits, or every waiting address is over its budget, or everyone is). Addresses take
  // turns: the oldest hello from the address whose last handshake is longest ago (or that
  // never had one), among addresses within their own budget. A newcomer waits for one
  // handshake per busy address, not behind a flood's whole backlog.
  std::optional<ConnId> NextHandshake(uint64_t now);
  // MsUntilHandshake is how long until NextHandshake may have work (nullopt: nothing waits).
  std::optional<uint64_t> MsUntilHandshake(uint64_t now);
  // Clear drops every waiting hello (the server is shutting down).
  void ClearHellos() { hellos_.clear(); }

  // ForgetUnused forgets addresses that hold no connection and were unused for a minute
  // (their buckets are full again). It looks at most once a second.
  void ForgetUnused(uint64_t now);

  // Addresses kept: those with a connection, and at most kMaxIdleAddresses more (for their
  // handshake budgets).
  size_t address_count() const { return addresses_.size(); }
  static constexpr size_t kMaxIdleAddresses = 4096;

 private:
  struct Address;
  struct Hello {
    ConnId id;
    Address* address;
  };
  Address& Get(std::string_view address, uint64_t now);
  void ForgetIdleAddresses();

  const AdmissionLimits limits_;
  std::map<std::string, std::unique_ptr<Address>, std::less<>> addresses_;
  std::deque<Hello> hellos_;      // complete hellos waiting for the budget, oldest first
  uint64_t handshake_turns_ = 0;  // handshakes done so far: the clock of turns
  TokenBucket handshake_budget_;
  uint64_t next_forget_ms_ = 0;
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_ADMISSION_H_
