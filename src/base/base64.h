// Base64 (RFC 4648, standard alphabet, with padding), as used by DynamoDB binary attributes,
// API Gateway bodies, HTTP Basic credentials and CSP hashes. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace footfall {

std::string Base64Encode(std::string_view bytes);

// Decodes padded base64. nullopt for anything else: a length that is not a multiple of 4, a
// character outside the alphabet, padding anywhere but at the end.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace footfall
