// The body of POST /api/event: what navigator.sendBeacon sends (a small JSON object, usually as
// text/plain so that no CORS preflight is needed). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace footfall::core {

// Bodies larger than this are refused (413): an event is a few hundred bytes at most.
inline constexpr size_t kMaxEventBodyBytes = 8192;
// Limits of custom events and their properties.
inline constexpr size_t kMaxEventNameBytes = 64;
inline constexpr size_t kMaxProps = 10;
inline constexpr size_t kMaxPropKeyBytes = 64;
inline constexpr size_t kMaxPropValueBytes = 256;

struct EventBody {
  std::optional<std::string> path;  // the page path as sent (not yet normalised)
  std::optional<std::string> url;   // the page URL as sent: its path when `path` is absent, and
                                    // its campaign parameters
  std::string referrer;             // document.referrer as sent ("" if absent)
  int screen_width = 0;             // CSS pixels; 0 if absent
  std::string name;                 // a custom event's name; "" for a page view
  std::vector<std::pair<std::string, std::string>> props;  // sorted by key
  store::Campaign campaign;         // from "utm", normalised
  bool hash_mode = false;           // the path of `url` includes its fragment (a hash router's)
  bool plausible = false;           // sent in Plausible's format (answered as Plausible does)
};

// Parses {"path": "/blog/x", "referrer": "https://news.example/", "screen": 1280,
// "name": "signup", "props": {"plan": "pro"}, "utm": {"source": "newsletter"}, "url": "…"}.
// Every field is optional; unknown fields are ignored. "name" absent or "pageview" is a page view.
// Plausible's trackers (the plausible-tracker npm package, Plausible's script) send the same
// event with short keys, also read here: "n" (name), "u" (the page URL), "r" (referrer), "w"
// (window width, taken as the screen width), "h" (1: hash-based routing, the URL's fragment is
// part of the path), "p" (props: an object, or its JSON text, of strings, numbers or booleans,
// kept as their text) and "d" (Plausible's site domain: ignored, the site is the Origin's).
// Errors: kInvalidArgument with a message fit for the client that names the field: not a JSON
// object, not UTF-8, a field of the wrong type, screen outside 0..100000, an event name that
// CheckEventName refuses, props that are not an object of at most kMaxProps strings with keys of
// at most kMaxPropKeyBytes and values of at most kMaxPropValueBytes (printable text; a value that
// holds an IP address is refused: no property may carry one), utm members that are not strings.
StatusOr<EventBody> ParseEventBody(std::string_view body);

// Errors: kInvalidArgument unless `name` is 1..kMaxEventNameBytes of valid UTF-8 without control
// characters.
Status CheckEventName(std::string_view name);

// Errors: kInvalidArgument (naming the property) unless `props` are at most kMaxProps, sorted by
// key without a repeated key, keys of 1..kMaxPropKeyBytes and values of at most
// kMaxPropValueBytes of printable UTF-8, no value holding an IP address.
Status CheckProps(const std::vector<std::pair<std::string, std::string>>& props);

// Whether `text` holds something that parses as an IPv4 or IPv6 address (alone or among other
// words).
bool ContainsIpAddress(std::string_view text);

// The screen-size class stored with a visit (a coarse bucket, never the exact width):
// "<600", "600-1023", "1024-1439", "1440+", or "" for 0 (unknown).
std::string_view ScreenClass(int screen_width);

}  // namespace footfall::core
