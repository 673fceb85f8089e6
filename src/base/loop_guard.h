// RunGuarded: the last line of defence of an event loop or a store thread. An exception that
// escapes a handler (a bug: the request path reports errors with Status, never by throwing) is
// caught, counted, reported on stderr, and the loop runs on, so one bad upstream answer cannot take
// the process down. The work the throwing handler was doing is lost (its caller may wait until its
// own deadline); everything else keeps being served.
//
// Reports are one JSON line per loop and minute at most ({"level":"error","event":
// "exception_escaped","loop":…,"what":…,"since_last_line":n}), never a stack of repeated lines;
// EscapedExceptions() counts every one (serve exports it as footfall_escaped_exceptions_total).
// Thread-safe.
#pragma once

#include <cstdint>
#include <exception>
#include <string_view>

namespace footfall {

// Every exception caught by RunGuarded or CatchEscaped in this process.
uint64_t EscapedExceptions();

// Counts and reports an exception caught at a loop boundary (`loop` names the loop).
void ReportEscapedException(std::string_view loop, std::string_view what);

// Runs `context.run()` (an Asio io_context) until it returns without throwing.
template <class Context>
void RunGuarded(Context& context, std::string_view loop) {
  while (true) {
    try {
      context.run();
      return;
    } catch (const std::exception& e) {
      ReportEscapedException(loop, e.what());
    } catch (...) {
      ReportEscapedException(loop, "an exception that is not a std::exception");
    }
  }
}

// Calls `fn()`; an exception it throws is reported as escaped from `loop`. Returns false then.
template <class Fn>
bool CatchEscaped(std::string_view loop, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    ReportEscapedException(loop, e.what());
  } catch (...) {
    ReportEscapedException(loop, "an exception that is not a std::exception");
  }
  return false;
}

}  // namespace footfall
