// Helpers for the integration tests: run the built programs as child processes, talk to them
// through pipes, and wait for what they print with deadlines (never with sleeps).
#ifndef SECURECHAT_TESTS_INTEGRATION_PROCESS_H_
#define SECURECHAT_TESTS_INTEGRATION_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "support/test_util.h"  // TempDir

namespace securechat::testing {

using Duration = std::chrono::milliseconds;

// How long to wait for something that should happen at once on loopback. Passing tests never
// wait this long; failing ones stop after it.
inline constexpr Duration kWait = std::chrono::seconds(5);

// ProgramPath returns the path of a built program ("chat-server", "chat-client",
// "chat-keygen") in SECURECHAT_BIN_DIR.
std::string ProgramPath(std::string_view program);

// TestKeyPath returns the path of a file in tests/keys (SECURECHAT_TEST_KEY_DIR).
std::string TestKeyPath(std::string_view name);

// CopyFileWithMode copies `from` to `to` (replacing it) and gives the copy `mode`. Returns an
// error naming the file that failed.
absl::Status CopyFileWithMode(const std::string& from, const std::string& to, mode_t mode);

// CopyTestServerKey copies the 2048-bit test key (tests/keys/test_rsa2048_private.pem) into
// `dir` as server_private.pem with mode 0600, as chat-server wants a private key that no other
// user can read. Returns the copy's path, or an error if `dir` was not created or the copy
// failed.
absl::StatusOr<std::string> CopyTestServerKey(const TempDir& dir);

// Process is a running child program whose stdin, stdout and stderr are pipes. Output is
// collected as it arrives and kept whole, so a test can wait for a line and later check
// everything a program printed. The destructor kills (SIGKILL) and reaps a child that is
// still running.
class Process {
 public:
  // Start spawns `program` with `args` (not including argv[0]), with default signal handling
  // and the signals in `blocked` blocked (the mask is inherited through exec: a signal sent at
  // once then waits until the program unblocks it, instead of racing its start). Returns an
  // error if the pipes or the spawn fail; a program that starts and then fails shows up in
  // Wait().
  static absl::StatusOr<std::unique_ptr<Process>> Start(const std::string& program,
                                                        const std::vector<std::string>& args,
                                                        const std::vector<int>& blocked = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }

  // WriteStdin writes `line` and a newline to the child's stdin. Returns false if stdin is
  // closed or the child no longer reads it.
  bool WriteStdin(std::string_view line);
  // CloseStdin closes the child's stdin, so it reads end of file.
  void CloseStdin();

  // WaitForStdout waits until everything printed on stdout so far contains `text`. Returns
  // false if `timeout` passes first or stdout is closed without it.
  bool WaitForStdout(std::string_view text, Duration timeout);
  // WaitForStderr is WaitForStdout for stderr.
  bool WaitForStderr(std::string_view text, Duration timeout);
  // WaitForStderrCount waits until stderr holds `text` at least `count` times (not
  // overlapping). The server writes its log when the loop gets to it, after what it sent to
  // clients: a test that saw a client's answer waits for the matching log line this way.
  bool WaitForStderrCount(std::string_view text, size_t count, Duration timeout);
  // WaitForStdoutMatch waits until `re` matches (regex_search) somewhere in stdout. On success
  // fills *groups (if not null) with the whole match followed by the capture groups. Returns
  // false if `timeout` passes first or stdout is closed without a match.
  bool WaitForStdoutMatch(const std::regex& re, Duration timeout, std::vector<std::string>* groups);

  // HoldStderr(true) stops reading the child's stderr: its pipe fills as it would for a
  // reader that went away, and WaitForStderr sees only what was read before. HoldStderr(false)
  // reads it again.
  void HoldStderr(bool hold) { hold_stderr_ = hold; }

  // ReadAvailable collects whatever the child has printed so far, without waiting, and notices
  // an exit. A test that makes a child print a lot while it waits for something else calls it
  // now and then, so that a full pipe never blocks the child.
  void ReadAvailable();

  // Everything read from stdout / stderr so far.
  const std::string& out() const { return out_.text; }
  const std::string& err() const { return err_.text; }

  // Signal sends `sig` to the child. Returns false if it has already been reaped.
  bool Signal(int sig);
  // Wait waits up to `timeout` for the child to exit and then reads the rest of its output.
  // Returns its exit code, or 128 + N if signal N killed it; nullopt if it is still running at
  // the deadline. Once the child has exited, every later call returns the same value at once.
  std::optional<int> Wait(Duration timeout);

 private:
  struct Stream {
    int fd = -1;  // our non-blocking read end; -1 once the child closed it
    std::string text;
  };
  using Clock = std::chrono::steady_clock;

  Process() = default;
  // Pump waits until `deadline` (or until something happens) for output or the child's exit,
  // and appends whatever output is available. Returns false once nothing more can happen
  // before the deadline (it passed).
  bool Pump(Clock::time_point deadline);
  // DrainStderr reads what stderr holds now, unless it is held.
  void DrainStderr();
  // ReapIfExited collects the exit status without blocking. Returns true if the child is gone.
  bool ReapIfExited();
  // WaitFor waits until `done(stream.text)` holds. Returns false at the deadline or when the
  // stream is closed and `done` is still false.
  template <typename Done>
  bool WaitFor(Stream& stream, Done&& done, Duration timeout);

  pid_t pid_ = -1;
  int pidfd_ = -1;  // readable when the child exits; -1 if the kernel lacks pidfd_open
  int stdin_fd_ = -1;
  Stream out_;
  Stream err_;
  std::optional<int> exit_code_;
  bool hold_stderr_ = false;
};

// A chat-server started by StartServer.
struct ServerProcess {
  std::unique_ptr<Process> process;
  int port = 0;
  std::string address;      // "127.0.0.1:PORT"
  std::string fingerprint;  // "SHA256:...", as the server printed it
};

// StartServer runs `chat-server --listen 127.0.0.1:0 --key private_key extra_args...` and
// waits up to `timeout` for it to print the port it bound and its key fingerprint. Returns an
// error with the server's stderr if it exits or stays silent instead.
absl::StatusOr<ServerProcess> StartServer(const std::string& private_key,
                                          const std::vector<std::string>& extra_args,
                                          Duration timeout);

// RestartServer stops *server (SIGTERM, then a clean exit) and starts chat-server again on the
// same address with `private_key` (the key changed, as it does when an operator replaces it),
// replacing *server. Fails, saying why, if either step does.
absl::Status RestartServer(const std::string& private_key, Duration timeout, ServerProcess* server);

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_INTEGRATION_PROCESS_H_
