// Small text files a program reads whole (the members file, known_servers): bounded before a
// byte is kept, and only regular files.
#ifndef SECURECHAT_NET_FILES_H_
#define SECURECHAT_NET_FILES_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace securechat::net {

// ReadSmallFile returns the whole of the regular file at `path`, refusing (with the path in
// the message) one that cannot be opened, is not a regular file, or is larger than
// `max_bytes`, even if it grows while it is read. NotFound when there is no such file.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

}  // namespace securechat::net

#endif  // SECURECHAT_NET_FILES_H_
