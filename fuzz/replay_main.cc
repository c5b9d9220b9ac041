// replay_main: runs fuzz inputs through a target's LLVMFuzzerTestOneInput without libFuzzer,
// so that every build (gcc included) replays the regressions and the corpus as an ordinary
// test. Linked only into the <target>_replay programs, never into the chat programs.
//
// Usage: <target>_replay PATH...   Each PATH is a file or a folder of files (not recursive;
// names starting with '.' are skipped; a folder that does not exist counts as empty).
// Exits 0 after running at least one input; a failing input aborts, as under libFuzzer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool RunFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  // A heap copy of exactly the input's size, as libFuzzer passes it, so that ASan sees any
  // read past the end.
  std::unique_ptr<uint8_t[]> exact(new uint8_t[bytes.size()]);
  std::copy(bytes.begin(), bytes.end(), exact.get());
  LLVMFuzzerTestOneInput(exact.get(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  size_t ran = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_regular_file(arg, ec)) {
      if (!RunFile(arg)) {
        return 1;
      }
      ++ran;
      continue;
    }
    if (!std::filesystem::is_directory(arg, ec)) {
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(arg)) {
      if (entry.is_regular_file() && entry.path().filename().string().rfind('.', 0) != 0) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (!RunFile(f)) {
        return 1;
      }
      ++ran;
    }
  }
  std::printf("replay: %zu inputs ran without failure\n", ran);
  if (ran == 0) {
    std::fprintf(stderr, "replay: no inputs found\n");
    return 1;
  }
  return 0;
}
