#include "store/open_store.h"

#include <gtest/gtest.h>

namespace footfall::store {
namespace {

TEST(RedactStoreUriTest, HidesPasswordsOnly) {
  EXPECT_EQ(RedactStoreUri("postgres://app:s3cret@db:5432/footfall"),
            "postgres://app:***@db:5432/footfall");
  EXPECT_EQ(RedactStoreUri("postgres://app@db/footfall?password=s3cret&sslmode=require"),
            "postgres://app@db/footfall?password=***&sslmode=require");
  EXPECT_EQ(RedactStoreUri("postgres://app@db/footfall"), "postgres://app@db/footfall");
  EXPECT_EQ(RedactStoreUri("sqlite:data/footfall.db"), "sqlite:data/footfall.db");
  EXPECT_EQ(RedactStoreUri("dynamodb://t?region=eu-west-1"), "dynamodb://t?region=eu-west-1");
}

TEST(OpenStoreTest, UnknownSchemesAndEmptyPathsAreClearErrors) {
  EXPECT_EQ(OpenStore("mysql://x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite:").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("dynamodb://?region=x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("postgres://%zz").status().code(), StatusCode::kInvalidArgument);
}

TEST(OpenStoreTest, DynamoDbAggregatesAreInlineOrFromTheStream) {
  ::setenv("AWS_ACCESS_KEY_ID", "test", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
  const std::string base = "dynamodb://t?region=eu-west-1&endpoint=http://127.0.0.1:1";
  StatusOr<std::unique_ptr<Store>> inline_store = OpenStore(base);
  ASSERT_TRUE(inline_store.ok()) << inline_store.status().ToString();
  EXPECT_NE((*inline_store)->Describe().find("aggregates=inline"), std::string::npos);
  StatusOr<std::unique_ptr<Store>> stream_store = OpenStore(base + "&aggregates=stream");
  ASSERT_TRUE(stream_store.ok()) << stream_store.status().ToString();
  EXPECT_NE((*stream_store)->Describe().find("aggregates=stream"), std::string::npos);
  const Status bad = OpenStore(base + "&aggregates=later").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("inline"), std::string::npos) << bad.ToString();
}

}  // namespace
}  // namespace footfall::store
