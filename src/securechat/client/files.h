// What the client's file transfers (PROTOCOL.md 6.14) need from the file system, as an
// interface: the session reads, writes and names files only through it, so that it stays free
// of I/O and tests give it a file system in memory. The real one is net/local_files.h. Also
// the pure rules about files: the safe name a received file is kept under, and sizes for people.
#ifndef SECURECHAT_CLIENT_FILES_H_
#define SECURECHAT_CLIENT_FILES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace securechat {

// FileReader reads one regular file opened for sending.
class FileReader {
 public:
  virtual ~FileReader() = default;
  // ReadAt fills the start of `buf` with the bytes at `offset` and returns how many it read:
  // fewer than asked only at the end of the file (0 past it).
  virtual absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<uint8_t> buf) = 0;
};

// TempFile is a file being received: made in the download folder under a name of its own
// that nobody else uses, and given its final name only once it is whole and checked. Destroyed
// without Publish, it is removed: a partial file never stays behind.
class TempFile {
 public:
  virtual ~TempFile() = default;
  // Write appends `data`. A full disk is an error like any other (its message says so).
  virtual absl::Status Write(absl::Span<const uint8_t> data) = 0;
  // Sync puts what was written on the disk (fsync).
  virtual absl::Status Sync() = 0;
  // Publish gives the file the name `name` in its folder, or "name (1).ext", "name (2).ext",
  // ... when that is taken; an existing file is never replaced. Returns the path it now has.
  virtual absl::StatusOr<std::string> Publish(std::string_view name) = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // OpenForReading opens `path`, which must be a regular file (a symbolic link is refused),
  // and sets *size to its size. The error's message names the path and says why.
  virtual absl::StatusOr<std::unique_ptr<FileReader>> OpenForReading(const std::string& path,
                                                                     uint64_t* size) = 0;
  // FreeBytes is how many bytes an unprivileged user may still write in the folder `dir`
  // (made, mode 0700, with its parents, if missing).
  virtual absl::StatusOr<uint64_t> FreeBytes(const std::string& dir) = 0;
  // CreateTemp makes a new empty file in `dir`, mode 0600, under a name nobody else holds.
  virtual absl::StatusOr<std::unique_ptr<TempFile>> CreateTemp(const std::string& dir) = 0;
};

// SafeFileName reduces a name a peer offered to one that is safe to keep a file under in the
// download folder, whatever its bytes: the part after the last '/' or '\' only; leading dots
// stripped (no hidden file, no "." or ".."); C0 and C1 controls, DEL, bidirectional formatting
// and other invisible code points, and invalid UTF-8 dropped; at most proto::kMaxFileNameLen
// bytes, cut between code points and keeping an extension of up to kMaxKeptExtension bytes;
// "file" if nothing is left. The result is always a valid file name (IsValidFileName).
inline constexpr size_t kMaxKeptExtension = 32;
std::string SafeFileName(std::string_view name);

// FormatBytes writes a size for people, in decimal units: "0 B", "999 B", "1.0 kB", "2.1 MB",
// "1.1 GB" (rounded down to a tenth).
std::string FormatBytes(uint64_t bytes);

}  // namespace securechat

#endif  // SECURECHAT_CLIENT_FILES_H_
