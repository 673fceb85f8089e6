#include "store/postgres/libpq_loader.h"

#include <gtest/gtest.h>

#include <string>

namespace footfall::store::postgres {
namespace {

// Parses a connection URI through the table: no server needed. Returns its port, or "" if none.
std::string PortOf(const char* uri) {
  char* error = nullptr;
  PQconninfoOption* options = Libpq().conninfo_parse(uri, &error);
  if (options == nullptr) {
    Libpq().freemem(error);
    return "";
  }
  std::string port;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::string(option->keyword) == "port" && option->val != nullptr) port = option->val;
  }
  Libpq().conninfo_free(options);
  return port;
}

// First in this file: a caller that skipped LoadLibpq() gets the library loaded, not a crash.
TEST(LibpqLoaderTest, TableLoadsLibpqOnFirstUse) {
  EXPECT_EQ(PortOf("postgres://ff@127.0.0.1:5434/footfall"), "5434");
}

TEST(LibpqLoaderTest, LoadsLibpqAndItsFunctionsWork) {
  ASSERT_TRUE(LoadLibpq().ok()) << LoadLibpq().ToString();
  EXPECT_TRUE(LoadLibpq().ok());  // once; later calls give the same outcome
  EXPECT_EQ(PortOf("postgres://ff@127.0.0.1:5433/footfall"), "5433");
  char* error = nullptr;
  EXPECT_EQ(Libpq().conninfo_parse("postgres://[bad", &error), nullptr);
  ASSERT_NE(error, nullptr);
  Libpq().freemem(error);
}

TEST(LibpqLoaderTest, EveryFunctionOfTheTableIsResolved) {
  ASSERT_TRUE(LoadLibpq().ok()) << LoadLibpq().ToString();
#define FOOTFALL_EXPECT_RESOLVED(member, symbol) EXPECT_NE(Libpq().member, nullptr) << #symbol;
  FOOTFALL_LIBPQ_FUNCTIONS(FOOTFALL_EXPECT_RESOLVED)
#undef FOOTFALL_EXPECT_RESOLVED
}

}  // namespace
}  // namespace footfall::store::postgres
