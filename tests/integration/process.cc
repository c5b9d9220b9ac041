#include "integration/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/numbers.h"
#include "integration/expect.h"
#include "securechat/base/cat.h"

extern char** environ;

namespace securechat::testing {
namespace {

// Without pidfd_open, Pump wakes up this often to check whether the child has exited.
constexpr Duration kReapPollInterval(10);

void CloseFd(int* fd) {
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

// RemainingMs returns the whole milliseconds left until `deadline`, rounded up, at least 0.
int RemainingMs(std::chrono::steady_clock::time_point deadline) {
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) {
    return 0;
  }
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

// Drain appends everything readable on a non-blocking `*fd` to `*text`; at end of file or on
// an error it closes *fd and sets it to -1.
void Drain(int* fd, std::string* text) {
  char buf[4096];
  while (*fd >= 0) {
    ssize_t n = read(*fd, buf, sizeof(buf));
    if (n > 0) {
      text->append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    } else {
      CloseFd(fd);
    }
  }
}

}  // namespace

std::string ProgramPath(std::string_view program) { return Cat(SECURECHAT_BIN_DIR, "/", program); }

std::string TestKeyPath(std::string_view name) { return Cat(SECURECHAT_TEST_KEY_DIR, "/", name); }

absl::Status CopyFileWithMode(const std::string& from, const std::string& to, mode_t mode) {
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) {
    return absl::InternalError(Cat("cannot copy ", from, " to ", to, ": ", ec.message()));
  }
  if (chmod(to.c_str(), mode) != 0) {
    return absl::InternalError(Cat("cannot chmod ", to, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CopyTestServerKey(const TempDir& dir) {
  if (dir.path().empty()) {
    return absl::InternalError(Cat("mkdtemp failed: ", std::strerror(errno)));
  }
  std::string private_key = dir.File("server_private.pem");
  const absl::Status copied =
      CopyFileWithMode(TestKeyPath("test_rsa2048_private.pem"), private_key, 0600);
  if (!copied.ok()) {
    return copied;
  }
  return private_key;
}

absl::StatusOr<std::unique_ptr<Process>> Process::Start(const std::string& program,
                                                        const std::vector<std::string>& args,
                                                        const std::vector<int>& blocked) {
  // A child that dies must not kill the test through a write to its stdin.
  signal(SIGPIPE, SIG_IGN);

  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) {
    return absl::InternalError(Cat("pipe2: ", std::strerror(errno)));
  }
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return absl::InternalError(Cat("pipe2: ", std::strerror(errno)));
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) {
      close(fd);
    }
    return absl::InternalError(Cat("pipe2: ", std::strerror(errno)));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);

  // The child gets default signal handling and a mask of `blocked` only, whatever the test
  // runner has.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, mask;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD}) {
    sigaddset(&defaults, sig);
  }
  sigemptyset(&mask);
  for (int sig : blocked) {
    sigaddset(&mask, sig);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  argv.reserve(args.size() + 2);
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  for (int fd : {in[0], out[1], err[1]}) {
    close(fd);
  }
  if (rc != 0) {
    for (int fd : {in[1], out[0], err[0]}) {
      close(fd);
    }
    return absl::InternalError(Cat("cannot run ", program, ": ", std::strerror(rc)));
  }

  std::unique_ptr<Process> p(new Process());
  p->pid_ = pid;
  // Through syscall(): Debian's <sys/pidfd.h> declares pidfd_open without C linkage for C++.
  // -1 on kernels before 5.3: Pump then polls for the exit.
  p->pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  p->stdin_fd_ = in[1];
  p->out_.fd = out[0];
  p->err_.fd = err[0];
  for (int fd : {out[0], err[0]}) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return p;
}

Process::~Process() {
  CloseFd(&stdin_fd_);
  if (!exit_code_.has_value() && pid_ > 0) {
    kill(pid_, SIGKILL);
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  CloseFd(&pidfd_);
  CloseFd(&out_.fd);
  CloseFd(&err_.fd);
}

bool Process::WriteStdin(std::string_view line) {
  if (stdin_fd_ < 0) {
    return false;
  }
  std::string data = Cat(line, "\n");
  std::string_view rest = data;
  while (!rest.empty()) {
    ssize_t n = write(stdin_fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void Process::CloseStdin() { CloseFd(&stdin_fd_); }

bool Process::ReapIfExited() {
  if (exit_code_.has_value()) {
    return true;
  }
  int status;
  pid_t r;
  do {
    r = waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) {
    return false;
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  CloseFd(&pidfd_);
  return true;
}

bool Process::Pump(Clock::time_point deadline) {
  pollfd fds[3];
  nfds_t n = 0;
  for (int fd : {out_.fd, hold_stderr_ ? -1 : err_.fd}) {
    if (fd >= 0) {
      fds[n++] = pollfd{fd, POLLIN, 0};
    }
  }
  const bool running = !exit_code_.has_value();
  if (running && pidfd_ >= 0) {
    fds[n++] = pollfd{pidfd_, POLLIN, 0};
  }
  const bool watch_exit_by_polling = running && pidfd_ < 0;
  if (n == 0 && !watch_exit_by_polling) {
    return false;  // nothing left that could change
  }
  int timeout_ms = RemainingMs(deadline);
  if (timeout_ms == 0) {
    return false;
  }
  if (watch_exit_by_polling) {
    timeout_ms = std::min(timeout_ms, static_cast<int>(kReapPollInterval.count()));
  }
  const int ready = poll(fds, n, timeout_ms);
  if (ready < 0 && errno != EINTR) {
    return false;
  }
  Drain(&out_.fd, &out_.text);
  DrainStderr();
  if (running) {
    ReapIfExited();
  }
  return true;
}

template <typename Done>
bool Process::WaitFor(Stream& stream, Done&& done, Duration timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    if (done(stream.text)) {
      return true;
    }
    if (stream.fd < 0 || !Pump(deadline)) {
      return done(stream.text);
    }
  }
}

bool Process::WaitForStdout(std::string_view text, Duration timeout) {
  return WaitFor(
      out_, [text](const std::string& s) { return s.find(text) != std::string::npos; }, timeout);
}

bool Process::WaitForStderr(std::string_view text, Duration timeout) {
  return WaitFor(
      err_, [text](const std::string& s) { return s.find(text) != std::string::npos; }, timeout);
}

bool Process::WaitForStderrCount(std::string_view text, size_t count, Duration timeout) {
  return WaitFor(
      err_, [text, count](const std::string& s) { return CountOf(s, text) >= count; }, timeout);
}

bool Process::WaitForStdoutMatch(const std::regex& re, Duration timeout,
                                 std::vector<std::string>* groups) {
  std::smatch m;
  const bool found = WaitFor(
      out_, [&](const std::string& s) { return std::regex_search(s, m, re); }, timeout);
  if (found && groups != nullptr) {
    groups->clear();
    for (const auto& g : m) {
      groups->push_back(g.str());
    }
  }
  return found;
}

void Process::DrainStderr() {
  if (!hold_stderr_) {
    Drain(&err_.fd, &err_.text);
  }
}

void Process::ReadAvailable() {
  Drain(&out_.fd, &out_.text);
  DrainStderr();
  if (!exit_code_.has_value()) {
    ReapIfExited();
  }
}

bool Process::Signal(int sig) {
  if (exit_code_.has_value()) {
    return false;
  }
  // Until it is reaped the child's pid cannot be reused, so this reaches the right process.
  return kill(pid_, sig) == 0;
}

std::optional<int> Process::Wait(Duration timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!ReapIfExited()) {
    if (!Pump(deadline) && !ReapIfExited()) {
      return std::nullopt;
    }
  }
  // The child is gone: what it wrote is in the pipes now.
  Drain(&out_.fd, &out_.text);
  DrainStderr();
  return exit_code_;
}

absl::StatusOr<ServerProcess> StartServer(const std::string& private_key,
                                          const std::vector<std::string>& extra_args,
                                          Duration timeout) {
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--key", private_key};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto process = Process::Start(ProgramPath("chat-server"), args);
  if (!process.ok()) {
    return process.status();
  }
  static const std::regex kBanner(
      "securechat server listening on (127\\.0\\.0\\.1:([0-9]+))\n"
      "server key fingerprint (SHA256:[A-Za-z0-9+/]+)\n");
  std::vector<std::string> groups;
  if (!(*process)->WaitForStdoutMatch(kBanner, timeout, &groups)) {
    // Collect a quick exit's last words; a server that hangs is killed by the destructor.
    const std::optional<int> code = (*process)->Wait(Duration(200));
    return absl::UnavailableError(Cat("chat-server did not announce its port (exit ",
                                      code.has_value() ? Cat(*code) : "none yet", ")\nstdout:\n",
                                      (*process)->out(), "stderr:\n", (*process)->err()));
  }
  ServerProcess server;
  server.address = groups[1];
  if (!absl::SimpleAtoi(groups[2], &server.port) || server.port <= 0 || server.port > 65535) {
    return absl::InternalError(Cat("bad port in: ", groups[0]));
  }
  server.fingerprint = groups[3];
  server.process = std::move(*process);
  return server;
}

absl::Status RestartServer(const std::string& private_key, Duration timeout,
                           ServerProcess* server) {
  const std::string address = server->address;
  if (!server->process->Signal(SIGTERM)) {
    return absl::FailedPreconditionError("chat-server had already exited");
  }
  if (const std::optional<int> code = server->process->Wait(timeout); code != 0) {
    return absl::InternalError(Cat("chat-server did not stop cleanly: ", server->process->err()));
  }
  absl::StatusOr<ServerProcess> again = StartServer(private_key, {"--listen", address}, timeout);
  if (!again.ok()) {
    return again.status();
  }
  *server = std::move(*again);
  return absl::OkStatus();
}

}  // namespace securechat::testing
