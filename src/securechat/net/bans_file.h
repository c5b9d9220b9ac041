// The --bans file: the server's BanList (engine/bans.h) kept across restarts.
#ifndef SECURECHAT_NET_BANS_FILE_H_
#define SECURECHAT_NET_BANS_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "securechat/engine/bans.h"

namespace securechat::net {

// kBansFileSlack is what a bans file may hold beyond max_entries full lines: comments and
// blank lines, which a person may add.
inline constexpr size_t kBansFileSlack = 64 * 1024;

// LoadBans reads the bans file at `path` into a list of at most `max_entries`, dropping the
// entries already expired at `now_ms`. A missing file is an empty list, as on the first start.
// Refuses, with the path in the message, a file larger than max_entries * kMaxBansLineBytes
// plus kBansFileSlack, one that is not a regular file, or one with a bad line ("PATH: line N:
// why").
absl::StatusOr<BanList> LoadBans(const std::string& path, size_t max_entries, uint64_t now_ms);

// SaveBans replaces the file at `path` with `bans`, atomically and with mode 0600: readers see
// the old file or the new one, never a part, and after a crash the rename itself is on disk
// (the directory is synced too). A failure before the rename leaves the old file as it was;
// one in syncing the directory after it leaves the new file in place, perhaps not yet durable.
absl::Status SaveBans(const std::string& path, const BanList& bans);

}  // namespace securechat::net

#endif  // SECURECHAT_NET_BANS_FILE_H_
