// Measurements (vital signs and blood glucose) as R4 and common sense require them, whoever
// writes them (the patient's profile, a device app, a deposit's extraction): a value of a
// listed LOINC code is a UCUM quantity in one of its listed units and lies within the
// plausible bounds of model/data/vital_signs.tsv; in a panel (blood pressure), the component
// that must measure more does (systolic above diastolic). The table is data: replacing the
// file changes the rules, not the code.
#pragma once

#include <vector>

#include "base/json.h"
#include "model/validator.h"

namespace carnet::model {

// Appends an error (code "value", or "code-invalid" for a unit) for each measurement of the
// Observation `observation` (its value and its components' values) that breaks a rule,
// naming the measurement, the value and the rule. Nothing for another resource type, or for
// a measurement without a value (dataAbsentReason).
void CheckMeasurements(const JsonValue& observation, std::vector<ValidationIssue>* issues);

}  // namespace carnet::model
