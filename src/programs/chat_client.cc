// chat-client: the securechat terminal client.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "securechat/base/cat.h"
#include "securechat/client/session.h"
#include "securechat/crypto/keys.h"
#include "securechat/net/client_loop.h"
#include "securechat/net/socket.h"
#include "securechat/wire/text.h"

ABSL_FLAG(std::string, connect, "127.0.0.1:5555", "server address: HOST:PORT or [IPv6]:PORT");
ABSL_FLAG(std::string, server_key, "keys/server_public.pem",
          "the server's public key (PEM); the client talks only to the holder of its private key");
ABSL_FLAG(std::string, nick, "", "your nick (required): 1 to 32 of A-Z a-z 0-9 _ . -");

namespace {

using securechat::Cat;

// Fail prints one line to stderr and returns `code`. Takes std:: or absl:: strings.
template <typename Text>
int Fail(int code, const Text& text) {
  const std::string message = Cat(text);
  std::fprintf(stderr, "chat-client: %s\n", message.c_str());
  return code;
}

void PrintLine(std::string_view line) {
  std::fprintf(stdout, "%.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the securechat terminal client.\n"
      "usage: chat-client --nick=NAME [--connect=127.0.0.1:5555]\n"
      "                   [--server_key=keys/server_public.pem]\n"
      "Type a line to say it to the room; /help lists the commands. With stdin a pipe or a\n"
      "file, each line is sent, then the client says goodbye and exits.\n"
      "Exit codes: 0 ok, 1 usage, 2 cannot connect, 3 server key confirmation failed,\n"
      "4 server full, 5 nick refused, 6 connection lost, 7 unsupported protocol version.");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    return Fail(securechat::kExitUsage, Cat("unexpected argument '", rest[1], "' (see --help)"));
  }
  const std::string nick = absl::GetFlag(FLAGS_nick);
  if (nick.empty()) {
    return Fail(securechat::kExitUsage, "--nick is required");
  }
  if (!securechat::IsValidNick(nick) || securechat::IsReservedNick(nick)) {
    return Fail(securechat::kExitUsage,
                "--nick must be 1 to 32 of A-Z a-z 0-9 _ . - and not 'server'");
  }
  auto key = securechat::ServerPublicKey::ReadFile(absl::GetFlag(FLAGS_server_key));
  if (!key.ok()) {
    return Fail(securechat::kExitUsage, key.status().message());
  }
  auto addr = securechat::net::ParseHostPort(absl::GetFlag(FLAGS_connect));
  if (!addr.ok()) {
    return Fail(securechat::kExitUsage, Cat("--connect: ", addr.status().message()));
  }
  securechat::net::ConnectError connect_error;
  auto socket = securechat::net::Connect(*addr, &connect_error);
  if (!socket.ok()) {
    return Fail(securechat::kExitCannotConnect, socket.status().message());
  }
  PrintLine(
      Cat("-!- connected to ", absl::GetFlag(FLAGS_connect), "; server key ", key->Fingerprint()));

  securechat::OsRandom rng;
  securechat::ClientConnection conn(*key, rng);
  if (!conn.Start()) {
    return Fail(securechat::kExitUsage, "cannot build the handshake with this server key");
  }
  securechat::ClientSession session(conn, nick, PrintLine, securechat::net::MonotonicMs);
  int rc = securechat::net::RunClient(conn, session, std::move(*socket), STDIN_FILENO);
  if (!session.final_message().empty()) {
    Fail(rc, session.final_message());
  }
  return rc;
}
