// GoogleTest assertions shared by the integration tests: wait for what a Process prints or for
// its exit, and on failure show everything it printed.
#ifndef SECURECHAT_TESTS_INTEGRATION_EXPECT_H_
#define SECURECHAT_TESTS_INTEGRATION_EXPECT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "integration/process.h"

namespace securechat::testing {

// Describe returns everything a process printed, for failure messages.
std::string Describe(const Process& p);

// Quoted returns `text` in double quotes with C escapes, newlines included.
std::string Quoted(std::string_view text);

// Contains is true if `needle` occurs in `haystack`.
bool Contains(std::string_view haystack, std::string_view needle);

// CountOf counts the occurrences of `needle` in `haystack` that do not overlap.
size_t CountOf(std::string_view haystack, std::string_view needle);

// Saw waits up to `timeout` for `text` on the stdout of `p`.
::testing::AssertionResult Saw(Process& p, std::string_view text, Duration timeout = kWait);

// SawOnStderr waits up to `timeout` for `text` on the stderr of `p`.
::testing::AssertionResult SawOnStderr(Process& p, std::string_view text, Duration timeout = kWait);

// Exits waits up to `timeout` for `p` to exit with `code`.
::testing::AssertionResult Exits(Process& p, int code, Duration timeout = kWait);

// StartChatClient runs chat-client as `nick` against `address`, pinned to `server_key`, with
// `extra_args` after those, and stdin open for the test. Returns nullptr (and fails the test)
// if it cannot start.
std::unique_ptr<Process> StartChatClient(const std::string& nick, const std::string& server_key,
                                         const std::string& address,
                                         const std::vector<std::string>& extra_args = {});

// JoinChat starts a client as StartChatClient does and waits until it is welcomed with
// `online` people in the room. Returns nullptr (and fails the test) otherwise.
std::unique_ptr<Process> JoinChat(const std::string& nick, const std::string& server_key,
                                  const std::string& address, int online);

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_INTEGRATION_EXPECT_H_
