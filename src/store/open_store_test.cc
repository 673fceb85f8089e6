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

}  // namespace
}  // namespace footfall::store
