// FHIR dates as the ranges search compares: a partial date or a dateTime stands for every
// instant it covers (2024 -> [2024-01-01T00:00:00Z, 2024-12-31T23:59:59.999Z]).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace carnet::model {

struct DateRange {
  // RFC 3339 instants PostgreSQL reads as timestamptz; inclusive bounds. A value without
  // a time zone is taken as UTC.
  std::string low;
  std::string high;
};

// YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.fff]][Z|+hh:mm]; nullopt otherwise.
std::optional<DateRange> ParseDateRange(std::string_view text);

}  // namespace carnet::model
