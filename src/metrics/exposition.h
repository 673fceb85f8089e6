// The pieces of the Prometheus text exposition format 0.0.4 that Registry::Render assembles:
// escaping, sample values, and the name rules. Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace footfall::metrics {

// The Content-Type of Registry::Render()'s output, for the /metrics response.
inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// `text` with every invalid UTF-8 sequence replaced by U+FFFD: Prometheus rejects a whole scrape
// over one invalid byte, and label values may come from requests.
std::string ToValidUtf8(std::string_view text);

// Appends `help` escaped for a `# HELP` line: `\` -> `\\`, newline -> `\n`.
void AppendEscapedHelp(std::string_view help, std::string& out);

// Appends `value` escaped for a label value between double quotes: `\` -> `\\`, `"` -> `\"`,
// newline -> `\n`.
void AppendEscapedLabelValue(std::string_view value, std::string& out);

// Appends `value` as Prometheus parses it: "NaN", "+Inf", "-Inf", or the shortest decimal that
// reads back as the same double ("0.005", "1", "1e-09").
void AppendDouble(double value, std::string& out);

// Appends `value` in decimal.
void AppendUint(uint64_t value, std::string& out);

// True if `name` is a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name);

// True if `name` is a valid label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved
// for Prometheus itself).
bool IsValidLabelName(std::string_view name);

}  // namespace footfall::metrics
