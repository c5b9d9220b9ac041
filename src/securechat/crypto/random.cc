#include "securechat/crypto/random.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <limits>

namespace securechat {

void OsRandom::Fill(absl::Span<uint8_t> out) {
  // RAND_bytes takes an int length; our draws are at most a few dozen bytes.
  if (out.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    abort();
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
