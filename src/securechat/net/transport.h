// The transport seam: where bytes enter and leave the chat. The server and client loops talk
// only to these two interfaces, never to sockets, so a new way in (a WebSocket, a cluster bus
// connection) is a new implementation of ByteStream and Listener, not a copy of a loop. The
// model is wireguard-go's conn.Bind, which the device reaches only through its interface.
//
// Every call is non-blocking: the loops wait in select() on the descriptor each object names,
// and every outcome is explicit (bytes, would block, closed, failed).
#ifndef SECURECHAT_NET_TRANSPORT_H_
#define SECURECHAT_NET_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/types/span.h"

namespace securechat::net {

// The outcome of one Read or Write on a ByteStream.
enum class IoOutcome {
  kBytes,       // `bytes` (at least 1) were read or written
  kWouldBlock,  // nothing now; wait for the descriptor and try again
  kClosed,      // the peer ended the stream in order (reads only)
  kError,       // the stream failed; `error` says why
};

struct IoResult {
  IoOutcome outcome = IoOutcome::kWouldBlock;
  size_t bytes = 0;
  // With kError: why, for the log. Points into static storage (or strerror's buffer): use it
  // before the next call into the transport.
  std::string_view error;
};

// ByteStream is one connection: an ordered, reliable stream of bytes in each direction.
class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Read moves up to out.size() bytes that have arrived into `out`, never waiting. Returns
  // kBytes with the count, kWouldBlock when nothing has arrived, kClosed at the peer's end of
  // stream, or kError.
  virtual IoResult Read(absl::Span<uint8_t> out) = 0;

  // Write sends a prefix of `bytes` (at least one byte when it returns kBytes), never
  // waiting. Returns kWouldBlock when the stream takes nothing now, kError when it failed.
  virtual IoResult Write(absl::Span<const uint8_t> bytes) = 0;

  // HasBufferedInput is true when Read would return bytes although fd() is not readable: a
  // transport that decodes its own framing (a WebSocket) may hold bytes it already took
  // from the descriptor. The loops then read without waiting.
  virtual bool HasBufferedInput() const { return false; }

  // Close ends our side after what was written, so that the peer reads our last bytes (an
  // ALERT, a fatal ERROR) rather than a reset. The descriptor itself is released by the
  // destructor.
  virtual void Close() = 0;

  // fd is the descriptor select() waits on, for readability and writability.
  virtual int fd() const = 0;

  // peer_address is the peer's address alone ("192.0.2.1", "::1"): the unit of the server's
  // per-address limits. A transport that learns the real client behind a proxy says it here.
  virtual const std::string& peer_address() const = 0;

  // peer_name names the peer in logs ("192.0.2.1:40000", "[::1]:40000").
  virtual const std::string& peer_name() const = 0;
};

// The outcome of one Listener::Accept.
enum class AcceptOutcome {
  kStream,     // a new stream
  kNone,       // nothing waiting (or a connection that failed before we took it)
  kExhausted,  // out of descriptors or memory: the connection stays queued; pause accepting
};

struct AcceptResult {
  AcceptOutcome outcome = AcceptOutcome::kNone;
  std::unique_ptr<ByteStream> stream;  // with kStream
  std::string_view error;              // with kExhausted: why (as IoResult::error)
};

// Listener is a place streams arrive: a listening socket, or anything else with a descriptor
// that becomes readable when Accept has work.
class Listener {
 public:
  virtual ~Listener() = default;

  // Accept takes the next waiting stream, never waiting.
  virtual AcceptResult Accept() = 0;

  // fd is the descriptor select() waits on for readability.
  virtual int fd() const = 0;

  // name says where it listens, as "127.0.0.1:5555" or "[::1]:5555" (the port actually
  // bound when port 0 was asked for).
  virtual const std::string& name() const = 0;
};

}  // namespace securechat::net

#endif  // SECURECHAT_NET_TRANSPORT_H_
