// ParseFlags: the programs' one call into Abseil's flag parser, with the help and version
// flags every program answers the same way.
#ifndef SECURECHAT_PROGRAMS_FLAGS_H_
#define SECURECHAT_PROGRAMS_FLAGS_H_

#include <functional>
#include <optional>
#include <string>

namespace securechat {

// The version of the project (CMakeLists.txt) and the commit the program was built from
// (`git describe --always --dirty`), stamped at build time (programs/version.cc.in).
extern const char kVersion[];
extern const char kCommit[];

// ParseFlags parses the command line's flags as absl::ParseCommandLine does (printing an error
// and exiting 1 for a bad flag) and returns the first argument that is not a flag, or nullopt
// when there is none. The programs take no such arguments. Before that:
//   - `--help` or `-h` prints the usage message set with absl::SetProgramUsageMessage, then
//     the program's own flags (those defined in src/programs/<program>.cc) with their
//     defaults, and exits 0;
//   - `--version` prints "<program> <version> (commit <commit>)" and exits 0.
// `--helpfull` is Abseil's: every flag, Abseil's own included.
//
// `defaults`, when given, is called after --help and --version are answered and before the
// command line is parsed, so that what it sets (a config file's values) is what the command
// line's flags override. It returns nullopt, or an error: ParseFlags prints it and exits 1.
using FlagDefaults = std::function<std::optional<std::string>()>;
std::optional<std::string> ParseFlags(int argc, char* argv[], const FlagDefaults& defaults = {});

}  // namespace securechat

#endif  // SECURECHAT_PROGRAMS_FLAGS_H_
