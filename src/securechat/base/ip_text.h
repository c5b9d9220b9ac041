// IP addresses as text, one form for each address: how the server names peers, and how an
// operator's `/ban 1.2.3.4` is matched against them. Pure conversions (inet_pton, inet_ntop):
// no I/O, so both the network layer and the engine use them.
#ifndef SECURECHAT_BASE_IP_TEXT_H_
#define SECURECHAT_BASE_IP_TEXT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <string_view>

namespace securechat {

// FormatIp is inet_ntop's form of the address at `addr` (an in_addr for AF_INET, an in6_addr
// for AF_INET6), except that an IPv4-mapped IPv6 address (::ffff:1.2.3.4, what a dual-stack
// listener reports for an IPv4 peer) is given as the IPv4 address it maps: one peer has one
// name, whichever socket it came in on. "?" for another family.
inline std::string FormatIp(int family, const void* addr) {
  char out[INET6_ADDRSTRLEN] = "?";
  if (family == AF_INET) {
    inet_ntop(AF_INET, addr, out, sizeof(out));
  } else if (family == AF_INET6) {
    const auto* in6 = static_cast<const in6_addr*>(addr);
    if (IN6_IS_ADDR_V4MAPPED(in6)) {
      inet_ntop(AF_INET, &in6->s6_addr[12], out, sizeof(out));
    } else {
      inet_ntop(AF_INET6, in6, out, sizeof(out));
    }
  }
  return out;
}

// CanonicalIp is `text` in FormatIp's form if it is an IPv4 or IPv6 address (`::FFFF:1.2.3.4`
// and `1.2.3.4` alike give `1.2.3.4`; `0:0::1` gives `::1`), and empty otherwise.
inline std::string CanonicalIp(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return {};
  }
  const std::string s(text);
  in6_addr bytes{};
  for (const int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, s.c_str(), &bytes) == 1) {
      return FormatIp(family, &bytes);
    }
  }
  return {};
}

}  // namespace securechat

#endif  // SECURECHAT_BASE_IP_TEXT_H_
