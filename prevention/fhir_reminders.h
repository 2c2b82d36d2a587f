// The reminders in FHIR R4 (Patient/[id]/$reminders): what of a record the engine reads
// (completed Immunizations; Observations, Procedures and DiagnosticReports carrying a
// screening code) and how its reminders are answered:
//  - the vaccinations as one ImmunizationRecommendation: a recommendation per dose (or campaign
//    season) with vaccineCode (WHO ATC), targetDisease (SNOMED CT) when the series has one,
//    forecastStatus (http://terminology.hl7.org/CodeSystem/immunization-recommendation-status:
//    due, overdue, complete; an upcoming dose, which that code system lacks, as `upcoming` of
//    kReminderStatusSystem), dateCriterion (LOINC 30981-5 earliest date to give, 30980-7 date
//    vaccine due, 59778-1 date when overdue, 59777-3 latest date to give), doseNumber
//    (positiveInt, or the season as a string), seriesDoses, supportingImmunization;
//  - each screening programme as a ServiceRequest of intent `proposal` (FHIR's request pattern
//    for a recommendation nobody has ordered yet: the same shape CDS Hooks cards propose):
//    status draft (upcoming), active (due, overdue) or completed (done for now), code the
//    service, occurrencePeriod from the due date to the overdue date (or the end of the age
//    band), supportingInfo the result that set the date, and the reminder status in the
//    extension kReminderStatusExtension (valueCode, as above).
// Only the reminders a person acts on are answered: complete, due, overdue, upcoming.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "prevention/reminders.h"

namespace carnet::prevention {

inline constexpr char kReminderStatusSystem[] =
    "https://carnet.example.org/fhir/CodeSystem/reminder-status";
inline constexpr char kReminderStatusExtension[] =
    "https://carnet.example.org/fhir/StructureDefinition/reminder-status";

// A completed Immunization with a vaccine code and an occurrenceDateTime; nullopt otherwise
// (not-done, entered-in-error, no date).
std::optional<RecordedEvent> VaccinationOf(const JsonValue& immunization);
// An Observation, Procedure or DiagnosticReport that happened (final, amended, corrected,
// completed...) with a code and a date (effective, performed or issued); nullopt otherwise.
std::optional<RecordedEvent> ScreeningResultOf(const JsonValue& resource);
// Every code a screening result may carry, "system|code", for the record's search.
std::vector<std::string> ScreeningResultCodes(const PreventionRules& rules);

// Whether a reminder of this status is answered.
bool Answered(ReminderStatus s);

// The ImmunizationRecommendation of `patient_id` on `today` (nullopt when no vaccination
// reminder is answered: R4 wants at least one recommendation).
std::optional<JsonValue> ImmunizationRecommendationOf(const std::string& patient_id,
                                                      const Date& today,
                                                      const std::vector<Reminder>& reminders);
// One ServiceRequest per answered screening reminder.
std::vector<JsonValue> ScreeningRequestsOf(const std::string& patient_id, const Date& today,
                                           const std::vector<Reminder>& reminders);

}  // namespace carnet::prevention
