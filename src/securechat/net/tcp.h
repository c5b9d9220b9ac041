// TCP implementations of the transport seam (transport.h).
#ifndef SECURECHAT_NET_TCP_H_
#define SECURECHAT_NET_TCP_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "securechat/net/socket.h"
#include "securechat/net/transport.h"

namespace securechat::net {

// ListenTcp listens on TCP `addr` (as Listen in socket.h does). The streams it accepts are
// non-blocking, close-on-exec and send without Nagle's delay. Fails with Listen's status.
absl::StatusOr<std::unique_ptr<Listener>> ListenTcp(const HostPort& addr);

// ListenTcpAll listens on every address in `addrs`, in order. Fails with the first failure
// (closing the listeners already open).
absl::StatusOr<std::vector<std::unique_ptr<Listener>>> ListenTcpAll(
    const std::vector<HostPort>& addrs);

// DialTcp connects to TCP `addr`, waiting for the connection (as Connect in socket.h does),
// and returns the non-blocking stream. On failure *error says which kind and the status why.
absl::StatusOr<std::unique_ptr<ByteStream>> DialTcp(const HostPort& addr, ConnectError* error,
                                                    uint64_t timeout_ms = kConnectTimeoutMs);

// MakeTcpStream wraps a connected, non-blocking TCP socket; its peer's address and name are
// read once, here.
std::unique_ptr<ByteStream> MakeTcpStream(Fd socket);

}  // namespace securechat::net

#endif  // SECURECHAT_NET_TCP_H_
