#include "securechat/engine/admission.h"

#include <algorithm>
#include <vector>

namespace securechat {

namespace {
// An address unused this long is forgotten (ForgetUnused).
constexpr uint64_t kForgetAfterMs = 60'000;
constexpr uint64_t kForgetPassMs = 1'000;
// A hello held back by its address's budget is looked at again at least this often.
constexpr uint64_t kHelloRecheckMs = 50;
}  // namespace

struct Admission::Address {
  Address(double rate, double burst) : handshakes(rate, burst) {}
  size_t connections = 0;
  size_t hellos = 0;  // hellos of it waiting in hellos_: it is not forgotten while any wait
  TokenBucket handshakes;
  uint64_t last_used_ms = 0;
  uint64_t last_turn = 0;  // when it last had a handshake done (0: never)
};

Admission::Admission(AdmissionLimits limits)
    : limits_(limits),
      // A second's worth of budget may be spent at once.
      handshake_budget_(limits_.handshakes_per_second,
                        std::max(1.0, limits_.handshakes_per_second)) {}

Admission::~Admission() = default;

Admission::Address& Admission::Get(std::string_view address, uint64_t now) {
  auto it = addresses_.find(address);
  if (it == addresses_.end()) {
    if (addresses_.size() >= limits_.max_clients + kMaxIdleAddresses) {
      ForgetIdleAddresses();
    }
    const double per_address = limits_.handshakes_per_second_per_address;
    it = addresses_
             .emplace(std::string(address),
                      std::make_unique<Address>(per_address, std::max(1.0, per_address)))
             .first;
  }
  it->second->last_used_ms = now;
  return *it->second;
}

Admission::Verdict Admission::Arrive(std::string_view address, size_t connections, uint64_t now) {
  Address& addr = Get(address, now);
  if (connections >= limits_.max_clients) {
    return Verdict::kServerFull;
  }
  if (addr.connections >= limits_.max_per_address) {
    return Verdict::kTooManyFromAddress;
  }
  ++addr.connections;
  return Verdict::kAdmitted;
}

void Admission::Depart(ConnId id, std::string_view address, uint64_t now) {
  auto it = addresses_.find(address);
  if (it == addresses_.end()) {
    return;
  }
  Address& addr = *it->second;
  if (addr.hellos > 0) {
    for (auto h = hellos_.begin(); h != hellos_.end(); ++h) {
      if (h->id == id) {
        hellos_.erase(h);
        --addr.hellos;
        break;
      }
    }
  }
  if (addr.connections > 0) {
    --addr.connections;
  }
  addr.last_used_ms = now;
}

void Admission::HelloReady(ConnId id, std::string_view address) {
  auto it = addresses_.find(address);
  if (it == addresses_.end()) {
    return;  // not admitted: cannot happen, as only admitted connections are read
  }
  ++it->second->hellos;
  hellos_.push_back(Hello{id, it->second.get()});
}

std::optional<ConnId> Admission::NextHandshake(uint64_t now) {
  auto next = hellos_.end();
  for (auto it = hellos_.begin(); it != hellos_.end(); ++it) {
    Address* addr = it->address;
    if ((next == hellos_.end() || addr->last_turn < next->address->last_turn) &&
        addr->handshakes.MsUntilToken(now) == 0) {
      next = it;
    }
  }
  if (next == hellos_.end() || !handshake_budget_.Take(now)) {
    return std::nullopt;
  }
  Address* addr = next->address;
  const ConnId id = next->id;
  hellos_.erase(next);
  --addr->hellos;
  (void)addr->handshakes.Take(now);
  addr->last_turn = ++handshake_turns_;
  return id;
}

std::optional<uint64_t> Admission::MsUntilHandshake(uint64_t now) {
  if (hellos_.empty()) {
    return std::nullopt;
  }
  return std::min<uint64_t>(std::max<uint64_t>(1, handshake_budget_.MsUntilToken(now)),
                            kHelloRecheckMs);
}

void Admission::ForgetUnused(uint64_t now) {
  if (now < next_forget_ms_) {
    return;  // a pass over every address at most once a second, however often it is asked
  }
  next_forget_ms_ = now + kForgetPassMs;
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    const Address& a = *it->second;
    if (a.connections == 0 && a.hellos == 0 && now - a.last_used_ms > kForgetAfterMs) {
      it = addresses_.erase(it);
    } else {
      ++it;
    }
  }
}

void Admission::ForgetIdleAddresses() {
  // At most max_clients addresses hold a connection; the rest are idle, kept only for their
  // handshake budget. Forget the older half of those at once, so that a flood of new
  // addresses costs one pass per kMaxIdleAddresses / 2 of them, not one per connection.
  std::vector<decltype(addresses_)::iterator> idle;
  for (auto it = addresses_.begin(); it != addresses_.end(); ++it) {
    if (it->second->connections == 0 && it->second->hellos == 0) {
      idle.push_back(it);
    }
  }
  if (idle.empty()) {
    return;  // cannot happen while at most max_clients addresses hold a connection
  }
  const size_t forget = idle.size() / 2 + 1;
  std::nth_element(idle.begin(), idle.begin() + static_cast<ptrdiff_t>(forget - 1), idle.end(),
                   [](const auto& a, const auto& b) {
                     return a->second->last_used_ms < b->second->last_used_ms;
                   });
  for (size_t i = 0; i < forget; ++i) {
    addresses_.erase(idle[i]);
  }
}

}  // namespace securechat
