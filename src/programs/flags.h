// ParseFlags: the programs' one call into Abseil's flag parser.
#ifndef SECURECHAT_PROGRAMS_FLAGS_H_
#define SECURECHAT_PROGRAMS_FLAGS_H_

#include <optional>
#include <string>

namespace securechat {

// ParseFlags parses the command line's flags as absl::ParseCommandLine does (printing help
// or an error and exiting for --help and bad flags) and returns the first argument that is
// not a flag, or nullopt when there is none. The programs take no such arguments.
std::optional<std::string> ParseFlags(int argc, char* argv[]);

}  // namespace securechat

#endif  // SECURECHAT_PROGRAMS_FLAGS_H_
