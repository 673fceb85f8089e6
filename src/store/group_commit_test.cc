#include "store/group_commit.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace footfall::store {
namespace {

// A home that keeps what is posted to it until the test runs it.
class HeldHome final : public CallbackHome {
 public:
  void Post(std::function<void()> callback) override { posted.push_back(std::move(callback)); }
  void RunAll() {
    for (auto& callback : posted) callback();
    posted.clear();
  }
  std::vector<std::function<void()>> posted;
};

// A visit from `home` whose callback appends "<tag>:<total>/<batch size>" (or the error) to `log`.
PendingVisit VisitFrom(CallbackHome* home, std::string tag, std::vector<std::string>& log) {
  PendingVisit pending;
  pending.visit.visit_id = tag;
  pending.home = home;
  pending.done = [tag, &log](StatusOr<RecordedVisit> result) {
    log.push_back(result.ok() ? tag + ":" + std::to_string(result->total) + "/" +
                                    std::to_string(result->batch_size)
                              : tag + ":" + result.status().message());
  };
  return pending;
}

TEST(CompleteCommittedBatchTest, OneJobPerHomeInBatchOrder) {
  HeldHome loop_a, loop_b;
  std::vector<std::string> log;
  std::vector<PendingVisit> batch;
  batch.push_back(VisitFrom(&loop_a, "a1", log));
  batch.push_back(VisitFrom(&loop_b, "b1", log));
  batch.push_back(VisitFrom(nullptr, "n1", log));
  batch.push_back(VisitFrom(&loop_a, "a2", log));
  batch.push_back(VisitFrom(&loop_b, "b2", log));

  CompleteCommittedBatch(batch, 105);  // counter went 100 -> 105

  // Homeless visits complete on the committing thread at once; the others wait for their loop.
  EXPECT_EQ(log, (std::vector<std::string>{"n1:103/5"}));
  ASSERT_EQ(loop_a.posted.size(), 1u);  // one wake-up per loop and batch, not one per visit
  ASSERT_EQ(loop_b.posted.size(), 1u);
  loop_b.RunAll();
  loop_a.RunAll();
  EXPECT_EQ(log, (std::vector<std::string>{"n1:103/5", "b1:102/5", "b2:105/5", "a1:101/5",
                                           "a2:104/5"}));
}

TEST(FailBatchTest, EveryVisitGetsTheErrorAtItsHome) {
  HeldHome loop;
  std::vector<std::string> log;
  std::vector<PendingVisit> batch;
  batch.push_back(VisitFrom(&loop, "a", log));
  batch.push_back(VisitFrom(&loop, "b", log));

  FailBatch(batch, UnavailableError("disk I/O error"));

  EXPECT_TRUE(log.empty());
  ASSERT_EQ(loop.posted.size(), 1u);
  loop.RunAll();
  EXPECT_EQ(log, (std::vector<std::string>{"a:disk I/O error", "b:disk I/O error"}));
}

}  // namespace
}  // namespace footfall::store
