#include "core/campaign.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

TEST(CampaignTest, ValuesAreTrimmedLowerCasedAndCut) {
  EXPECT_EQ(NormalizeCampaignValue("  NewsLetter\t"), "newsletter");
  EXPECT_EQ(NormalizeCampaignValue("Spring\nSale"), "spring sale");
  EXPECT_EQ(NormalizeCampaignValue(std::string(200, 'a'))->size(), kMaxCampaignValueBytes);
  EXPECT_EQ(NormalizeCampaignValue("Été"), "Été") << "only ASCII is lower-cased";
  EXPECT_FALSE(NormalizeCampaignValue("   "));
  EXPECT_FALSE(NormalizeCampaignValue("a\x01"));
  EXPECT_FALSE(NormalizeCampaignValue("\xff"));
}

TEST(CampaignTest, UtmParametersAndGoatCounterRefOnlyInPageUrls) {
  const QueryParameters params = {{"utm_medium", "Social"}, {"ref", "HN"}, {"utm_term", ""},
                                  {"utm_campaign", "Launch"}, {"utm_content", "hero"}};
  const store::Campaign from_page = CampaignFromParameters(params, /*page_url=*/true);
  EXPECT_EQ(from_page.source, "hn");
  EXPECT_EQ(from_page.medium, "social");
  EXPECT_EQ(from_page.name, "launch");
  EXPECT_EQ(from_page.content, "hero");
  EXPECT_EQ(from_page.term, "");
  // In /count's own query, ref= is the referrer, not a campaign.
  EXPECT_EQ(CampaignFromParameters(params, /*page_url=*/false).source, "");
  EXPECT_EQ(CampaignFromParameters({{"source", "x"}, {"utm_source", "y"}}, true).source, "y");

  store::Campaign campaign{"kept", "", "", "", ""};
  FillCampaign(campaign, from_page);
  EXPECT_EQ(campaign.source, "kept");
  EXPECT_EQ(campaign.medium, "social");
}

TEST(CampaignTest, WellKnownReferrersHaveReadableNames) {
  EXPECT_EQ(ReferrerSourceName("news.ycombinator.com"), "Hacker News");
  EXPECT_EQ(ReferrerSourceName("www.google.com"), "Google");
  EXPECT_EQ(ReferrerSourceName("google.co.uk"), "Google");
  EXPECT_EQ(ReferrerSourceName("mail.google.com"), "Gmail");
  EXPECT_EQ(ReferrerSourceName("old.reddit.com"), "Reddit");
  EXPECT_EQ(ReferrerSourceName("t.co"), "Twitter / X");
  EXPECT_EQ(ReferrerSourceName("en.m.wikipedia.org"), "Wikipedia");
  EXPECT_EQ(ReferrerSourceName("notgoogle.com"), "");
  EXPECT_EQ(ReferrerSourceName("google.evil.example.com"), "");
  EXPECT_EQ(ReferrerSourceName("blog.example"), "");
}

}  // namespace
}  // namespace footfall::core
