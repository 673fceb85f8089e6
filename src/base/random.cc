#include "base/random.h"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace footfall {

namespace {

void FillFromKernel(uint8_t* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = getrandom(out + done, size - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Without randomness salts and IDs would be predictable; refusing to run is the safe choice.
      std::perror("footfall: getrandom");
      std::abort();
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void OsRandom::Fill(std::span<uint8_t> out) {
  // One getrandom(2) per 4 KiB instead of one per UUID: a syscall per request was measurable
  // (strace: as many getrandom calls as requests). Each thread keeps its own pool; bytes are
  // handed out once and wiped as they are used.
  constexpr size_t kPoolBytes = 4096;
  thread_local std::array<uint8_t, kPoolBytes> pool;
  thread_local size_t available = 0;
  size_t done = 0;
  while (done < out.size()) {
    if (available == 0) {
      FillFromKernel(pool.data(), pool.size());
      available = pool.size();
    }
    const size_t take = std::min(available, out.size() - done);
    uint8_t* from = pool.data() + (pool.size() - available);
    std::memcpy(out.data() + done, from, take);
    std::memset(from, 0, take);
    available -= take;
    done += take;
  }
}

void FakeRandom::Fill(std::span<uint8_t> out) {
  std::lock_guard lock(mu_);
  for (auto& byte : out) {
    state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    byte = static_cast<uint8_t>(z ^ (z >> 31));
  }
}

}  // namespace footfall
