#include "securechat/net/server_output.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "securechat/base/cat.h"
#include "securechat/net/socket.h"
#include "securechat/net/terminal.h"

namespace securechat::net {
namespace {

OutputSinkOptions LogOptions(double log_rate) {
  OutputSinkOptions options;
  options.prefix = UtcStamp;
  options.limited_kinds = {"connect", "refuse", "close", "auth"};
  options.limit_rate = log_rate;
  options.limit_burst = std::max(1.0, log_rate * ServerOutput::kLogBurstSeconds);
  return options;
}

OutputSinkOptions ConsoleOptions() {
  OutputSinkOptions options;
  options.noun = "console line";
  return options;
}

}  // namespace

std::string UtcStamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  char stamp[32] = "----------T--:--:--Z ";
  if (gmtime_r(&now, &utc) != nullptr) {
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &utc);
  }
  return stamp;
}

ServerOutput::ServerOutput(const ServerOutputOptions& options)
    : options_(options),
      log_(options.log_fd, LogOptions(options.log_rate)),
      console_(options.console_fd, ConsoleOptions()),
      console_format_({.color = false, .timestamps = true, .bell = false}, LocalHourMinute,
                      WallClockMs) {
  for (const auto& [name, out] : {std::pair{"stderr", &log_}, {"stdout", &console_}}) {
    if (!out->fallback_note().empty()) {
      log_.Line(Cat(name, ": ", out->fallback_note()));
    }
  }
}

ServerSinks ServerOutput::Sinks() {
  ServerSinks sinks;
  sinks.log = [this](std::string_view line) { Log(line); };
  if (options_.show_room) {
    sinks.room = [this](std::string_view nick, std::string_view text) { ShowRoom(nick, text); };
  }
  sinks.now_ms = WallClockMs;
  sinks.mono_ms = MonotonicMs;
  return sinks;
}

void ServerOutput::ShowRoom(std::string_view nick, std::string_view text) {
  DisplayLine line;
  line.kind = nick.empty() ? DisplayLine::Kind::kNotice : DisplayLine::Kind::kChat;
  line.from = std::string(nick);
  line.text = std::string(text);
  for (const std::string& row :
       console_format_.FormatRows(line, TerminalColumns(options_.console_fd))) {
    console_.Line(row);
  }
}

void ServerOutput::SetAbove(const OutputSink::Above& above, bool log_too) {
  console_.SetAbove(above);
  log_.SetAbove(log_too ? above : nullptr);
}

void ServerOutput::Finish(uint64_t timeout_ms) {
  console_.Finish(timeout_ms);
  log_.Finish(timeout_ms);
}

}  // namespace securechat::net
