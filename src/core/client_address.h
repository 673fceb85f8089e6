// Which address a request came from: the socket peer, or — only when the peer is a configured
// trusted proxy — the right-most untrusted address of Forwarded (RFC 7239, its for= values) or,
// without it, of X-Forwarded-For. The result is used only as
// input to the visitor hash; it is never stored or logged. Immutable; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace footfall::core {

// An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or fd00::/8. IPv4 is held as IPv4-mapped IPv6.
struct IpNetwork {
  std::array<uint8_t, 16> address{};
  int prefix_length = 128;
};

// Parses "1.2.3.4", "1.2.3.4/24", "::1" or "fd00::/8". Errors: kInvalidArgument.
StatusOr<IpNetwork> ParseIpNetwork(std::string_view text);

class TrustedProxies {
 public:
  // Errors: kInvalidArgument naming the first bad entry.
  static StatusOr<TrustedProxies> Create(const std::vector<std::string>& cidrs);

  // True if `address` (textual IP) lies in a trusted network.
  bool Contains(std::string_view address) const;

  // The client address for a request from `peer` with optional X-Forwarded-For and Forwarded
  // values (Forwarded wins when both are present). Without trusted proxies this is always `peer`;
  // an unparsable hop (garbage, "unknown", an obfuscated identifier) also gives `peer`.
  std::string ResolveClient(std::string_view peer, std::optional<std::string_view> forwarded_for,
                            std::optional<std::string_view> forwarded = std::nullopt) const;

  bool empty() const { return networks_.empty(); }

 private:
  std::vector<IpNetwork> networks_;
};

}  // namespace footfall::core
