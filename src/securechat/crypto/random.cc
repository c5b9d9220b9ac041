#include "securechat/crypto/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace securechat {

namespace {

// Bumped in the child by a fork handler, so that a child never hands out what its parent
// already drew.
std::atomic<uint64_t> g_fork_generation{0};

uint64_t ForkGeneration() {
  static const bool registered = pthread_atfork(nullptr, nullptr, [] {
                                   g_fork_generation.fetch_add(1, std::memory_order_relaxed);
                                 }) == 0;
  if (!registered) {
    abort();  // without the handler a child could repeat its parent's draws
  }
  return g_fork_generation.load(std::memory_order_relaxed);
}

void Draw(absl::Span<uint8_t> out) {
  // RAND_bytes takes an int length; our draws are at most a few KiB.
  if (out.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    abort();
  }
}

}  // namespace

OsRandom::OsRandom() : fork_generation_(ForkGeneration()) {}

OsRandom::~OsRandom() { OPENSSL_cleanse(block_.data(), block_.size()); }

void OsRandom::Fill(absl::Span<uint8_t> out) {
  // The constructor registered the fork handler; here its counter is only read.
  if (const uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
      generation != fork_generation_) {
    OPENSSL_cleanse(block_.data(), block_.size());
    used_ = kBlockLen;
    fork_generation_ = generation;
  }
  if (out.size() >= kBlockLen) {
    Draw(out);
    return;
  }
  while (!out.empty()) {
    if (used_ == kBlockLen) {
      Draw(absl::MakeSpan(block_));
      used_ = 0;
    }
    const size_t n = std::min(out.size(), kBlockLen - used_);
    std::memcpy(out.data(), block_.data() + used_, n);
    OPENSSL_cleanse(block_.data() + used_, n);
    used_ += n;
    out.remove_prefix(n);
  }
}

void ScriptedRandom::Fill(absl::Span<uint8_t> out) {
  for (uint8_t& b : out) {
    if (pos_ < script_.size()) {
      b = script_[pos_++];
    } else {
      // A simple, visibly non-random stream: repeatable and easy to recognise in a dump.
      b = static_cast<uint8_t>(counter_ * 0x9D + 0x3B);
      ++counter_;
    }
  }
}

}  // namespace securechat
