// Blocking wrappers over the asynchronous Store calls, for callers that handle one thing at a
// time (CLI subcommands, the Lambda loop, tests). Each waits for the callback on the calling
// thread. Thread-safe as the Store is; never call from a thread the store completes on.
#pragma once

#include <future>

#include "store/store.h"

namespace footfall::store {

template <typename T, typename Start>
StatusOr<T> Wait(Start start) {
  auto promise = std::make_shared<std::promise<StatusOr<T>>>();
  std::future<StatusOr<T>> future = promise->get_future();
  start([promise](StatusOr<T> result) { promise->set_value(std::move(result)); });
  return future.get();
}

inline StatusOr<RecordedVisit> RecordVisitAndWait(Store& store, Visit visit,
                                                 Deadline deadline = kNoDeadline) {
  return Wait<RecordedVisit>(
      [&](Callback<RecordedVisit> done) { store.RecordVisit(std::move(visit), deadline, std::move(done)); });
}

inline StatusOr<int64_t> ReadTotalAndWait(Store& store, Deadline deadline = kNoDeadline) {
  return Wait<int64_t>([&](Callback<int64_t> done) { store.ReadTotal(deadline, std::move(done)); });
}

inline StatusOr<Salt> GetOrCreateDailySaltAndWait(Store& store, int64_t day, Salt candidate,
                                                  Deadline deadline = kNoDeadline) {
  return Wait<Salt>([&](Callback<Salt> done) {
    store.GetOrCreateDailySalt(day, candidate, deadline, std::move(done));
  });
}

inline StatusOr<int64_t> DeleteSaltsBeforeAndWait(Store& store, int64_t first_kept_day,
                                                  Deadline deadline = kNoDeadline) {
  return Wait<int64_t>([&](Callback<int64_t> done) {
    store.DeleteSaltsBefore(first_kept_day, deadline, std::move(done));
  });
}

inline StatusOr<VisitPage> ScanVisitsAndWait(Store& store, int64_t from_ms, int64_t to_ms,
                                             std::string cursor, int limit,
                                             Deadline deadline = kNoDeadline) {
  return Wait<VisitPage>([&](Callback<VisitPage> done) {
    store.ScanVisits(from_ms, to_ms, std::move(cursor), limit, deadline, std::move(done));
  });
}

inline Status CheckReadyAndWait(Store& store, Deadline deadline = kNoDeadline) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> future = promise->get_future();
  store.CheckReady(deadline, [promise](Status status) { promise->set_value(std::move(status)); });
  return future.get();
}

}  // namespace footfall::store
