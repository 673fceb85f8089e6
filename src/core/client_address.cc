#include "core/client_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "core/http_message.h"

namespace footfall::core {
namespace {

std::optional<std::array<uint8_t, 16>> ParseIp(std::string_view text) {
  std::string s(text);
  std::array<uint8_t, 16> out{};
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
  return std::nullopt;
}

bool IsMappedV4(const std::array<uint8_t, 16>& a) {
  for (int i = 0; i < 10; ++i) {
    if (a[i] != 0) return false;
  }
  return a[10] == 0xff && a[11] == 0xff;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool InNetwork(const std::array<uint8_t, 16>& a, const IpNetwork& n) {
  int bits = n.prefix_length;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (n.address[i] & mask)) return false;
  }
  return true;
}

}  // namespace

StatusOr<IpNetwork> ParseIpNetwork(std::string_view text) {
  const size_t slash = text.find('/');
  std::optional<std::array<uint8_t, 16>> address = ParseIp(text.substr(0, slash));
  if (!address) return InvalidArgumentError("'" + std::string(text) + "' is not an IP network");
  IpNetwork network{*address, 128};
  const int max_prefix = IsMappedV4(*address) ? 32 : 128;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 ||
        prefix > max_prefix) {
      return InvalidArgumentError("'" + std::string(text) + "' has a bad prefix length");
    }
  }
  network.prefix_length = max_prefix == 32 ? prefix + 96 : prefix;
  return network;
}

StatusOr<TrustedProxies> TrustedProxies::Create(const std::vector<std::string>& cidrs) {
  TrustedProxies proxies;
  for (const std::string& cidr : cidrs) {
    ASSIGN_OR_RETURN(IpNetwork network, ParseIpNetwork(cidr));
    proxies.networks_.push_back(network);
  }
  return proxies;
}

bool TrustedProxies::Contains(std::string_view address) const {
  std::optional<std::array<uint8_t, 16>> ip = ParseIp(address);
  if (!ip) return false;
  for (const IpNetwork& n : networks_) {
    if (InNetwork(*ip, n)) return true;
  }
  return false;
}

namespace {

// The address in one for= value of a Forwarded element: "192.0.2.1", "\"192.0.2.1:4711\"",
// "\"[2001:db8::1]:4711\"". "" when the element has no for= parameter.
std::string_view ForwardedFor(std::string_view element) {
  while (!element.empty()) {
    const size_t semicolon = element.find(';');
    std::string_view pair = Trim(element.substr(0, semicolon));
    element = semicolon == std::string_view::npos ? std::string_view() : element.substr(semicolon + 1);
    if (pair.size() < 4 || !EqualsIgnoreCase(pair.substr(0, 4), "for=")) continue;
    std::string_view value = pair.substr(4);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (!value.empty() && value.front() == '[') {
      const size_t close = value.find(']');
      return close == std::string_view::npos ? value : value.substr(1, close - 1);
    }
    if (value.find(':') == value.rfind(':')) value = value.substr(0, value.find(':'));  // v4:port
    return value;
  }
  return {};
}

}  // namespace

std::string TrustedProxies::ResolveClient(std::string_view peer,
                                          std::optional<std::string_view> forwarded_for,
                                          std::optional<std::string_view> forwarded) const {
  if (networks_.empty() || (!forwarded_for && !forwarded) || !Contains(peer)) {
    return std::string(peer);
  }
  // Walk from the right: each hop appended the address it saw; the first one we do not trust is
  // the client. Entries left of it could be forged by the client itself.
  std::string_view rest = forwarded ? *forwarded : *forwarded_for;
  while (!rest.empty()) {
    const size_t comma = rest.rfind(',');
    std::string_view hop =
        Trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    if (hop.empty()) continue;
    if (forwarded) hop = ForwardedFor(hop);
    if (!ParseIp(hop)) return std::string(peer);  // garbage: fall back to what we saw ourselves
    if (!Contains(hop)) return std::string(hop);
  }
  return std::string(peer);
}

}  // namespace footfall::core
