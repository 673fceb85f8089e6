#include "core/client_address.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

TEST(TrustedProxiesTest, WithoutProxiesThePeerIsTheClient) {
  TrustedProxies none = *TrustedProxies::Create({});
  EXPECT_EQ(none.ResolveClient("203.0.113.9", "198.51.100.1"), "203.0.113.9");
}

TEST(TrustedProxiesTest, ForwardedForIsBelievedOnlyFromTrustedPeers) {
  TrustedProxies proxies = *TrustedProxies::Create({"10.0.0.0/8", "::1"});
  EXPECT_EQ(proxies.ResolveClient("10.1.2.3", "198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(proxies.ResolveClient("::1", "198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(proxies.ResolveClient("203.0.113.9", "198.51.100.1"), "203.0.113.9");
  EXPECT_EQ(proxies.ResolveClient("10.1.2.3", std::nullopt), "10.1.2.3");
}

TEST(TrustedProxiesTest, TakesTheRightmostUntrustedHop) {
  TrustedProxies proxies = *TrustedProxies::Create({"10.0.0.0/8"});
  // The client forged the first entry; the proxy chain appended the real one.
  EXPECT_EQ(proxies.ResolveClient("10.0.0.1", "1.1.1.1, 198.51.100.7, 10.0.0.2"), "198.51.100.7");
  EXPECT_EQ(proxies.ResolveClient("10.0.0.1", "garbage"), "10.0.0.1");
}

TEST(TrustedProxiesTest, ForwardedHeaderForValuesWinOverXForwardedFor) {
  TrustedProxies proxies = *TrustedProxies::Create({"10.0.0.0/8", "2001:db8::/32"});
  EXPECT_EQ(proxies.ResolveClient("10.0.0.1", "192.0.2.99",
                                  "for=1.1.1.1, for=198.51.100.7;proto=https;by=10.0.0.2, for=10.0.0.3"),
            "198.51.100.7");
  EXPECT_EQ(proxies.ResolveClient("10.0.0.1", std::nullopt, R"(For="[2001:db9::5]:4711")"),
            "2001:db9::5");
  EXPECT_EQ(proxies.ResolveClient("10.0.0.1", std::nullopt, R"(for="198.51.100.8:4711")"),
            "198.51.100.8");
  // Obfuscated or unknown hops are not addresses: fall back to the peer.
  EXPECT_EQ(proxies.ResolveClient("10.0.0.1", std::nullopt, "for=unknown"), "10.0.0.1");
  EXPECT_EQ(proxies.ResolveClient("10.0.0.1", std::nullopt, "for=_hidden, for=10.0.0.3"), "10.0.0.1");
  EXPECT_EQ(proxies.ResolveClient("10.0.0.1", std::nullopt, "proto=https"), "10.0.0.1");
  // From an untrusted peer, a spoofed Forwarded header is ignored.
  EXPECT_EQ(proxies.ResolveClient("203.0.113.9", std::nullopt, "for=198.51.100.7"), "203.0.113.9");
}

TEST(ParseIpNetworkTest, ParsesAndRejects) {
  EXPECT_EQ(ParseIpNetwork("192.168.0.0/16")->prefix_length, 96 + 16);
  EXPECT_EQ(ParseIpNetwork("fd00::/8")->prefix_length, 8);
  EXPECT_FALSE(ParseIpNetwork("192.168.0.0/33").ok());
  EXPECT_FALSE(ParseIpNetwork("not-an-ip").ok());
  EXPECT_FALSE(ParseIpNetwork("10.0.0.0/x").ok());
}

}  // namespace
}  // namespace footfall::core
