// Helpers shared by the tests: hex, vector files, temporary folders, scripted randomness.
#ifndef SECURECHAT_TESTS_SUPPORT_TEST_UTIL_H_
#define SECURECHAT_TESTS_SUPPORT_TEST_UTIL_H_

#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "support/json.h"

namespace securechat::testing {

// The folder tests/vectors of the source tree (set by CMake).
inline std::string VectorPath(std::string_view relative) {
  return std::string(SECURECHAT_VECTOR_DIR) + "/" + std::string(relative);
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// LoadJson parses a vector file; throws (failing the test) if it is missing or malformed.
inline Json LoadJson(std::string_view relative) {
  try {
    return Json::Parse(ReadFileOrDie(VectorPath(relative)));
  } catch (const JsonError& e) {
    throw JsonError(std::string(relative) + ": " + e.what());
  }
}

// Hex decodes lowercase or uppercase hex; throws on odd length or a bad digit.
inline std::vector<uint8_t> Hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    throw std::runtime_error("odd-length hex");
  }
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("bad hex digit");
  };
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1]));
  }
  return out;
}

// TempDir is a fresh private folder (mkdtemp, mode 0700) in $TMPDIR or /tmp, removed with
// everything in it when the object is destroyed. `prefix` names it, for whoever finds one
// left by a crash. A TempDir that could not be created has an empty path().
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "securechat_test") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = (base != nullptr && *base != '\0' ? std::string(base) : "/tmp") + "/" +
                       std::string(prefix) + ".XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) {
      path_ = std::move(tmpl);
    }
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ignored;  // best effort: what cannot be removed is only litter
      std::filesystem::remove_all(path_, ignored);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // File returns path()/name; it does not create anything.
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline std::string ToHex(absl::Span<const uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

inline std::vector<uint8_t> Bytes(std::string_view s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_SUPPORT_TEST_UTIL_H_
