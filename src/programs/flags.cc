// Built without the standard library's debug mode, whatever the preset (src/CMakeLists.txt):
// absl::ParseCommandLine's std::vector has the layout of the library Debian built.
#include "programs/flags.h"

#include <vector>

#include "absl/flags/parse.h"

namespace securechat {

std::optional<std::string> ParseFlags(int argc, char* argv[]) {
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    return std::string(rest[1]);
  }
  return std::nullopt;
}

}  // namespace securechat
