// ServerOutput: where a running server's log and console lines go. Once the loop runs, the
// server never waits for its own output: a pipe nobody reads or a terminal stopped with
// Ctrl-S fills a bounded buffer, then lines are dropped and counted, and a flood of
// connections is rate limited in the log (see OutputSink).
#ifndef SECURECHAT_NET_SERVER_OUTPUT_H_
#define SECURECHAT_NET_SERVER_OUTPUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/client/display.h"
#include "securechat/engine/server_core.h"
#include "securechat/net/output_sink.h"

namespace securechat::net {

struct ServerOutputOptions {
  int log_fd = 2;      // log lines, each after a UtcStamp
  int console_fd = 1;  // the room, for an operator at a terminal
  // "connect" and "refuse" log lines per second, each kind on its own, in bursts of up to
  // kLogBurstSeconds' worth; 0: log every one.
  double log_rate = 4;
  // Show the room on the console, laid out at its width (true when it is a terminal).
  bool show_room = false;
};

// UtcStamp is the time stamp before a log line: "2024-05-01T12:00:00Z ".
std::string UtcStamp();

class ServerOutput {
 public:
  // Rate-limited log lines may come this many seconds' worth at once.
  static constexpr double kLogBurstSeconds = 8;

  // ServerOutput takes over both descriptors for writes that never wait (see OutputSink) and
  // logs how, when it had to share a descriptor's non-blocking flag with other processes.
  explicit ServerOutput(const ServerOutputOptions& options);
  ServerOutput(const ServerOutput&) = delete;
  ServerOutput& operator=(const ServerOutput&) = delete;

  // Sinks returns what a ServerCore writes to: the log, the room when options.show_room
  // (stamped [HH:MM] in local time and laid out at the console's width with continuation
  // rows indented, so that no message can wrap into a row that looks like a line of its own),
  // and the clocks. The sinks refer to this object, which must outlive the core.
  ServerSinks Sinks();

  // Log queues one log line.
  void Log(std::string_view line) { log_.Line(line); }

  // Console queues one line for the operator's console, as it is (no time stamp).
  void Console(std::string_view line) { console_.Line(line); }

  // SetAbove hands the console's lines, and the log's too when `log_too` (stderr is the
  // console's terminal), to `above`, which prints them above a line editor's prompt, instead
  // of writing them (OutputSink::SetAbove); an empty `above` writes them again.
  void SetAbove(const OutputSink::Above& above, bool log_too);

  // outputs is what the server loop flushes (ServerLoopOptions::outputs).
  std::vector<OutputSink*> outputs() { return {&log_, &console_}; }

  // Finish gives the last lines at most `timeout_ms` each to be written, so that a reader
  // that never comes back cannot keep the server from exiting.
  void Finish(uint64_t timeout_ms);

 private:
  void ShowRoom(std::string_view nick, std::string_view text);

  ServerOutputOptions options_;
  OutputSink log_;
  OutputSink console_;
  Formatter console_format_;
};

}  // namespace securechat::net

#endif  // SECURECHAT_NET_SERVER_OUTPUT_H_
