// chat-server: the securechat server.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "programs/flags.h"
#include "securechat/base/cat.h"
#include "securechat/client/display.h"
#include "securechat/crypto/handshake.h"
#include "securechat/crypto/keys.h"
#include "securechat/engine/server_core.h"
#include "securechat/net/output_sink.h"
#include "securechat/net/server_loop.h"
#include "securechat/net/socket.h"
#include "securechat/net/terminal.h"
#include "securechat/wire/text.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:5555",
          "address to listen on: HOST:PORT, IPv4, host name or [IPv6]:PORT; port 0 picks a "
          "free port");
ABSL_FLAG(std::string, key, "keys/server_private.pem", "the server's private key (PKCS#8 PEM)");
ABSL_FLAG(std::string, passphrase_file, "",
          "file holding the private key's passphrase; without it, an encrypted key is asked "
          "for at the terminal");
ABSL_FLAG(int, max_clients, 256, "most connections at once; more get ALERT 1 (server full)");
ABSL_FLAG(int, max_per_address, 16, "most connections at once from one address; more get ALERT 3");
ABSL_FLAG(absl::Duration, handshake_timeout, absl::Seconds(10),
          "time from connect to a successful JOIN before the server closes the connection");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(300),
          "a joined client that sends nothing for this long is closed (clients PING after 60s)");
ABSL_FLAG(int64_t, max_queue_bytes, 1 << 20,
          "unsent bytes queued for one client; a client that lets more pile up is dropped");
ABSL_FLAG(double, rate, 5, "messages per second per client (token bucket); 0: unlimited");
ABSL_FLAG(double, burst, 10,
          "messages a client may send at once; more than this many refusals in a row "
          "disconnect it");
ABSL_FLAG(double, handshakes_per_second, 0,
          "RSA handshakes per second, for everyone together (each address gets a quarter); "
          "0: measured at start so that handshakes take at most half of a core");
ABSL_FLAG(double, log_rate, 4,
          "\"connect\" and \"refuse\" log lines per second, each kind on its own, in bursts of "
          "up to 8 seconds' worth; the rest are counted (\"N connect lines suppressed\"); "
          "0: log every one");
ABSL_FLAG(std::string, motd, "welcome to securechat", "message of the day sent on join");

namespace {

using securechat::Cat;

// How long a stopping server tries to write its last log and console lines.
constexpr uint64_t kLastFlushMs = 1000;
// Rate-limited log lines may come this many seconds' worth at once.
constexpr double kLogBurstSeconds = 8;

// Fail prints one line to stderr and returns exit code 1. Takes std:: or absl:: strings.
template <typename Text>
int Fail(const Text& text) {
  const std::string message = Cat(text);
  std::fprintf(stderr, "chat-server: %s\n", message.c_str());
  return 1;
}

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// UtcStamp is the time stamp before a log line: "2024-05-01T12:00:00Z ".
std::string UtcStamp() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  char stamp[32] = "----------T--:--:--Z ";
  if (gmtime_r(&now, &utc) != nullptr) {
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &utc);
  }
  return stamp;
}

// LogLine writes a log line to stderr, waiting for it: only before the loop runs.
void LogLine(std::string_view line) {
  const std::string stamp = UtcStamp();
  std::fprintf(stderr, "%s%.*s\n", stamp.c_str(), static_cast<int>(line.size()), line.data());
}

// PrintLine writes a line to stdout, waiting for it: only before the loop runs.
void PrintLine(std::string_view line) {
  std::fprintf(stdout, "%.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(stdout);
}

// A server holds its private key in memory: keep it out of core files.
void DisableCoreDumps() {
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the securechat server.\n"
      "usage: chat-server [--listen=127.0.0.1:5555] [--key=keys/server_private.pem]\n"
      "                   [--motd=TEXT] [--passphrase_file=FILE] [limits...]\n"
      "Limits: --max_clients --max_per_address --handshake_timeout --idle_timeout\n"
      "        --max_queue_bytes --rate --burst --handshakes_per_second --log_rate (see below).\n"
      "Lines typed on stdin go to every client as CHAT from 'server'. SIGINT or SIGTERM\n"
      "tells every client the server is shutting down, then exits.");
  if (const auto unexpected = securechat::ParseFlags(argc, argv)) {
    return Fail(Cat("unexpected argument '", *unexpected, "' (see --help)"));
  }
  DisableCoreDumps();
  if (absl::GetFlag(FLAGS_max_clients) < 1 || absl::GetFlag(FLAGS_max_per_address) < 1) {
    return Fail("--max_clients and --max_per_address must be at least 1");
  }
  if (absl::GetFlag(FLAGS_handshake_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_idle_timeout) <= absl::ZeroDuration()) {
    return Fail("--handshake_timeout and --idle_timeout must be positive durations, like 10s");
  }
  if (absl::GetFlag(FLAGS_max_queue_bytes) <
      static_cast<int64_t>(securechat::proto::kMaxFrameLen)) {
    return Fail("--max_queue_bytes must hold at least one record (16452 bytes)");
  }
  if (absl::GetFlag(FLAGS_rate) < 0 || absl::GetFlag(FLAGS_handshakes_per_second) < 0 ||
      absl::GetFlag(FLAGS_log_rate) < 0 ||
      (absl::GetFlag(FLAGS_rate) > 0 && absl::GetFlag(FLAGS_burst) < 1)) {
    return Fail("--rate, --handshakes_per_second and --log_rate must be >= 0, and --burst >= 1");
  }
  const std::string motd = absl::GetFlag(FLAGS_motd);
  if (!motd.empty() && !securechat::IsValidText(motd)) {
    return Fail("--motd must be at most 4096 bytes of UTF-8 without control characters");
  }
  auto addr = securechat::net::ParseHostPort(absl::GetFlag(FLAGS_listen), /*allow_zero=*/true);
  if (!addr.ok()) {
    return Fail(Cat("--listen: ", addr.status().message()));
  }

  std::optional<securechat::Passphrase> passphrase;
  if (!absl::GetFlag(FLAGS_passphrase_file).empty()) {
    auto p = securechat::ReadPassphraseFile(absl::GetFlag(FLAGS_passphrase_file));
    if (!p.ok()) {
      return Fail(p.status().message());
    }
    passphrase.emplace(std::move(*p));
  }
  const std::string key_path = absl::GetFlag(FLAGS_key);
  auto key = securechat::ServerPrivateKey::ReadFile(key_path, passphrase ? &*passphrase : nullptr);
  if (!key.ok() && !passphrase && securechat::net::HaveTerminal() &&
      key.status().message().find("passphrase-protected") != absl::string_view::npos) {
    auto asked = securechat::net::AskPassphrase(Cat("passphrase for ", key_path, ": "));
    if (!asked.ok()) {
      return Fail(asked.status().message());
    }
    key = securechat::ServerPrivateKey::ReadFile(key_path, &*asked);
  }
  if (!key.ok()) {
    if (absl::IsNotFound(key.status())) {
      return Fail(Cat(key.status().message(), "; create it with chat-keygen"));
    }
    return Fail(key.status().message());
  }
  passphrase.reset();

  std::string bound;
  auto listener = securechat::net::Listen(*addr, &bound);
  if (!listener.ok()) {
    return Fail(listener.status().message());
  }

  const bool console_tty = isatty(STDIN_FILENO) == 1;
  securechat::ServerOptions options;
  options.max_clients = static_cast<size_t>(absl::GetFlag(FLAGS_max_clients));
  options.max_per_address = static_cast<size_t>(absl::GetFlag(FLAGS_max_per_address));
  options.handshake_timeout_ms =
      static_cast<uint64_t>(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_handshake_timeout)));
  options.idle_timeout_ms =
      static_cast<uint64_t>(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_idle_timeout)));
  options.max_queue_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_queue_bytes));
  options.rate = absl::GetFlag(FLAGS_rate);
  options.burst = absl::GetFlag(FLAGS_burst);
  options.handshakes_per_second = absl::GetFlag(FLAGS_handshakes_per_second);
  if (options.handshakes_per_second == 0) {
    // Half a core's worth of RSA private operations.
    options.handshakes_per_second =
        std::max(1.0, std::floor(0.5 / securechat::MeasureUnwrapSeconds(*key)));
  }
  options.handshakes_per_second_per_address = std::max(1.0, options.handshakes_per_second / 4);
  options.motd = motd;
  const std::string fingerprint = key->PublicKey().Fingerprint();
  PrintLine(Cat("securechat server listening on ", bound));
  PrintLine(Cat("server key fingerprint ", fingerprint));
  LogLine(Cat("limits: ", options.max_clients, " clients, ", options.max_per_address,
              " per address, ", static_cast<int64_t>(options.handshakes_per_second),
              " handshakes/s, rate ", static_cast<int64_t>(options.rate), "/s burst ",
              static_cast<int64_t>(options.burst)));
  // The public key sits beside the private one when chat-keygen made them.
  std::string public_path = "PUBLIC_KEY.pem";
  if (const size_t slash = key_path.rfind('/') + 1;
      key_path.compare(slash, std::string::npos, "server_private.pem") == 0) {
    public_path = Cat(key_path.substr(0, slash), "server_public.pem");
  }
  PrintLine(Cat("clients connect with: chat-client --connect=", bound,
                " --server_key=", public_path, " --nick=NAME"));
  if (console_tty) {
    PrintLine("type a line to send it to everyone as 'server'; Ctrl-C stops the server");
  }

  // From here on the loop runs: the server never waits for its own output. A pipe nobody
  // reads or a terminal stopped with Ctrl-S fills a bounded buffer, then lines are dropped
  // and counted; a flood of connections is rate limited in the log.
  securechat::net::OutputSinkOptions log_options;
  log_options.prefix = UtcStamp;
  log_options.limited_kinds = {"connect", "refuse"};
  log_options.limit_rate = absl::GetFlag(FLAGS_log_rate);
  log_options.limit_burst = std::max(1.0, log_options.limit_rate * kLogBurstSeconds);
  securechat::net::OutputSink log_out(STDERR_FILENO, log_options);
  securechat::net::OutputSinkOptions console_options;
  console_options.noun = "console line";
  securechat::net::OutputSink console_out(STDOUT_FILENO, console_options);
  for (const auto& [name, out] : {std::pair{"stderr", &log_out}, {"stdout", &console_out}}) {
    if (!out->fallback_note().empty()) {
      log_out.Line(Cat(name, ": ", out->fallback_note()));
    }
  }

  securechat::ServerSinks sinks;
  sinks.log = [&log_out](std::string_view line) { log_out.Line(line); };
  // The console shows the room as the client does, stamped [HH:MM] in local time and laid out
  // at the terminal's width with continuation rows indented, so that no message can wrap
  // into a row that looks like a line of its own.
  const securechat::Formatter console_format({.color = false, .timestamps = true, .bell = false},
                                             securechat::net::LocalHourMinute,
                                             securechat::net::WallClockMs);
  if (console_tty) {
    sinks.room = [&console_out, &console_format](std::string_view nick, std::string_view text) {
      securechat::DisplayLine line;
      line.kind = nick.empty() ? securechat::DisplayLine::Kind::kNotice
                               : securechat::DisplayLine::Kind::kChat;
      line.from = std::string(nick);
      line.text = std::string(text);
      for (const std::string& row :
           console_format.FormatRows(line, securechat::net::TerminalColumns(STDOUT_FILENO))) {
        console_out.Line(row);
      }
    };
  }
  sinks.now_ms = NowMs;
  sinks.mono_ms = securechat::net::MonotonicMs;
  securechat::OsRandom rng;
  securechat::ServerCore core(*key, rng, options, sinks);

  securechat::net::ServerLoopOptions loop;
  loop.console_fd = STDIN_FILENO;
  loop.console_note = sinks.log;
  loop.outputs = {&log_out, &console_out};
  int rc = securechat::net::RunServer(core, std::move(*listener), loop);
  log_out.Line("server stopped");
  // The last lines get a moment, not forever: a reader that never comes back cannot keep the
  // server from exiting.
  console_out.Finish(kLastFlushMs);
  log_out.Finish(kLastFlushMs);
  return rc;
}
