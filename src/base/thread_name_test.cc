#include "base/thread_name.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <thread>

namespace footfall {
namespace {

std::string NameOfThisThread() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

TEST(ThreadNameTest, NamesTheCallingThreadAndCutsAt15Bytes) {
  std::string named, cut;
  std::thread([&] {
    NameThisThread("ff-writer");
    named = NameOfThisThread();
    NameThisThread("ff-a-name-longer-than-fifteen");
    cut = NameOfThisThread();
  }).join();
  EXPECT_EQ(named, "ff-writer");
  EXPECT_EQ(cut, "ff-a-name-longe");
}

}  // namespace
}  // namespace footfall
