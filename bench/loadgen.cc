// chat-loadgen: drives a real chat-server on 127.0.0.1 with protocol-conformant clients (the
// library's ClientConnection), all in one thread over non-blocking sockets and epoll.
//
// It generates a 2048-bit key with chat-keygen in a private temporary directory, starts
// chat-server on a free port with its limits raised by flags (printed, and written to the JSON
// output), runs one mode, and stops the server.
//
//   throughput  S senders and R receivers in the room; each sender sends M messages of B bytes
//               as fast as the server takes them (at most --window in flight per sender, so
//               that no queue grows without bound). Deliveries per second, server CPU seconds
//               and peak RSS.
//   latency     the same room, senders paced at --rate messages per second in total: p50, p99
//               and max time from the send() of a message to its decryption at a receiver.
//   idle        N joined, silent clients: server RSS per connection.
//   handshake   connect, handshake, JOIN, BYE, with K connections in flight: connections per
//               second.
//   rooms       N clients in R rooms of N/R (ROOM_JOIN, ROOM_SAY): server RSS per room once
//               every room's history is full; then every client saying lines at a fixed rate,
//               and in turn, the same deliveries per second in one room of all N from fewer
//               senders: deliveries per second of each and their ratio.
//   files       one file of F bytes (--file_bytes, default 1 GiB) from a sender to a receiver
//               (FILE_OFFER, FILE_ACCEPT, FILE_CHUNK relayed as FILE_DATA, FILE_DONE) while a
//               third client says --chat_rate lines per second: MB/s from the first chunk
//               sent to the last FILE_END done received, the chat's latency at the receiver
//               during the transfer, the server's RSS idle and at its peak during it, and scp
//               of as many bytes to 127.0.0.1 in the same run (bench/scp_baseline.sh) when
//               sshd is installed, with the ratio.
//
// Every delivery is verified: each receiver must get, from each sender, exactly the messages
// it sent, in order, byte for byte (in the rooms mode: each room's members, and nobody else,
// every line of it, its sender included); any difference, error or unexpected close fails the run
// (exit code 1, "verified": false, and the throughput figure reported as 0); in the files mode
// each FILE_DATA must come at the offset the receiver expects and the whole file must have the
// SHA-256 offered. --fault makes the generator itself alter, drop or duplicate one delivery,
// so that ctest can check that the verifier notices (LoadgenCatches.*).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "json_writer.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/auth.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/primitives.h"
#include "securechat/crypto/random.h"
#include "securechat/engine/client_connection.h"
#include "securechat/wire/message.h"

ABSL_FLAG(std::string, mode, "throughput", "throughput, latency, idle, handshake, rooms or files");
ABSL_FLAG(int, receivers, 50, "throughput, latency: receiving clients (R)");
ABSL_FLAG(int, senders, 1, "throughput, latency: sending clients (S); they receive too");
ABSL_FLAG(int64_t, messages, 20000, "throughput: messages per sender (M)");
ABSL_FLAG(int, bytes, 200, "throughput, latency, rooms: text bytes per message (B), 24 to 4096");
ABSL_FLAG(int, window, 1024,
          "throughput: messages a sender may have sent that some client has not yet received");
ABSL_FLAG(double, rate, 1000, "latency: messages per second, all senders together");
ABSL_FLAG(double, seconds, 10, "latency, rooms: how long to send (rooms: each load)");
ABSL_FLAG(int, clients, 1000, "idle: joined silent clients (N); rooms: clients in the rooms (N)");
ABSL_FLAG(int, rooms, 100, "rooms: rooms (R) the clients are shared among, N/R in each");
ABSL_FLAG(double, per_client_rate, 20, "rooms: lines per second each client says in its room");
ABSL_FLAG(int, one_room_senders, 10,
          "rooms: senders in the one room of all N that is given the same deliveries per second");
ABSL_FLAG(int, history, 50, "rooms: the server's --history, lines kept per room");
ABSL_FLAG(int, fill_lines, 50,
          "rooms: lines of B bytes said in each room before its memory is measured");
ABSL_FLAG(int, rounds, 1, "rooms: loads of the rooms and of the one room, taken in turn");
ABSL_FLAG(int64_t, file_bytes, int64_t{1} << 30, "files: bytes of the file sent (F)");
ABSL_FLAG(double, chat_rate, 20, "files: chat lines per second said during the transfer");
ABSL_FLAG(double, receive_mb_per_second, 0,
          "files: the receiver reads at most this many MB (10^6 bytes) per second during the "
          "transfer, as a receiver that reads slowly would; 0: as fast as it can");
ABSL_FLAG(bool, scp, true,
          "files: also time scp of F bytes to 127.0.0.1 through a private sshd "
          "(--scp_script), when /usr/sbin/sshd is installed");
ABSL_FLAG(std::string, scp_script, SECURECHAT_SOURCE_DIR "/bench/scp_baseline.sh",
          "files: the script that times scp");
ABSL_FLAG(int, connections, 4000, "handshake: connections to make");
ABSL_FLAG(int, in_flight, 16, "handshake, idle, rooms: connections being set up at once (K)");
ABSL_FLAG(int, key_bits, 2048, "RSA key size of the server key chat-keygen makes");
ABSL_FLAG(bool, auth, false,
          "handshake: every connection authenticates with a user key of its own (AUTH) "
          "before JOIN, against a members-only server that lists them all");
ABSL_FLAG(std::string, bin_dir, SECURECHAT_BIN_DIR, "where chat-server and chat-keygen are");
ABSL_FLAG(std::vector<std::string>, server_flags, {},
          "extra chat-server flags, comma-separated (after the generator's own)");
ABSL_FLAG(double, timeout, 300, "fail if the run takes longer than this many seconds");
ABSL_FLAG(std::string, json, "", "also write the results as JSON to this file");
ABSL_FLAG(std::string, fault, "",
          "for testing the verifier: alter, drop or duplicate the 50th CHAT or ROOM_LINE the "
          "clients receive (files: the 50th FILE_DATA), as a wrong server would; the run must "
          "then fail");

namespace securechat::loadgen {
namespace {

using securechat::Cat;

using Json = securechat::bench::JsonObject;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string LoadAverage() {
  std::string s = ReadFile("/proc/loadavg");
  // "0.52 0.58 0.59 1/123 4567": the three averages.
  std::istringstream in(s);
  std::string a, b, c;
  in >> a >> b >> c;
  return Cat(a, " ", b, " ", c);
}

// CpuSeconds is utime + stime of `pid` from /proc/<pid>/stat.
double CpuSeconds(pid_t pid) {
  const std::string stat = ReadFile(Cat("/proc/", pid, "/stat"));
  // Fields after the command name, which is in parentheses and may hold spaces.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After ") ": state(3) ... utime is field 14, stime 15 (1-based over the whole line).
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) {
      utime = std::stoull(field);
    } else if (i == 15) {
      stime = std::stoull(field);
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// StatusKiB reads a "Name:   123 kB" line of /proc/<pid>/status (VmRSS, VmHWM).
int64_t StatusKiB(pid_t pid, std::string_view name) {
  std::istringstream in(ReadFile(Cat("/proc/", pid, "/status")));
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ':') {
      return std::stoll(line.substr(name.size() + 1));
    }
  }
  return -1;
}

double SelfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

// TempDir is a private directory removed, with the files named in it, on destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/chat-loadgen.XXXXXX";
    if (mkdtemp(tmpl) != nullptr) {
      path_ = tmpl;
    }
  }
  ~TempDir() {
    if (path_.empty()) {
      return;
    }
    for (const char* f : {"server_private.pem", "server_public.pem", "server.log", "members"}) {
      unlink(File(f).c_str());
    }
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return Cat(path_, "/", name); }

 private:
  std::string path_;
};

// Spawn starts `argv` with stdin from /dev/null, stdout to `out_fd` and stderr to
// `err_path` (appended). Returns the pid, or -1.
pid_t Spawn(const std::vector<std::string>& argv, int out_fd, const std::string& err_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// Server is a chat-server child on 127.0.0.1 with a fresh key.
class Server {
 public:
  ~Server() { Stop(); }

  // Start makes the key and starts the server with `flags`. Returns "" or what went wrong.
  std::string Start(const std::vector<std::string>& flags) {
    if (dir_.path().empty()) {
      return "cannot create a temporary directory";
    }
    const std::string bin = absl::GetFlag(FLAGS_bin_dir);
    const std::string log = dir_.File("server.log");
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_t keygen = Spawn({bin + "/chat-keygen", Cat("--bits=", absl::GetFlag(FLAGS_key_bits)),
                          "--out_dir=" + dir_.path()},
                         devnull, log);
    close(devnull);
    int status = 0;
    if (keygen < 0 || waitpid(keygen, &status, 0) != keygen || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      return "chat-keygen failed: " + ReadFile(log);
    }
    auto key = ServerPublicKey::ReadFile(dir_.File("server_public.pem"));
    if (!key.ok()) {
      return std::string(key.status().message());
    }
    public_key_ = std::make_unique<ServerPublicKey>(std::move(*key));

    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
      return "pipe failed";
    }
    std::vector<std::string> argv = {bin + "/chat-server", "--listen=127.0.0.1:0",
                                     "--key=" + dir_.File("server_private.pem")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    pid_ = Spawn(argv, pipe_fds[1], log);
    close(pipe_fds[1]);
    stdout_fd_ = pipe_fds[0];  // kept open: the server prints a few lines more at start
    if (pid_ < 0) {
      return "cannot start " + argv[0];
    }
    // The first line says where it listens.
    std::string out;
    char c;
    while (out.find('\n') == std::string::npos && read(stdout_fd_, &c, 1) == 1) {
      out.push_back(c);
    }
    const std::string prefix = "securechat server listening on 127.0.0.1:";
    if (out.compare(0, prefix.size(), prefix) != 0) {
      return "chat-server did not start: " + ReadFile(log);
    }
    port_ = static_cast<uint16_t>(std::stoi(out.substr(prefix.size())));
    return "";
  }

  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      for (int i = 0; i < 500 && waitpid(pid_, &status, WNOHANG) == 0; ++i) {
        usleep(10'000);
      }
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
      pid_ = -1;
    }
    if (stdout_fd_ >= 0) {
      close(stdout_fd_);
      stdout_fd_ = -1;
    }
  }

  bool Alive() const { return pid_ > 0 && kill(pid_, 0) == 0; }
  std::string LogTail() const {
    const std::string log = ReadFile(dir_.File("server.log"));
    return log.size() > 2000 ? log.substr(log.size() - 2000) : log;
  }

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  const ServerPublicKey& public_key() const { return *public_key_; }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  uint16_t port_ = 0;
  std::unique_ptr<ServerPublicKey> public_key_;
};

// ---------------------------------------------------------------------------------------
// Clients and the event loop.

enum class Phase { kConnecting, kHandshake, kAuthenticating, kJoining, kJoined, kLeaving, kClosed };

struct Client {
  int fd = -1;
  Phase phase = Phase::kConnecting;
  std::unique_ptr<ClientConnection> conn;
  std::string nick;
  const Ed25519Key* user_key = nullptr;  // authenticates with it before JOIN
  int sender = -1;                       // index of this client among the senders, or -1
  bool receiver = false;                 // counted as a receiver
  std::vector<uint64_t> next_seq;        // per sender: the next sequence number expected
  uint64_t chats = 0;                    // chats received and verified
  bool want_out = false;                 // registered for EPOLLOUT
  // Reading paced at read_rate bytes per second (0: as fast as it comes), as a receiver
  // that reads slowly would: the bytes it may read now, when that was last refilled, and whether
  // EPOLLIN is off until it may read again.
  double read_rate = 0;
  double read_allowance = 0;
  int64_t read_refill_ns = 0;
  bool read_paused = false;
  bool dirty = false;  // in the flush list
};

class Driver {
 public:
  std::function<void(Client&)> on_joined;
  std::function<void(Client&, const msg::Chat&, int64_t now_ns)> on_chat;
  std::function<void(Client&, const msg::RoomLine&, int64_t now_ns)> on_room_line;
  // ROOM_JOINED and HISTORY_END, the answers to ROOM_JOIN.
  std::function<void(Client&, const msg::ServerMessage&)> on_room_answer;
  // The file kinds: FILE_OFFERED, FILE_INCOMING, FILE_ACCEPTED, FILE_DATA and FILE_END.
  std::function<void(Client&, const msg::ServerMessage&, int64_t now_ns)> on_file;
  std::function<void(Client&)> on_closed;  // EOF after our BYE
  std::function<void(int64_t now_ns)> on_tick;
  std::function<std::optional<int64_t>()> next_timer_ns;

  Driver(const ServerPublicKey& key, uint16_t port)
      : key_(key), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(port);
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    read_buf_.resize(256 * 1024);
  }
  ~Driver() {
    for (auto& c : clients_) {
      if (c->fd >= 0) {
        close(c->fd);
      }
    }
    close(epoll_);
  }

  // Open connects a new client and queues its CLIENT_HELLO; it JOINs as `nick` once the
  // handshake is done (with `user_key`, once AUTH has been accepted).
  Client* Open(std::string nick, const Ed25519Key* user_key = nullptr) {
    auto c = std::make_unique<Client>();
    c->nick = std::move(nick);
    c->user_key = user_key;
    c->conn = std::make_unique<ClientConnection>(key_, rng_);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
      Fail(Cat("socket: ", strerror(errno)));
      return nullptr;
    }
    if (!c->conn->Start()) {
      close(c->fd);
      Fail("cannot build a CLIENT_HELLO");
      return nullptr;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Client* raw = c.get();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = raw;
    raw->want_out = true;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, raw->fd, &ev) != 0) {
      Fail(Cat("epoll_ctl: ", strerror(errno)));
    }
    if (connect(raw->fd, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_)) == 0) {
      raw->phase = Phase::kHandshake;
      MarkDirty(*raw);
    } else if (errno != EINPROGRESS) {
      Fail(Cat("connect: ", strerror(errno)));
    }
    clients_.push_back(std::move(c));
    ++open_;
    return raw;
  }

  // Send queues one message from `c` (flushed at the end of the loop iteration).
  void Send(Client& c, const msg::ClientMessage& m) {
    if (!c.conn->Send(m)) {
      Fail(Cat(c.nick, ": cannot send"));
      return;
    }
    MarkDirty(c);
  }

  void Bye(Client& c) {
    Send(c, msg::Bye{});
    c.phase = Phase::kLeaving;
  }

  // Run serves events until `done` returns true, the deadline passes or something fails.
  // Returns false on failure or timeout (error() says which).
  bool Run(const std::function<bool()>& done, int64_t deadline_ns) {
    std::vector<epoll_event> events(256);
    while (failure_.empty() && !done()) {
      const int64_t now = NowNs();
      if (now > deadline_ns) {
        Fail("timed out");
        break;
      }
      int64_t wait_ns = std::min<int64_t>(deadline_ns - now, 100'000'000);
      if (next_timer_ns) {
        if (auto t = next_timer_ns()) {
          wait_ns = std::clamp<int64_t>(*t - now, 0, wait_ns);
        }
      }
      if (!paused_.empty()) {
        wait_ns = std::min<int64_t>(wait_ns, 1'000'000);
      }
      timespec ts{static_cast<time_t>(wait_ns / 1'000'000'000),
                  static_cast<long>(wait_ns % 1'000'000'000)};
      const int n =
          epoll_pwait2(epoll_, events.data(), static_cast<int>(events.size()), &ts, nullptr);
      if (n < 0 && errno != EINTR) {
        Fail(Cat("epoll: ", strerror(errno)));
        break;
      }
      for (int i = 0; i < n && failure_.empty(); ++i) {
        Client& c = *static_cast<Client*>(events[i].data.ptr);
        if (c.fd < 0) {
          continue;
        }
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
          if (c.phase == Phase::kConnecting) {
            Connected(c);
          }
          if (c.fd >= 0 && c.phase != Phase::kConnecting) {
            Readable(c);
          }
        }
        if (c.fd >= 0 && (events[i].events & EPOLLOUT)) {
          if (c.phase == Phase::kConnecting) {
            Connected(c);
          }
          MarkDirty(c);
        }
      }
      ResumeReading(NowNs());
      if (on_tick) {
        on_tick(NowNs());
      }
      FlushDirty();
    }
    return failure_.empty();
  }

  void Fail(std::string why) {
    if (failure_.empty()) {
      failure_ = std::move(why);
    }
  }

  // set_fault makes the driver mishandle one CHAT or ROOM_LINE, or with `file_data` one
  // FILE_DATA instead (see --fault).
  void set_fault(std::string fault, bool file_data) {
    fault_ = std::move(fault);
    fault_files_ = file_data;
  }
  const std::string& error() const { return failure_; }
  int open_count() const { return open_; }

 private:
  void Connected(Client& c) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      Fail(Cat(c.nick, ": connect: ", strerror(err)));
      return;
    }
    c.phase = Phase::kHandshake;
    MarkDirty(c);
  }

  // A paced client reads while it is allowed at least kMinRead bytes (about a record), then
  // waits until it is allowed kReadBurst (16 records) again.
  static constexpr double kReadBurst = 256 * 1024;
  static constexpr double kMinRead = 16 * 1024;

  // Refill adds to a paced client's allowance what its rate has earned since the last refill.
  static void Refill(Client& c, int64_t now) {
    c.read_allowance =
        std::min(kReadBurst, c.read_allowance +
                                 c.read_rate * static_cast<double>(now - c.read_refill_ns) / 1e9);
    c.read_refill_ns = now;
  }

  // ResumeReading turns EPOLLIN back on for the paced clients that may read a burst again.
  void ResumeReading(int64_t now) {
    for (size_t i = 0; i < paused_.size();) {
      Client& c = *paused_[i];
      Refill(c, now);
      if (c.fd >= 0 && c.read_rate > 0 && c.read_allowance < kReadBurst) {
        ++i;
        continue;
      }
      c.read_paused = false;
      UpdateEvents(c);
      paused_[i] = paused_.back();
      paused_.pop_back();
    }
  }

  void Readable(Client& c) {
    if (c.read_paused) {  // an event reported before its reading was paused
      return;
    }
    for (;;) {
      size_t want = read_buf_.size();
      if (c.read_rate > 0) {
        Refill(c, NowNs());
        // Less than a record: wait for a burst rather than read it a few bytes at a time.
        if (c.read_allowance < kMinRead) {
          c.read_paused = true;
          UpdateEvents(c);
          paused_.push_back(&c);
          return;
        }
        want = std::min(want, static_cast<size_t>(c.read_allowance));
      }
      const ssize_t n = recv(c.fd, read_buf_.data(), want, 0);
      if (n > 0 && c.read_rate > 0) {
        c.read_allowance -= static_cast<double>(n);
      }
      if (n > 0) {
        Feed(c, ByteView(read_buf_.data(), static_cast<size_t>(n)), NowNs());
        if (static_cast<size_t>(n) < want || c.fd < 0 || !failure_.empty()) {
          return;
        }
        continue;
      }
      if (n == 0) {
        if (c.phase == Phase::kLeaving) {
          CloseClient(c);
          if (on_closed) {
            on_closed(c);
          }
        } else {
          Fail(Cat(c.nick, ": server closed the connection"));
        }
        return;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        Fail(Cat(c.nick, ": recv: ", strerror(errno)));
      }
      return;
    }
  }

  void Feed(Client& c, ByteView in, int64_t now) {
    msg::ServerMessage m;
    while (failure_.empty()) {
      switch (c.conn->Next(&in, &m)) {
        case ClientConnection::Step::kNeedMore:
          return;
        case ClientConnection::Step::kEstablished:
          if (c.user_key != nullptr) {
            Authenticate(c);
          } else {
            c.phase = Phase::kJoining;
            Send(c, msg::Join{c.nick});
          }
          break;
        case ClientConnection::Step::kAlert:
          Fail(Cat(c.nick, ": ALERT ", c.conn->alert().code, " ", c.conn->alert().reason));
          return;
        case ClientConnection::Step::kFailed:
          Fail(Cat(c.nick, ": connection failed (protocol or key confirmation)"));
          return;
        case ClientConnection::Step::kMessage:
          OnMessage(c, m, now);
          break;
      }
    }
  }

  // Authenticate sends AUTH: the signature over this connection's transcript hash.
  void Authenticate(Client& c) {
    Ed25519Signature sig{};
    if (!AuthSign(*c.user_key, c.conn->transcript_hash(), &sig)) {
      Fail(Cat(c.nick, ": cannot sign"));
      return;
    }
    const Ed25519Public& pub = c.user_key->public_key();
    c.phase = Phase::kAuthenticating;
    Send(c, msg::Auth{std::string_view(reinterpret_cast<const char*>(pub.data()), pub.size()),
                      std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size())});
  }

  void OnMessage(Client& c, const msg::ServerMessage& m, int64_t now) {
    if (const auto* ok = std::get_if<msg::AuthOk>(&m)) {
      if (c.phase != Phase::kAuthenticating || ok->nick != c.nick) {
        Fail(Cat(c.nick, ": unexpected AUTH_OK"));
        return;
      }
      c.phase = Phase::kJoining;
      Send(c, msg::Join{c.nick});
      return;
    }
    if (const auto* chat = std::get_if<msg::Chat>(&m)) {
      if (c.phase != Phase::kJoined || !on_chat) {
        Fail(Cat(c.nick, ": unexpected CHAT from ", chat->from));
        return;
      }
      if (!fault_files_ && ++chats_ == kFaultAt && !fault_.empty()) {
        InjectFault<&msg::Chat::text>(*chat,
                                      [&](const msg::Chat& faulty) { on_chat(c, faulty, now); });
        return;
      }
      on_chat(c, *chat, now);
    } else if (const auto* line = std::get_if<msg::RoomLine>(&m)) {
      if (c.phase != Phase::kJoined || !on_room_line) {
        Fail(Cat(c.nick, ": unexpected ROOM_LINE in ", line->room, " from ", line->from));
        return;
      }
      if (!fault_files_ && ++chats_ == kFaultAt && !fault_.empty()) {
        InjectFault<&msg::RoomLine::text>(
            *line, [&](const msg::RoomLine& faulty) { on_room_line(c, faulty, now); });
        return;
      }
      on_room_line(c, *line, now);
    } else if (std::holds_alternative<msg::RoomJoined>(m) ||
               std::holds_alternative<msg::HistoryEnd>(m)) {
      if (c.phase != Phase::kJoined || !on_room_answer) {
        Fail(Cat(c.nick, ": unexpected ROOM_JOINED or HISTORY_END"));
        return;
      }
      on_room_answer(c, m);
    } else if (std::holds_alternative<msg::FileOffered>(m) ||
               std::holds_alternative<msg::FileIncoming>(m) ||
               std::holds_alternative<msg::FileAccepted>(m) ||
               std::holds_alternative<msg::FileData>(m) ||
               std::holds_alternative<msg::FileEnd>(m)) {
      if (c.phase != Phase::kJoined || !on_file) {
        Fail(Cat(c.nick, ": an unexpected file message (kind ", m.index(), " of the variant)"));
        return;
      }
      const auto* data = std::get_if<msg::FileData>(&m);
      if (data != nullptr && fault_files_ && ++file_data_ == kFaultAt && !fault_.empty()) {
        InjectFault<&msg::FileData::data>(
            *data, [&](const msg::FileData& faulty) { on_file(c, faulty, now); });
        return;
      }
      on_file(c, m, now);
    } else if (const auto* welcome = std::get_if<msg::Welcome>(&m)) {
      if (c.phase != Phase::kJoining || welcome->nick != c.nick) {
        Fail(Cat(c.nick, ": unexpected WELCOME"));
        return;
      }
      c.phase = Phase::kJoined;
      if (on_joined) {
        on_joined(c);
      }
    } else if (const auto* error = std::get_if<msg::Error>(&m)) {
      Fail(Cat(c.nick, ": ERROR ", static_cast<int>(error->code), " ", error->text));
    }
    // NOTICE (joins and leaves), USERS, PONG and ROOM_EVENT need nothing.
  }

  void MarkDirty(Client& c) {
    if (!c.dirty && c.fd >= 0) {
      c.dirty = true;
      dirty_.push_back(&c);
    }
  }

  void WantOut(Client& c, bool want) {
    if (c.want_out == want) {
      return;
    }
    c.want_out = want;
    UpdateEvents(c);
  }

  // UpdateEvents registers `c` for what it waits for: EPOLLIN unless its reading is paused,
  // EPOLLOUT while its output is blocked.
  void UpdateEvents(Client& c) {
    if (c.fd < 0) {
      return;
    }
    epoll_event ev{};
    ev.events = (c.read_paused ? 0u : static_cast<uint32_t>(EPOLLIN)) |
                (c.want_out ? static_cast<uint32_t>(EPOLLOUT) : 0u);
    ev.data.ptr = &c;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void FlushDirty() {
    for (Client* c : dirty_) {
      c->dirty = false;
      if (c->fd < 0 || c->phase == Phase::kConnecting) {
        continue;
      }
      OutputQueue& out = c->conn->output();
      bool blocked = false;
      while (!out.empty()) {
        const ByteView p = out.pending();
        const ssize_t n = send(c->fd, p.data(), p.size(), MSG_NOSIGNAL);
        if (n > 0) {
          out.Consume(static_cast<size_t>(n));
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else if (n < 0 && errno == EAGAIN) {
          blocked = true;
          break;
        } else {
          Fail(Cat(c->nick, ": send: ", strerror(errno)));
          break;
        }
      }
      WantOut(*c, blocked);
    }
    dirty_.clear();
  }

  void CloseClient(Client& c) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
    c.phase = Phase::kClosed;
    c.conn.reset();
    --open_;
  }

  const ServerPublicKey& key_;
  OsRandom rng_;
  int epoll_;
  sockaddr_in addr_{};
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<Client*> dirty_;
  std::vector<Client*> paused_;  // paced clients whose EPOLLIN is off
  // InjectFault passes on `line` (a CHAT, a ROOM_LINE or a FILE_DATA, whose bytes are its
  // member `Field`) to `pass` as a wrong server would have delivered it.
  template <auto Field, typename Line, typename Pass>
  void InjectFault(const Line& line, const Pass& pass) {
    if (fault_ == "alter") {
      std::string text(line.*Field);
      text.back() = static_cast<char>(text.back() ^ 1);
      Line altered = line;
      altered.*Field = text;
      pass(altered);
    } else if (fault_ == "duplicate") {
      pass(line);
      pass(line);
    }
    // "drop": not passed on at all.
  }

  static constexpr uint64_t kFaultAt = 50;

  std::vector<uint8_t> read_buf_;
  std::string failure_;
  std::string fault_;
  bool fault_files_ = false;  // the fault is done to a FILE_DATA rather than a line
  uint64_t chats_ = 0;        // CHATs and ROOM_LINEs received by all clients
  uint64_t file_data_ = 0;    // FILE_DATAs received by all clients
  int open_ = 0;
};

// ---------------------------------------------------------------------------------------
// The room of the throughput and latency modes: S senders, R receivers, every message checked.

// Texts holds the text of each sender's recent messages: a receiver checks what arrives
// against it byte for byte. Message `seq` of sender `s` is "s<s> m<seq> " and then letters
// that depend on seq, up to B bytes.
class Texts {
 public:
  Texts(int senders, size_t ring, size_t len)
      : ring_(ring), len_(len), texts_(static_cast<size_t>(senders) * ring) {}
  const std::string& Make(int sender, uint64_t seq) {
    std::string& t = Slot(sender, seq);
    t = Cat("s", sender, " m", seq, " ");
    for (size_t i = t.size(); i < len_; ++i) {
      t.push_back(static_cast<char>('a' + (seq + i) % 26));
    }
    t.resize(len_);
    return t;
  }
  const std::string& Get(int sender, uint64_t seq) { return Slot(sender, seq); }
  size_t ring() const { return ring_; }

 private:
  std::string& Slot(int sender, uint64_t seq) {
    return texts_[static_cast<size_t>(sender) * ring_ + seq % ring_];
  }
  size_t ring_;
  size_t len_;
  std::vector<std::string> texts_;
};

struct Room {
  std::vector<Client*> senders;
  std::vector<Client*> receivers;  // receivers only
  std::vector<Client*> all;        // senders and receivers
  std::vector<uint64_t> sent;      // per sender
  uint64_t receiver_deliveries = 0;
  uint64_t sender_deliveries = 0;
  int64_t last_delivery_ns = 0;
  int joined = 0;
};

std::string SenderNick(int i) { return Cat("snd", i); }

// Verify checks one CHAT at `c` against what its sender sent; returns the sender's index and
// the message's sequence number, or fails the driver.
std::optional<std::pair<int, uint64_t>> Verify(Driver& d, Room& room, Texts& texts, Client& c,
                                               const msg::Chat& chat) {
  int s = -1;
  if (chat.from.size() > 3 && chat.from.substr(0, 3) == "snd") {
    s = std::atoi(std::string(chat.from.substr(3)).c_str());
  }
  if (s < 0 || s >= static_cast<int>(room.senders.size()) || chat.from != room.senders[s]->nick ||
      s == c.sender || chat.flags != 0) {
    d.Fail(Cat(c.nick, ": CHAT from an unexpected sender or with flags: ", chat.from));
    return std::nullopt;
  }
  const uint64_t seq = c.next_seq[s];
  if (seq >= room.sent[s]) {
    d.Fail(Cat(c.nick, ": more messages from ", chat.from, " than it sent (", seq, ")"));
    return std::nullopt;
  }
  if (room.sent[s] - seq > texts.ring()) {
    d.Fail(Cat(c.nick, ": fell more than ", texts.ring(), " messages behind"));
    return std::nullopt;
  }
  if (chat.text != texts.Get(s, seq)) {
    d.Fail(Cat(c.nick, ": message ", seq, " from ", chat.from,
               " is not what was sent (wrong content, order or a lost message)"));
    return std::nullopt;
  }
  ++c.next_seq[s];
  ++c.chats;
  if (c.receiver) {
    ++room.receiver_deliveries;
  } else {
    ++room.sender_deliveries;
  }
  return std::make_pair(s, seq);
}

// JoinRoom connects S senders and R receivers and runs until all are joined.
bool JoinRoom(Driver& d, Room& room, int senders, int receivers, int64_t deadline) {
  d.on_joined = [&](Client&) { ++room.joined; };
  for (int i = 0; i < senders; ++i) {
    Client* c = d.Open(SenderNick(i));
    if (c == nullptr) {
      return false;
    }
    c->sender = i;
    room.senders.push_back(c);
  }
  for (int i = 0; i < receivers; ++i) {
    Client* c = d.Open(Cat("rcv", i));
    if (c == nullptr) {
      return false;
    }
    c->receiver = true;
    room.receivers.push_back(c);
  }
  room.all = room.senders;
  room.all.insert(room.all.end(), room.receivers.begin(), room.receivers.end());
  for (Client* c : room.all) {
    c->next_seq.assign(static_cast<size_t>(senders), 0);
  }
  room.sent.assign(static_cast<size_t>(senders), 0);
  const int want = senders + receivers;
  return d.Run([&] { return room.joined == want; }, deadline);
}

struct Common {
  Server* server;
  int64_t deadline;
  std::vector<Ed25519Key> user_keys;  // handshake --auth: connection i's key, listed as h<i>
};

std::string HandshakeNick(int i) { return Cat("h", i); }

Json Throughput(Driver& d, const Common& common) {
  const int senders = absl::GetFlag(FLAGS_senders);
  const int receivers = absl::GetFlag(FLAGS_receivers);
  const auto messages = static_cast<uint64_t>(absl::GetFlag(FLAGS_messages));
  const auto window = static_cast<uint64_t>(absl::GetFlag(FLAGS_window));
  const auto bytes = static_cast<size_t>(absl::GetFlag(FLAGS_bytes));
  Room room;
  Json out;
  if (!JoinRoom(d, room, senders, receivers, common.deadline)) {
    return out;
  }
  Texts texts(senders, window, bytes);
  d.on_chat = [&](Client& c, const msg::Chat& chat, int64_t now) {
    if (Verify(d, room, texts, c, chat)) {
      room.last_delivery_ns = now;
    }
  };
  constexpr size_t kMaxQueued = 256 * 1024;  // bytes a sender queues before a send()
  d.on_tick = [&](int64_t) {
    for (int s = 0; s < senders; ++s) {
      Client& c = *room.senders[s];
      // Sent but not yet received by every other client.
      uint64_t acked = room.sent[s];
      for (Client* r : room.all) {
        if (r != &c) {
          acked = std::min(acked, r->next_seq[s]);
        }
      }
      while (room.sent[s] < messages && room.sent[s] - acked < window &&
             c.conn->output().size() < kMaxQueued) {
        d.Send(c, msg::Say{texts.Make(s, room.sent[s])});
        ++room.sent[s];
      }
    }
  };
  const uint64_t want_receiver = static_cast<uint64_t>(receivers) * senders * messages;
  const uint64_t want_sender = static_cast<uint64_t>(senders) * (senders - 1) * messages;
  const double cpu0 = CpuSeconds(common.server->pid());
  const double self0 = SelfCpuSeconds();
  const int64_t t0 = NowNs();
  const bool ok = d.Run(
      [&] {
        return room.receiver_deliveries == want_receiver && room.sender_deliveries == want_sender;
      },
      common.deadline);
  const double secs = static_cast<double>(room.last_delivery_ns - t0) / 1e9;
  const double cpu = CpuSeconds(common.server->pid()) - cpu0;
  out["receiver_deliveries"] = room.receiver_deliveries;
  out["sender_deliveries"] = room.sender_deliveries;
  out["seconds"] = secs;
  if (ok && secs > 0) {
    out["deliveries_per_second"] = static_cast<double>(room.receiver_deliveries) / secs;
    out["all_deliveries_per_second"] =
        static_cast<double>(room.receiver_deliveries + room.sender_deliveries) / secs;
    out["messages_per_second"] = static_cast<double>(senders * messages) / secs;
  } else {
    out["deliveries_per_second"] = 0;
  }
  out["server_cpu_seconds"] = cpu;
  out["server_cpu_per_delivery_us"] =
      cpu * 1e6 /
      static_cast<double>(std::max<uint64_t>(1, room.receiver_deliveries + room.sender_deliveries));
  out["server_peak_rss_kib"] = StatusKiB(common.server->pid(), "VmHWM");
  out["loadgen_cpu_seconds"] = SelfCpuSeconds() - self0;
  return out;
}

// Pacer has the driver send `total` messages evenly at `rate` per second: send(k) sends message
// k, due at t0() + k / rate, t0 being 10 ms after the pacer is made. Runs of the driver while
// it lives send them.
class Pacer {
 public:
  Pacer(Driver& d, uint64_t total, double rate, std::function<void(uint64_t)> send)
      : d_(d), total_(total), interval_ns_(1e9 / rate), send_(std::move(send)) {
    d_.next_timer_ns = [this]() -> std::optional<int64_t> {
      if (next_ >= total_) {
        return std::nullopt;
      }
      return Due(next_);
    };
    d_.on_tick = [this](int64_t now) {
      for (; next_ < total_ && Due(next_) <= now; ++next_) {
        send_(next_);
      }
    };
  }
  ~Pacer() {
    d_.next_timer_ns = nullptr;
    d_.on_tick = nullptr;
  }
  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  int64_t t0() const { return t0_; }

 private:
  int64_t Due(uint64_t k) const {
    return t0_ + static_cast<int64_t>(static_cast<double>(k) * interval_ns_);
  }

  Driver& d_;
  const uint64_t total_;
  const double interval_ns_;
  const std::function<void(uint64_t)> send_;
  const int64_t t0_ = NowNs() + 10'000'000;
  uint64_t next_ = 0;
};

// PercentileMs is the p-th quantile of `latencies` (ns, not empty, reordered), in ms.
double PercentileMs(std::vector<int64_t>& latencies, double p) {
  const size_t i = std::min(latencies.size() - 1,
                            static_cast<size_t>(p * static_cast<double>(latencies.size())));
  std::nth_element(latencies.begin(), latencies.begin() + static_cast<ptrdiff_t>(i),
                   latencies.end());
  return static_cast<double>(latencies[i]) / 1e6;
}

// AddLatencies writes the percentiles of `latencies` (ns, reordered) to `out`, in ms.
void AddLatencies(std::vector<int64_t>& latencies, Json& out) {
  if (latencies.empty()) {
    return;
  }
  auto pct = [&](double p) { return PercentileMs(latencies, p); };
  out["p50_ms"] = pct(0.50);
  out["p99_ms"] = pct(0.99);
  out["p999_ms"] = pct(0.999);
  out["max_ms"] = static_cast<double>(*std::max_element(latencies.begin(), latencies.end())) / 1e6;
}

Json Latency(Driver& d, const Common& common) {
  const int senders = absl::GetFlag(FLAGS_senders);
  const int receivers = absl::GetFlag(FLAGS_receivers);
  const double rate = absl::GetFlag(FLAGS_rate);
  const auto bytes = static_cast<size_t>(absl::GetFlag(FLAGS_bytes));
  const auto total = static_cast<uint64_t>(rate * absl::GetFlag(FLAGS_seconds));
  Room room;
  Json out;
  if (!JoinRoom(d, room, senders, receivers, common.deadline)) {
    return out;
  }
  constexpr size_t kRing = 16384;
  Texts texts(senders, kRing, bytes);
  std::vector<int64_t> sent_at(static_cast<size_t>(senders) * kRing);
  std::vector<int64_t> latencies;
  latencies.reserve(total * static_cast<uint64_t>(receivers + senders - 1));
  d.on_chat = [&](Client& c, const msg::Chat& chat, int64_t now) {
    if (auto v = Verify(d, room, texts, c, chat)) {
      latencies.push_back(now - sent_at[static_cast<size_t>(v->first) * kRing + v->second % kRing]);
      room.last_delivery_ns = now;
    }
  };
  // Message k, over all senders, is sender k % S's.
  Pacer pacer(d, total, rate, [&](uint64_t k) {
    const int s = static_cast<int>(k % static_cast<uint64_t>(senders));
    const uint64_t seq = room.sent[s]++;
    d.Send(*room.senders[s], msg::Say{texts.Make(s, seq)});
    sent_at[static_cast<size_t>(s) * kRing + seq % kRing] = NowNs();
  });
  const int64_t t0 = pacer.t0();
  const uint64_t want = total * static_cast<uint64_t>(receivers + senders - 1);
  const double cpu0 = CpuSeconds(common.server->pid());
  const bool ok = d.Run([&] { return latencies.size() == want; }, common.deadline);
  out["messages"] = total;
  out["deliveries"] = latencies.size();
  out["server_cpu_seconds"] = CpuSeconds(common.server->pid()) - cpu0;
  if (!ok || latencies.empty()) {
    return out;
  }
  AddLatencies(latencies, out);
  out["achieved_rate"] =
      static_cast<double>(total) / (static_cast<double>(room.last_delivery_ns - t0) / 1e9);
  return out;
}

// JoinMany opens `count` clients named <prefix><i>, at most `in_flight` joining at once, and
// runs until all are joined; *out gets them.
bool JoinMany(Driver& d, const std::string& prefix, int count, int in_flight, int64_t deadline,
              std::vector<Client*>* out) {
  int joined = 0;
  auto open_next = [&] {
    if (static_cast<int>(out->size()) < count) {
      if (Client* c = d.Open(Cat(prefix, out->size()))) {
        out->push_back(c);
      }
    }
  };
  d.on_joined = [&](Client&) {
    ++joined;
    open_next();
  };
  for (int i = 0; i < in_flight; ++i) {
    open_next();
  }
  const bool ok = d.Run([&] { return joined == count; }, deadline);
  d.on_joined = nullptr;
  return ok;
}

// Settle keeps serving events (clients read whatever arrives) for `ns`.
bool Settle(Driver& d, int64_t ns, int64_t deadline) {
  const int64_t until = NowNs() + ns;
  return d.Run([&] { return NowNs() >= until; }, deadline);
}

Json Idle(Driver& d, const Common& common) {
  const int clients = absl::GetFlag(FLAGS_clients);
  const int in_flight = absl::GetFlag(FLAGS_in_flight);
  const pid_t pid = common.server->pid();
  Json out;
  // A first client joins and leaves, so that what a server sets up once (OpenSSL's tables,
  // the first RSA operation's caches) is in the baseline.
  std::vector<Client*> warm;
  bool closed = false;
  d.on_closed = [&](Client&) { closed = true; };
  if (!JoinMany(d, "warmup", 1, 1, common.deadline, &warm)) {
    return out;
  }
  d.Bye(*warm[0]);
  if (!d.Run([&] { return closed; }, common.deadline) || !Settle(d, 500'000'000, common.deadline)) {
    return out;
  }
  const int64_t rss0 = StatusKiB(pid, "VmRSS");
  std::vector<Client*> idle;
  const int64_t t0 = NowNs();
  if (!JoinMany(d, "idle", clients, in_flight, common.deadline, &idle)) {
    return out;
  }
  const double join_secs = static_cast<double>(NowNs() - t0) / 1e9;
  // Everyone reads the last join notices; then the server is left alone with them.
  if (!Settle(d, 1'000'000'000, common.deadline)) {
    return out;
  }
  const int64_t rss1 = StatusKiB(pid, "VmRSS");
  out["clients"] = clients;
  out["join_seconds"] = join_secs;
  out["server_rss_before_kib"] = rss0;
  out["server_rss_after_kib"] = rss1;
  out["server_rss_per_connection_kib"] =
      static_cast<double>(rss1 - rss0) / static_cast<double>(clients);
  out["server_peak_rss_kib"] = StatusKiB(pid, "VmHWM");
  return out;
}

Json Handshake(Driver& d, const Common& common) {
  const int total = absl::GetFlag(FLAGS_connections);
  const int in_flight = absl::GetFlag(FLAGS_in_flight);
  int opened = 0, done = 0;
  auto open_next = [&] {
    if (opened < total) {
      const Ed25519Key* key = common.user_keys.empty() ? nullptr : &common.user_keys[opened];
      d.Open(HandshakeNick(opened++), key);
    }
  };
  d.on_joined = [&](Client& c) { d.Bye(c); };
  d.on_closed = [&](Client&) {
    ++done;
    open_next();
  };
  const double cpu0 = CpuSeconds(common.server->pid());
  const double self0 = SelfCpuSeconds();
  const int64_t t0 = NowNs();
  for (int i = 0; i < in_flight; ++i) {
    open_next();
  }
  const bool ok = d.Run([&] { return done == total; }, common.deadline);
  const double secs = static_cast<double>(NowNs() - t0) / 1e9;
  const double cpu = CpuSeconds(common.server->pid()) - cpu0;
  Json out;
  out["connections"] = done;
  out["seconds"] = secs;
  out["connections_per_second"] = ok ? done / secs : 0.0;
  out["server_cpu_seconds"] = cpu;
  out["server_cpu_per_connection_ms"] = done > 0 ? cpu * 1e3 / done : 0.0;
  out["loadgen_cpu_seconds"] = SelfCpuSeconds() - self0;
  out["server_peak_rss_kib"] = StatusKiB(common.server->pid(), "VmHWM");
  return out;
}

// ---------------------------------------------------------------------------------------
// The rooms mode: N clients in R rooms of K = N/R, every client saying lines at a fixed rate;
// the same deliveries per second in one room of all N, from fewer senders; and the server's
// memory per room once every room's history is full.

// Group is one room of the rooms mode and what was said in it. Its members are the clients
// numbered first .. first + size - 1 (the number in their nick), and the first `senders` of
// them say lines. A member keeps the number of the next line it expects from sender s of the
// group in next_seq[slot + s].
struct Group {
  std::string name;
  int first = 0;
  int size = 0;
  int senders = 0;
  size_t slot = 0;
  std::vector<uint64_t> sent;  // lines said, per sender
  std::unique_ptr<Texts> texts;
  std::vector<int64_t> sent_at;  // when each line that `texts` holds was sent, in its order
};

struct RoomsRun {
  std::vector<Client*> clients;  // client i is RoomsNick(i)
  std::vector<Group> groups;     // the R rooms, then the room of all
  std::map<std::string, int, std::less<>> by_name;
  Client* probe = nullptr;     // joins room 0 once it is full, to read its history
  std::vector<int> joining;    // per client (the probe last): the group it is joining
  int answers = 0;             // HISTORY_ENDs of the rooms joined
  uint64_t deliveries = 0;     // live lines verified at members other than their sender
  uint64_t echoes = 0;         // live lines verified at their own sender
  uint64_t history_lines = 0;  // history lines verified at the probe
  uint64_t probe_last_seq = 0;
  bool measuring = false;  // latencies are kept
  std::vector<int64_t> latencies;
  int64_t last_line_ns = 0;
};

std::string RoomsNick(int i) { return Cat("u", i); }
constexpr std::string_view kRoomsNickPrefix = "u";

// NickNumber returns i for the nick "<prefix><i>", or -1.
int NickNumber(std::string_view nick, std::string_view prefix) {
  if (nick.size() <= prefix.size() || nick.substr(0, prefix.size()) != prefix) {
    return -1;
  }
  int i = -1;
  const char* end = nick.data() + nick.size();
  auto [p, ec] = std::from_chars(nick.data() + prefix.size(), end, i);
  return ec == std::errc() && p == end ? i : -1;
}

// VerifyRoomLine checks one ROOM_LINE at `c`: a live line (a history line only at the probe,
// of room 0) of a room `c` is in, said by one of the room's senders, and the next that sender
// said, byte for byte. Fails the driver otherwise.
void VerifyRoomLine(Driver& d, RoomsRun& run, Client& c, const msg::RoomLine& line, int64_t now) {
  const bool at_probe = &c == run.probe;
  auto it = run.by_name.find(line.room);
  if (it == run.by_name.end() || (line.history != 0) != at_probe || (at_probe && it->second != 0)) {
    d.Fail(Cat(c.nick, ": a line of an unexpected room, or history where none was asked for: ",
               line.room, " history=", line.history));
    return;
  }
  Group& g = run.groups[static_cast<size_t>(it->second)];
  const int me = c.sender;
  const int from = NickNumber(line.from, kRoomsNickPrefix);
  const int s = from - g.first;
  if ((!at_probe && (me < g.first || me >= g.first + g.size)) || from < 0 || s < 0 ||
      s >= g.senders || line.action != 0) {
    d.Fail(Cat(c.nick, ": a line in ", line.room,
               " from an unexpected member or as an action: ", line.from));
    return;
  }
  uint64_t& next = c.next_seq[g.slot + static_cast<size_t>(s)];
  const uint64_t seq = next;
  if (seq >= g.sent[s]) {
    d.Fail(Cat(c.nick, ": more lines in ", line.room, " from ", line.from, " than it said (", seq,
               ")"));
    return;
  }
  if (g.sent[s] - seq > g.texts->ring()) {
    d.Fail(Cat(c.nick, ": fell more than ", g.texts->ring(), " lines behind in ", line.room));
    return;
  }
  if (line.text != g.texts->Get(s, seq)) {
    d.Fail(Cat(c.nick, ": line ", seq, " from ", line.from, " in ", line.room,
               " is not what was sent (wrong content, order or a lost line)"));
    return;
  }
  ++next;
  run.last_line_ns = now;
  if (at_probe) {
    ++run.history_lines;
  } else if (from == me) {
    ++run.echoes;
  } else {
    ++run.deliveries;
    if (run.measuring) {
      const size_t ring = g.texts->ring();
      run.latencies.push_back(now - g.sent_at[static_cast<size_t>(s) * ring + seq % ring]);
    }
  }
}

// Say has sender `s` of `g` say its next line.
void Say(Driver& d, RoomsRun& run, Group& g, int s) {
  const uint64_t seq = g.sent[s]++;
  d.Send(*run.clients[static_cast<size_t>(g.first + s)],
         msg::RoomSay{g.name, 0, g.texts->Make(s, seq)});
  const size_t ring = g.texts->ring();
  g.sent_at[static_cast<size_t>(s) * ring + seq % ring] = NowNs();
}

// JoinGroup has `members` (client numbers; N is the probe) send ROOM_JOIN for `group` and runs
// until each has its HISTORY_END.
bool JoinGroup(Driver& d, RoomsRun& run, int group, const std::vector<int>& members,
               int64_t deadline) {
  const int n = static_cast<int>(run.clients.size());
  run.answers = 0;
  for (int i : members) {
    run.joining[static_cast<size_t>(i)] = group;
    Client& c = i == n ? *run.probe : *run.clients[static_cast<size_t>(i)];
    d.Send(c, msg::RoomJoin{run.groups[static_cast<size_t>(group)].name, 0, 0});
  }
  return d.Run([&] { return run.answers == static_cast<int>(members.size()); }, deadline);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()           ? 0
         : v.size() % 2 == 1 ? v[v.size() / 2]
                             : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Load has the senders of `groups` say lines at `rate` each for `seconds`, spread evenly in
// time, and runs until every line has reached every member of its room; *deliveries_per_second
// gets the deliveries (lines at members other than their sender) per second from the first
// line's due time to the last verified arrival, 0 on failure.
Json Load(Driver& d, RoomsRun& run, const std::vector<Group*>& groups, double rate, double seconds,
          const Common& common, double* deliveries_per_second) {
  std::vector<std::pair<Group*, int>> speakers;
  for (Group* g : groups) {
    for (int s = 0; s < g->senders; ++s) {
      speakers.emplace_back(g, s);
    }
  }
  const uint64_t m = speakers.size();
  const auto total = static_cast<uint64_t>(std::llround(static_cast<double>(m) * rate * seconds));
  uint64_t want = 0;  // deliveries: line k is said by speaker k % m
  for (uint64_t i = 0; i < m; ++i) {
    want +=
        (total / m + (i < total % m ? 1 : 0)) * static_cast<uint64_t>(speakers[i].first->size - 1);
  }
  run.deliveries = 0;
  run.echoes = 0;
  run.latencies.clear();
  run.latencies.reserve(want);
  run.measuring = true;
  const double cpu0 = CpuSeconds(common.server->pid());
  const double self0 = SelfCpuSeconds();
  int64_t t0 = 0;
  bool ok = false;
  {
    Pacer pacer(d, total, static_cast<double>(m) * rate, [&](uint64_t k) {
      auto [g, s] = speakers[k % m];
      Say(d, run, *g, s);
    });
    t0 = pacer.t0();
    ok = d.Run([&] { return run.deliveries == want && run.echoes == total; }, common.deadline);
  }
  run.measuring = false;
  const double secs = static_cast<double>(run.last_line_ns - t0) / 1e9;
  const double cpu = CpuSeconds(common.server->pid()) - cpu0;
  Json out;
  out["senders"] = m;
  out["rate_per_sender"] = rate;
  out["lines"] = total;
  out["deliveries"] = run.deliveries;
  out["echoes"] = run.echoes;
  out["offered_deliveries_per_second"] = static_cast<double>(want) / seconds;
  *deliveries_per_second = ok && secs > 0 ? static_cast<double>(run.deliveries) / secs : 0;
  out["deliveries_per_second"] = *deliveries_per_second;
  out["seconds"] = secs;
  out["server_cpu_seconds"] = cpu;
  out["server_cpu_per_delivery_us"] =
      cpu * 1e6 / static_cast<double>(std::max<uint64_t>(1, run.deliveries));
  out["loadgen_cpu_seconds"] = SelfCpuSeconds() - self0;
  if (ok) {
    AddLatencies(run.latencies, out);
  }
  return out;
}

// RoomsFlagsValid says whether the rooms mode's flags make sense: rooms of at least two
// members, all of the same size, and senders for the one room.
bool RoomsFlagsValid() {
  const int n = absl::GetFlag(FLAGS_clients);
  const int r = absl::GetFlag(FLAGS_rooms);
  const int one_senders = absl::GetFlag(FLAGS_one_room_senders);
  return r >= 1 && n >= 2 * r && n % r == 0 && one_senders >= 1 && one_senders <= n &&
         absl::GetFlag(FLAGS_per_client_rate) > 0 && absl::GetFlag(FLAGS_seconds) > 0 &&
         absl::GetFlag(FLAGS_history) >= 0 && absl::GetFlag(FLAGS_fill_lines) >= 0 &&
         absl::GetFlag(FLAGS_rounds) >= 1;
}

Json Rooms(Driver& d, const Common& common) {
  const int n = absl::GetFlag(FLAGS_clients);
  const int r = absl::GetFlag(FLAGS_rooms);
  const int k = n / r;
  const double rate = absl::GetFlag(FLAGS_per_client_rate);
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const auto bytes = static_cast<size_t>(absl::GetFlag(FLAGS_bytes));
  const int history = absl::GetFlag(FLAGS_history);
  const int fill = absl::GetFlag(FLAGS_fill_lines);
  const int one_senders = absl::GetFlag(FLAGS_one_room_senders);
  const pid_t pid = common.server->pid();
  // The one room's senders share the rooms' deliveries per second: N * rate * (K - 1) over
  // N - 1 receivers each.
  const double one_rate =
      static_cast<double>(n) * rate * (k - 1) / (static_cast<double>(n - 1) * one_senders);
  Json out;
  // Until the loads are done, a run that fails scores nothing.
  for (const char* key : {"deliveries_per_second", "one_room_deliveries_per_second", "ratio"}) {
    out[key] = 0;
  }
  RoomsRun run;
  run.joining.assign(static_cast<size_t>(n) + 1, -1);
  // A sender's texts must outlast the lines it has in flight: four seconds of them.
  auto ring = [](double per_second) {
    return static_cast<size_t>(std::clamp(per_second * 4, 64.0, 16384.0));
  };
  for (int i = 0; i < r; ++i) {
    Group g;
    g.name = Cat("#r", i);
    g.first = i * k;
    g.size = k;
    g.senders = k;
    g.slot = 0;
    g.texts =
        std::make_unique<Texts>(k, std::max<size_t>(ring(rate), static_cast<size_t>(fill)), bytes);
    run.groups.push_back(std::move(g));
  }
  Group all;
  all.name = "#all";
  all.size = n;
  all.senders = one_senders;
  all.slot = static_cast<size_t>(k);
  all.texts = std::make_unique<Texts>(one_senders, ring(one_rate), bytes);
  run.groups.push_back(std::move(all));
  for (size_t i = 0; i < run.groups.size(); ++i) {
    Group& g = run.groups[i];
    g.sent.assign(static_cast<size_t>(g.senders), 0);
    g.sent_at.assign(static_cast<size_t>(g.senders) * g.texts->ring(), 0);
    run.by_name.emplace(g.name, static_cast<int>(i));
  }

  // Everyone joins #lobby, the probe last.
  std::vector<Client*> probe;
  if (!JoinMany(d, std::string(kRoomsNickPrefix), n, absl::GetFlag(FLAGS_in_flight),
                common.deadline, &run.clients) ||
      !JoinMany(d, "probe", 1, 1, common.deadline, &probe)) {
    return out;
  }
  run.probe = probe[0];
  run.probe->sender = n;
  run.probe->next_seq.assign(static_cast<size_t>(k), 0);
  for (int i = 0; i < n; ++i) {
    run.clients[static_cast<size_t>(i)]->sender = i;
    run.clients[static_cast<size_t>(i)]->next_seq.assign(static_cast<size_t>(k + one_senders), 0);
  }
  d.on_room_line = [&](Client& c, const msg::RoomLine& line, int64_t now) {
    VerifyRoomLine(d, run, c, line, now);
  };
  d.on_room_answer = [&](Client& c, const msg::ServerMessage& m) {
    const int group = run.joining[static_cast<size_t>(c.sender)];
    const std::string_view want =
        group < 0 ? std::string_view()
                  : std::string_view(run.groups[static_cast<size_t>(group)].name);
    if (const auto* joined = std::get_if<msg::RoomJoined>(&m)) {
      if (joined->room != want) {
        d.Fail(Cat(c.nick, ": ROOM_JOINED ", joined->room, " while joining ", want));
      }
      return;
    }
    const auto& end = std::get<msg::HistoryEnd>(m);
    // Rooms are joined while silent, except by the probe.
    if (end.room != want || (&c != run.probe && end.last_seq != 0)) {
      d.Fail(Cat(c.nick, ": HISTORY_END ", end.room, " (last line ", end.last_seq,
                 ") while joining ", want));
      return;
    }
    if (&c == run.probe) {
      run.probe_last_seq = end.last_seq;
    }
    run.joining[static_cast<size_t>(c.sender)] = -1;
    ++run.answers;
  };
  // Every connection first receives and sends a message at least as long as a room line (a
  // whisper to the next client), so that the buffers each connection grows to the largest
  // message it has seen are grown before the memory is measured.
  const std::string warm(std::min<size_t>(bytes + 64, proto::kMaxTextLen), 'w');
  uint64_t whispers = 0;
  d.on_chat = [&](Client& c, const msg::Chat& chat, int64_t) {
    if (chat.flags != proto::kChatFlagPrivate || chat.text != warm ||
        NickNumber(chat.from, kRoomsNickPrefix) != (c.sender + n - 1) % n) {
      d.Fail(Cat(c.nick, ": an unexpected CHAT from ", chat.from));
      return;
    }
    ++whispers;
  };
  for (int i = 0; i < n; ++i) {
    d.Send(*run.clients[static_cast<size_t>(i)], msg::Whisper{RoomsNick((i + 1) % n), warm});
  }
  if (!d.Run([&] { return whispers == static_cast<uint64_t>(n); }, common.deadline)) {
    return out;
  }
  d.on_chat = nullptr;
  if (!Settle(d, 1'000'000'000, common.deadline)) {
    return out;
  }
  const int64_t rss0 = StatusKiB(pid, "VmRSS");

  // The R rooms, joined and silent.
  for (int g = 0; g < r; ++g) {
    std::vector<int> members(static_cast<size_t>(k));
    for (int i = 0; i < k; ++i) {
      members[static_cast<size_t>(i)] = g * k + i;
    }
    if (!JoinGroup(d, run, g, members, common.deadline)) {
      return out;
    }
  }
  if (!Settle(d, 1'000'000'000, common.deadline)) {
    return out;
  }
  const int64_t rss1 = StatusKiB(pid, "VmRSS");

  // Every room's history filled: `fill` lines of B bytes each, the members taking turns. One
  // line per room at a time, so that no connection's output queue grows past one line, as
  // the whispers left it: what grows is the history.
  for (int j = 0; j < fill; ++j) {
    for (int g = 0; g < r; ++g) {
      Say(d, run, run.groups[static_cast<size_t>(g)], j % k);
    }
    const auto said = static_cast<uint64_t>(r) * static_cast<uint64_t>(j + 1);
    if (!d.Run(
            [&] {
              return run.echoes == said && run.deliveries == said * static_cast<uint64_t>(k - 1);
            },
            common.deadline)) {
      return out;
    }
  }
  if (!Settle(d, 1'000'000'000, common.deadline)) {
    return out;
  }
  const int64_t rss2 = StatusKiB(pid, "VmRSS");

  // The probe joins room 0 and must be given its last min(history, fill) lines as history.
  // The fill said them in turn, so the lines forgotten are the first fill - kept.
  const auto kept = static_cast<uint64_t>(std::min(history, fill));
  for (int j = 0; j < fill - static_cast<int>(kept); ++j) {
    ++run.probe->next_seq[static_cast<size_t>(j % k)];
  }
  if (!JoinGroup(d, run, 0, {n}, common.deadline)) {
    return out;
  }
  if (run.history_lines != kept || run.probe_last_seq != static_cast<uint64_t>(fill)) {
    d.Fail(Cat("the probe was given ", run.history_lines, " history lines of room 0 (", kept,
               " expected) and a last line ", run.probe_last_seq, " (", fill, " said)"));
    return out;
  }
  bool probe_gone = false;
  d.on_closed = [&](Client&) { probe_gone = true; };
  d.Bye(*run.probe);
  if (!d.Run([&] { return probe_gone; }, common.deadline)) {
    return out;
  }

  Json memory;
  memory["server_rss_lobby_kib"] = rss0;
  memory["server_rss_rooms_kib"] = rss1;
  memory["server_rss_full_kib"] = rss2;
  memory["history_lines_per_room"] = kept;
  memory["history_text_bytes_per_room"] = kept * bytes;
  memory["server_rss_per_room_empty_kib"] = static_cast<double>(rss1 - rss0) / r;
  memory["server_rss_per_room_full_kib"] = static_cast<double>(rss2 - rss0) / r;
  memory["server_rss_per_room_history_kib"] = static_cast<double>(rss2 - rss1) / r;
  out["memory"] = std::move(memory);

  // The room of all, then the load: rooms and one room in turn.
  std::vector<int> everyone(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    everyone[static_cast<size_t>(i)] = i;
  }
  if (!JoinGroup(d, run, r, everyone, common.deadline)) {
    return out;
  }
  std::vector<Group*> rooms;
  for (int g = 0; g < r; ++g) {
    rooms.push_back(&run.groups[static_cast<size_t>(g)]);
  }
  std::vector<double> rooms_dps, one_dps, ratios;
  for (int round = 1; round <= absl::GetFlag(FLAGS_rounds); ++round) {
    // A load that fails ends the run; what the round had measured is still reported.
    double a = 0, b = 0;
    Json pair;
    pair["rooms"] = Load(d, run, rooms, rate, seconds, common, &a);
    if (d.error().empty()) {
      pair["one_room"] =
          Load(d, run, {&run.groups[static_cast<size_t>(r)]}, one_rate, seconds, common, &b);
    }
    if (!d.error().empty()) {
      out[Cat("round_", round)] = std::move(pair);
      return out;
    }
    pair["ratio"] = b > 0 ? a / b : 0.0;
    out[Cat("round_", round)] = std::move(pair);
    rooms_dps.push_back(a);
    one_dps.push_back(b);
    ratios.push_back(b > 0 ? a / b : 0.0);
  }
  out["clients"] = n;
  out["rooms"] = r;
  out["members_per_room"] = k;
  out["one_room_senders"] = one_senders;
  out["one_room_rate_per_sender"] = one_rate;
  out["deliveries_per_second"] = Median(rooms_dps);
  out["one_room_deliveries_per_second"] = Median(one_dps);
  out["ratio"] = Median(ratios);
  out["server_rss_per_room_full_kib"] = static_cast<double>(rss2 - rss0) / r;
  out["server_peak_rss_kib"] = StatusKiB(pid, "VmHWM");
  return out;
}

// ---------------------------------------------------------------------------------------
// The files mode: one file of F bytes from a sender to a receiver through the server
// (FILE_OFFER, FILE_ACCEPT, FILE_CHUNKs relayed as FILE_DATA, FILE_DONE), while a third client
// says a chat line at a fixed rate that the receiver times; the server's memory idle and at
// its peak during the transfer; and the same number of bytes through scp to 127.0.0.1.

// FileBytes is the file's content: a deterministic pseudo-random stream, word i (8 bytes)
// being SplitMix64 of i. Nothing is read from disk, the sender makes any part of it on demand,
// and its SHA-256 is computed before it is offered, as a client hashes a file before it offers
// it.
void FileBytes(uint64_t offset, absl::Span<uint8_t> out) {
  size_t i = 0;
  while (i < out.size()) {
    const uint64_t pos = offset + i;
    uint64_t z = (pos / 8 + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const size_t skip = pos % 8;
    const size_t n = std::min<size_t>(8 - skip, out.size() - i);
    std::memcpy(out.data() + i, reinterpret_cast<const uint8_t*>(&z) + skip, n);
    i += n;
  }
}

// FileHash is the SHA-256 of the first `size` bytes of FileBytes' stream, or "" if OpenSSL
// fails.
std::string FileHash(uint64_t size) {
  Sha256 sha;
  std::vector<uint8_t> block(1 << 20);
  for (uint64_t off = 0; off < size; off += block.size()) {
    const auto n = static_cast<size_t>(std::min<uint64_t>(block.size(), size - off));
    FileBytes(off, absl::MakeSpan(block.data(), n));
    if (!sha.Update(ByteView(block.data(), n))) {
      return "";
    }
  }
  Sha256Digest digest{};
  if (!sha.Final(&digest)) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

// ChatLine is the chatter's line `seq`, which carries the time it was sent; ParseChatLine
// gives both back, or nullopt for any other text.
std::string ChatLine(uint64_t seq, int64_t sent_ns) { return Cat("line ", seq, " sent ", sent_ns); }
std::optional<std::pair<uint64_t, int64_t>> ParseChatLine(std::string_view text) {
  uint64_t seq = 0;
  int64_t sent = 0;
  constexpr std::string_view kLine = "line ", kSent = " sent ";
  if (text.substr(0, kLine.size()) != kLine) {
    return std::nullopt;
  }
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data() + kLine.size(), end, seq);
  if (ec != std::errc() ||
      std::string_view(p, static_cast<size_t>(end - p)).substr(0, kSent.size()) != kSent) {
    return std::nullopt;
  }
  auto [q, ec2] = std::from_chars(p + kSent.size(), end, sent);
  if (ec2 != std::errc() || q != end) {
    return std::nullopt;
  }
  return std::make_pair(seq, sent);
}

// ScpBaseline runs bench/scp_baseline.sh for `bytes` and returns what it says: the seconds
// scp took, or why there is no figure (`*why`).
std::optional<double> ScpBaseline(uint64_t bytes, std::string* why) {
  TempDir dir;
  const std::string log = dir.File("scp.log");
  int pipe_fds[2];
  if (dir.path().empty() || pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *why = "cannot make a temporary directory or a pipe";
    return std::nullopt;
  }
  const pid_t pid =
      Spawn({"/bin/bash", absl::GetFlag(FLAGS_scp_script), Cat(bytes)}, pipe_fds[1], log);
  close(pipe_fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(pipe_fds[0], buf, sizeof(buf))) != 0;) {
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  const bool exited = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status);
  const std::string errors = ReadFile(log);
  unlink(log.c_str());
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  constexpr std::string_view kSeconds = "seconds=";
  if (exited && WEXITSTATUS(status) == 0 && out.compare(0, kSeconds.size(), kSeconds) == 0) {
    char* end = nullptr;
    const double secs = std::strtod(out.c_str() + kSeconds.size(), &end);
    if (end != nullptr && *end == '\0' && secs > 0) {
      return secs;
    }
  }
  constexpr std::string_view kUnavailable = "unavailable: ";
  if (exited && WEXITSTATUS(status) == 0 &&
      out.compare(0, kUnavailable.size(), kUnavailable) == 0) {
    *why = out.substr(kUnavailable.size());
  } else {
    *why = Cat("scp_baseline.sh failed: ", out, errors);
  }
  return std::nullopt;
}

// FileRun is what the files mode's clients have done so far.
struct FileRun {
  static constexpr uint32_t kTag = 7;
  static constexpr std::string_view kName = "loadgen.bin";
  Client* sender = nullptr;
  Client* receiver = nullptr;
  Client* chatter = nullptr;
  uint64_t size = 0;
  std::string hash;          // SHA-256 of the file, 32 bytes
  uint32_t offered_id = 0;   // from FILE_OFFERED, at the sender
  uint32_t incoming_id = 0;  // from FILE_INCOMING, at the receiver
  bool streaming = false;    // the sender has FILE_ACCEPTED
  uint64_t sent = 0;         // bytes the sender has sealed into FILE_CHUNKs
  uint64_t received = 0;     // bytes the receiver has taken as FILE_DATA, in order
  Sha256 received_sha;
  bool sender_done = false;  // FILE_END done at the sender
  bool receiver_done = false;
  int64_t first_chunk_ns = 0;
  int64_t end_ns = 0;  // when the second FILE_END done arrived
  // The chatter's lines: said, and the next each listener (receiver, sender) expects.
  uint64_t said = 0;
  uint64_t heard_at_receiver = 0;
  uint64_t heard_at_sender = 0;
  std::vector<int64_t> latencies;  // at the receiver, of lines sent during the transfer
  int64_t rss_peak_kib = 0;        // VmRSS sampled during the transfer
  int64_t last_sample_ns = 0;
};

// FinishReceiving checks the whole file at the receiver: FILE_DONE if its SHA-256 is the
// offer's, else FILE_CANCEL and a failed run.
void FinishReceiving(Driver& d, FileRun& run) {
  Sha256Digest digest{};
  if (!run.received_sha.Final(&digest)) {
    d.Fail("SHA-256 failed");
    return;
  }
  if (std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()) != run.hash) {
    d.Send(*run.receiver, msg::FileCancel{run.incoming_id, "hash mismatch"});
    d.Fail(Cat(run.receiver->nick, ": the SHA-256 of the ", run.received,
               " bytes received is not what was offered"));
    return;
  }
  d.Send(*run.receiver, msg::FileDone{run.incoming_id});
}

// OnFileMessage checks one file message at the sender or the receiver against the one
// transfer of the run, and answers it as a client does.
void OnFileMessage(Driver& d, FileRun& run, Client& c, const msg::ServerMessage& m, int64_t now) {
  const bool at_sender = &c == run.sender;
  if (const auto* end = std::get_if<msg::FileEnd>(&m)) {
    const uint32_t id = at_sender ? run.offered_id : run.incoming_id;
    const uint32_t tag = at_sender ? FileRun::kTag : 0;
    if (end->id != id || end->tag != tag ||
        end->why != static_cast<uint8_t>(proto::FileEnd::kDone) ||
        (!at_sender && &c != run.receiver)) {
      d.Fail(Cat(c.nick, ": FILE_END id ", end->id, " tag ", end->tag, " why ",
                 static_cast<int>(end->why), " (", end->reason, ")"));
      return;
    }
    (at_sender ? run.sender_done : run.receiver_done) = true;
    if (run.sender_done && run.receiver_done) {
      run.end_ns = now;
    }
  } else if (const auto* offered = std::get_if<msg::FileOffered>(&m); offered && at_sender) {
    if (offered->tag != FileRun::kTag || offered->id == 0 || run.offered_id != 0) {
      d.Fail(Cat(c.nick, ": FILE_OFFERED tag ", offered->tag, " id ", offered->id));
    }
    run.offered_id = offered->id;
  } else if (const auto* accepted = std::get_if<msg::FileAccepted>(&m); accepted && at_sender) {
    if (accepted->id != run.offered_id || run.streaming) {
      d.Fail(Cat(c.nick, ": FILE_ACCEPTED id ", accepted->id));
    }
    run.streaming = true;
  } else if (const auto* in = std::get_if<msg::FileIncoming>(&m); in && &c == run.receiver) {
    if (in->id == 0 || run.incoming_id != 0 || in->from != run.sender->nick ||
        in->name != FileRun::kName || in->size != run.size || in->hash != run.hash) {
      d.Fail(Cat(c.nick, ": FILE_INCOMING id ", in->id, " from ", in->from, " of ", in->size,
                 " bytes is not the offer"));
      return;
    }
    run.incoming_id = in->id;
    d.Send(c, msg::FileAccept{in->id});
    if (run.size == 0) {
      FinishReceiving(d, run);
    }
  } else if (const auto* data = std::get_if<msg::FileData>(&m); data && &c == run.receiver) {
    if (data->id != run.incoming_id || data->offset != run.received ||
        data->data.size() > run.size - run.received) {
      d.Fail(Cat(c.nick, ": FILE_DATA id ", data->id, " at offset ", data->offset, " of ",
                 data->data.size(), " bytes, expected offset ", run.received, " of ", run.size));
      return;
    }
    if (!run.received_sha.Update(
            ByteView(reinterpret_cast<const uint8_t*>(data->data.data()), data->data.size()))) {
      d.Fail("SHA-256 failed");
      return;
    }
    run.received += data->data.size();
    if (run.received == run.size) {
      FinishReceiving(d, run);
    }
  } else {
    d.Fail(Cat(c.nick, ": a file message meant for the other side (kind ", m.index(),
               " of the variant)"));
  }
}

bool FilesFlagsValid() {
  return absl::GetFlag(FLAGS_file_bytes) >= 0 && absl::GetFlag(FLAGS_chat_rate) > 0 &&
         absl::GetFlag(FLAGS_receive_mb_per_second) >= 0;
}

Json Files(Driver& d, const Common& common) {
  const pid_t pid = common.server->pid();
  Json out;
  out["mb_per_second"] = 0;
  FileRun run;
  run.size = static_cast<uint64_t>(absl::GetFlag(FLAGS_file_bytes));
  run.hash = FileHash(run.size);
  if (run.hash.size() != proto::kFileHashLen) {
    d.Fail("cannot hash the file");
    return out;
  }
  std::vector<Client*> clients;  // f0 sends, f1 receives, f2 chats
  if (!JoinMany(d, "f", 3, 3, common.deadline, &clients)) {
    return out;
  }
  run.sender = clients[0];
  run.receiver = clients[1];
  run.chatter = clients[2];
  d.on_chat = [&](Client& c, const msg::Chat& chat, int64_t now) {
    const auto line = ParseChatLine(chat.text);
    uint64_t& next = &c == run.receiver ? run.heard_at_receiver : run.heard_at_sender;
    if (&c == run.chatter || chat.from != run.chatter->nick || chat.flags != 0 || !line ||
        line->first != next || next >= run.said) {
      d.Fail(Cat(c.nick, ": CHAT from ", chat.from, " is not the chatter's next line (", next,
                 " of ", run.said, " said)"));
      return;
    }
    ++next;
    // During the transfer: sent after its first chunk and before its end.
    if (&c == run.receiver && run.first_chunk_ns != 0 && line->second >= run.first_chunk_ns &&
        (run.end_ns == 0 || line->second < run.end_ns)) {
      run.latencies.push_back(now - line->second);
    }
  };
  d.on_file = [&](Client& c, const msg::ServerMessage& m, int64_t now) {
    OnFileMessage(d, run, c, m, now);
  };
  // The idle server, with its three clients joined; then its peak RSS is reset (clear_refs 5,
  // Linux 4.0 and later), so that VmHWM afterwards is the transfer's peak, not the start's.
  if (!Settle(d, 500'000'000, common.deadline)) {
    return out;
  }
  const int64_t rss_idle = StatusKiB(pid, "VmRSS");
  const bool hwm_reset = static_cast<bool>(std::ofstream(Cat("/proc/", pid, "/clear_refs")) << "5");
  run.rss_peak_kib = rss_idle;
  const double cpu0 = CpuSeconds(pid);
  const double self0 = SelfCpuSeconds();
  {
    // The chatter says its lines from now until the transfer is over; the sender streams
    // once accepted, keeping at most kSendQueue bytes sealed and not yet written, so that the
    // chatter's lines and the reads are served between its chunks.
    constexpr size_t kSendQueue = 256 * 1024;
    const double chat_rate = absl::GetFlag(FLAGS_chat_rate);
    Pacer pacer(d, std::numeric_limits<uint64_t>::max(), chat_rate, [&](uint64_t k) {
      d.Send(*run.chatter, msg::Say{ChatLine(k, NowNs())});
      run.said = k + 1;
    });
    std::vector<uint8_t> chunk(proto::kMaxChunkLen);
    // The pacer's own tick, then the sender's and the memory's.
    d.on_tick = [&, pace = d.on_tick](int64_t now) {
      pace(now);
      if (now - run.last_sample_ns >= 5'000'000 && run.first_chunk_ns != 0) {
        run.last_sample_ns = now;
        run.rss_peak_kib = std::max(run.rss_peak_kib, StatusKiB(pid, "VmRSS"));
      }
      while (run.streaming && run.sent < run.size &&
             run.sender->conn->output().size() < kSendQueue && d.error().empty()) {
        const auto n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), run.size - run.sent));
        FileBytes(run.sent, absl::MakeSpan(chunk.data(), n));
        if (run.sent == 0) {
          run.first_chunk_ns = NowNs();
        }
        d.Send(*run.sender,
               msg::FileChunk{run.offered_id, run.sent,
                              std::string_view(reinterpret_cast<const char*>(chunk.data()), n)});
        run.sent += n;
      }
    };
    run.receiver->read_rate = absl::GetFlag(FLAGS_receive_mb_per_second) * 1e6;
    d.Send(*run.sender,
           msg::FileOffer{FileRun::kTag, run.receiver->nick, FileRun::kName, run.size, run.hash});
    if (!d.Run([&] { return run.end_ns != 0; }, common.deadline)) {
      return out;
    }
    if (run.size == 0) {
      run.first_chunk_ns = run.end_ns;
    }
  }
  run.receiver->read_rate = 0;
  // The last lines said reach both listeners.
  if (!d.Run([&] { return run.heard_at_receiver == run.said && run.heard_at_sender == run.said; },
             common.deadline)) {
    return out;
  }
  const int64_t hwm = StatusKiB(pid, "VmHWM");
  const int64_t rss_peak = hwm_reset ? std::max(run.rss_peak_kib, hwm) : run.rss_peak_kib;
  const double secs = static_cast<double>(run.end_ns - run.first_chunk_ns) / 1e9;
  const double mbps = secs > 0 ? static_cast<double>(run.size) / 1e6 / secs : 0;
  out["file_bytes"] = run.size;
  out["receive_mb_per_second"] = absl::GetFlag(FLAGS_receive_mb_per_second);
  out["chunks"] = (run.size + proto::kMaxChunkLen - 1) / proto::kMaxChunkLen;
  out["hash_verified"] = true;
  out["seconds"] = secs;
  out["mb_per_second"] = mbps;
  out["mib_per_second"] = secs > 0 ? static_cast<double>(run.size) / 1048576.0 / secs : 0;
  Json chat;
  chat["rate"] = absl::GetFlag(FLAGS_chat_rate);
  chat["lines_during_transfer"] = run.latencies.size();
  chat["lines_said"] = run.said;
  AddLatencies(run.latencies, chat);
  const double p99 = run.latencies.empty() ? 0 : PercentileMs(run.latencies, 0.99);
  out["chat"] = std::move(chat);
  out["server_rss_idle_kib"] = rss_idle;
  out["server_rss_peak_kib"] = rss_peak;
  out["server_rss_peak_over_idle_kib"] = rss_peak - rss_idle;
  out["server_rss_peak_from"] = hwm_reset ? "VmHWM reset before the transfer, and VmRSS every 5 ms"
                                          : "VmRSS every 5 ms (VmHWM could not be reset)";
  out["server_cpu_seconds"] = CpuSeconds(pid) - cpu0;
  out["loadgen_cpu_seconds"] = SelfCpuSeconds() - self0;

  Json targets;
  // A transfer shorter than the chatter's interval has no lines to judge.
  if (!run.latencies.empty()) {
    targets["chat_p99_under_50_ms"] = p99 < 50;
  }
  targets["server_rss_peak_under_idle_plus_2_mib"] = rss_peak - rss_idle < 2048;
  if (absl::GetFlag(FLAGS_scp)) {
    std::string why;
    Json scp;
    if (const std::optional<double> scp_secs = ScpBaseline(run.size, &why)) {
      const double scp_mbps = static_cast<double>(run.size) / 1e6 / *scp_secs;
      scp["seconds"] = *scp_secs;
      scp["mb_per_second"] = scp_mbps;
      out["ratio_to_scp"] = mbps / scp_mbps;
      targets["at_least_half_of_scp"] = mbps >= 0.5 * scp_mbps;
    } else {
      scp["unavailable"] = why;
    }
    out["scp"] = std::move(scp);
  }
  out["targets"] = std::move(targets);
  return out;
}

}  // namespace
}  // namespace securechat::loadgen

int main(int argc, char** argv) {
  using namespace securechat::loadgen;
  absl::SetProgramUsageMessage(
      "drives a real chat-server on 127.0.0.1 and verifies every delivery.\n"
      "usage: chat-loadgen --mode=throughput|latency|idle|handshake|rooms|files [--json=FILE] "
      "[options]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "chat-loadgen: unexpected argument '%s'\n", rest[1]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const std::map<std::string, std::function<Json(Driver&, const Common&)>> modes = {
      {"throughput", Throughput}, {"latency", Latency}, {"idle", Idle},
      {"handshake", Handshake},   {"rooms", Rooms},     {"files", Files}};
  auto run = modes.find(mode);
  const int bytes = absl::GetFlag(FLAGS_bytes);
  const std::string fault = absl::GetFlag(FLAGS_fault);
  if (run == modes.end() || bytes < 24 || bytes > 4096 || absl::GetFlag(FLAGS_senders) < 1 ||
      absl::GetFlag(FLAGS_receivers) < 0 || absl::GetFlag(FLAGS_window) < 1 ||
      absl::GetFlag(FLAGS_in_flight) < 1 || absl::GetFlag(FLAGS_rate) <= 0 ||
      !(fault.empty() || fault == "alter" || fault == "drop" || fault == "duplicate") ||
      (mode == "rooms" && !RoomsFlagsValid()) || (mode == "files" && !FilesFlagsValid())) {
    std::fprintf(stderr, "chat-loadgen: bad flags (see --help)\n");
    return 2;
  }

  // The server's per-client limits are raised for load: no message rate limit, a large queue
  // cap, an unlimited handshake budget, and room for everyone from 127.0.0.1.
  // The rooms mode needs a client more (its probe), a room more (the room of all) and all N in
  // one room, and sets the history it fills.
  const int clients = mode == "rooms" ? std::max(1000, absl::GetFlag(FLAGS_clients) + 1) : 1000;
  std::vector<std::string> server_flags = {
      "--rate=0",
      "--max_queue_bytes=268435456",
      "--handshakes_per_second=1000000",
      Cat("--max_clients=", clients),
      Cat("--max_per_address=", clients),
      "--idle_timeout=3600s",
      "--handshake_timeout=60s",
  };
  if (mode == "rooms") {
    server_flags.push_back(Cat("--max_rooms=", absl::GetFlag(FLAGS_rooms) + 1));
    server_flags.push_back(Cat("--max_room_members=", std::max(1000, clients)));
    server_flags.push_back(Cat("--history=", absl::GetFlag(FLAGS_history)));
  }
  // The files mode's file may be larger than the server's default limit (1 GiB).
  if (mode == "files" && absl::GetFlag(FLAGS_file_bytes) > (int64_t{1} << 30)) {
    server_flags.push_back(Cat("--max_file_bytes=", absl::GetFlag(FLAGS_file_bytes)));
  }
  for (const std::string& f : absl::GetFlag(FLAGS_server_flags)) {
    server_flags.push_back(f);
  }
  // --auth: a key for each connection, all listed, and a server that admits members only.
  std::vector<securechat::Ed25519Key> user_keys;
  TempDir auth_dir;
  std::string error;
  if (absl::GetFlag(FLAGS_auth)) {
    if (mode != "handshake") {
      std::fprintf(stderr, "chat-loadgen: --auth is for --mode=handshake\n");
      return 2;
    }
    std::string members;
    for (int i = 0; i < absl::GetFlag(FLAGS_connections) && error.empty(); ++i) {
      std::optional<securechat::Ed25519Key> key = securechat::Ed25519Key::Generate();
      if (!key) {
        error = "cannot make a user key";
        break;
      }
      members += Cat(HandshakeNick(i), " ", securechat::PublicKeyLine(key->public_key(), ""), "\n");
      user_keys.push_back(std::move(*key));
    }
    std::ofstream(auth_dir.File("members")) << members;
    server_flags.push_back("--members=" + auth_dir.File("members"));
    server_flags.push_back("--access=members");
  }

  std::printf("chat-loadgen %s; chat-server flags: %s\n", mode.c_str(),
              absl::StrJoin(server_flags, " ").c_str());
  std::fflush(stdout);

  Json doc;
  doc["tool"] = "chat-loadgen";
  doc["mode"] = mode;
  doc["date"] = UtcNow();
  doc["loadavg_start"] = LoadAverage();
  doc["server_flags"] = server_flags;
  Json params;
  params["receivers"] = absl::GetFlag(FLAGS_receivers);
  params["senders"] = absl::GetFlag(FLAGS_senders);
  params["messages"] = absl::GetFlag(FLAGS_messages);
  params["bytes"] = bytes;
  params["window"] = absl::GetFlag(FLAGS_window);
  params["rate"] = absl::GetFlag(FLAGS_rate);
  params["seconds"] = absl::GetFlag(FLAGS_seconds);
  params["clients"] = absl::GetFlag(FLAGS_clients);
  params["rooms"] = absl::GetFlag(FLAGS_rooms);
  params["per_client_rate"] = absl::GetFlag(FLAGS_per_client_rate);
  params["one_room_senders"] = absl::GetFlag(FLAGS_one_room_senders);
  params["history"] = absl::GetFlag(FLAGS_history);
  params["fill_lines"] = absl::GetFlag(FLAGS_fill_lines);
  params["rounds"] = absl::GetFlag(FLAGS_rounds);
  params["connections"] = absl::GetFlag(FLAGS_connections);
  params["in_flight"] = absl::GetFlag(FLAGS_in_flight);
  params["key_bits"] = absl::GetFlag(FLAGS_key_bits);
  params["auth"] = absl::GetFlag(FLAGS_auth);
  params["file_bytes"] = absl::GetFlag(FLAGS_file_bytes);
  params["chat_rate"] = absl::GetFlag(FLAGS_chat_rate);
  params["receive_mb_per_second"] = absl::GetFlag(FLAGS_receive_mb_per_second);
  params["scp"] = absl::GetFlag(FLAGS_scp);
  doc["params"] = std::move(params);

  Server server;
  if (error.empty()) {
    error = server.Start(server_flags);
  }
  Json results;
  if (error.empty()) {
    Common common{&server, NowNs() + static_cast<int64_t>(absl::GetFlag(FLAGS_timeout) * 1e9),
                  std::move(user_keys)};
    Driver driver(server.public_key(), server.port());
    driver.set_fault(absl::GetFlag(FLAGS_fault), mode == "files");
    results = run->second(driver, common);
    error = driver.error();
    if (error.empty() && !server.Alive()) {
      error = "the server died";
    }
  }
  doc["loadavg_end"] = LoadAverage();
  doc["verified"] = error.empty();
  doc["error"] = error;
  if (!error.empty()) {
    // A wrong or failing server scores nothing.
    for (const char* k :
         {"deliveries_per_second", "all_deliveries_per_second", "connections_per_second",
          "one_room_deliveries_per_second", "ratio", "mb_per_second", "ratio_to_scp"}) {
      if (results.contains(k)) {
        results[k] = 0;
      }
    }
  }
  doc["results"] = std::move(results);
  if (!error.empty()) {
    std::fprintf(stderr, "chat-loadgen: FAILED: %s\n", error.c_str());
    if (server.pid() > 0 || !server.LogTail().empty()) {
      std::fprintf(stderr, "server log (end):\n%s\n", server.LogTail().c_str());
    }
  }
  server.Stop();
  const std::string report = doc.Dump();
  std::printf("%s\n", report.c_str());
  const std::string json_path = absl::GetFlag(FLAGS_json);
  if (!json_path.empty()) {
    std::ofstream(json_path) << report << "\n";
  }
  return error.empty() ? 0 : 1;
}
