#include "core/badge.h"

#include "core/text.h"
#include "core/url.h"

namespace footfall::core {
namespace {

std::string WithThousands(int64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  const size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (i - first) % 3 == 0 && i >= first) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

std::optional<StatusOr<CounterTarget>> ParseCounterTarget(std::string_view route_path) {
  constexpr std::string_view kPrefix = "/counter/";
  if (!route_path.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = route_path.substr(kPrefix.size() - 1);  // keep the leading '/'
  CounterFormat format;
  if (rest.ends_with(".json")) {
    format = CounterFormat::kJson;
    rest.remove_suffix(5);
  } else if (rest.ends_with(".svg")) {
    format = CounterFormat::kSvg;
    rest.remove_suffix(4);
  } else {
    return StatusOr<CounterTarget>(InvalidArgumentError("the counter must end in .json or .svg"));
  }
  StatusOr<std::string> decoded = PercentDecode(rest, false);
  if (!decoded.ok()) return StatusOr<CounterTarget>(decoded.status());
  StatusOr<std::string> path = NormalizePagePath(*decoded);
  if (!path.ok()) return StatusOr<CounterTarget>(path.status());
  return StatusOr<CounterTarget>(CounterTarget{*std::move(path), format});
}

std::string CounterBadgeSvg(std::string_view label, int64_t count) {
  const std::string left = HtmlEscape(label);
  const std::string right = WithThousands(count);
  // About 7 px per character at 11 px Verdana, plus padding.
  const int left_width = static_cast<int>(label.size()) * 7 + 12;
  const int right_width = static_cast<int>(right.size()) * 7 + 12;
  const int width = left_width + right_width;
  std::string svg;
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
         "\" height=\"20\" role=\"img\" aria-label=\"" + left + ": " + right + "\">";
  svg += "<title>" + left + ": " + right + "</title>";
  svg += "<rect width=\"" + std::to_string(left_width) + "\" height=\"20\" fill=\"#555\"/>";
  svg += "<rect x=\"" + std::to_string(left_width) + "\" width=\"" + std::to_string(right_width) +
         "\" height=\"20\" fill=\"#2b7489\"/>";
  svg += "<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,DejaVu Sans,sans-serif\" "
         "font-size=\"11\">";
  svg += "<text x=\"" + std::to_string(left_width / 2) + "\" y=\"14\">" + left + "</text>";
  svg += "<text x=\"" + std::to_string(left_width + right_width / 2) + "\" y=\"14\">" + right +
         "</text></g></svg>";
  return svg;
}

}  // namespace footfall::core
