// Store URIs in messages: what may be shown of one. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace footfall::store {

// `uri` with any password replaced by "***" (user:password@ and libpq's password=…), for
// messages and logs.
std::string RedactStoreUri(std::string_view uri);

}  // namespace footfall::store
