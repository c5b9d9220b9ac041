#include "securechat/engine/output_queue.h"

#include <cstdlib>

namespace securechat {

void OutputQueue::Consume(size_t n) {
  if (n > size()) {
    abort();  // The network cannot have written more than it was given.
  }
  sent_ += n;
  if (sent_ == buf_.size()) {
    Clear();  // keeps the capacity: steady state does not allocate
  } else if (sent_ > buf_.size() / 2) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(sent_));
    sent_ = 0;
  }
}

}  // namespace securechat
