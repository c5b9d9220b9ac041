// chat-server: the securechat server.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "programs/flags.h"
#include "securechat/base/cat.h"
#include "securechat/client/interactive.h"
#include "securechat/crypto/handshake.h"
#include "securechat/crypto/key_files.h"
#include "securechat/crypto/keys.h"
#include "securechat/engine/console.h"
#include "securechat/engine/server_core.h"
#include "securechat/net/bans_file.h"
#include "securechat/net/files.h"
#include "securechat/net/server_loop.h"
#include "securechat/net/server_output.h"
#include "securechat/net/socket.h"
#include "securechat/net/stop_signals.h"
#include "securechat/net/tcp.h"
#include "securechat/net/terminal.h"
#include "securechat/tty/line_editor.h"
#include "securechat/wire/protocol.h"
#include "securechat/wire/text.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:5555",
          "addresses to listen on, separated by commas: HOST:PORT, IPv4, host name or "
          "[IPv6]:PORT; port 0 picks a free port");
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
          "\"connect\", \"refuse\", \"close\" and \"auth\" log lines per second, each kind on its "
          "own, in bursts of up to 8 seconds' worth; the rest are counted (\"N connect lines "
          "suppressed\"); 0: log every one");
ABSL_FLAG(std::string, motd, "welcome to securechat", "message of the day sent on join");
ABSL_FLAG(int64_t, history, 50,
          "room lines kept in memory (never on disk) and shown to a client that joins or comes "
          "back; 0: none");
ABSL_FLAG(int64_t, history_bytes, 256 * 1024,
          "most bytes of text and nicks the history keeps; the oldest lines go first");
ABSL_FLAG(int64_t, max_rooms, 100,
          "rooms besides #lobby at once (0 to 100000; 0: #lobby only); each keeps its own "
          "--history");
ABSL_FLAG(int64_t, max_rooms_per_client, 10, "rooms besides #lobby one client is in (0 to 1000)");
ABSL_FLAG(int64_t, max_room_members, 1000,
          "members of one room besides #lobby (1 to 100000; #lobby is bounded by --max_clients)");
ABSL_FLAG(int64_t, max_topic_bytes, 256, "longest room topic in bytes (0 to 1024)");
ABSL_FLAG(int64_t, max_file_bytes, int64_t{1} << 30,
          "largest file one member may send another through the server, in bytes");
ABSL_FLAG(int64_t, max_transfers, 64,
          "file transfers at once on the server, offers not yet answered included (0 to 100000; "
          "0: no file transfer)");
ABSL_FLAG(int64_t, max_transfers_per_client, 4,
          "file transfers one client is a side of at once, as sender or receiver (0 to 1000)");
ABSL_FLAG(int64_t, max_offers_per_minute, 10,
          "file offers one connection may make a minute "
          "(0 to 10000)");
ABSL_FLAG(absl::Duration, offer_timeout, absl::Seconds(120),
          "a file offer nobody answers in this time expires");
ABSL_FLAG(absl::Duration, file_stall_timeout, absl::Seconds(30),
          "a file transfer whose receiver takes no data for this long, while its sender is "
          "held back, ends as stalled");
ABSL_FLAG(int64_t, file_window, 256 * 1024,
          "bytes of a file queued for its receiver before the server stops reading the sender; "
          "at most half of --max_queue_bytes");
ABSL_FLAG(std::string, members, "",
          "members file: `NICK KEYTYPE BASE64 [op]` a line (a .pub line's first two fields "
          "after the nick); each listed nick only for its keys' holders. SIGHUP re-reads it");
ABSL_FLAG(std::string, bans, "",
          "bans file: the bans and mutes operators set (/ban, /mute) are kept in it, rewritten "
          "atomically on every change and read at start; none: they last until the server stops");
ABSL_FLAG(int64_t, max_bans, 10000, "most bans and mutes kept at once (1 to 1000000)");
ABSL_FLAG(std::string, access, "",
          "who may join: `open` (anyone; unlisted nicks for guests; the default) or `members` "
          "(listed keys only; needs --members)");
ABSL_FLAG(bool, line_editing, true,
          "when stdin and stdout are a terminal, edit console lines (history with Up, Down and "
          "Ctrl-R, Tab completes commands) under a prompt that the room and the log scroll "
          "above; false: plain lines");

namespace {

using securechat::Cat;

// Upper bounds for --history and --history_bytes, far above any useful value, so that the
// check that the history fits a client's queue cannot overflow.
constexpr int64_t kMaxHistoryLines = 100'000;
constexpr int64_t kMaxHistoryBytes = int64_t{1} << 30;
// Upper bound for --max_bans: a file of that many full lines is about 1 GiB.
constexpr int64_t kMaxBans = 1'000'000;
// Upper bounds for the room flags, and for what every room's history may hold together.
constexpr int64_t kMaxRooms = 100'000;
constexpr int64_t kMaxRoomsPerClient = 1'000;
constexpr int64_t kMaxRoomMembers = 100'000;
constexpr uint64_t kMaxAllHistoryBytes = uint64_t{4} << 30;

// Upper bounds for the file transfer flags.
constexpr int64_t kMaxTransfers = 100'000;
constexpr int64_t kMaxTransfersPerClient = 1'000;
constexpr int64_t kMaxOffersPerMinute = 10'000;

// HistoryEpoch draws the random, non-zero epoch of this run's history (PROTOCOL.md 6.11).
uint64_t HistoryEpoch(securechat::RandomSource& rng) {
  uint64_t epoch = 0;
  while (epoch == 0) {
    uint8_t bytes[8];
    rng.Fill(absl::MakeSpan(bytes));
    for (uint8_t b : bytes) {
      epoch = epoch << 8 | b;
    }
  }
  return epoch;
}

// The most messages a client sends to join, all at once: AUTH, HISTORY and JOIN.
constexpr int kMessagesToJoin = 3;

// How long a stopping server tries to write its last log and console lines.
constexpr uint64_t kLastFlushMs = 1000;

// Fail prints one line to stderr and returns exit code 1. Takes std:: or absl:: strings.
template <typename Text>
int Fail(const Text& text) {
  const std::string message = Cat(text);
  std::fprintf(stderr, "chat-server: %s\n", message.c_str());
  return 1;
}

// LogLine writes a log line to stderr, waiting for it: only before the loop runs.
void LogLine(std::string_view line) {
  const std::string stamp = securechat::net::UtcStamp();
  std::fprintf(stderr, "%s%.*s\n", stamp.c_str(), static_cast<int>(line.size()), line.data());
}

// PrintLine writes a line to stdout, waiting for it: only before the loop runs.
void PrintLine(std::string_view line) {
  std::fprintf(stdout, "%.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(stdout);
}

// ClientCommand is the command a user can paste to connect to `listener`: chat-client by its
// absolute path when it sits beside this program (a build folder, or where cmake --install put
// both), and the server key by its fingerprint, which the client checks against the key the
// server sends (PROTOCOL.md 4.8) and then remembers: it works from any folder and any machine,
// with no key file to copy.
std::string ClientCommand(const std::string& listener, const std::string& fingerprint) {
  std::string client = "chat-client";
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    const std::string exe(self, static_cast<size_t>(n));
    const std::string beside = Cat(exe.substr(0, exe.rfind('/') + 1), "chat-client");
    if (access(beside.c_str(), X_OK) == 0) {
      client = beside;
    }
  }
  return Cat(client, " --connect=", listener, " --server_fingerprint=", fingerprint,
             " --nick=NAME");
}

// ReadMembers reads and parses the members file; the error names the file and the line.
absl::StatusOr<securechat::Members> ReadMembers(const std::string& path) {
  auto text = securechat::net::ReadSmallFile(path, securechat::kMaxMembersFileBytes);
  if (!text.ok()) {
    return text.status();
  }
  auto members = securechat::Members::Parse(*text);
  if (!members.ok()) {
    return absl::InvalidArgumentError(Cat(path, ": ", members.status().message()));
  }
  return members;
}

// The console's prompt when it is a line editor.
constexpr std::string_view kConsolePrompt = "server> ";

// ConsoleCommandWords are the console's command words, for Tab (engine/console.h).
const std::vector<std::string>& ConsoleCommandWords() {
  static const std::vector<std::string>* const words = new std::vector<std::string>(
      std::begin(securechat::kConsoleCommands), std::end(securechat::kConsoleCommands));
  return *words;
}

// EditedConsole is the operator's console at a terminal: a line editor with the prompt on the
// last row, and the room, the console's notes and (when stderr is the same terminal) the log
// printed above it, never through a half-typed line. An entered line comes back above as the
// console's own line, "server> LINE", in order with what answers it, and goes into the
// history. Ctrl-D on an empty line ends it as the end of a piped stdin does: the terminal is
// given back and the server keeps running, its output written plainly again.
class EditedConsole final : public securechat::net::LineInput {
 public:
  // Start starts the line editor; null if it cannot (there is one already). `output` and
  // `core` must outlive the console; Tab completes command words, then the nicks in `core`'s
  // room (/kick bo).
  static std::unique_ptr<EditedConsole> Start(securechat::net::ServerOutput& output,
                                              const securechat::ServerCore& core, bool log_above) {
    auto editor = securechat::tty::LineEditor::Start(
        std::string(kConsolePrompt),
        [&core](std::string_view word, size_t word_start) {
          return securechat::CompletionCandidates(word, word_start, ConsoleCommandWords(),
                                                  core.Nicks());
        },
        {.program = "chat-server", .catch_stop_signals = false});
    if (editor == nullptr) {
      return nullptr;
    }
    std::unique_ptr<EditedConsole> console(new EditedConsole(output, std::move(editor)));
    output.SetAbove([editor = console->editor_.get()](
                        const std::vector<std::string>& rows) { editor->PrintAbove(rows); },
                    log_above);
    return console;
  }
  ~EditedConsole() override { End(); }
  EditedConsole(const EditedConsole&) = delete;
  EditedConsole& operator=(const EditedConsole&) = delete;

  int fd() const override { return editor_ != nullptr ? editor_->fd() : -1; }
  bool Read(const OnLine& on_line) override {
    const bool open = editor_->Read([this, &on_line](std::string_view line) {
      if (!line.empty()) {
        editor_->AddHistory(std::string(line));
      }
      output_.Console(Cat(kConsolePrompt, securechat::EscapeForDisplay(line)));
      on_line(line);
    });
    if (!open) {
      End();
    }
    return open;
  }
  // RedrawAfterSignals shows the prompt again after Ctrl-Z and fg: on every turn of the loop.
  void RedrawAfterSignals() {
    if (editor_ != nullptr) {
      editor_->RedrawAfterSignals();
    }
  }

 private:
  EditedConsole(securechat::net::ServerOutput& output,
                std::unique_ptr<securechat::tty::LineEditor> editor)
      : output_(output), editor_(std::move(editor)) {}
  // End gives the terminal back; lines not yet shown are written plainly.
  void End() {
    if (editor_ != nullptr) {
      output_.SetAbove(nullptr, false);
      editor_.reset();
    }
  }

  securechat::net::ServerOutput& output_;
  std::unique_ptr<securechat::tty::LineEditor> editor_;
};

}  // namespace

int main(int argc, char** argv) {
  // First of all, before anything slow (reading the key, measuring the handshake budget):
  // from now on SIGINT and SIGTERM stop the server cleanly with exit 0, before it listens if
  // they come while it starts, through the loop after.
  const std::unique_ptr<securechat::net::StopSignals> stop_signals =
      securechat::net::StopSignals::Install();
  if (stop_signals == nullptr) {
    return Fail("cannot install signal handlers");
  }
  absl::SetProgramUsageMessage(
      "the securechat server.\n"
      "usage: chat-server [--listen=127.0.0.1:5555] [--key=keys/server_private.pem]\n"
      "                   [--motd=TEXT] [--passphrase_file=FILE] [--members=FILE]\n"
      "                   [--access=open|members] [--bans=FILE] [limits...]\n"
      "Limits: --max_clients --max_per_address --handshake_timeout --idle_timeout\n"
      "        --max_queue_bytes --rate --burst --handshakes_per_second --log_rate\n"
      "        --history --history_bytes --max_bans --max_rooms --max_rooms_per_client\n"
      "        --max_room_members --max_topic_bytes --max_file_bytes --max_transfers\n"
      "        --max_transfers_per_client --max_offers_per_minute --offer_timeout\n"
      "        --file_window --file_stall_timeout (see below).\n"
      "Lines typed on stdin go to every client as CHAT from 'server'; /help lists the console's\n"
      "commands. At a terminal, lines are edited under a prompt: Up, Down and Ctrl-R recall\n"
      "earlier ones, Tab completes commands, Ctrl-D closes the console. SIGINT or SIGTERM\n"
      "tells every client the server is shutting down, then exits.");
  if (const auto unexpected = securechat::ParseFlags(argc, argv)) {
    return Fail(Cat("unexpected argument '", *unexpected, "' (see --help)"));
  }
  // A server holds its private key in memory: keep it out of core files.
  securechat::net::DisableCoreDumps();
  if (absl::GetFlag(FLAGS_max_clients) < 1 || absl::GetFlag(FLAGS_max_per_address) < 1) {
    return Fail("--max_clients and --max_per_address must be at least 1");
  }
  if (absl::GetFlag(FLAGS_handshake_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_idle_timeout) <= absl::ZeroDuration()) {
    return Fail("--handshake_timeout and --idle_timeout must be positive durations, like 10s");
  }
  if (absl::GetFlag(FLAGS_max_queue_bytes) <
      static_cast<int64_t>(securechat::proto::kMaxFrameLen)) {
    return Fail(Cat("--max_queue_bytes must hold at least one record (",
                    securechat::proto::kMaxFrameLen, " bytes)"));
  }
  if (absl::GetFlag(FLAGS_rate) < 0 || absl::GetFlag(FLAGS_handshakes_per_second) < 0 ||
      absl::GetFlag(FLAGS_log_rate) < 0) {
    return Fail("--rate, --handshakes_per_second and --log_rate must be >= 0");
  }
  // Joining takes up to three messages at once (AUTH, HISTORY, JOIN), each charged to the
  // rate: a smaller burst would refuse a client's JOIN every time.
  if (absl::GetFlag(FLAGS_rate) > 0 && absl::GetFlag(FLAGS_burst) < double{kMessagesToJoin}) {
    return Fail(Cat("--burst must be at least ", kMessagesToJoin,
                    ": a client sends up to that many messages to join (AUTH, HISTORY, JOIN)"));
  }
  const int64_t history_lines = absl::GetFlag(FLAGS_history);
  const int64_t history_bytes = absl::GetFlag(FLAGS_history_bytes);
  if (history_lines < 0 || history_bytes < 0 || history_lines > kMaxHistoryLines ||
      history_bytes > kMaxHistoryBytes) {
    return Fail(Cat("--history must be 0 to ", kMaxHistoryLines, " and --history_bytes 0 to ",
                    kMaxHistoryBytes));
  }
  const securechat::HistoryLimits history{static_cast<size_t>(history_lines),
                                          static_cast<size_t>(history_bytes)};
  // A joining client is sent the whole history at once: it must fit its output queue, with
  // room to spare for what the room says meanwhile.
  if (securechat::HistoryWireBytes(history) >
      static_cast<size_t>(absl::GetFlag(FLAGS_max_queue_bytes)) / 2) {
    return Fail(Cat("--history=", history_lines, " --history_bytes=", history_bytes,
                    " can take up to ", securechat::HistoryWireBytes(history),
                    " bytes to send, more than half of --max_queue_bytes (",
                    absl::GetFlag(FLAGS_max_queue_bytes), "): lower them or raise it"));
  }
  const int64_t max_rooms = absl::GetFlag(FLAGS_max_rooms);
  const int64_t max_rooms_per_client = absl::GetFlag(FLAGS_max_rooms_per_client);
  const int64_t max_room_members = absl::GetFlag(FLAGS_max_room_members);
  const int64_t max_topic_bytes = absl::GetFlag(FLAGS_max_topic_bytes);
  if (max_rooms < 0 || max_rooms > kMaxRooms || max_rooms_per_client < 0 ||
      max_rooms_per_client > kMaxRoomsPerClient || max_room_members < 1 ||
      max_room_members > kMaxRoomMembers || max_topic_bytes < 0 ||
      max_topic_bytes > static_cast<int64_t>(securechat::proto::kMaxTopicLen)) {
    return Fail(Cat("--max_rooms must be 0 to ", kMaxRooms, ", --max_rooms_per_client 0 to ",
                    kMaxRoomsPerClient, ", --max_room_members 1 to ", kMaxRoomMembers,
                    " and --max_topic_bytes 0 to ", securechat::proto::kMaxTopicLen));
  }
  const securechat::RoomLimits room_limits{
      static_cast<size_t>(max_rooms), static_cast<size_t>(max_rooms_per_client),
      static_cast<size_t>(max_room_members), static_cast<size_t>(max_topic_bytes)};
  // /rooms is answered at once, as the history is: the whole list must fit a client's queue.
  if (securechat::RoomListWireBytes(room_limits) >
      static_cast<size_t>(absl::GetFlag(FLAGS_max_queue_bytes)) / 2) {
    return Fail(Cat("--max_rooms=", max_rooms, " --max_topic_bytes=", max_topic_bytes,
                    " make a room list of up to ", securechat::RoomListWireBytes(room_limits),
                    " bytes, more than half of --max_queue_bytes (",
                    absl::GetFlag(FLAGS_max_queue_bytes), "): lower them or raise it"));
  }
  // Every room keeps its own history: together they must stay a bounded part of memory,
  // each line's bookkeeping counted with its bytes.
  const uint64_t all_history_bytes = static_cast<uint64_t>(max_rooms + 1) *
                                     static_cast<uint64_t>(securechat::HistoryMemoryBytes(history));
  if (all_history_bytes > kMaxAllHistoryBytes) {
    return Fail(Cat("--max_rooms=", max_rooms, " rooms and #lobby, each keeping up to ",
                    history_lines, " lines in ", history_bytes,
                    " bytes of history (--history, --history_bytes), could hold ",
                    all_history_bytes, " bytes together with their bookkeeping, more than ",
                    kMaxAllHistoryBytes, ": lower one of them"));
  }
  const int64_t max_file_bytes = absl::GetFlag(FLAGS_max_file_bytes);
  const int64_t max_transfers = absl::GetFlag(FLAGS_max_transfers);
  const int64_t max_transfers_per_client = absl::GetFlag(FLAGS_max_transfers_per_client);
  const int64_t max_offers_per_minute = absl::GetFlag(FLAGS_max_offers_per_minute);
  if (max_file_bytes < 0 || max_transfers < 0 || max_transfers > kMaxTransfers ||
      max_transfers_per_client < 0 || max_transfers_per_client > kMaxTransfersPerClient ||
      max_offers_per_minute < 0 || max_offers_per_minute > kMaxOffersPerMinute) {
    return Fail(Cat("--max_file_bytes must be at least 0, --max_transfers 0 to ", kMaxTransfers,
                    ", --max_transfers_per_client 0 to ", kMaxTransfersPerClient,
                    " and --max_offers_per_minute 0 to ", kMaxOffersPerMinute));
  }
  if (absl::GetFlag(FLAGS_offer_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_file_stall_timeout) <= absl::ZeroDuration()) {
    return Fail("--offer_timeout and --file_stall_timeout must be positive durations, like 120s");
  }
  // The window holds at least one chunk's record, and file data alone never fills more than
  // half of a receiver's queue: the server reads a sender 16 KiB at a time, so a queue holds
  // at most a window, 16 KiB and one record of file data, and chat still fits beside it.
  const int64_t file_window = absl::GetFlag(FLAGS_file_window);
  const int64_t max_queue_bytes = absl::GetFlag(FLAGS_max_queue_bytes);
  const int64_t record = static_cast<int64_t>(securechat::proto::kMaxFrameLen);
  if (file_window < record || file_window > max_queue_bytes / 2 ||
      file_window + 2 * record > max_queue_bytes) {
    return Fail(Cat("--file_window=", file_window, " must be at least one record (", record,
                    " bytes), at most half of --max_queue_bytes (", max_queue_bytes,
                    ") and leave two records beside it: a receiver's queue must hold a window "
                    "of file data, what the server reads at once, and chat beside it"));
  }
  securechat::TransferLimits transfer_limits;
  transfer_limits.max_file_bytes = static_cast<uint64_t>(max_file_bytes);
  transfer_limits.max_transfers = static_cast<size_t>(max_transfers);
  transfer_limits.max_transfers_per_client = static_cast<size_t>(max_transfers_per_client);
  transfer_limits.max_offers_per_minute = static_cast<size_t>(max_offers_per_minute);
  transfer_limits.offer_timeout_ms =
      static_cast<uint64_t>(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_offer_timeout)));
  transfer_limits.file_window = static_cast<size_t>(file_window);
  transfer_limits.stall_timeout_ms =
      static_cast<uint64_t>(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_file_stall_timeout)));
  const std::string motd = absl::GetFlag(FLAGS_motd);
  if (!motd.empty() && !securechat::IsValidText(motd)) {
    return Fail(Cat("--motd must be at most ", securechat::proto::kMaxTextLen,
                    " bytes of UTF-8 without control characters"));
  }
  const std::string members_path = absl::GetFlag(FLAGS_members);
  const std::string access_flag = absl::GetFlag(FLAGS_access);
  securechat::Access access = securechat::Access::kOpen;
  if (access_flag == "members") {
    access = securechat::Access::kMembers;
  } else if (!access_flag.empty() && access_flag != "open") {
    return Fail(Cat("--access must be open or members, not '", access_flag, "'"));
  }
  if (access == securechat::Access::kMembers && members_path.empty()) {
    return Fail("--access=members needs --members=FILE: nobody could join");
  }
  securechat::Members members;
  if (!members_path.empty()) {
    auto read = ReadMembers(members_path);
    if (!read.ok()) {
      return Fail(read.status().message());
    }
    members = std::move(*read);
  }
  const std::string bans_path = absl::GetFlag(FLAGS_bans);
  const int64_t max_bans = absl::GetFlag(FLAGS_max_bans);
  if (max_bans < 1 || max_bans > kMaxBans) {
    return Fail(Cat("--max_bans must be 1 to ", kMaxBans));
  }
  securechat::BanList bans(static_cast<size_t>(max_bans));
  if (!bans_path.empty()) {
    auto read = securechat::net::LoadBans(bans_path, static_cast<size_t>(max_bans),
                                          static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())));
    if (!read.ok()) {
      return Fail(read.status().message());
    }
    bans = std::move(*read);
  }
  auto addrs = securechat::net::ParseHostPortList(absl::GetFlag(FLAGS_listen), /*allow_zero=*/true);
  if (!addrs.ok()) {
    return Fail(Cat("--listen: ", addrs.status().message()));
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
  securechat::KeyLoadError why = securechat::KeyLoadError::kNone;
  auto key =
      securechat::ServerPrivateKey::ReadFile(key_path, passphrase ? &*passphrase : nullptr, &why);
  if (why == securechat::KeyLoadError::kNeedsPassphrase && securechat::net::HaveTerminal()) {
    auto asked = securechat::net::AskPassphrase(Cat("passphrase for ", key_path, ": "));
    if (!asked.ok() && securechat::net::StopRequested()) {
      LogLine("server stopped");
      return 0;  // SIGINT or SIGTERM at the prompt: a clean stop
    }
    if (!asked.ok()) {
      return Fail(asked.status().message());
    }
    key = securechat::ServerPrivateKey::ReadFile(key_path, &*asked, &why);
  }
  switch (why) {
    case securechat::KeyLoadError::kNone:
      break;
    case securechat::KeyLoadError::kNotFound:
      return Fail(Cat(key.status().message(), "; create it with chat-keygen"));
    case securechat::KeyLoadError::kNeedsPassphrase:
      return Fail(
          Cat(key.status().message(), ": give --passphrase_file or run on a terminal to be asked"));
    case securechat::KeyLoadError::kFileRefused:
    case securechat::KeyLoadError::kWrongPassphrase:
    case securechat::KeyLoadError::kBadKey:
      return Fail(key.status().message());
  }
  passphrase.reset();
  if (securechat::net::StopRequested()) {
    // SIGINT or SIGTERM while starting: stop before opening a port, as cleanly as the loop.
    LogLine("server stopped");
    return 0;
  }

  const bool console_tty = isatty(STDIN_FILENO) == 1;
  const bool editing = console_tty && securechat::net::IsTerminal(STDOUT_FILENO) &&
                       absl::GetFlag(FLAGS_line_editing);
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
  const securechat::HandshakeBudget budget =
      securechat::ChooseHandshakeBudget(*key, absl::GetFlag(FLAGS_handshakes_per_second));
  options.handshakes_per_second = budget.per_second;
  options.handshakes_per_second_per_address = budget.per_second_per_address;
  options.motd = motd;
  const size_t member_keys = members.key_count();
  const size_t member_nicks = members.nick_count();
  options.members = std::move(members);
  options.access = access;
  options.history = history;
  options.rooms = room_limits;
  options.transfers = transfer_limits;
  const size_t bans_at_start = bans.entries().size();
  options.bans = std::move(bans);
  auto listeners = securechat::net::ListenTcpAll(*addrs);
  if (!listeners.ok()) {
    return Fail(listeners.status().message());
  }
  const std::string fingerprint = key->PublicKey().Fingerprint();
  for (const auto& listener : *listeners) {
    PrintLine(Cat("securechat server listening on ", listener->name()));
  }
  PrintLine(Cat("server key fingerprint ", fingerprint));
  LogLine(Cat("limits: ", options.max_clients, " clients, ", options.max_per_address,
              " per address, ", static_cast<int64_t>(options.handshakes_per_second),
              " handshakes/s, rate ", static_cast<int64_t>(options.rate), "/s burst ",
              static_cast<int64_t>(options.burst)));
  LogLine(Cat("rooms: ", options.rooms.max_rooms, " besides #lobby, ",
              options.rooms.max_rooms_per_client, " per client, ", options.rooms.max_room_members,
              " members each; history ", options.history.max_lines, " lines, ",
              options.history.max_bytes, " bytes per room (", all_history_bytes,
              " bytes for all at most)"));
  LogLine(Cat("files: at most ", transfer_limits.max_file_bytes, " bytes each, ",
              transfer_limits.max_transfers, " transfers, ",
              transfer_limits.max_transfers_per_client, " per client, ",
              transfer_limits.max_offers_per_minute, " offers a minute; window ",
              transfer_limits.file_window, " bytes"));
  if (!members_path.empty() || access == securechat::Access::kMembers) {
    PrintLine(Cat("members: ", member_nicks, " nicks, ", member_keys, " keys from ", members_path,
                  "; access ", access == securechat::Access::kMembers ? "members only" : "open"));
  }
  if (!bans_path.empty()) {
    PrintLine(Cat("bans and mutes in force: ", bans_at_start, " (from ", bans_path, ")"));
  }
  PrintLine(Cat("clients connect with: ", ClientCommand(listeners->front()->name(), fingerprint)));
  if (console_tty) {
    PrintLine("type a line to send it to everyone as 'server'; Ctrl-C stops the server");
  }
  if (editing) {
    PrintLine("/help lists the commands, Tab completes them; Ctrl-D closes the console");
  }

  // From here on the loop runs: the server never waits for its own output.
  securechat::net::ServerOutput output(
      {.log_rate = absl::GetFlag(FLAGS_log_rate), .show_room = console_tty});
  securechat::OsRandom rng;
  options.history_epoch = HistoryEpoch(rng);
  securechat::ServerCore core(*key, rng, options, output.Sinks());

  // At a terminal, the console is a line editor that the room and the log scroll above.
  std::unique_ptr<EditedConsole> edited;
  if (editing) {
    edited = EditedConsole::Start(output, core,
                                  securechat::net::SameTerminal(STDOUT_FILENO, STDERR_FILENO));
  }
  securechat::net::ServerLoopOptions loop;
  loop.console_fd = STDIN_FILENO;
  loop.console = edited.get();
  if (edited != nullptr) {
    // The answers to what the operator typed go under the echo of it, without a time stamp.
    loop.console_note = [&output](std::string_view line) { output.Console(line); };
    loop.on_turn = [&edited] { edited->RedrawAfterSignals(); };
  } else {
    loop.console_note = [&output](std::string_view line) { output.Log(line); };
  }
  loop.outputs = output.outputs();
  loop.stop_signals = stop_signals.get();
  if (members_path.empty()) {
    loop.on_reload = [&output] { output.Log("SIGHUP: no --members file, nothing to re-read"); };
  } else {
    loop.on_reload = [&core, &output, &members_path] {
      auto read = ReadMembers(members_path);
      if (!read.ok()) {
        output.Log(Cat("SIGHUP: the old members list stays in force: ", read.status().message()));
        return;
      }
      const size_t keys = read->key_count();
      const size_t closed = core.ReloadMembers(std::move(*read));
      output.Log(Cat("SIGHUP: ", keys, " member keys from ", members_path, "; ", closed,
                     " connections closed"));
    };
  }
  if (!bans_path.empty()) {
    // Bans change only at an operator's command, so the write (and its fsync) is rare and
    // small; a failure is told and the list stays in force in memory.
    loop.on_bans_changed = [&output, &bans_path](const securechat::BanList& now_in_force) {
      const absl::Status saved = securechat::net::SaveBans(bans_path, now_in_force);
      if (!saved.ok()) {
        output.Log(Cat("bans not saved (they hold until the server stops): ", saved.message()));
      }
    };
  }
  int rc = securechat::net::RunServer(core, std::move(*listeners), loop);
  output.Log("server stopped");
  output.Finish(kLastFlushMs);
  edited.reset();  // the prompt goes and the terminal is given back, after the last lines
  return rc;
}
