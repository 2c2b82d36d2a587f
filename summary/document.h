// The patient summary as an HL7 IPS document Bundle (hl7.fhir.uv.ips 2.0.0), built from the
// resources of one record that the caller may see. What the caller may see is decided by fhir/
// through the access session before anything reaches here: this layer only arranges what it is
// given (no database, no policy), so a professional's summary holds what that professional may
// read and the patient's what the patient may read.
//
// The IPS rules the builder keeps (and tests/unit/summary_test.cc and
// tests/integration/summary_test.cc check):
//   - Bundle: type document, identifier (urn:ietf:rfc:3986 urn:uuid), timestamp, every entry
//     with a fullUrl and a resource, no search/request/response (bdl-9, bdl-10, bdl-11);
//     the first entry, and only it, a Composition (bdl-ips-1);
//   - Composition: status final, type LOINC 60591-5, subject the Patient (in the Bundle), date,
//     author carnet as a Device (in the Bundle), title, confidentiality;
//   - sections in summary/data/ips_sections.tsv, each with a title, its LOINC code, a generated
//     XHTML narrative (txt-1, txt-2) and entries referencing resources of the Bundle by their
//     fullUrl; the required ones (problems 11450-4, allergies 48765-2, medications 10160-0)
//     always, an empty one with emptyReason list-empty-reason `unavailable` and a narrative
//     saying so (ips-comp-1, cmp-1, cmp-2); the others only when filled;
//   - what the entries reference is in the Bundle too when the caller may see it (a
//     DiagnosticReport's results, an Observation's source document, a Medication, the
//     Practitioner who recorded a problem...), so that references resolve inside the Bundle;
//     a reference to what the caller may not see stays as written, its target left out.
// `unavailable` rather than `nilknown` or `withheld`: the summary holds what this caller may
// see, so it may not claim that nothing is known, nor tell that something is withheld.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "profiles/actor.h"
#include "summary/sections.h"

namespace carnet::summary {

struct SummaryRequest {
  JsonValue patient;                 // the Patient resource
  std::vector<JsonValue> resources;  // the record's other resources the caller may see
  // Shared resources (Practitioner, Medication, Organization...) the record's resources
  // reference, as far as the caller may read them: in the Bundle when an entry references them.
  std::vector<JsonValue> shared;
  std::string base_url;   // the FHIR base: stored resources' fullUrl is base/Type/id
  std::string requester;  // who asks, for a reader (RequesterDisplay)
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// One entry of a section, as its table shows it.
struct SummaryRow {
  std::string full_url;  // of its resource in the Bundle
  std::vector<std::string> cells;
  // Recorded by the patient themselves (recorder, asserter, informationSource... the Patient, or
  // a Provenance whose agent is the Patient).
  bool patient_declared = false;
};

struct SummarySection {
  const SectionRule* rule = nullptr;
  std::vector<SummaryRow> rows;  // empty: a required section nothing fills
};

struct PatientIdentity {
  std::string name;
  std::string birth_date;                // as a reader reads it (12/03/1958)
  std::vector<std::string> identifiers;  // "INS : 1580...", "Identifiant : ..."
};

struct Summary {
  JsonValue bundle;  // the IPS document Bundle
  std::string title;
  std::string date;  // when it was made, as a reader reads it
  std::string requester;
  PatientIdentity patient;
  std::vector<SummarySection> sections;  // those in the Bundle, in order
  std::string patient_id;
};

inline constexpr char kSummaryTitle[] = "Synthèse médicale du patient";
inline constexpr char kDeclaredByPatient[] = "déclaré par le patient";

// The "Type/id" every reference in `resource` names (relative, or absolute under
// `base_url`; a version suffix dropped); contained ("#..."), urn: and other servers' references
// are left out.
std::vector<std::string> ReferencedResources(const JsonValue& resource,
                                             const std::string& base_url);

Result<Summary> BuildSummary(const SummaryRequest& request,
                             const SectionTable& sections = IpsSections());

// Who asked, for a reader: "Dr Marie Curie (médecin, RPPS 810000000001)", "le patient"...
std::string RequesterDisplay(const profiles::Actor& actor);

// A FHIR date or dateTime as a French reader reads it: 2024-03-12 -> 12/03/2024, 2024-03 ->
// 03/2024; anything else unchanged.
std::string ReadableDate(const std::string& fhir_date);

// `text` escaped for XHTML character data and attribute values.
std::string XhtmlEscape(std::string_view text);

}  // namespace carnet::summary
