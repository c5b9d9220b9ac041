// Overloaded: one callable made of several lambdas, for std::visit over a std::variant.
//
//   std::visit(Overloaded{
//                  [](const msg::Welcome& w) { ... },
//                  [](const msg::Chat& c) { ... },
//              },
//              message);
//
// With one overload per alternative and no catch-all (no `auto` parameter), an alternative
// that nobody handles is a compile error: a new message kind cannot be forgotten.
#ifndef SECURECHAT_BASE_OVERLOADED_H_
#define SECURECHAT_BASE_OVERLOADED_H_

namespace securechat {

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace securechat

#endif  // SECURECHAT_BASE_OVERLOADED_H_
