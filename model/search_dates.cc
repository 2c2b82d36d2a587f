#include "model/search_dates.h"

#include <cctype>
#include <cstdio>

namespace carnet::model {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

int Num(std::string_view s, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

}  // namespace

std::optional<DateRange> ParseDateRange(std::string_view s) {
  if (!Digits(s, 0, 4)) return std::nullopt;
  int year = Num(s, 0, 4);
  if (year < 1) return std::nullopt;
  char buf[64];
  if (s.size() == 4) {
    std::snprintf(buf, sizeof buf, "%04d-01-01T00:00:00Z", year);
    DateRange r{buf, ""};
    std::snprintf(buf, sizeof buf, "%04d-12-31T23:59:59.999Z", year);
    r.high = buf;
    return r;
  }
  if (s.size() < 7 || s[4] != '-' || !Digits(s, 5, 2)) return std::nullopt;
  int month = Num(s, 5, 2);
  if (month < 1 || month > 12) return std::nullopt;
  if (s.size() == 7) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-01T00:00:00Z", year, month);
    DateRange r{buf, ""};
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT23:59:59.999Z", year, month,
                  DaysInMonth(year, month));
    r.high = buf;
    return r;
  }
  if (s.size() < 10 || s[7] != '-' || !Digits(s, 8, 2)) return std::nullopt;
  int day = Num(s, 8, 2);
  if (day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  std::string date(s.substr(0, 10));
  if (s.size() == 10) return DateRange{date + "T00:00:00Z", date + "T23:59:59.999Z"};
  if (s[10] != 'T' || !Digits(s, 11, 2) || s.size() < 16 || s[13] != ':' || !Digits(s, 14, 2))
    return std::nullopt;
  int hour = Num(s, 11, 2), minute = Num(s, 14, 2);
  if (hour > 23 || minute > 59) return std::nullopt;
  size_t pos = 16;
  std::string sec, frac;
  if (pos < s.size() && s[pos] == ':') {
    if (!Digits(s, pos + 1, 2) || Num(s, pos + 1, 2) > 60) return std::nullopt;
    sec = std::string(s.substr(pos + 1, 2));
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      size_t start = ++pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
      if (pos == start || pos - start > 9) return std::nullopt;
      frac = std::string(s.substr(start, pos - start));
    }
  }
  std::string zone = "Z";
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      zone = "Z";
    } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && Digits(s, pos + 1, 2) &&
               s[pos + 3] == ':' && Digits(s, pos + 4, 2)) {
      zone = std::string(s.substr(pos));
    } else {
      return std::nullopt;
    }
  }
  std::string hm = date + "T" + std::string(s.substr(11, 5));
  if (sec.empty()) return DateRange{hm + ":00" + zone, hm + ":59.999" + zone};
  if (frac.empty()) return DateRange{hm + ":" + sec + zone, hm + ":" + sec + ".999" + zone};
  // Microseconds are PostgreSQL's precision: the range covers the digits not written.
  std::string low = frac, high = frac;
  while (low.size() < 6) low += "0";
  while (high.size() < 6) high += "9";
  return DateRange{hm + ":" + sec + "." + low.substr(0, 6) + zone,
                   hm + ":" + sec + "." + high.substr(0, 6) + zone};
}

}  // namespace carnet::model
