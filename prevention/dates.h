// Calendar days and the ages and intervals of the prevention tables ("6w", "2m", "11m", "25y"):
// the arithmetic of birthdays, without time zones (a reminder is due on a day).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace carnet::prevention {

// A day of the proleptic Gregorian calendar.
struct Date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31

  // Days since 1970-01-01 (negative before).
  long DayNumber() const;
  static Date FromDayNumber(long days);
  Date AddDays(long days) const { return FromDayNumber(DayNumber() + days); }
  friend bool operator==(const Date& a, const Date& b) = default;
  friend auto operator<=>(const Date& a, const Date& b) { return a.DayNumber() <=> b.DayNumber(); }
};

// "YYYY-MM-DD" (also the date part of a FHIR dateTime); a FHIR partial date ("1975",
// "1975-06") is its first day. nullopt when it is none of these.
std::optional<Date> ParseDate(std::string_view text);
std::string FormatDate(const Date& d);  // YYYY-MM-DD

// An age or an interval: a number of years, months, weeks or days ("0d" is birth).
struct Span {
  int years = 0;
  int months = 0;
  int days = 0;  // weeks are written as 7 days
  friend bool operator==(const Span& a, const Span& b) = default;
};

// "6w", "2m", "11m", "25y", "0d"; nullopt otherwise.
std::optional<Span> ParseSpan(std::string_view text);
std::string FormatSpan(const Span& s);

// The day `span` after `d`: months and years as on a calendar (a birthday on the 31st falls on
// the last day of a shorter month), then days.
Date Add(const Date& d, const Span& span);

}  // namespace carnet::prevention
