#include "cli/maintenance.h"

#include <gtest/gtest.h>

namespace footfall::cli {
namespace {

using std::chrono::seconds;

TimePoint At(int64_t unix_seconds) { return TimePoint(seconds(unix_seconds)); }

TEST(UntilNextMaintenance, IsAnHourDuringTheDay) {
  EXPECT_EQ(UntilNextMaintenance(At(1'796'428'800 + 12 * 3600)), seconds(3600));  // 12:00 UTC
}

TEST(UntilNextMaintenance, IsThirtySecondsPastMidnightWhenThatComesFirst) {
  const int64_t midnight = 1'796'428'800;  // 2026-12-05 00:00 UTC
  EXPECT_EQ(UntilNextMaintenance(At(midnight - 600)), seconds(630));
  EXPECT_EQ(UntilNextMaintenance(At(midnight - 1)), seconds(31));
  EXPECT_EQ(UntilNextMaintenance(At(midnight)), seconds(3600));
}

TEST(UntilNextMaintenance, WorksBeforeTheEpoch) {
  EXPECT_EQ(UntilNextMaintenance(At(-10)), seconds(40));
}

TEST(MaintenanceLine, NamesWhatWasDoneAndWhatFailed) {
  EXPECT_EQ(MaintenanceLine({int64_t{2}, int64_t{5}}),
            R"({"level":"info","msg":"maintenance","salts_deleted":2,"visits_pruned":5})");
  EXPECT_EQ(MaintenanceLine({UnavailableError("busy"), int64_t{0}}),
            R"({"level":"warn","msg":"maintenance","salts_deleted_error":"unavailable: busy","visits_pruned":0})");
}

}  // namespace
}  // namespace footfall::cli
