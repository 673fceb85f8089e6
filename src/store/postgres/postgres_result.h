// Reading the cells of a PostgreSQL result as values: text, integers, comma-separated lists. The
// one place the PostgreSQL store turns result rows into C++ values. Thread-safe: they only read
// the result, which must outlive the views CommaList returns.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace footfall::store::postgres {

// The cell at (row, column) as text ("" for NULL).
std::string Text(const PGresult* result, int row, int column);

// The cell at (row, column) as an integer: 0 for NULL, else atoll of its text.
int64_t Integer(const PGresult* result, int row, int column);

// The parts of "a,b,c" (none for NULL or ""), viewing the result's own memory.
std::vector<std::string_view> CommaList(const PGresult* result, int row, int column);

}  // namespace footfall::store::postgres
