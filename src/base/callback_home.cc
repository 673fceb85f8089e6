#include "base/callback_home.h"

namespace footfall {
namespace {
thread_local CallbackHome* this_threads_home = nullptr;
}  // namespace

CallbackHome* CallbackHome::OfThisThread() { return this_threads_home; }

CallbackHome* CallbackHome::SetForThisThread(CallbackHome* home) {
  CallbackHome* previous = this_threads_home;
  this_threads_home = home;
  return previous;
}

}  // namespace footfall
