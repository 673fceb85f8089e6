// Loopback helpers for the test-server launchers: a free port, and whether something listens.
// Thread-safe (no shared state).
#pragma once

namespace footfall::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
int FreeLoopbackPort();

// True if a TCP connection to 127.0.0.1:`port` is accepted.
bool AcceptsConnections(int port);

}  // namespace footfall::testing
