#include "store/postgres/libpq_loader.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <string>

namespace footfall::store::postgres {
namespace {

TEST(LibpqLoaderTest, LoadsLibpqAndItsFunctionsWork) {
  ASSERT_TRUE(LoadLibpq().ok()) << LoadLibpq().ToString();
  EXPECT_TRUE(LoadLibpq().ok());  // once; later calls give the same outcome
  // Through the forwarders, no server needed: libpq parses a connection URI.
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse("postgres://ff@127.0.0.1:5433/footfall", &error);
  ASSERT_NE(options, nullptr) << (error ? error : "");
  std::string port;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::string(option->keyword) == "port" && option->val != nullptr) port = option->val;
  }
  PQconninfoFree(options);
  EXPECT_EQ(port, "5433");
  EXPECT_EQ(PQconninfoParse("postgres://[bad", &error), nullptr);
  ASSERT_NE(error, nullptr);
  PQfreemem(error);
}

}  // namespace
}  // namespace footfall::store::postgres
