#include "core/value_cap.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

TEST(ValueCapTest, AdmitsUpToTheBoundPerSiteDayAndFamily) {
  ValueCap cap(2);
  EXPECT_TRUE(cap.Admit(10, "a.example", "event", "one"));
  EXPECT_TRUE(cap.Admit(10, "a.example", "event", "two"));
  EXPECT_FALSE(cap.Admit(10, "a.example", "event", "three"));
  EXPECT_TRUE(cap.Admit(10, "a.example", "event", "one")) << "admitted values stay admitted";
  EXPECT_TRUE(cap.Admit(10, "b.example", "event", "three")) << "another site";
  EXPECT_TRUE(cap.Admit(10, "a.example", "utm_source", "three")) << "another family";
  EXPECT_TRUE(cap.Admit(10, "a.example", "event", std::string(kOtherValue)));
  EXPECT_TRUE(cap.Admit(11, "a.example", "event", "three")) << "a new day starts afresh";
  EXPECT_FALSE(cap.Admit(10, "a.example", "event", "four")) << "a late visit of an old day";
}

TEST(ValueCapTest, MemoryIsBoundedWhateverTheFamilies) {
  ValueCap cap(1000, /*max_tracked=*/3);
  EXPECT_TRUE(cap.Admit(1, "s", "f1", "a"));
  EXPECT_TRUE(cap.Admit(1, "s", "f2", "a"));
  EXPECT_TRUE(cap.Admit(1, "s", "f3", "a"));
  EXPECT_FALSE(cap.Admit(1, "s", "f4", "a"));
  EXPECT_TRUE(cap.Admit(1, "s", "f1", "a"));
}

}  // namespace
}  // namespace footfall::core
