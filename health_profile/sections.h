// The patient's health profile ("profil médical"), as the public service groups it: sections
// (history, treatments, allergies, family history, vaccinations, measurements, wishes,
// contacts, the professionals who follow the patient), each showing some of the record's
// FHIR resources (data/sections.tsv). The entries come from the patient (declared: a
// Provenance naming them, dossier/after_write.cc), from professionals, and from deposited
// documents (an extraction Provenance naming the document); the same fact from several
// sources (same code, same date, and for a measurement the same value) is shown once, with
// every source.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"

namespace carnet::health_profile {

struct Section {
  std::string name;   // history, treatments...
  std::string loinc;  // the LOINC section code, "" when there is none
  std::string title;  // French, as the patient reads it
};

// The sections, in display order.
const std::vector<Section>& Sections();

// The section `resource` belongs to ("" for none).
std::string SectionOf(const JsonValue& resource);

// Where an entry comes from.
inline constexpr char kSourceExtension[] =
    "https://carnet.example.org/fhir/StructureDefinition/profile-entry-source";
inline constexpr char kDocumentExtension[] =
    "https://carnet.example.org/fhir/StructureDefinition/profile-entry-document";
inline constexpr char kDuplicateExtension[] =
    "https://carnet.example.org/fhir/StructureDefinition/profile-entry-duplicate";
// A measurement from a connected device: the Device that took it, and the app that wrote it
// (its client id, the Observation's meta.source).
inline constexpr char kDeviceExtension[] =
    "https://carnet.example.org/fhir/StructureDefinition/profile-entry-device";
inline constexpr char kHiddenSectionExtension[] =
    "https://carnet.example.org/fhir/StructureDefinition/profile-section-hidden";
inline constexpr char kAppExtension[] =
    "https://carnet.example.org/fhir/StructureDefinition/profile-entry-app";

// The profile of Patient/`patient_id` as a collection Bundle: the Patient, then for each
// section a List (title, LOINC code, one entry per fact; an empty section says so with
// emptyReason), then the resources the Lists name. A List entry carries the fact's sources
// (extension profile-entry-source: patient | professional | document | device;
// profile-entry-document: the document it was extracted from; profile-entry-device and
// profile-entry-app: the Device that took a measurement and the app that wrote it;
// profile-entry-duplicate: the other resources stating the same fact). `resources` are what the
// caller may see of the record, Provenances included (they say where entries come from); `base_url`
// makes the fullUrls. The Lists of the sections named in `hidden_sections` (the patient's
// $profile-visibility choices, given to the patient's side only) carry the extension
// profile-section-hidden valueBoolean true.
JsonValue BuildProfile(const std::vector<JsonValue>& resources, const std::string& patient_id,
                       const std::string& base_url,
                       const std::vector<std::string>& hidden_sections = {});

}  // namespace carnet::health_profile
