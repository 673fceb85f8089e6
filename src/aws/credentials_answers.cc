#include "aws/credentials_answers.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "aws/credentials_internal.h"

namespace footfall::aws {

using std::chrono::milliseconds;

namespace {

Status Malformed(std::string_view what) {
  return UnavailableError("malformed answer: " + std::string(what));
}

// Checks the three strings and assembles the result. Names fields, never values.
StatusOr<ExpiringCredentials> MakeCredentials(std::string access_key_id, std::string secret,
                                              std::string token, std::string_view expiration,
                                              std::string_view token_field) {
  if (access_key_id.empty() || access_key_id.size() > 128 ||
      !std::all_of(access_key_id.begin(), access_key_id.end(),
                   [](unsigned char c) { return std::isalnum(c); })) {
    return Malformed("AccessKeyId is not 1 to 128 letters and digits");
  }
  if (secret.empty() || secret.size() > 256 || !IsVisibleAscii(secret)) {
    return Malformed("SecretAccessKey is not 1 to 256 visible ASCII characters");
  }
  if (token.empty() || token.size() > 16384 || !IsVisibleAscii(token)) {
    return Malformed(std::string(token_field) + " is not 1 to 16384 visible ASCII characters");
  }
  auto when = ParseIso8601Utc(expiration);
  if (!when.ok())
    return Malformed("Expiration '" + Printable(expiration, 40) + "' is not ISO 8601 UTC");
  ExpiringCredentials out;
  out.credentials.access_key_id = std::move(access_key_id);
  out.credentials.secret_access_key = std::move(secret);
  out.credentials.session_token = std::move(token);
  out.expiration = *when;
  return out;
}

// The content of the one element `name` in `xml`. Errors when it is missing, present twice or not
// closed. A self-closing <name/> has empty content.
StatusOr<std::string_view> OnlyElement(std::string_view xml, std::string_view name) {
  std::optional<std::string_view> found;
  size_t at = 0;
  while ((at = xml.find('<', at)) != std::string_view::npos) {
    const size_t name_end = at + 1 + name.size();
    if (xml.substr(at + 1, name.size()) != name || name_end >= xml.size()) {
      ++at;
      continue;
    }
    const char next = xml[name_end];
    if (next != '>' && next != '/' && next != ' ' && next != '\t' && next != '\r' && next != '\n') {
      ++at;  // another element whose name starts with `name`
      continue;
    }
    if (found) return Malformed("element " + std::string(name) + " appears more than once");
    const size_t tag_end = xml.find('>', name_end);
    if (tag_end == std::string_view::npos)
      return Malformed("element " + std::string(name) + " is not closed");
    if (xml[tag_end - 1] == '/') {
      found = std::string_view();
      at = tag_end;
      continue;
    }
    const std::string close = "</" + std::string(name) + ">";
    const size_t close_at = xml.find(close, tag_end + 1);
    if (close_at == std::string_view::npos) {
      return Malformed("element " + std::string(name) + " is not closed");
    }
    found = xml.substr(tag_end + 1, close_at - tag_end - 1);
    at = tag_end;
  }
  if (!found) return Malformed("element " + std::string(name) + " is missing");
  return *found;
}

// The text of a leaf element: no child elements, no CDATA; XML's five named entities and
// character references (ASCII only) decoded.
StatusOr<std::string> LeafText(std::string_view xml, std::string_view name) {
  ASSIGN_OR_RETURN(std::string_view raw, OnlyElement(xml, name));
  if (raw.find('<') != std::string_view::npos) {
    return Malformed("element " + std::string(name) + " is not plain text");
  }
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out += raw[i];
      continue;
    }
    const size_t semi = raw.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      return Malformed("element " + std::string(name) + " has a bad entity");
    }
    const std::string_view entity = raw.substr(i + 1, semi - i - 1);
    static constexpr std::pair<std::string_view, char> kNamed[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    char decoded = 0;
    for (const auto& [entity_name, c] : kNamed) {
      if (entity == entity_name) decoded = c;
    }
    if (decoded == 0 && entity.size() >= 2 && entity[0] == '#') {
      const bool hex = entity[1] == 'x';
      const std::string_view digits = entity.substr(hex ? 2 : 1);
      unsigned value = 0;
      const auto [end, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), value, hex ? 16 : 10);
      if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty() &&
          value >= 0x20 && value < 0x7f) {
        decoded = static_cast<char>(value);
      }
    }
    if (decoded == 0) return Malformed("element " + std::string(name) + " has a bad entity");
    out += decoded;
    i = semi;
  }
  return out;
}

}  // namespace

std::string QueryApiError(std::string_view xml) {
  auto error = OnlyElement(xml, "Error");
  if (!error.ok()) return "";
  auto code = LeafText(*error, "Code");
  auto message = LeafText(*error, "Message");
  std::string out = code.ok() ? Printable(*code, 64) : "";
  if (message.ok()) out += (out.empty() ? "" : ": ") + Printable(*message, 200);
  return out;
}

// --- Parsers (public for tests and fuzzing) -----------------------------------------------------

StatusOr<TimePoint> ParseIso8601Utc(std::string_view text) {
  const auto bad = [&] {
    return InvalidArgumentError("'" + Printable(text, 40) +
                                "' is not a UTC time like 2026-12-05T15:37:55Z");
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return bad();
  }
  const auto number = [&](size_t at, size_t length, int& out) {
    const char* begin = text.data() + at;
    const auto [end, ec] = std::from_chars(begin, begin + length, out);
    return ec == std::errc() && end == begin + length &&
           std::isdigit(static_cast<unsigned char>(*begin));
  };
  int year, month, day, hour, minute, second;
  if (!number(0, 4, year) || !number(5, 2, month) || !number(8, 2, day) || !number(11, 2, hour) ||
      !number(14, 2, minute) || !number(17, 2, second)) {
    return bad();
  }
  std::string_view rest = text.substr(19);
  int64_t millis = 0;
  if (rest.front() == '.') {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      if (digits <= 3) millis = millis * 10 + (rest[digits] - '0');
      ++digits;
    }
    if (digits == 1 || digits > 20) return bad();
    for (size_t d = std::min<size_t>(digits - 1, 3); d < 3; ++d) millis *= 10;
    rest.remove_prefix(digits);
  }
  if (rest != "Z" && rest != "+00:00") return bad();
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  // TimePoint counts nanoseconds in 64 bits: it ends in 2262.
  if (!date.ok() || year < 1970 || year > 2200 || hour > 23 || minute > 59 || second > 60)
    return bad();
  return TimePoint(std::chrono::sys_days(date)) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::seconds(second) + milliseconds(millis);
}

StatusOr<ExpiringCredentials> ParseAssumeRoleWithWebIdentityAnswer(std::string_view xml) {
  ASSIGN_OR_RETURN(std::string_view response,
                   OnlyElement(xml, "AssumeRoleWithWebIdentityResponse"));
  ASSIGN_OR_RETURN(std::string_view result,
                   OnlyElement(response, "AssumeRoleWithWebIdentityResult"));
  ASSIGN_OR_RETURN(std::string_view credentials, OnlyElement(result, "Credentials"));
  ASSIGN_OR_RETURN(std::string access_key_id, LeafText(credentials, "AccessKeyId"));
  ASSIGN_OR_RETURN(std::string secret, LeafText(credentials, "SecretAccessKey"));
  ASSIGN_OR_RETURN(std::string token, LeafText(credentials, "SessionToken"));
  ASSIGN_OR_RETURN(std::string expiration, LeafText(credentials, "Expiration"));
  return MakeCredentials(std::move(access_key_id), std::move(secret), std::move(token),
                         Trim(expiration), "SessionToken");
}

StatusOr<ExpiringCredentials> ParseCredentialsJson(std::string_view json) {
  const auto body = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Malformed("not JSON");
  if (!body.is_object()) return Malformed("not a JSON object");
  const auto field = [&](const char* name) -> StatusOr<std::string> {
    const auto it = body.find(name);
    if (it == body.end()) return Malformed(std::string("field ") + name + " is missing");
    if (!it->is_string()) return Malformed(std::string("field ") + name + " is not a string");
    return it->get<std::string>();
  };
  if (const auto code = body.find("Code"); code != body.end()) {
    if (!code->is_string()) return Malformed("field Code is not a string");
    if (*code != "Success") {
      return UnavailableError("the answer's Code is '" +
                              Printable(code->get_ref<const std::string&>(), 64) +
                              "', not Success");
    }
  }
  ASSIGN_OR_RETURN(std::string access_key_id, field("AccessKeyId"));
  ASSIGN_OR_RETURN(std::string secret, field("SecretAccessKey"));
  ASSIGN_OR_RETURN(std::string token, field("Token"));
  ASSIGN_OR_RETURN(std::string expiration, field("Expiration"));
  return MakeCredentials(std::move(access_key_id), std::move(secret), std::move(token), expiration,
                         "Token");
}
}  // namespace footfall::aws
