// Random: where footfall gets unpredictable bytes (salts, UUIDv7 random bits). Injected so tests
// are deterministic. OsRandom and FakeRandom are safe to call from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>

namespace footfall {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` with random bytes. Never fails (OsRandom aborts if the kernel cannot supply them).
  virtual void Fill(std::span<uint8_t> out) = 0;
};

// Cryptographically secure bytes from the kernel (getrandom(2)), fetched 4 KiB at a time into a
// per-thread pool.
class OsRandom final : public Random {
 public:
  void Fill(std::span<uint8_t> out) override;
};

// Deterministic bytes from `seed` (splitmix64). For tests only.
class FakeRandom final : public Random {
 public:
  explicit FakeRandom(uint64_t seed) : state_(seed) {}
  void Fill(std::span<uint8_t> out) override;

 private:
  std::mutex mu_;
  uint64_t state_;
};

}  // namespace footfall
