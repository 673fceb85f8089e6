#include "store/props_text.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace footfall::store {

std::string EncodeProps(const Props& props) {
  if (props.empty()) return "";
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const auto& [key, value] : props) object[key] = value;
  // Keys and values are valid UTF-8 (checked when the event was parsed); `replace` keeps a
  // malformed one from throwing all the same.
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StatusOr<Props> DecodeProps(std::string_view text) {
  Props props;
  if (text.empty()) return props;
  const nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return InvalidArgumentError("props must be a JSON object");
  for (const auto& [key, value] : object.items()) {
    if (!value.is_string()) return InvalidArgumentError("props values must be strings");
    props.emplace_back(key, value.get<std::string>());
  }
  std::sort(props.begin(), props.end());
  return props;
}

}  // namespace footfall::store
