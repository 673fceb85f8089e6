// How a visit's properties are kept in a text column of the SQL engines' visits tables (and in
// export files): a JSON object of string values, sorted by key, or "" when there are none. Pure
// functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace footfall::store {

using Props = std::vector<std::pair<std::string, std::string>>;

// "" for no properties, else {"key":"value",…} in the order given (Visit::props is sorted).
std::string EncodeProps(const Props& props);

// The inverse of EncodeProps, sorted by key. Errors: kInvalidArgument when `text` is neither ""
// nor a JSON object of strings (never throws: the text may come from an old or edited file).
StatusOr<Props> DecodeProps(std::string_view text);

}  // namespace footfall::store
