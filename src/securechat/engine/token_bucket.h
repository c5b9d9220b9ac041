// TokenBucket: at most `burst` events at once, refilled at `rate` per second.
#ifndef SECURECHAT_ENGINE_TOKEN_BUCKET_H_
#define SECURECHAT_ENGINE_TOKEN_BUCKET_H_

#include <algorithm>
#include <cstdint>

namespace securechat {

class TokenBucket {
 public:
  // A bucket starts full. rate <= 0 means "unlimited".
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}

  // Take spends one token at time now_ms if one is there. Time never runs backwards for the
  // bucket: an earlier now_ms counts as the last one seen.
  bool Take(uint64_t now_ms) {
    if (rate_ <= 0) {
      return true;
    }
    Refill(now_ms);
    if (tokens_ < 1) {
      return false;
    }
    tokens_ -= 1;
    return true;
  }

  // MsUntilToken is how long until Take would succeed (0 if now).
  uint64_t MsUntilToken(uint64_t now_ms) {
    if (rate_ <= 0) {
      return 0;
    }
    Refill(now_ms);
    return tokens_ >= 1 ? 0 : static_cast<uint64_t>((1 - tokens_) * 1000 / rate_) + 1;
  }

 private:
  void Refill(uint64_t now_ms) {
    if (now_ms > last_ms_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_ / 1000);
      last_ms_ = now_ms;
    }
  }

  double rate_;
  double burst_;
  double tokens_;
  uint64_t last_ms_ = 0;
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_TOKEN_BUCKET_H_
