#include "agenda/icalendar.h"

#include <libical/ical.h>

#include <cstdlib>
#include <memory>

#include "base/strings.h"

namespace carnet::agenda {
namespace {

struct ComponentFree {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using Component = std::unique_ptr<icalcomponent, ComponentFree>;

bool IsDigits(const std::string& s, size_t from, size_t n) {
  if (s.size() < from + n) return false;
  for (size_t i = from; i < from + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

// "2026-12-05" as an iCalendar DATE (VALUE=DATE), or an RFC 3339 instant (any offset) as a
// UTC DATE-TIME: UTC is what every calendar reads without a VTIMEZONE block.
Result<icaltimetype> TimeOf(const std::string& text) {
  if (text.size() == 10 && IsDigits(text, 0, 4) && text[4] == '-' && IsDigits(text, 5, 2) &&
      text[7] == '-' && IsDigits(text, 8, 2)) {
    icaltimetype t = icaltime_null_date();
    t.year = std::atoi(text.substr(0, 4).c_str());
    t.month = std::atoi(text.substr(5, 2).c_str());
    t.day = std::atoi(text.substr(8, 2).c_str());
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > icaltime_days_in_month(t.month, t.year))
      return Internal("agenda date out of range: " + text);
    return t;
  }
  auto seconds = EpochSeconds(text);
  if (!seconds) return Internal("agenda time is not an instant or a date: " + text);
  return icaltime_from_timet_with_zone(static_cast<time_t>(*seconds), 0,
                                       icaltimezone_get_utc_timezone());
}

icalproperty_status StatusOf(AgendaEvent::State state) {
  switch (state) {
    case AgendaEvent::State::kTentative:
      return ICAL_STATUS_TENTATIVE;
    case AgendaEvent::State::kCancelled:
      return ICAL_STATUS_CANCELLED;
    case AgendaEvent::State::kConfirmed:
      break;
  }
  return ICAL_STATUS_CONFIRMED;
}

}  // namespace

Result<std::string> WriteICalendar(const std::vector<AgendaEvent>& events,
                                   const CalendarInfo& info) {
  Component calendar(icalcomponent_new(ICAL_VCALENDAR_COMPONENT));
  icalcomponent_add_property(calendar.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(calendar.get(), icalproperty_new_prodid("-//carnet//agenda//FR"));
  icalcomponent_add_property(calendar.get(), icalproperty_new_calscale("GREGORIAN"));
  icalcomponent_add_property(calendar.get(), icalproperty_new_method(ICAL_METHOD_PUBLISH));
  if (!info.name.empty()) {
    icalproperty* name = icalproperty_new_x(info.name.c_str());
    icalproperty_set_x_name(name, "X-WR-CALNAME");
    icalcomponent_add_property(calendar.get(), name);
  }
  auto generated = TimeOf(info.generated_at);
  if (!generated.ok()) return generated.status();
  for (const AgendaEvent& e : events) {
    auto start = TimeOf(e.start);
    if (!start.ok()) return start.status();
    icalcomponent* event = icalcomponent_new(ICAL_VEVENT_COMPONENT);
    // Owned by the calendar from here on, whatever happens below.
    icalcomponent_add_component(calendar.get(), event);
    icalcomponent_add_property(event, icalproperty_new_uid(e.uid.c_str()));
    icaltimetype stamp = *generated;
    if (!e.last_modified.empty()) {
      auto modified = TimeOf(e.last_modified);
      if (!modified.ok()) return modified.status();
      stamp = *modified;
      icalcomponent_add_property(event, icalproperty_new_lastmodified(stamp));
    }
    icalcomponent_add_property(event, icalproperty_new_dtstamp(stamp));
    icalcomponent_add_property(event, icalproperty_new_dtstart(*start));
    if (!e.end.empty()) {
      auto end = TimeOf(e.end);
      if (!end.ok()) return end.status();
      icalcomponent_add_property(event, icalproperty_new_dtend(*end));
    }
    icalcomponent_add_property(event, icalproperty_new_summary(e.summary.c_str()));
    if (!e.description.empty())
      icalcomponent_add_property(event, icalproperty_new_description(e.description.c_str()));
    if (!e.location.empty())
      icalcomponent_add_property(event, icalproperty_new_location(e.location.c_str()));
    icalcomponent_add_property(event, icalproperty_new_status(StatusOf(e.state)));
    // A calendar shows health events to whoever looks at the phone: private, not busy-time.
    icalcomponent_add_property(event, icalproperty_new_class(ICAL_CLASS_PRIVATE));
    for (const std::string& category : e.categories)
      icalcomponent_add_property(event, icalproperty_new_categories(category.c_str()));
  }
  char* text = icalcomponent_as_ical_string_r(calendar.get());
  if (!text) return Internal("libical could not write the calendar");
  std::string out(text);
  std::free(text);
  return out;
}

}  // namespace carnet::agenda
