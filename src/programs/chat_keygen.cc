// chat-keygen: creates the server's RSA key pair, or with --user a user's Ed25519 key pair.
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
#include "securechat/crypto/ed25519.h"
#include "securechat/crypto/key_files.h"
#include "securechat/crypto/keys.h"
#include "securechat/net/terminal.h"
#include "securechat/net/user_paths.h"

ABSL_FLAG(int, bits, 3072, "RSA modulus size of the server key: 2048, 3072 or 4096");
ABSL_FLAG(bool, user, false,
          "create your user key (Ed25519) instead of a server key: id_ed25519 and "
          "id_ed25519.pub, in ~/.config/securechat unless --out_dir says otherwise");
ABSL_FLAG(std::string, comment, "",
          "with --user: the comment at the end of id_ed25519.pub (default: user@host)");
ABSL_FLAG(std::string, out_dir, "",
          "directory for the key files (default: keys for a server key, ~/.config/securechat "
          "or $XDG_CONFIG_HOME/securechat with --user): created with mode 0700 if missing, "
          "refused if other users may write to it");
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

// NewKey is a key pair made and encoded, ready to be written.
struct NewKey {
  securechat::Secret<> private_pem;
  std::string public_text;
  std::string fingerprint;
  std::string what;  // "RSA-3072", "Ed25519"
};

// DefaultComment is user@host, as ssh-keygen writes it.
std::string DefaultComment() {
  const char* user = std::getenv("USER");
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) {
    host[0] = '\0';
  }
  return Cat(user != nullptr && user[0] != '\0' ? user : "user", "@",
             host[0] != '\0' ? host : "localhost");
}

// MakeServerKey draws an RSA key of `bits` and encodes it.
absl::StatusOr<NewKey> MakeServerKey(int bits, const securechat::Passphrase* passphrase) {
  std::fprintf(stderr, "generating an RSA-%d key...\n", bits);
  auto key = securechat::ServerPrivateKey::Generate(bits);
  if (!key.ok()) {
    return key.status();
  }
  auto pem = key->ToPem(passphrase);
  if (!pem.ok()) {
    return pem.status();
  }
  const securechat::ServerPublicKey pub = key->PublicKey();
  return NewKey{std::move(*pem), pub.ToPem(), pub.Fingerprint(), Cat("RSA-", bits)};
}

// MakeUserKey draws an Ed25519 key and encodes it, with the one-line public key file.
absl::StatusOr<NewKey> MakeUserKey(const std::string& comment,
                                   const securechat::Passphrase* passphrase) {
  auto key = securechat::Ed25519Key::Generate();
  if (!key) {
    return absl::InternalError("Ed25519 key generation failed");
  }
  auto pem = key->ToPem(passphrase);
  if (!pem.ok()) {
    return pem.status();
  }
  return NewKey{std::move(*pem), Cat(securechat::PublicKeyLine(key->public_key(), comment), "\n"),
                securechat::Ed25519Fingerprint(key->public_key()), "Ed25519"};
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "creates the securechat server's RSA key pair, or your user key.\n"
      "usage: chat-keygen [--bits=3072] [--out_dir=keys] [--force]\n"
      "                   [--passphrase_file=FILE | --ask_passphrase]\n"
      "       chat-keygen --user [--comment=TEXT] [--out_dir=DIR] [--force]\n"
      "                   [--passphrase_file=FILE | --ask_passphrase]\n"
      "Writes OUT_DIR/server_private.pem (PKCS#8, mode 0600) and OUT_DIR/server_public.pem,\n"
      "and prints the key's fingerprint. Give server_public.pem to every client.\n"
      "With --user: ~/.config/securechat/id_ed25519 (PKCS#8, mode 0600) and id_ed25519.pub\n"
      "(one line: securechat-ed25519 KEY COMMENT), and the key's fingerprint, the one\n"
      "ssh-keygen -l prints for the same key. Give the .pub line to the server's operator.");
  if (const auto unexpected = securechat::ParseFlags(argc, argv)) {
    return Fail(Cat("unexpected argument '", *unexpected, "' (see --help)"));
  }
  const bool user = absl::GetFlag(FLAGS_user);
  const int bits = absl::GetFlag(FLAGS_bits);
  if (!user && !securechat::IsAllowedRsaBits(bits)) {
    return Fail(Cat("--bits must be ", securechat::AllowedRsaBitsText(), ", not ", bits));
  }
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
  std::string dir = absl::GetFlag(FLAGS_out_dir);
  if (dir.empty() && user) {
    auto config = securechat::net::PrepareUserConfigDir();
    if (!config.ok()) {
      return Fail(config.status().message());
    }
    dir = *config;
  } else {
    if (dir.empty()) {
      dir = "keys";
    }
    if (absl::Status ready = securechat::PrepareKeyDirectory(dir); !ready.ok()) {
      return Fail(Cat("--out_dir ", ready.message()));
    }
  }
  const std::string priv_path =
      Cat(dir, "/", user ? securechat::net::kUserKeyFileName : "server_private.pem");
  const std::string pub_path = Cat(dir, user ? "/id_ed25519.pub" : "/server_public.pem");
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

  const securechat::Passphrase* const pass = passphrase ? &*passphrase : nullptr;
  std::string comment = absl::GetFlag(FLAGS_comment);
  if (comment.empty()) {
    comment = DefaultComment();
  }
  absl::StatusOr<NewKey> key = user ? MakeUserKey(comment, pass) : MakeServerKey(bits, pass);
  if (!key.ok()) {
    return Fail(key.status().message());
  }
  // Without --force each file is created only if it does not exist (WriteKeyFile links a
  // finished temporary file to the name, which fails if the name was taken meanwhile).
  absl::Status written = securechat::WriteKeyFile(
      priv_path, securechat::AsChars(key->private_pem.Expose()), 0600, force);
  key->private_pem.Wipe();
  if (!written.ok()) {
    return Fail(WriteFailure(written));
  }
  written = securechat::WriteKeyFile(pub_path, key->public_text, 0644, force);
  if (!written.ok()) {
    if (!force && unlink(priv_path.c_str()) == 0) {
      return Fail(Cat(WriteFailure(written), "; removed the new ", priv_path, " again"));
    }
    return Fail(WriteFailure(written));
  }
  std::printf("wrote %s (%s, PKCS#8%s, mode 0600)\n", priv_path.c_str(), key->what.c_str(),
              passphrase ? ", passphrase-protected" : "");
  std::printf("wrote %s\n", pub_path.c_str());
  std::printf("fingerprint %s\n", key->fingerprint.c_str());
  return 0;
}
