#include "prevention/dates.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace carnet::prevention {
namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool Digits(std::string_view s, int* out) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc();
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days.
long Date::DayNumber() const {
  int y = year - (month <= 2 ? 1 : 0);
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date Date::FromDayNumber(long z) {
  z += 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  long doe = z - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long mp = (5 * doy + 2) / 153;
  Date d;
  d.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  d.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  d.year = static_cast<int>(yoe + era * 400 + (d.month <= 2 ? 1 : 0));
  return d;
}

std::optional<Date> ParseDate(std::string_view text) {
  Date d;
  if (text.size() < 4 || !Digits(text.substr(0, 4), &d.year)) return std::nullopt;
  if (text.size() == 4) return d;
  if (text[4] != '-' || text.size() < 7 || !Digits(text.substr(5, 2), &d.month) || d.month < 1 ||
      d.month > 12)
    return std::nullopt;
  if (text.size() == 7) return d;
  if (text[7] != '-' || text.size() < 10 || !Digits(text.substr(8, 2), &d.day) || d.day < 1 ||
      d.day > DaysInMonth(d.year, d.month))
    return std::nullopt;
  if (text.size() > 10 && text[10] != 'T') return std::nullopt;
  return d;
}

std::string FormatDate(const Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

std::optional<Span> ParseSpan(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  int n = 0;
  if (!Digits(text.substr(0, text.size() - 1), &n)) return std::nullopt;
  Span s;
  switch (text.back()) {
    case 'y':
      s.years = n;
      break;
    case 'm':
      s.months = n;
      break;
    case 'w':
      s.days = 7 * n;
      break;
    case 'd':
      s.days = n;
      break;
    default:
      return std::nullopt;
  }
  return s;
}

std::string FormatSpan(const Span& s) {
  if (s.years) return std::to_string(s.years) + "y";
  if (s.months) return std::to_string(s.months) + "m";
  if (s.days && s.days % 7 == 0) return std::to_string(s.days / 7) + "w";
  return std::to_string(s.days) + "d";
}

Date Add(const Date& d, const Span& span) {
  int months = d.month - 1 + span.months + 12 * span.years;
  Date r;
  r.year = d.year + (months >= 0 ? months / 12 : (months - 11) / 12);
  r.month = ((months % 12) + 12) % 12 + 1;
  r.day = std::min(d.day, DaysInMonth(r.year, r.month));
  return span.days ? r.AddDays(span.days) : r;
}

}  // namespace carnet::prevention
