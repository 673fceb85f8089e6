// The counter snippet as footfall serves it at GET /counter.js (and /counter.min.js): the bytes of
// web/counter.min.js, compiled in at build time (cmake/embed_file.cmake), so serving it reads no
// file. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/http_message.h"

namespace footfall::core {

// The bytes of web/counter.min.js as they were when footfall was built.
std::string_view CounterSnippet();

// The snippet's strong entity tag: the first 128 bits of the SHA-256 of its bytes as 32 lower-case
// hex digits, quoted ("\"3fa0…\""). Computed once, on the first call.
const std::string& CounterSnippetEtag();

// The answer to a GET of the snippet, given the request's If-None-Match header (if any):
// 304 with no body when that header names CounterSnippetEtag() (weak comparison, as RFC 9110
// prescribes for If-None-Match: W/"…" matches too; a list of tags; or "*"), else 200 with the
// script as text/javascript. Both carry the ETag, Cache-Control and
// Cross-Origin-Resource-Policy: cross-origin (pages that require CORP, i.e. with COEP, load it
// too). Cross-origin pages load it with <script src>, which needs no CORS.
Response CounterSnippetResponse(std::optional<std::string_view> if_none_match);

}  // namespace footfall::core
