// RunClient: the client's select() loop over the terminal and the server socket.
#ifndef SECURECHAT_NET_CLIENT_LOOP_H_
#define SECURECHAT_NET_CLIENT_LOOP_H_

#include <functional>
#include <string_view>

#include "securechat/client/session.h"
#include "securechat/net/socket.h"

namespace securechat::net {

// RunClient shuttles bytes between `socket`, `input_fd` (typed lines) and `session` until the
// session finishes, and returns the session's exit code. Lines for the user go through the
// session's printer; the final error line, if any, is left to the caller.
int RunClient(ClientConnection& conn, ClientSession& session, Fd socket, int input_fd);

}  // namespace securechat::net

#endif  // SECURECHAT_NET_CLIENT_LOOP_H_
