#include "transfer/visit_records.h"


#include <algorithm>
#include <charconv>

#include <openssl/sha.h>
#include <rapidjson/document.h>

#include "base/utc_time.h"
#include "core/event_body.h"
#include "core/responses.h"
#include "core/text.h"
#include "core/url.h"
#include "core/user_agent.h"
#include "store/props_text.h"

namespace footfall::transfer {
namespace {

constexpr size_t kMaxNameBytes = 255;  // site and referrer hosts, GoatCounter referrer names
constexpr size_t kMaxVisitorHexBytes = 64;

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

bool IsHex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool IsUuid(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !IsHex(id.substr(i, 1))) return false;
  }
  return true;
}

// A host (no spaces) or a referrer name such as "Hacker News": bounded UTF-8 without control
// characters.
bool IsName(std::string_view text, bool spaces_allowed = false) {
  if (text.size() > kMaxNameBytes || !core::IsValidUtf8(text)) return false;
  for (unsigned char c : text) {
    if (c < ' ' || c == 0x7f || (c == ' ' && !spaces_allowed)) return false;
  }
  return true;
}

Status Field(std::string_view name, std::string_view problem) {
  return InvalidArgumentError(std::string(name) + ": " + std::string(problem));
}

// Checks the fields of a visit read from our own format and completes the derived ones.

std::string HexOf(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

// "2026-11-25T10:00:00Z", "...:00.123456Z" or "...:00+02:00" (RFC 3339) to Unix milliseconds.
StatusOr<int64_t> ParseRfc3339(std::string_view text) {
  const auto bad = [&] { return Field("Date", "not an RFC 3339 time"); };
  if (text.size() < 20) return bad();
  bool date_only = false;
  StatusOr<int64_t> seconds = ParseUtcTime(std::string(text.substr(0, 19)) + "Z", date_only);
  if (!seconds.ok()) return bad();
  size_t at = 19;
  int64_t millis = 0;
  if (text[at] == '.') {
    size_t digits = 0;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits) {
      if (digits < 3) millis = millis * 10 + (text[at] - '0');
    }
    if (digits == 0) return bad();
    for (; digits < 3; ++digits) millis *= 10;
  }
  const std::string_view zone = text.substr(at);
  int64_t offset_minutes = 0;
  if (zone != "Z" && zone != "z") {
    int hours = 0, minutes = 0;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' ||
        std::from_chars(zone.data() + 1, zone.data() + 3, hours).ec != std::errc() ||
        std::from_chars(zone.data() + 4, zone.data() + 6, minutes).ec != std::errc()) {
      return bad();
    }
    offset_minutes = (zone[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  return *seconds + millis - offset_minutes * 60'000;
}

// "Chrome 120" -> "Chrome", "Windows 10" -> "Windows", "Linux" -> "Linux", "" -> "Other".
std::string Family(std::string_view name) {
  while (!name.empty()) {
    const size_t space = name.rfind(' ');
    if (space == std::string_view::npos) break;
    const char first = name[space + 1];
    if (first < '0' || first > '9') break;
    name = name.substr(0, space);
  }
  if (name.empty() || !core::IsValidUtf8(name)) return "Other";
  return std::string(name.substr(0, 64));
}

}  // namespace

StatusOr<store::Visit> CheckedVisit(store::Visit visit) {
  if (!IsUuid(visit.visit_id)) return Field("visit_id", "not a lower-case UUID");
  bool date_only = false;
  StatusOr<int64_t> time_ms = ParseUtcTime(visit.timestamp, date_only);
  if (!time_ms.ok() || date_only) return Field("timestamp", "not YYYY-MM-DDTHH:MM:SS.mmmZ");
  visit.time_ms = *time_ms;
  visit.timestamp = FormatUtcMillis(visit.time_ms);
  if (visit.visitor.empty() || visit.visitor.size() > kMaxVisitorHexBytes || !IsHex(visit.visitor)) {
    return Field("visitor", "not a lower-case hex hash of at most 64 digits");
  }
  StatusOr<std::string> user_agent = core::SanitizeUserAgent(visit.user_agent);
  if (!user_agent.ok()) return Field("user_agent", "not valid UTF-8");
  visit.user_agent = *std::move(user_agent);
  StatusOr<std::string> path = core::NormalizePagePath(visit.path);
  if (!path.ok()) return Field("path", "not an absolute page path of at most 512 bytes");
  visit.path = *std::move(path);
  if (!IsName(visit.referrer, /*spaces_allowed=*/true)) return Field("referrer", "not a host or name");
  if (visit.site.empty() || !IsName(visit.site)) return Field("site", "not a host name");
  if (visit.expiration_time < 0) return Field("expiration_time", "negative");
  const core::UserAgentInfo agent = core::ClassifyUserAgent(visit.user_agent);
  visit.browser = std::string(agent.browser);
  visit.os = std::string(agent.os);
  visit.device = std::string(core::VisitDeviceClass(agent));
  if (!visit.screen.empty() && visit.screen != "<600" && visit.screen != "600-1023" &&
      visit.screen != "1024-1439" && visit.screen != "1440+") {
    return Field("screen", "not a screen class (<600, 600-1023, 1024-1439, 1440+)");
  }
  if (!visit.source.empty() && visit.source != "origin" && visit.source != "no_origin") {
    return Field("source", "not origin or no_origin");
  }
  if (!visit.event.empty() && !core::CheckEventName(visit.event).ok()) {
    return Field("event", "not an event name of 1 to 64 bytes of printable text");
  }
  if (visit.event == "pageview") visit.event.clear();  // what /api/event takes it for
  std::sort(visit.props.begin(), visit.props.end());
  if (Status props = core::CheckProps(visit.props); !props.ok()) {
    return InvalidArgumentError("props: " + props.message());
  }
  return visit;
}

bool IsOurCsvHeader(std::string_view header) {
  constexpr size_t kSeedColumns = 8, kVersion3Columns = 10;
  size_t columns = 0;
  size_t end = 0;
  for (; end <= kCsvHeader.size(); ++end) {
    if (end == kCsvHeader.size() || kCsvHeader[end] == ',') {
      ++columns;
      if ((columns == kSeedColumns || columns == kVersion3Columns) &&
          header == kCsvHeader.substr(0, end)) {
        return true;
      }
    }
  }
  return header == kCsvHeader;
}

std::string VisitJsonLine(const store::Visit& visit) {
  std::string line = "{\"visit_id\":" + core::JsonQuote(visit.visit_id) +
                     ",\"timestamp\":" + core::JsonQuote(visit.timestamp) +
                     ",\"visitor\":" + core::JsonQuote(visit.visitor) +
                     ",\"user_agent\":" + core::JsonQuote(visit.user_agent) +
                     ",\"path\":" + core::JsonQuote(visit.path) +
                     ",\"referrer\":" + core::JsonQuote(visit.referrer) +
                     ",\"site\":" + core::JsonQuote(visit.site) +
                     ",\"expiration_time\":" + std::to_string(visit.expiration_time) +
                     ",\"screen\":" + core::JsonQuote(visit.screen) +
                     ",\"source\":" + core::JsonQuote(visit.source) +
                     ",\"event\":" + core::JsonQuote(visit.event) +
                     ",\"props\":" + (visit.props.empty() ? "{}" : store::EncodeProps(visit.props)) +
                     "}\n";
  return line;
}

std::string VisitCsvRow(const store::Visit& visit) {
  return CsvField(visit.visit_id) + ',' + CsvField(visit.timestamp) + ',' +
         CsvField(visit.visitor) + ',' + CsvField(visit.user_agent) + ',' + CsvField(visit.path) +
         ',' + CsvField(visit.referrer) + ',' + CsvField(visit.site) + ',' +
         std::to_string(visit.expiration_time) + ',' + CsvField(visit.screen) + ',' +
         CsvField(visit.source) + ',' + CsvField(visit.event) + ',' +
         CsvField(store::EncodeProps(visit.props)) + "\r\n";
}

StatusOr<bool> CsvReader::Next(std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  size_t bytes = 0;
  bool in_quotes = false, after_quote = false, any = false;
  record_line_ = line_;
  const auto fail = [&](std::string_view what) {
    return InvalidArgumentError("line " + std::to_string(record_line_) + ": " + std::string(what));
  };
  for (int c; (c = in_.get()) != std::char_traits<char>::eof();) {
    if (++bytes > kMaxRecordBytes) return fail("record longer than 64 KiB");
    if (in_quotes) {
      if (c == '"') {
        if (in_.peek() == '"') {
          in_.get();
          field += '"';
        } else {
          in_quotes = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line_;
        field += static_cast<char>(c);
      }
      continue;
    }
    if (c == '\r' && in_.peek() == '\n') continue;
    if (c == '\n') {
      ++line_;
      if (!any && field.empty()) {  // a blank line
        record_line_ = line_;
        bytes = 0;
        continue;
      }
      fields.push_back(std::move(field));
      return true;
    }
    any = true;
    if (c == ',') {
      if (fields.size() + 1 >= kMaxCsvFields) return fail("more than 64 fields");
      fields.push_back(std::move(field));
      field.clear();
      after_quote = false;
    } else if (c == '"' && field.empty() && !after_quote) {
      in_quotes = true;
    } else if (after_quote) {
      return fail("text after a closing quote");
    } else {
      field += static_cast<char>(c);
    }
  }
  if (in_quotes) return fail("unterminated quoted field");
  if (!any && field.empty()) return false;
  fields.push_back(std::move(field));
  return true;
}

StatusOr<store::Visit> VisitFromJsonLine(std::string_view line) {
  if (line.size() > kMaxRecordBytes) return InvalidArgumentError("record longer than 64 KiB");
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  if (document.HasParseError() || !document.IsObject()) {
    return InvalidArgumentError("not a JSON object of valid UTF-8");
  }
  store::Visit visit;
  const auto text = [&](const char* name, std::string& out) -> Status {
    auto member = document.FindMember(name);
    if (member == document.MemberEnd() || !member->value.IsString()) {
      return Field(name, "missing or not a string");
    }
    out.assign(member->value.GetString(), member->value.GetStringLength());
    return OkStatus();
  };
  RETURN_IF_ERROR(text("visit_id", visit.visit_id));
  RETURN_IF_ERROR(text("timestamp", visit.timestamp));
  RETURN_IF_ERROR(text("visitor", visit.visitor));
  RETURN_IF_ERROR(text("user_agent", visit.user_agent));
  RETURN_IF_ERROR(text("path", visit.path));
  RETURN_IF_ERROR(text("referrer", visit.referrer));
  RETURN_IF_ERROR(text("site", visit.site));
  auto expiration = document.FindMember("expiration_time");
  if (expiration == document.MemberEnd() || !expiration->value.IsInt64()) {
    return Field("expiration_time", "missing or not an integer");
  }
  visit.expiration_time = expiration->value.GetInt64();
  for (auto [name, out] : {std::pair<const char*, std::string*>{"screen", &visit.screen},
                            std::pair<const char*, std::string*>{"source", &visit.source},
                            std::pair<const char*, std::string*>{"event", &visit.event}}) {
    auto member = document.FindMember(name);  // optional: absent in older exports
    if (member == document.MemberEnd()) continue;
    if (!member->value.IsString()) return Field(name, "not a string");
    out->assign(member->value.GetString(), member->value.GetStringLength());
  }
  if (auto props = document.FindMember("props"); props != document.MemberEnd()) {
    if (!props->value.IsObject()) return Field("props", "not an object");
    for (const auto& member : props->value.GetObject()) {
      if (!member.value.IsString()) return Field("props", "a value that is not a string");
      visit.props.emplace_back(
          std::string(member.name.GetString(), member.name.GetStringLength()),
          std::string(member.value.GetString(), member.value.GetStringLength()));
    }
  }
  return CheckedVisit(std::move(visit));
}

StatusOr<store::Visit> VisitFromCsvFields(const std::vector<std::string>& fields) {
  if (fields.size() < 8 || fields.size() > 12) {
    return InvalidArgumentError("expected 12 fields, got " + std::to_string(fields.size()));
  }
  store::Visit visit;
  visit.visit_id = fields[0];
  visit.timestamp = fields[1];
  visit.visitor = fields[2];
  visit.user_agent = fields[3];
  visit.path = fields[4];
  visit.referrer = fields[5];
  visit.site = fields[6];
  if (fields.size() >= 9) visit.screen = fields[8];
  if (fields.size() >= 10) visit.source = fields[9];
  if (fields.size() >= 11) visit.event = fields[10];
  if (fields.size() >= 12) {
    StatusOr<store::Props> props = store::DecodeProps(fields[11]);
    if (!props.ok()) return Field("props", "not a JSON object of strings");
    visit.props = *std::move(props);
  }
  const std::string& expiration = fields[7];
  auto [end, ec] = std::from_chars(expiration.data(), expiration.data() + expiration.size(),
                                   visit.expiration_time);
  if (ec != std::errc() || end != expiration.data() + expiration.size()) {
    return Field("expiration_time", "not an integer");
  }
  return CheckedVisit(std::move(visit));
}

StatusOr<GoatCounterVisit> VisitFromGoatCounter(const std::vector<std::string>& fields,
                                                const std::string& site, int retention_days,
                                                int occurrence) {
  enum Column { kPath, kTitle, kEvent, kUserAgent, kBrowser, kSystem, kSession, kBot, kReferrer,
                kReferrerScheme, kScreenSize, kLocation, kFirstVisit, kDate, kColumns };
  if (fields.size() < kColumns) {
    return InvalidArgumentError("expected 14 GoatCounter columns, got " + std::to_string(fields.size()));
  }
  GoatCounterVisit out;
  if (fields[kEvent] == "true") {
    out.skipped_because = "event";
    return out;
  }
  if (!fields[kBot].empty() && fields[kBot] != "0") {
    out.skipped_because = "bot";
    return out;
  }
  ASSIGN_OR_RETURN(const int64_t time_ms, ParseRfc3339(fields[kDate]));
  store::Visit visit;
  visit.time_ms = time_ms;
  visit.timestamp = FormatUtcMillis(time_ms);
  StatusOr<std::string> path = core::NormalizePagePath(fields[kPath]);
  if (!path.ok()) return Field("Path", "not an absolute page path of at most 512 bytes");
  visit.path = *std::move(path);
  visit.site = site;
  visit.expiration_time = time_ms / 1000 + int64_t{retention_days} * 86'400;
  visit.browser = Family(fields[kBrowser]);
  visit.os = Family(fields[kSystem]);
  int width = 0;
  const std::string& screen = fields[kScreenSize];
  std::from_chars(screen.data(), screen.data() + screen.size(), width);
  visit.screen = std::string(core::ScreenClass(width));
  visit.device = width <= 0 ? "unknown" : width < 600 ? "mobile" : width < 1024 ? "tablet" : "desktop";
  const std::string& referrer = fields[kReferrer];
  if (fields[kReferrerScheme] == "h" || fields[kReferrerScheme].empty()) {
    const bool has_scheme = referrer.find("://") != std::string::npos;
    if (std::optional<core::Url> url = core::ParseHttpUrl(has_scheme ? referrer : "https://" + referrer);
        url && !referrer.empty() && url->host != site) {
      visit.referrer = url->host;
    }
  } else if (IsName(referrer, /*spaces_allowed=*/true)) {
    visit.referrer = referrer;  // a generated name ("Hacker News") or a campaign
  }
  // The visitor: GoatCounter's session id, hashed (it identifies a browser for a while).
  unsigned char digest[SHA256_DIGEST_LENGTH];
  const std::string session = "goatcounter-session\n" + fields[kSession];
  SHA256(reinterpret_cast<const unsigned char*>(session.data()), session.size(), digest);
  visit.visitor = HexOf(digest, 16);
  // The id: a UUIDv7 of the row's time whose random bits come from the row itself.
  std::string row = std::to_string(occurrence);
  for (const std::string& field : fields) row += '\n' + field;
  SHA256(reinterpret_cast<const unsigned char*>(row.data()), row.size(), digest);
  unsigned char id[16];
  for (int i = 0; i < 6; ++i) id[i] = static_cast<unsigned char>(static_cast<uint64_t>(time_ms) >> (8 * (5 - i)));
  for (int i = 6; i < 16; ++i) id[i] = digest[i];
  id[6] = static_cast<unsigned char>(0x70 | (id[6] & 0x0f));
  id[8] = static_cast<unsigned char>(0x80 | (id[8] & 0x3f));
  const std::string hex = HexOf(id, 16);
  visit.visit_id = hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
                   hex.substr(16, 4) + '-' + hex.substr(20);
  out.visit = std::move(visit);
  return out;
}

}  // namespace footfall::transfer
