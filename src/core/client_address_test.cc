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

TEST(ParseIpNetworkTest, ParsesAndRejects) {
  EXPECT_EQ(ParseIpNetwork("192.168.0.0/16")->prefix_length, 96 + 16);
  EXPECT_EQ(ParseIpNetwork("fd00::/8")->prefix_length, 8);
  EXPECT_FALSE(ParseIpNetwork("192.168.0.0/33").ok());
  EXPECT_FALSE(ParseIpNetwork("not-an-ip").ok());
  EXPECT_FALSE(ParseIpNetwork("10.0.0.0/x").ok());
}

}  // namespace
}  // namespace footfall::core
