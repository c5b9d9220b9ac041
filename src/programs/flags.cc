// Built without the standard library's debug mode, whatever the preset (src/CMakeLists.txt):
// absl::ParseCommandLine's std::vector and absl::GetAllFlags's map have the layout of the
// library Debian built.
#include "programs/flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"

namespace securechat {
namespace {

// ProgramName is the last part of argv[0].
std::string ProgramName(const char* argv0) {
  const std::string_view path = argv0 != nullptr ? argv0 : "";
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// PrintWrapped prints `text` in lines of at most `width` columns, each after `indent` spaces.
void PrintWrapped(std::string_view text, size_t indent, size_t width) {
  std::string line;
  auto flush = [&] {
    std::printf("%*s%s\n", static_cast<int>(indent), "", line.c_str());
    line.clear();
  };
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      flush();
    }
    if (!line.empty()) {
      line += ' ';
    }
    line += word;
  }
  if (!line.empty()) {
    flush();
  }
}

// PrintHelp prints the usage message and the flags defined in src/programs/<program>.cc.
void PrintHelp(const std::string& program) {
  std::string source = program;  // chat-keygen is defined in chat_keygen.cc
  std::replace(source.begin(), source.end(), '-', '_');
  source = "programs/" + source + ".cc";
  std::vector<const absl::CommandLineFlag*> own;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string file = flag->Filename();
    if (file.size() >= source.size() &&
        file.compare(file.size() - source.size(), source.size(), source) == 0) {
      own.push_back(flag);
    }
  }
  std::sort(own.begin(), own.end(),
            [](const absl::CommandLineFlag* a, const absl::CommandLineFlag* b) {
              return a->Name() < b->Name();
            });
  const absl::string_view usage = absl::ProgramUsageMessage();
  std::printf("%s: %.*s\n\nflags (--name=value or --name value):\n", program.c_str(),
              static_cast<int>(usage.size()), usage.data());
  for (const absl::CommandLineFlag* flag : own) {
    const std::string def = flag->DefaultValue();
    const absl::string_view name = flag->Name();
    std::printf("  --%.*s (default: %s)\n", static_cast<int>(name.size()), name.data(),
                def.empty() ? "none" : def.c_str());
    PrintWrapped(flag->Help(), 6, 80);
  }
  std::printf(
      "  -h, --help (show this and exit)\n  --version (show the version and exit)\n"
      "  --helpfull (every flag, the flag library's own included)\n");
}

}  // namespace

std::optional<std::string> ParseFlags(int argc, char* argv[], const FlagDefaults& defaults) {
  const std::string program = ProgramName(argc > 0 ? argv[0] : nullptr);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      break;  // what follows is not a flag
    }
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      PrintHelp(program);
      std::exit(0);
    }
    if (arg == "--version" || arg == "-version") {
      std::printf("%s %s (commit %s)\n", program.c_str(), kVersion, kCommit);
      std::exit(0);
    }
  }
  if (defaults) {
    if (const std::optional<std::string> error = defaults()) {
      std::fprintf(stderr, "%s: %s\n", program.c_str(), error->c_str());
      std::exit(1);
    }
  }
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    return std::string(rest[1]);
  }
  return std::nullopt;
}

}  // namespace securechat
