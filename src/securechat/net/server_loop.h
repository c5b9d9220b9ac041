// RunServer: the single-threaded select() loop around a ServerCore.
#ifndef SECURECHAT_NET_SERVER_LOOP_H_
#define SECURECHAT_NET_SERVER_LOOP_H_

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "securechat/engine/server_core.h"
#include "securechat/net/line_input.h"
#include "securechat/net/output_sink.h"
#include "securechat/net/stop_signals.h"
#include "securechat/net/transport.h"

namespace securechat::net {

struct ServerLoopOptions {
  // The operator's console: lines read from console_fd (-1 for none), or, when `console` is
  // set (a line editor at a terminal; not owned), from it instead. Each line goes to
  // ServerCore::ConsoleLine and its notes to console_note. The loop reads from the console
  // only through LineInput, so it knows nothing of terminals.
  int console_fd = 0;
  LineInput* console = nullptr;
  // Called with a message for the operator console (invalid console line, console closed).
  std::function<void(std::string_view)> console_note;
  // The server's own output (log, console): flushed when select() says writable, never
  // waited for. Not owned; may be empty.
  std::vector<OutputSink*> outputs;
  // SIGINT and SIGTERM, caught since the program started (not owned): a signal that came
  // before RunServer stops the loop as soon as it starts. Null: RunServer catches them itself
  // from when it starts until it returns.
  StopSignals* stop_signals = nullptr;
  // Called in the loop after SIGHUP (the server re-reads its members file). May be empty.
  std::function<void()> on_reload;
  // Called in the loop with the list of bans and mutes when it has changed (the server writes
  // its --bans file): after the events that changed it and before their messages go out, at
  // most once a second (a later change waits for the second to pass), and once more as the
  // loop ends if a change is still waiting. May be empty.
  std::function<void(const BanList&)> on_bans_changed;
  // Called on every turn of the loop before it waits, also after a signal interrupted the
  // wait (a line editor redraws its prompt after Ctrl-Z and fg). May be empty.
  std::function<void()> on_turn;
};

// RunServer serves every listener in `listeners` (at least one) until SIGINT or SIGTERM, then
// sends every client ERROR 9, flushes for at most two seconds, and returns 0 (at once if the
// signal came before it started); it returns 1 if it cannot install its signal handlers or
// select() fails. Streams from every listener join
// the same core, each with the address its transport reports. Never blocks on one client:
// every stream is non-blocking and every write goes through the core's per-connection
// queue. Never blocks on its own output either: options.outputs are flushed only as far as
// they take bytes.
int RunServer(ServerCore& core, std::vector<std::unique_ptr<Listener>> listeners,
              const ServerLoopOptions& options);

}  // namespace securechat::net

#endif  // SECURECHAT_NET_SERVER_LOOP_H_
