#include "core/value_cap.h"

#include <algorithm>

namespace footfall::core {

ValueCap::ValueCap(int max_per_family, size_t max_tracked)
    : max_per_family_(std::max(1, max_per_family)), max_tracked_(max_tracked) {}

bool ValueCap::Admit(int64_t day, std::string_view site, std::string_view family,
                     std::string_view value) {
  if (value == kOtherValue) return true;
  std::string family_key;
  family_key.reserve(site.size() + family.size() + value.size() + 2);
  family_key.append(site).append(1, '\0').append(family);
  std::string value_key = family_key;
  value_key.append(1, '\0').append(value);
  std::lock_guard lock(mu_);
  if (day < day_) return admitted_.count(value_key) > 0;  // a late visit of an earlier day
  if (day > day_) {
    day_ = day;
    admitted_.clear();
    sizes_.clear();
  }
  if (admitted_.count(value_key) > 0) return true;
  if (admitted_.size() >= max_tracked_) return false;
  int& size = sizes_[family_key];
  if (size >= max_per_family_) return false;
  ++size;
  admitted_.insert(std::move(value_key));
  return true;
}

}  // namespace footfall::core
