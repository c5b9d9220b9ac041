// Where a user's securechat files live: the XDG Base Directory rules, as other tools read them.
#ifndef SECURECHAT_NET_USER_PATHS_H_
#define SECURECHAT_NET_USER_PATHS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace securechat::net {

// The user key chat-keygen --user writes in UserConfigDir, and chat-client reads from there by
// default; its public half has ".pub" added.
inline constexpr std::string_view kUserKeyFileName = "id_ed25519";

// UserConfigDir is securechat's folder of per-user files: $XDG_CONFIG_HOME/securechat when
// XDG_CONFIG_HOME is an absolute path (a relative one is ignored, as the XDG rules say), else
// $HOME/.config/securechat. Fails when neither gives an absolute path. Creates nothing.
absl::StatusOr<std::string> UserConfigDir();

// PrepareUserConfigDir makes UserConfigDir ready for key files: its parent is created (mode
// 0700) if missing, then the folder itself as PrepareKeyDirectory does (mode 0700, refused if
// other users could replace files in it). Returns the folder.
absl::StatusOr<std::string> PrepareUserConfigDir();

// ExpandHome turns a leading "~/" into $HOME's folder, as a shell would have if the path had
// not come after "--flag=", from client.conf or from a typed command.
std::string ExpandHome(const std::string& path);

}  // namespace securechat::net

#endif  // SECURECHAT_NET_USER_PATHS_H_
