#include "base/loop_guard.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>  // before Asio: Boost 1.74's Asio misses this include in C++20

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace footfall {
namespace {

TEST(LoopGuardTest, AThrowingHandlerIsCountedAndTheLoopRunsOn) {
  boost::asio::io_context context;
  bool later_handler_ran = false;
  const uint64_t before = EscapedExceptions();
  boost::asio::post(context, [] { throw std::runtime_error("type must be string, but is number"); });
  boost::asio::post(context, [] { throw 42; });
  boost::asio::post(context, [&] { later_handler_ran = true; });
  RunGuarded(context, "test");
  EXPECT_TRUE(later_handler_ran);
  EXPECT_EQ(EscapedExceptions(), before + 2);
}

TEST(LoopGuardTest, CatchEscapedSaysWhetherTheCallReturned) {
  const uint64_t before = EscapedExceptions();
  EXPECT_TRUE(CatchEscaped("test", [] {}));
  EXPECT_FALSE(CatchEscaped("test", [] { throw std::logic_error("bug"); }));
  EXPECT_EQ(EscapedExceptions(), before + 1);
}

}  // namespace
}  // namespace footfall
