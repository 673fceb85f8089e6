#include "store/postgres/postgres_result.h"

#include "store/postgres/libpq_loader.h"

#include <algorithm>
#include <cstdlib>

namespace footfall::store::postgres {

std::string Text(const PGresult* result, int row, int column) {
  return std::string(Libpq().get_value(result, row, column),
                     static_cast<size_t>(Libpq().get_length(result, row, column)));
}

int64_t Integer(const PGresult* result, int row, int column) {
  if (Libpq().get_is_null(result, row, column)) return 0;
  return std::atoll(Libpq().get_value(result, row, column));
}

std::vector<std::string_view> CommaList(const PGresult* result, int row, int column) {
  std::vector<std::string_view> parts;
  const std::string_view list =
      Libpq().get_is_null(result, row, column) ? "" : Libpq().get_value(result, row, column);
  for (size_t start = 0; start < list.size();) {
    const size_t comma = std::min(list.find(',', start), list.size());
    parts.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

}  // namespace footfall::store::postgres
