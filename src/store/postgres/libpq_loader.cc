#include "store/postgres/libpq_loader.h"

#include <dlfcn.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace footfall::store::postgres {
namespace {

// Every libpq function footfall calls. A new one must be added here (the link fails otherwise:
// footfall does not link libpq).
#define FOOTFALL_LIBPQ_FUNCTIONS(X)                                                        \
  X(PQclear) X(PQcmdStatus) X(PQcmdTuples) X(PQconnectdb) X(PQconninfoFree)                 \
  X(PQconninfoParse) X(PQconsumeInput) X(PQerrorMessage) X(PQexec) X(PQfinish) X(PQflush)   \
  X(PQfreemem) X(PQgetisnull) X(PQgetlength) X(PQgetResult) X(PQgetvalue) X(PQisBusy)       \
  X(PQntuples) X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus)              \
  X(PQsendQueryParams) X(PQsetNoticeProcessor) X(PQsocket) X(PQstatus) X(PQtransactionStatus)

struct Libpq {
#define FOOTFALL_LIBPQ_POINTER(name) decltype(&::name) name = nullptr;
  FOOTFALL_LIBPQ_FUNCTIONS(FOOTFALL_LIBPQ_POINTER)
#undef FOOTFALL_LIBPQ_POINTER
};

Libpq libpq;           // filled once by LoadLibpq; read-only afterwards
std::atomic<bool> loaded{false};  // set once libpq is complete

const Libpq& Loaded() {
  if (!loaded.load(std::memory_order_acquire)) {
    // Callers load it first to report a missing library cleanly; one that did not gets it now.
    if (Status status = LoadLibpq(); !status.ok()) {
      std::fprintf(stderr, "footfall: %s\n", status.ToString().c_str());
      std::abort();
    }
  }
  return libpq;
}

}  // namespace

Status LoadLibpq() {
  static std::once_flag once;
  static Status outcome;
  std::call_once(once, [library = kLibpqName] {
    void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      outcome = UnavailableError(std::string("PostgreSQL stores need ") + library +
                                 " (Debian package libpq5): " + (why ? why : "cannot load it"));
      return;
    }
    std::string missing;
#define FOOTFALL_LIBPQ_RESOLVE(name)                                                  \
  libpq.name = reinterpret_cast<decltype(&::name)>(dlsym(handle, #name));             \
  if (libpq.name == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(#name);
    FOOTFALL_LIBPQ_FUNCTIONS(FOOTFALL_LIBPQ_RESOLVE)
#undef FOOTFALL_LIBPQ_RESOLVE
    if (!missing.empty()) {
      outcome = UnavailableError(std::string(library) + " lacks " + missing);
      return;
    }
    loaded.store(true, std::memory_order_release);  // the handle stays open: the process uses it
  });
  return outcome;
}

}  // namespace footfall::store::postgres

// The forwarders: the definitions of the libpq functions footfall's code calls.
extern "C" {
void PQclear(PGresult* res) { footfall::store::postgres::Loaded().PQclear(res); }
char* PQcmdStatus(PGresult* res) { return footfall::store::postgres::Loaded().PQcmdStatus(res); }
char* PQcmdTuples(PGresult* res) { return footfall::store::postgres::Loaded().PQcmdTuples(res); }
PGconn* PQconnectdb(const char* conninfo) {
  return footfall::store::postgres::Loaded().PQconnectdb(conninfo);
}
void PQconninfoFree(PQconninfoOption* options) {
  footfall::store::postgres::Loaded().PQconninfoFree(options);
}
PQconninfoOption* PQconninfoParse(const char* conninfo, char** errmsg) {
  return footfall::store::postgres::Loaded().PQconninfoParse(conninfo, errmsg);
}
int PQconsumeInput(PGconn* conn) { return footfall::store::postgres::Loaded().PQconsumeInput(conn); }
char* PQerrorMessage(const PGconn* conn) {
  return footfall::store::postgres::Loaded().PQerrorMessage(conn);
}
PGresult* PQexec(PGconn* conn, const char* query) {
  return footfall::store::postgres::Loaded().PQexec(conn, query);
}
void PQfinish(PGconn* conn) { footfall::store::postgres::Loaded().PQfinish(conn); }
int PQflush(PGconn* conn) { return footfall::store::postgres::Loaded().PQflush(conn); }
void PQfreemem(void* ptr) { footfall::store::postgres::Loaded().PQfreemem(ptr); }
int PQgetisnull(const PGresult* res, int row, int column) {
  return footfall::store::postgres::Loaded().PQgetisnull(res, row, column);
}
int PQgetlength(const PGresult* res, int row, int column) {
  return footfall::store::postgres::Loaded().PQgetlength(res, row, column);
}
PGresult* PQgetResult(PGconn* conn) { return footfall::store::postgres::Loaded().PQgetResult(conn); }
char* PQgetvalue(const PGresult* res, int row, int column) {
  return footfall::store::postgres::Loaded().PQgetvalue(res, row, column);
}
int PQisBusy(PGconn* conn) { return footfall::store::postgres::Loaded().PQisBusy(conn); }
int PQntuples(const PGresult* res) { return footfall::store::postgres::Loaded().PQntuples(res); }
char* PQresultErrorField(const PGresult* res, int fieldcode) {
  return footfall::store::postgres::Loaded().PQresultErrorField(res, fieldcode);
}
char* PQresultErrorMessage(const PGresult* res) {
  return footfall::store::postgres::Loaded().PQresultErrorMessage(res);
}
ExecStatusType PQresultStatus(const PGresult* res) {
  return footfall::store::postgres::Loaded().PQresultStatus(res);
}
int PQsendQueryParams(PGconn* conn, const char* command, int count, const Oid* types,
                      const char* const* values, const int* lengths, const int* formats,
                      int result_format) {
  return footfall::store::postgres::Loaded().PQsendQueryParams(conn, command, count, types, values,
                                                               lengths, formats, result_format);
}
PQnoticeProcessor PQsetNoticeProcessor(PGconn* conn, PQnoticeProcessor processor, void* arg) {
  return footfall::store::postgres::Loaded().PQsetNoticeProcessor(conn, processor, arg);
}
int PQsocket(const PGconn* conn) { return footfall::store::postgres::Loaded().PQsocket(conn); }
ConnStatusType PQstatus(const PGconn* conn) {
  return footfall::store::postgres::Loaded().PQstatus(conn);
}
PGTransactionStatusType PQtransactionStatus(const PGconn* conn) {
  return footfall::store::postgres::Loaded().PQtransactionStatus(conn);
}
}  // extern "C"
