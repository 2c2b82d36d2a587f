// The iCalendar (RFC 5545) form of an agenda, the `text/calendar` body a phone calendar
// subscribes to. Written with libical, which escapes text (commas, semicolons, line breaks:
// a description can never start a new property or event) and folds long lines.
#pragma once

#include <string>
#include <vector>

#include "agenda/agenda_event.h"
#include "base/status.h"

namespace carnet::agenda {

struct CalendarInfo {
  std::string name;          // X-WR-CALNAME, what the phone shows as the calendar's title
  std::string generated_at;  // RFC 3339 instant: DTSTAMP of events without a last change
};

// A VCALENDAR (VERSION 2.0, PRODID carnet) holding one VEVENT per event. kInternal when an
// event's start or end is not an RFC 3339 instant or date (the caller's data is validated
// FHIR, so this is a bug, not a client error).
Result<std::string> WriteICalendar(const std::vector<AgendaEvent>& events,
                                   const CalendarInfo& info);

}  // namespace carnet::agenda
