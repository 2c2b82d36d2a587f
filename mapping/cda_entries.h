// CDA R2 level-3 entries -> FHIR resources of the patient's health profile, each derivedFrom
// (or, for resources without derivedFrom, linked by the Provenance to) its source document:
//   - results and measurements (observation, LOINC code, PQ value) -> Observation;
//   - immunizations (substanceAdministration with an immunization templateId) -> Immunization;
//   - problems (PCC 4.5) -> Condition; allergies and intolerances (PCC 4.6) -> AllergyIntolerance;
//   - medications (PCC 4.7) -> MedicationStatement, prescription lines -> MedicationRequest.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace carnet::mapping {

struct ExtractionReport {
  // The resources of the patient's profile, in document order (Observation, Immunization...).
  std::vector<JsonValue> resources;
  // One line per entry left out, with why ("observation 8310-5: value of type ST").
  std::vector<std::string> ignored;
  // Level 1: the content embedded in a nonXMLBody (a PDF, an image), decoded, with its type.
  std::string embedded_content;
  std::string embedded_type;
};

// `patient_reference` ("Patient/1") and `document_reference` ("DocumentReference/x") are
// written into each extracted resource.
Result<ExtractionReport> ExtractCdaEntries(std::string_view cda_xml, const std::string& patient_reference,
                                           const std::string& document_reference);

}  // namespace carnet::mapping
