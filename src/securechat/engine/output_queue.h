// OutputQueue: bytes a connection has produced and the network has not yet written.
#ifndef SECURECHAT_ENGINE_OUTPUT_QUEUE_H_
#define SECURECHAT_ENGINE_OUTPUT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace securechat {

class OutputQueue {
 public:
  // buffer() is where producers append (sealed records, frames).
  std::vector<uint8_t>* buffer() { return &buf_; }
  // pending() views the bytes not yet consumed; valid until the next append or Consume.
  absl::Span<const uint8_t> pending() const { return absl::MakeConstSpan(buf_).subspan(sent_); }
  size_t size() const { return buf_.size() - sent_; }
  bool empty() const { return size() == 0; }
  // Consume drops n written bytes from the front (n <= size()).
  void Consume(size_t n);
  void Clear() {
    buf_.clear();
    sent_ = 0;
  }

 private:
  std::vector<uint8_t> buf_;
  size_t sent_ = 0;
};

}  // namespace securechat

#endif  // SECURECHAT_ENGINE_OUTPUT_QUEUE_H_
