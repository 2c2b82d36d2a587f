// One event of the patient's agenda, whatever it comes from (an Appointment of the record, a
// vaccination or screening reminder): the fields a calendar shows. Plain data, so that the
// iCalendar writer (icalendar.h) knows nothing of FHIR.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/json.h"

namespace carnet::agenda {

struct AgendaEvent {
  // Stable across feeds, so that a subscribed calendar updates the event instead of adding
  // a copy: "Appointment-<id>@carnet".
  std::string uid;
  std::string summary;
  std::string description;
  std::string location;
  // RFC 3339 instants ("2026-12-05T10:00:00Z", any offset), or dates ("2026-12-05") for
  // all-day events (reminders). `end` may be empty.
  std::string start;
  std::string end;
  std::string last_modified;  // instant; the event's DTSTAMP
  enum class State { kConfirmed, kTentative, kCancelled } state = State::kConfirmed;
  std::vector<std::string> categories;
};

// The event an Appointment gives, or nullopt for one without a start (a proposal not yet
// scheduled has no place in a calendar). The summary is the appointment's description, else
// its service or appointment type; the professionals and the location come from the
// participants' displays.
std::optional<AgendaEvent> EventFromAppointment(const JsonValue& appointment);

}  // namespace carnet::agenda
