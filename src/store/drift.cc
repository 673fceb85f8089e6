#include "store/drift.h"

#include <unistd.h>

#include <array>
#include <atomic>

#include <nlohmann/json.hpp>

namespace footfall::store {
namespace {

constexpr size_t kMaxIdsNamed = 20;
std::array<std::atomic<uint64_t>, static_cast<size_t>(DriftKind::kKinds)> counts{};

}  // namespace

const char* DriftKindName(DriftKind kind) {
  switch (kind) {
    case DriftKind::kTotalAhead:
      return "total_ahead";
    case DriftKind::kAggregatesShort:
      return "aggregates_short";
    case DriftKind::kKinds:
      break;
  }
  return "unknown";
}

void ReportDrift(DriftKind kind, const std::vector<std::string>& visit_ids, const Status& cause) {
  counts[static_cast<size_t>(kind)].fetch_add(visit_ids.empty() ? 1 : visit_ids.size(),
                                              std::memory_order_relaxed);
  nlohmann::ordered_json named = nlohmann::json::array();
  for (size_t i = 0; i < visit_ids.size() && i < kMaxIdsNamed; ++i) named.push_back(visit_ids[i]);
  const nlohmann::ordered_json line = {{"level", "error"},
                                       {"event", "drift"},
                                       {"kind", DriftKindName(kind)},
                                       {"visits", visit_ids.size()},
                                       {"visit_ids", std::move(named)},
                                       {"error", cause.ToString()}};
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  // Straight to the descriptor: the store has no log writer of its own.
  [[maybe_unused]] ssize_t written = ::write(2, text.data(), text.size());
}

uint64_t DriftCount(DriftKind kind) {
  return counts[static_cast<size_t>(kind)].load(std::memory_order_relaxed);
}

uint64_t DriftCount() {
  uint64_t total = 0;
  for (const auto& count : counts) total += count.load(std::memory_order_relaxed);
  return total;
}

}  // namespace footfall::store
