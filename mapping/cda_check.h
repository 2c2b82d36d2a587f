// A CDA document against the metadata it was submitted with (spec/mhd-and-cda.md, "CDA R2
// header -> XDS metadata"; issue #7): the header fills what the submitter left out and is
// compared with what the submitter gave. The same rules serve every road: XDS.b reports a
// disagreement as XDSRegistryMetadataError (XDSPatientIdDoesNotMatch for the patient), FHIR as
// an OperationOutcome issue located on the DocumentReference element.
#pragma once

#include <string>
#include <vector>

#include "mapping/cda_header.h"
#include "mapping/xds_metadata.h"

namespace carnet::mapping {

struct HeaderMismatch {
  std::string field;        // the XDS attribute: "typeCode", "creationTime", "author" ...
  std::string fhir_path;    // the DocumentReference element: "DocumentReference.type" ...
  std::string submitted;    // what the metadata says
  std::string in_document;  // what the CDA header says
  bool patient = false;     // a patient mismatch: always refused
  std::string Message() const;
};

// Every attribute given both by the submitter and by the header on which they disagree.
// Compared: patientId (identifier and assigning authority), uniqueId, typeCode, classCode
// (when the type -> class table knows the type), creationTime and service times (at the
// coarser of the two precisions), confidentialityCode (the header's must be among the
// submitted ones, which may add the French visibility codes), languageCode, eventCodeList
// (the header's events must all be listed), healthcareFacilityTypeCode, practiceSettingCode,
// legalAuthenticator and authors (by person identifier). Not compared: formatCode (a document
// conforms to several templates: the CI-SIS model and the IHE one it specialises), title and
// comments (free text).
std::vector<HeaderMismatch> CompareWithCdaHeader(const CdaHeader& header,
                                                 const xds::DocumentEntry& submitted);

// Fills the attributes the submitter left empty from the header; returns their names.
std::vector<std::string> FillFromCdaHeader(const CdaHeader& header, xds::DocumentEntry* submitted);

// True for the mime types a CDA document travels as.
bool IsCdaMimeType(const std::string& mime_type);

}  // namespace carnet::mapping
