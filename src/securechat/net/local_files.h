// LocalFileSystem: the client's file transfers' FileSystem (client/files.h) on this machine's
// files, with POSIX calls: files to send opened without following a symbolic link, received
// files written to a temporary file of their own (O_CREAT|O_EXCL, mode 0600) and named without
// ever replacing a file (renameat2 RENAME_NOREPLACE, or link() and unlink() where that is not
// supported).
#ifndef SECURECHAT_NET_LOCAL_FILES_H_
#define SECURECHAT_NET_LOCAL_FILES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "securechat/client/files.h"

namespace securechat::net {

class LocalFileSystem final : public FileSystem {
 public:
  // A name is tried with " (1)" to " (kMaxNameTries - 1)" added before giving up.
  static constexpr int kMaxNameTries = 1000;

  // Paths may start with "~/" (the home folder), as typed after /send or /accept.
  absl::StatusOr<std::unique_ptr<FileReader>> OpenForReading(const std::string& path,
                                                             uint64_t* size) override;
  absl::StatusOr<uint64_t> FreeBytes(const std::string& dir) override;
  absl::StatusOr<std::unique_ptr<TempFile>> CreateTemp(const std::string& dir) override;
};

// MakeDirectories makes `dir` and its missing parents with mode 0700 (a leading "~/" is the
// home folder) and returns its path with "~/" expanded; an error if it is not a folder.
absl::StatusOr<std::string> MakeDirectories(const std::string& dir);

// NumberedName is `name` with " (n)" before its extension: "report (2).pdf", "notes (1)",
// cut between code points so that it stays within proto::kMaxFileNameLen bytes.
std::string NumberedName(const std::string& name, int n);

}  // namespace securechat::net

#endif  // SECURECHAT_NET_LOCAL_FILES_H_
