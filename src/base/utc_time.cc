#include "base/utc_time.h"

#include <chrono>

namespace footfall {
namespace {

// Exactly `width` decimal digits at `at`. Not from_chars alone: it takes a leading '-', and
// "00:-0:00" or "T-1:00:00" must not parse.
bool ReadNumber(std::string_view text, size_t at, size_t width, int& out) {
  if (at + width > text.size()) return false;
  out = 0;
  for (char c : text.substr(at, width)) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

}  // namespace

std::string FormatUtcMillis(int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> millis_total{milliseconds(unix_ms)};
  const auto day = floor<days>(millis_total);
  const year_month_day ymd(day);
  const hh_mm_ss hms(millis_total - day);
  // Written digit by digit: this runs for every request log line, and snprintf was visible in
  // profiles.
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](size_t at, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) out[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, static_cast<unsigned>(hms.hours().count()), 2);
  put(14, static_cast<unsigned>(hms.minutes().count()), 2);
  put(17, static_cast<unsigned>(hms.seconds().count()), 2);
  put(20, static_cast<unsigned>(hms.subseconds().count()), 3);
  return out;
}

StatusOr<int64_t> ParseUtcTime(std::string_view text, bool& date_only) {
  int year, month, day, hour = 0, minute = 0, second = 0, millis = 0;
  const auto bad = [&] {
    return InvalidArgumentError("'" + std::string(text.substr(0, 40)) +
                                "' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  };
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !ReadNumber(text, 0, 4, year) ||
      !ReadNumber(text, 5, 2, month) || !ReadNumber(text, 8, 2, day)) {
    return bad();
  }
  date_only = text.size() == 10;
  if (!date_only) {
    if (text.size() != 20 && text.size() != 24) return bad();
    if (text[10] != 'T' || text[13] != ':' || text[16] != ':' || text.back() != 'Z' ||
        !ReadNumber(text, 11, 2, hour) || !ReadNumber(text, 14, 2, minute) ||
        !ReadNumber(text, 17, 2, second)) {
      return bad();
    }
    if (text.size() == 24 && (text[19] != '.' || !ReadNumber(text, 20, 3, millis))) return bad();
    if (hour > 23 || minute > 59 || second > 59) return bad();
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || year < 1970 || year > 9999) return bad();
  const int64_t days = sys_days(date).time_since_epoch().count();
  return days * kDayMs + ((hour * 60 + minute) * 60 + second) * 1000LL + millis;
}

}  // namespace footfall
