// Store: where visits and the total counter live. One implementation per engine (SQLite,
// memory; later PostgreSQL and DynamoDB), opened by URI with OpenStore().
//
// Every call is asynchronous: it returns at once and later calls `done` exactly once, from a
// store-owned thread (or, for errors detected up front, from the caller's thread before returning).
// `done` must not block for long; adapters post the result back to their own executor.
// Implementations are safe for concurrent callers. Destroying a Store completes every queued call
// (committing accepted writes) before returning, so no callback is lost.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace footfall::store {

// One recorded visit: the seed's table design with privacy fixes (see docs/design.md).
struct Visit {
  std::string visit_id;     // UUIDv7, unique and time-ordered
  std::string timestamp;    // ISO 8601 UTC with milliseconds, e.g. 2026-11-25T13:20:03.123Z
  std::string visitor;      // keyed hash under today's salt; never an address
  std::string user_agent;   // sanitised and truncated
  std::string path;         // normalised page path, e.g. "/blog/post"
  std::string referrer;     // referrer host or ""
  std::string site;         // host of the site the visit belongs to
  int64_t expiration_time = 0;  // epoch seconds after which the visit may be deleted
};

// The result of recording one visit.
struct RecordedVisit {
  int64_t total = 0;      // the total counter right after this visit was added
  int batch_size = 1;     // how many visits were committed in the same transaction
};

// A daily salt: 32 random bytes.
using Salt = std::array<uint8_t, 32>;

// When a call must have completed. Engines that talk to a network stop retrying and fail with
// kDeadlineExceeded after it; local engines may ignore it.
using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline kNoDeadline = Deadline::max();

template <typename T>
using Callback = std::function<void(StatusOr<T>)>;
using StatusCallback = std::function<void(Status)>;

class Store {
 public:
  Store() = default;
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Durably stores `visit` and adds one to the total counter in the same transaction, then calls
  // done with the new total. Errors: kUnavailable (engine busy/unreachable; retryable),
  // kResourceExhausted (disk full or queue full), kAlreadyExists (duplicate visit_id),
  // kDeadlineExceeded, kInternal. On any error nothing of the visit is stored, except that a
  // network engine may report kDeadlineExceeded/kUnavailable for a write whose fate it cannot know
  // (see that engine's header).
  virtual void RecordVisit(Visit visit, Deadline deadline, Callback<RecordedVisit> done) = 0;

  // Reads the total counter (0 when nothing was ever recorded). Errors: kUnavailable, kInternal.
  virtual void ReadTotal(Deadline deadline, Callback<int64_t> done) = 0;

  // Returns the salt stored for `day` (days since the Unix epoch), storing `candidate` first if
  // that day has none yet, so that every process sharing the store agrees on it. Deletes the salts
  // of days before `day - 1` (a salt lives at most 48 h). Errors: kUnavailable, kInternal.
  virtual void GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline deadline,
                                    Callback<Salt> done) = 0;

  // Checks that the engine answers a trivial query. Errors: kUnavailable, kInternal.
  virtual void CheckReady(Deadline deadline, StatusCallback done) = 0;

  // A short description for start-up logs, e.g. "sqlite:data/footfall.db". Never has secrets.
  virtual std::string Describe() const = 0;
};

}  // namespace footfall::store
