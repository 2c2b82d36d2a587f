// CDA R2 level-3 entries -> FHIR resources of the patient's health profile. For now: results
// and measurements (observation with a LOINC code and a PQ value) -> Observation, each
// derivedFrom its source DocumentReference.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace carnet::mapping {

struct ExtractionReport {
  std::vector<JsonValue> observations;
  int skipped = 0;  // observations not extracted (no LOINC code, or a value that is not PQ)
};

// `patient_reference` ("Patient/1") and `document_reference` ("DocumentReference/x") are
// written into each extracted resource.
Result<ExtractionReport> ExtractCdaEntries(std::string_view cda_xml, const std::string& patient_reference,
                                           const std::string& document_reference);

}  // namespace carnet::mapping
