#include "agenda/agenda_event.h"

namespace carnet::agenda {
namespace {

// The text of a CodeableConcept: its text, else its first coding's display, else its code.
std::string ConceptText(const JsonValue* cc) {
  if (!cc || !cc->is_object()) return "";
  std::string text = cc->GetString("text");
  if (!text.empty()) return text;
  if (const JsonValue* codings = cc->Find("coding"); codings && codings->is_array())
    for (const JsonValue& c : codings->items()) {
      std::string display = c.GetString("display");
      if (!display.empty()) return display;
      if (!c.GetString("code").empty()) return c.GetString("code");
    }
  return "";
}

std::string FirstConceptText(const JsonValue& resource, std::string_view key) {
  const JsonValue* list = resource.Find(key);
  if (!list || !list->is_array()) return "";
  for (const JsonValue& c : list->items())
    if (std::string t = ConceptText(&c); !t.empty()) return t;
  return "";
}

}  // namespace

std::optional<AgendaEvent> EventFromAppointment(const JsonValue& appointment) {
  std::string start = appointment.GetString("start");
  if (start.empty()) return std::nullopt;
  AgendaEvent e;
  e.uid = "Appointment-" + appointment.GetString("id") + "@carnet";
  e.start = start;
  e.end = appointment.GetString("end");
  if (const JsonValue* meta = appointment.Find("meta"); meta && meta->is_object())
    e.last_modified = meta->GetString("lastUpdated");
  e.summary = appointment.GetString("description");
  if (e.summary.empty()) e.summary = FirstConceptText(appointment, "serviceType");
  if (e.summary.empty()) e.summary = ConceptText(appointment.Find("appointmentType"));
  if (e.summary.empty()) e.summary = "Rendez-vous";
  std::vector<std::string> with;
  if (const JsonValue* parts = appointment.Find("participant"); parts && parts->is_array())
    for (const JsonValue& p : parts->items()) {
      const JsonValue* actor = p.Find("actor");
      if (!actor || !actor->is_object()) continue;
      std::string ref = actor->GetString("reference");
      std::string display = actor->GetString("display");
      if (display.empty()) continue;
      if (ref.rfind("Location/", 0) == 0)
        e.location = display;
      else if (ref.rfind("Patient/", 0) != 0)  // the patient is the calendar's owner
        with.push_back(display);
    }
  std::string description;
  if (!with.empty()) {
    description = "Avec : ";
    for (size_t i = 0; i < with.size(); ++i) description += (i ? ", " : "") + with[i];
  }
  for (const char* key : {"comment", "patientInstruction"}) {
    std::string text = appointment.GetString(key);
    if (!text.empty()) description += (description.empty() ? "" : "\n") + text;
  }
  e.description = description;
  std::string status = appointment.GetString("status");
  if (status == "cancelled" || status == "noshow" || status == "entered-in-error")
    e.state = AgendaEvent::State::kCancelled;
  else if (status == "proposed" || status == "pending" || status == "waitlist")
    e.state = AgendaEvent::State::kTentative;
  e.categories.push_back("Rendez-vous");
  return e;
}

}  // namespace carnet::agenda
