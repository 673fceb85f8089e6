// CallbackHome: the thread a piece of work should be finished on. An event-loop thread installs
// its home for itself (http::HttpServer does, for each of its threads); a worker thread that
// completes work started there (the group-commit writer) hands the callback to that home instead
// of running it itself. So the one writer thread, which every visit waits for, does not also
// build each response, and a committed batch wakes each event loop once instead of once per visit.
// Threads without a home (CLI commands, the Lambda loop, tests) are unaffected: their callbacks
// run wherever the work completes, as before.
#pragma once

#include <functional>

namespace footfall {

class CallbackHome {
 public:
  virtual ~CallbackHome() = default;
  // Runs `callback` on the home's thread, soon, in the order posted. Thread-safe. The home must
  // stay alive until every callback posted to it has run.
  virtual void Post(std::function<void()> callback) = 0;

  // The calling thread's home; null when it has none.
  static CallbackHome* OfThisThread();
  // Makes `home` (null: none) the calling thread's home; returns the previous one.
  static CallbackHome* SetForThisThread(CallbackHome* home);
};

}  // namespace footfall
