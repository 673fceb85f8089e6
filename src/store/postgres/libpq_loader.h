// libpq, loaded when a PostgreSQL store is first opened rather than when footfall starts. Linked
// normally, libpq makes every start of footfall load about twenty more libraries (Kerberos, LDAP,
// SASL, GnuTLS, ...): about 4 ms measured, on a start-up budget of 10 ms, for an engine most
// installs never use. libpq_loader.cc defines the libpq functions footfall calls (declared by
// <libpq-fe.h>, unchanged for the callers) as forwarders to the library LoadLibpq() opened.
#pragma once

#include "base/status.h"

namespace footfall::store::postgres {

// The library's name (Debian package libpq5).
inline constexpr const char* kLibpqName = "libpq.so.5";

// Loads libpq and every function footfall calls from it, once; later calls return the first
// outcome. Thread-safe. Call it before the first libpq function to get a missing library as an
// error (a libpq function called first loads it too, and ends the process if it cannot).
// Errors: kUnavailable naming the library and what is missing (install libpq5).
Status LoadLibpq();

}  // namespace footfall::store::postgres
