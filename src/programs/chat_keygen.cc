// chat-keygen: creates the server's RSA key pair.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "programs/flags.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/constant_time.h"
#include "securechat/crypto/key_files.h"
#include "securechat/crypto/keys.h"
#include "securechat/net/terminal.h"

ABSL_FLAG(int, bits, 3072, "RSA modulus size: 2048, 3072 or 4096");
ABSL_FLAG(std::string, out_dir, "keys",
          "directory for server_private.pem and server_public.pem: created with mode 0700 if "
          "missing, refused if other users may write to it");
ABSL_FLAG(bool, force, false,
          "replace existing key files (otherwise nothing is written if either one exists)");
ABSL_FLAG(std::string, passphrase_file, "",
          "encrypt the private key with the passphrase in this file (first line, at most 1024 "
          "bytes; the file must be mode 0600 or stricter)");
ABSL_FLAG(bool, ask_passphrase, false,
          "encrypt the private key with a passphrase typed at the terminal");

namespace {

using securechat::Cat;

// Fail prints one line to stderr and returns exit code 1. Takes std:: or absl:: strings.
template <typename Text>
int Fail(const Text& text) {
  const std::string message = Cat(text);
  std::fprintf(stderr, "chat-keygen: %s\n", message.c_str());
  return 1;
}

// WriteFailure is the message for a key file that could not be written; a file that exists
// (written meanwhile, or found by WriteKeyFile) says which flag replaces it.
std::string WriteFailure(const absl::Status& status) {
  if (absl::IsAlreadyExists(status)) {
    return Cat(status.message(), "; use --force to replace it");
  }
  return std::string(status.message());
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "creates the securechat server's RSA key pair.\n"
      "usage: chat-keygen [--bits=3072] [--out_dir=keys] [--force]\n"
      "                   [--passphrase_file=FILE | --ask_passphrase]\n"
      "Writes OUT_DIR/server_private.pem (PKCS#8, mode 0600) and OUT_DIR/server_public.pem,\n"
      "and prints the key's fingerprint. Give server_public.pem to every client.");
  if (const auto unexpected = securechat::ParseFlags(argc, argv)) {
    return Fail(Cat("unexpected argument '", *unexpected, "' (see --help)"));
  }
  const int bits = absl::GetFlag(FLAGS_bits);
  if (!securechat::IsAllowedRsaBits(bits)) {
    return Fail(Cat("--bits must be ", securechat::AllowedRsaBitsText(), ", not ", bits));
  }
  const std::string dir = absl::GetFlag(FLAGS_out_dir);
  const std::string priv_path = Cat(dir, "/server_private.pem");
  const std::string pub_path = Cat(dir, "/server_public.pem");
  const bool force = absl::GetFlag(FLAGS_force);

  std::optional<securechat::Passphrase> passphrase;
  if (!absl::GetFlag(FLAGS_passphrase_file).empty() && absl::GetFlag(FLAGS_ask_passphrase)) {
    return Fail("give --passphrase_file or --ask_passphrase, not both");
  }
  if (!absl::GetFlag(FLAGS_passphrase_file).empty()) {
    auto p = securechat::ReadPassphraseFile(absl::GetFlag(FLAGS_passphrase_file));
    if (!p.ok()) {
      return Fail(p.status().message());
    }
    passphrase.emplace(std::move(*p));
  }

  // Both files are checked before anything is asked or generated: a pair is written whole or
  // not at all, and a lone public key may be the one that clients pin.
  if (absl::Status ready = securechat::PrepareKeyDirectory(dir); !ready.ok()) {
    return Fail(Cat("--out_dir ", ready.message()));
  }
  if (!force) {
    for (const std::string* path : {&priv_path, &pub_path}) {
      struct stat st;
      if (lstat(path->c_str(), &st) == 0) {
        return Fail(Cat(*path, " already exists; use --force to replace both key files"));
      }
      if (errno != ENOENT) {
        return Fail(Cat("cannot check ", *path, ": ", std::strerror(errno)));
      }
    }
  }

  if (absl::GetFlag(FLAGS_ask_passphrase)) {
    auto first = securechat::net::AskPassphrase("passphrase for the new private key: ");
    if (!first.ok()) {
      return Fail(first.status().message());
    }
    auto again = securechat::net::AskPassphrase("the same passphrase again: ");
    if (!again.ok()) {
      return Fail(again.status().message());
    }
    if (!securechat::ConstantTimeEqual(first->Expose(), again->Expose())) {
      return Fail("the passphrases differ; nothing written");
    }
    passphrase.emplace(std::move(*first));
  }

  std::fprintf(stderr, "generating an RSA-%d key...\n", bits);
  auto key = securechat::ServerPrivateKey::Generate(bits);
  if (!key.ok()) {
    return Fail(key.status().message());
  }
  auto pem = key->ToPem(passphrase ? &*passphrase : nullptr);
  if (!pem.ok()) {
    return Fail(pem.status().message());
  }
  // Without --force each file is created only if it does not exist (WriteKeyFile links a
  // finished temporary file to the name, which fails if the name was taken meanwhile).
  absl::Status written =
      securechat::WriteKeyFile(priv_path, securechat::AsChars(pem->Expose()), 0600, force);
  pem->Wipe();
  if (!written.ok()) {
    return Fail(WriteFailure(written));
  }
  const securechat::ServerPublicKey pub = key->PublicKey();
  written = securechat::WriteKeyFile(pub_path, pub.ToPem(), 0644, force);
  if (!written.ok()) {
    if (!force && unlink(priv_path.c_str()) == 0) {
      return Fail(Cat(WriteFailure(written), "; removed the new ", priv_path, " again"));
    }
    return Fail(WriteFailure(written));
  }
  std::printf("wrote %s (RSA-%d, PKCS#8%s, mode 0600)\n", priv_path.c_str(), bits,
              passphrase ? ", passphrase-protected" : "");
  std::printf("wrote %s\n", pub_path.c_str());
  std::printf("fingerprint %s\n", pub.Fingerprint().c_str());
  return 0;
}
