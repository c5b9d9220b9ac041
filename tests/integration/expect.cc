#include "integration/expect.h"

#include <optional>

#include "absl/strings/escaping.h"
#include "securechat/base/cat.h"

namespace securechat::testing {

std::string Describe(const Process& p) {
  return Cat("\n--- stdout ---\n", p.out(), "--- stderr ---\n", p.err(), "---");
}

std::string Quoted(std::string_view text) {
  return Cat("\"", absl::CEscape(absl::string_view(text.data(), text.size())), "\"");
}

size_t CountOf(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

::testing::AssertionResult Saw(Process& p, std::string_view text, Duration timeout) {
  if (p.WaitForStdout(text, timeout)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "never printed " << Quoted(text) << Describe(p);
}

::testing::AssertionResult SawOnStderr(Process& p, std::string_view text, Duration timeout) {
  if (p.WaitForStderr(text, timeout)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "never printed " << Quoted(text) << " on stderr" << Describe(p);
}

::testing::AssertionResult Exits(Process& p, int code, Duration timeout) {
  const std::optional<int> got = p.Wait(timeout);
  if (!got.has_value()) {
    return ::testing::AssertionFailure() << "still running after " << timeout.count()
                                         << " ms, expected exit " << code << Describe(p);
  }
  if (*got != code) {
    return ::testing::AssertionFailure()
           << "exited " << *got << ", expected " << code << Describe(p);
  }
  return ::testing::AssertionSuccess();
}

std::unique_ptr<Process> StartChatClient(const std::string& nick, const std::string& server_key,
                                         const std::string& address,
                                         const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {"--connect", address,  "--server_key",
                                   server_key,  "--nick", nick};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto client = Process::Start(ProgramPath("chat-client"), args);
  if (!client.ok()) {
    ADD_FAILURE() << client.status();
    return nullptr;
  }
  return std::move(*client);
}

std::unique_ptr<Process> JoinChat(const std::string& nick, const std::string& server_key,
                                  const std::string& address, int online) {
  std::unique_ptr<Process> client = StartChatClient(nick, server_key, address);
  if (client == nullptr) {
    return nullptr;
  }
  const ::testing::AssertionResult joined =
      Saw(*client, Cat("-!- joined as ", nick, "; ", online, " online\n"));
  if (!joined) {
    ADD_FAILURE() << nick << " did not join: " << joined.message();
    return nullptr;
  }
  return client;
}

}  // namespace securechat::testing
