// The client's select() loop over its input (a terminal, a pipe or a file) and the server
// socket, with or without a connection.
#ifndef SECURECHAT_NET_CLIENT_LOOP_H_
#define SECURECHAT_NET_CLIENT_LOOP_H_

#include <sys/select.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "securechat/client/session.h"
#include "securechat/net/line_input.h"
#include "securechat/net/lines.h"
#include "securechat/net/socket.h"
#include "securechat/net/transport.h"

namespace securechat::net {

// FdLineInput reads lines from a pipe or a file: everything up to each '\n'. A line longer
// than `max_line_len` (the client's rule, not this layer's) is dropped whole, unread, so that
// no piece of it is ever sent. At the end of input, a last line without its newline is
// passed on too.
class FdLineInput : public LineInput {
 public:
  FdLineInput(int fd, size_t max_line_len) : fd_(fd), lines_(max_line_len) {}
  int fd() const override { return fd_; }
  bool Read(const OnLine& on_line) override;

 private:
  int fd_;
  LineSplitter lines_;  // input not yet ended by a newline
};

class ClientLoop {
 public:
  struct Hooks {
    LineInput::OnLine line;     // a typed line
    std::function<void()> eof;  // the input ended
    // Optional: a timer of the caller's (the paste guard): how long until `timer` has work,
    // and the work, which runs on every turn of the loop.
    std::function<std::optional<uint64_t>()> ms_until_timer;
    std::function<void()> timer;
    // Optional: true stops RunOffline early (the user quit).
    std::function<bool()> stop;
  };

  // `session` and `input` (which may be null: no input) must outlive the loop.
  ClientLoop(ClientSession& session, LineInput* input, Hooks hooks);

  // RunConnected shuttles bytes between `stream`, the input and the session until the session
  // finishes. It starts the session's handshake deadline (ClientSession::Connected) and reads
  // input only while the session WantsInput. Lines for the user go through the session's
  // display; the final error line, if any, is left to the caller. Returns the session's exit
  // code.
  // The caller keeps `stream` and closes it after.
  int RunConnected(ClientConnection& conn, ByteStream& stream);

  // RunOffline serves the input without a connection for `ms` milliseconds. Returns false if
  // it stopped early: the input ended or hooks.stop said so.
  bool RunOffline(uint64_t ms);

 private:
  // ReadInput reads the input if `ready` says it is readable, and calls hooks_.eof at its end.
  void ReadInput(const fd_set& ready);

  ClientSession& session_;
  LineInput* input_;
  Hooks hooks_;
  bool input_open_;
};

}  // namespace securechat::net

#endif  // SECURECHAT_NET_CLIENT_LOOP_H_
