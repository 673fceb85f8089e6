// libpq, loaded when a PostgreSQL store is first opened rather than when footfall starts. Linked
// normally, libpq makes every start of footfall load about twenty more libraries (Kerberos, LDAP,
// SASL, GnuTLS, ...) — a measurable part of start-up (docs/benchmarks.md) — for an engine most
// installs never use. footfall reaches libpq only through the function table Libpq() returns and
// defines no function under a libpq name, so a binary that also links libpq (the test helpers do)
// keeps libpq's own. Thread-safe.
#pragma once

#include <libpq-fe.h>

#include "base/status.h"

namespace footfall::store::postgres {

// The library's name (Debian package libpq5).
inline constexpr const char* kLibpqName = "libpq.so.5";

// Every libpq function footfall calls, as X(member of LibpqFunctions, libpq's name). A new one is
// added here, and only here; <libpq-fe.h> documents each under its libpq name.
#define FOOTFALL_LIBPQ_FUNCTIONS(X)             \
  X(clear, PQclear)                             \
  X(cmd_status, PQcmdStatus)                    \
  X(cmd_tuples, PQcmdTuples)                    \
  X(connect_poll, PQconnectPoll)                \
  X(connect_start, PQconnectStart)              \
  X(conninfo, PQconninfo)                       \
  X(conninfo_free, PQconninfoFree)              \
  X(conninfo_parse, PQconninfoParse)            \
  X(consume_input, PQconsumeInput)              \
  X(error_message, PQerrorMessage)              \
  X(finish, PQfinish)                           \
  X(flush, PQflush)                             \
  X(freemem, PQfreemem)                         \
  X(get_is_null, PQgetisnull)                   \
  X(get_length, PQgetlength)                    \
  X(get_result, PQgetResult)                    \
  X(get_value, PQgetvalue)                      \
  X(host, PQhost)                               \
  X(is_busy, PQisBusy)                          \
  X(ntuples, PQntuples)                         \
  X(port, PQport)                               \
  X(result_error_field, PQresultErrorField)     \
  X(result_error_message, PQresultErrorMessage) \
  X(result_status, PQresultStatus)              \
  X(send_query, PQsendQuery)                    \
  X(send_query_params, PQsendQueryParams)       \
  X(set_nonblocking, PQsetnonblocking)          \
  X(set_notice_processor, PQsetNoticeProcessor) \
  X(socket, PQsocket)                           \
  X(status, PQstatus)                           \
  X(transaction_status, PQtransactionStatus)

// The functions of the loaded libpq, each with libpq's own signature: Libpq().send_query_params
// is PQsendQueryParams.
struct LibpqFunctions {
#define FOOTFALL_LIBPQ_MEMBER(member, symbol) decltype(&::symbol) member = nullptr;
  FOOTFALL_LIBPQ_FUNCTIONS(FOOTFALL_LIBPQ_MEMBER)
#undef FOOTFALL_LIBPQ_MEMBER
};

// Loads libpq and every function of LibpqFunctions, once; later calls return the first outcome.
// Thread-safe. Call it before Libpq() to get a missing library as an error.
// Errors: kUnavailable naming the library and what is missing (install libpq5).
Status LoadLibpq();

// The function table of the loaded libpq; it never changes once loaded. Precondition: LoadLibpq()
// succeeded. If it was not called, Libpq() calls it; if libpq then cannot be loaded, the process
// ends (abort) after writing the reason to stderr. Thread-safe.
const LibpqFunctions& Libpq();

}  // namespace footfall::store::postgres
