#include "base/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace footfall {

void OsRandom::Fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Without randomness salts and IDs would be predictable; refusing to run is the safe choice.
      std::perror("footfall: getrandom");
      std::abort();
    }
    done += static_cast<size_t>(n);
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
