#include "mapping/cda_entries.h"

#include <cctype>

#include "base/strings.h"
#include "mapping/cda_header.h"
#include "mapping/document_entry.h"
#include "mapping/ebrim_xml.h"

namespace carnet::mapping {
namespace {

using xds::Child;
using xds::Is;

constexpr std::string_view kHl7 = "urn:hl7-org:v3";
constexpr const char* kLoinc = "2.16.840.1.113883.6.1";

bool IsDecimal(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (digits == 0 || (digits > 1 && s[s[0] == '-' ? 1 : 0] == '0')) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t frac = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac;
    if (frac == 0) return false;
  }
  return i == s.size();
}

JsonValue Quantity(pugi::xml_node pq) {
  JsonValue q = JsonValue::Object();
  std::string value = pq.attribute("value").value(), unit = pq.attribute("unit").value();
  if (!IsDecimal(value)) return JsonValue();
  q.Set("value", JsonValue::Number(value));
  if (!unit.empty() && unit != "1") {
    q.Set("unit", JsonValue::String(unit));
    q.Set("system", JsonValue::String("http://unitsofmeasure.org"));
    q.Set("code", JsonValue::String(unit));
  }
  return q;
}

// A CDA codeSystem OID as a FHIR system URI (the usual ones by name).
std::string SystemUri(const std::string& oid) {
  if (oid == "2.16.840.1.113883.6.1") return "http://loinc.org";
  if (oid == "2.16.840.1.113883.6.96") return "http://snomed.info/sct";
  if (oid == "2.16.840.1.113883.6.73") return "http://www.whocc.no/atc";
  if (oid == "2.16.840.1.113883.12.292") return "http://hl7.org/fhir/sid/cvx";
  return oid.empty() ? "urn:oid:unknown" : "urn:oid:" + oid;
}

JsonValue Coded(const std::string& system, const std::string& code, const std::string& display) {
  JsonValue coding = JsonValue::Object();
  coding.Set("system", JsonValue::String(system));
  coding.Set("code", JsonValue::String(code));
  if (!display.empty()) coding.Set("display", JsonValue::String(display));
  JsonValue codings = JsonValue::Array();
  codings.Append(std::move(coding));
  JsonValue cc = JsonValue::Object();
  cc.Set("coding", std::move(codings));
  return cc;
}

// IHE PCC entry templates (the French CI-SIS entries declare them).
constexpr const char* kProblemEntry = "1.3.6.1.4.1.19376.1.5.3.1.4.5";
constexpr const char* kAllergyEntry = "1.3.6.1.4.1.19376.1.5.3.1.4.6";
constexpr const char* kMedicationEntry = "1.3.6.1.4.1.19376.1.5.3.1.4.7";

bool HasTemplate(pugi::xml_node n, const char* root) {
  for (pugi::xml_node t = n.first_child(); t; t = t.next_sibling())
    if (Is(t, kHl7, "templateId") && std::string(t.attribute("root").value()) == root) return true;
  return false;
}

// A CD element as a CodeableConcept (its translation when it has no code of its own);
// null when neither carries a code.
JsonValue Concept(pugi::xml_node cd) {
  std::string code = cd.attribute("code").value(), system = cd.attribute("codeSystem").value(),
              display = cd.attribute("displayName").value();
  if (code.empty()) {
    pugi::xml_node tr = Child(cd, kHl7, "translation");
    code = tr.attribute("code").value();
    system = tr.attribute("codeSystem").value();
    if (display.empty()) display = tr.attribute("displayName").value();
  }
  if (code.empty()) {
    std::string text = Child(cd, kHl7, "originalText").text().get();
    if (text.empty()) return JsonValue();
    JsonValue cc = JsonValue::Object();
    cc.Set("text", JsonValue::String(text));
    return cc;
  }
  return Coded(SystemUri(system), code, display);
}

JsonValue PatientRef(const std::string& patient) {
  JsonValue r = JsonValue::Object();
  r.Set("reference", JsonValue::String(patient));
  return r;
}

std::string When(pugi::xml_node time) {
  std::string ts = time.attribute("value").value();
  if (ts.empty()) ts = Child(time, kHl7, "low").attribute("value").value();
  return FhirDateTimeFromDtm(DtmFromHl7Ts(ts));
}

// Problem entry (PCC 4.5): the problem is the observation's value -> Condition.
JsonValue Problem(pugi::xml_node obs, const std::string& patient) {
  JsonValue code = Concept(Child(obs, kHl7, "value"));
  if (code.is_null()) return JsonValue();
  JsonValue c = JsonValue::Object();
  c.Set("resourceType", JsonValue::String("Condition"));
  bool resolved = !Child(Child(obs, kHl7, "effectiveTime"), kHl7, "high").attribute("value").empty();
  c.Set("clinicalStatus", Coded("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                resolved ? "resolved" : "active", ""));
  c.Set("verificationStatus", Coded("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                    std::string(obs.attribute("negationInd").value()) == "true" ? "refuted" : "confirmed", ""));
  c.Set("code", std::move(code));
  c.Set("subject", PatientRef(patient));
  std::string onset = When(Child(obs, kHl7, "effectiveTime"));
  if (!onset.empty()) c.Set("onsetDateTime", JsonValue::String(onset));
  std::string end = FhirDateTimeFromDtm(DtmFromHl7Ts(
      Child(Child(obs, kHl7, "effectiveTime"), kHl7, "high").attribute("value").value()));
  if (!end.empty()) c.Set("abatementDateTime", JsonValue::String(end));
  return c;
}

// Allergy and intolerance entry (PCC 4.6): the substance is the participant's playing entity
// (else the observation's value) -> AllergyIntolerance.
JsonValue Allergy(pugi::xml_node obs, const std::string& patient) {
  pugi::xml_node entity =
      Child(Child(Child(obs, kHl7, "participant"), kHl7, "participantRole"), kHl7, "playingEntity");
  JsonValue code = Concept(Child(entity, kHl7, "code"));
  if (code.is_null()) code = Concept(Child(obs, kHl7, "value"));
  if (code.is_null()) return JsonValue();
  JsonValue a = JsonValue::Object();
  a.Set("resourceType", JsonValue::String("AllergyIntolerance"));
  a.Set("clinicalStatus", Coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", ""));
  a.Set("verificationStatus", Coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", ""));
  a.Set("code", std::move(code));
  a.Set("patient", PatientRef(patient));
  std::string onset = When(Child(obs, kHl7, "effectiveTime"));
  if (!onset.empty()) a.Set("onsetDateTime", JsonValue::String(onset));
  return a;
}

// Medication entry (PCC 4.7): the product of the consumable -> MedicationStatement (what is
// or was taken), or MedicationRequest for a prescription line (moodCode INT).
JsonValue Medication(pugi::xml_node sa, const std::string& patient) {
  pugi::xml_node material =
      Child(Child(Child(sa, kHl7, "consumable"), kHl7, "manufacturedProduct"), kHl7, "manufacturedMaterial");
  JsonValue code = Concept(Child(material, kHl7, "code"));
  if (code.is_null()) {
    std::string name = Child(material, kHl7, "name").text().get();
    if (name.empty()) return JsonValue();
    code = JsonValue::Object();
    code.Set("text", JsonValue::String(name));
  }
  JsonValue m = JsonValue::Object();
  std::string mood = sa.attribute("moodCode").value();
  if (mood == "INT" || mood == "RQO" || mood == "PRMS") {
    // A prescription line: what is to be given -> MedicationRequest.
    m.Set("resourceType", JsonValue::String("MedicationRequest"));
    m.Set("status", JsonValue::String("active"));
    m.Set("intent", JsonValue::String("order"));
    m.Set("medicationCodeableConcept", std::move(code));
    m.Set("subject", PatientRef(patient));
    return m;
  }
  m.Set("resourceType", JsonValue::String("MedicationStatement"));
  pugi::xml_node time = Child(sa, kHl7, "effectiveTime");
  std::string start = FhirDateTimeFromDtm(DtmFromHl7Ts(Child(time, kHl7, "low").attribute("value").value()));
  std::string end = FhirDateTimeFromDtm(DtmFromHl7Ts(Child(time, kHl7, "high").attribute("value").value()));
  m.Set("status", JsonValue::String(end.empty() ? "active" : "completed"));
  m.Set("medicationCodeableConcept", std::move(code));
  m.Set("subject", PatientRef(patient));
  if (!start.empty() || !end.empty()) {
    JsonValue period = JsonValue::Object();
    if (!start.empty()) period.Set("start", JsonValue::String(start));
    if (!end.empty()) period.Set("end", JsonValue::String(end));
    m.Set("effectivePeriod", std::move(period));
  }
  return m;
}

// An immunization entry: a substanceAdministration carrying the IHE PCC immunization template
// (1.3.6.1.4.1.19376.1.5.3.1.4.12, which the French CI-SIS vaccination entries declare) or the
// C-CDA one (2.16.840.1.113883.10.20.22.4.52). Medication entries (PCC 4.7) are not immunizations.
bool IsImmunization(pugi::xml_node sa) {
  for (pugi::xml_node t = sa.first_child(); t; t = t.next_sibling())
    if (Is(t, kHl7, "templateId")) {
      std::string root = t.attribute("root").value();
      if (root == "1.3.6.1.4.1.19376.1.5.3.1.4.12" || root == "2.16.840.1.113883.10.20.22.4.52") return true;
    }
  return false;
}

JsonValue Immunization(pugi::xml_node sa, const std::string& patient, const std::string& document) {
  pugi::xml_node material =
      Child(Child(Child(sa, kHl7, "consumable"), kHl7, "manufacturedProduct"), kHl7, "manufacturedMaterial");
  pugi::xml_node code = Child(material, kHl7, "code");
  std::string system = code.attribute("codeSystem").value();
  std::string value = code.attribute("code").value();
  if (value.empty()) {
    // A code carried only by its translation (often ATC or the French CIS).
    pugi::xml_node tr = Child(code, kHl7, "translation");
    system = tr.attribute("codeSystem").value();
    value = tr.attribute("code").value();
  }
  if (value.empty()) return JsonValue();
  JsonValue imm = JsonValue::Object();
  imm.Set("resourceType", JsonValue::String("Immunization"));
  bool refused = std::string(sa.attribute("negationInd").value()) == "true";
  imm.Set("status", JsonValue::String(refused ? "not-done" : "completed"));
  std::string display = code.attribute("displayName").value();
  if (display.empty()) display = Child(material, kHl7, "name").text().get();
  imm.Set("vaccineCode", Coded(SystemUri(system), value, display));
  JsonValue subject = JsonValue::Object();
  subject.Set("reference", JsonValue::String(patient));
  imm.Set("patient", std::move(subject));
  pugi::xml_node time = Child(sa, kHl7, "effectiveTime");
  std::string ts = time.attribute("value").value();
  if (ts.empty()) ts = Child(time, kHl7, "low").attribute("value").value();
  std::string when = FhirDateTimeFromDtm(DtmFromHl7Ts(ts));
  if (when.empty()) {
    imm.Set("occurrenceString", JsonValue::String("unknown"));
  } else {
    imm.Set("occurrenceDateTime", JsonValue::String(when));
  }
  pugi::xml_node lot = Child(material, kHl7, "lotNumberText");
  if (lot && lot.text().get()[0]) imm.Set("lotNumber", JsonValue::String(lot.text().get()));
  // Transcribed from a document: not the primary source; the Provenance names the document.
  (void)document;
  imm.Set("primarySource", JsonValue::Bool(false));
  imm.Set("reportOrigin", Coded("http://terminology.hl7.org/CodeSystem/immunization-origin", "record",
                                "Written Record"));
  return imm;
}

void Walk(pugi::xml_node n, int depth, const std::string& patient, const std::string& document,
          ExtractionReport* report) {
  if (depth > 200) return;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    if (Is(c, kHl7, "observation") && HasTemplate(c, kAllergyEntry)) {
      JsonValue a = Allergy(c, patient);
      if (a.is_null()) report->ignored.push_back("allergy entry without a coded substance or reaction");
      else report->resources.push_back(std::move(a));
    } else if (Is(c, kHl7, "observation") && HasTemplate(c, kProblemEntry)) {
      JsonValue cond = Problem(c, patient);
      if (cond.is_null()) report->ignored.push_back("problem entry without a coded value");
      else report->resources.push_back(std::move(cond));
    } else if (Is(c, kHl7, "substanceAdministration") && HasTemplate(c, kMedicationEntry) && !IsImmunization(c)) {
      JsonValue m = Medication(c, patient);
      if (m.is_null()) report->ignored.push_back("medication entry without a coded product");
      else report->resources.push_back(std::move(m));
    } else if (Is(c, kHl7, "observation") && std::string(c.attribute("moodCode").value()) == "EVN") {
      pugi::xml_node code = Child(c, kHl7, "code");
      pugi::xml_node value = Child(c, kHl7, "value");
      std::string type = value.attribute("xsi:type").value();
      if (std::string(code.attribute("codeSystem").value()) != kLoinc || type != "PQ") {
        if (code && value)
          report->ignored.push_back("observation " + std::string(code.attribute("code").value()) +
                                    (std::string(code.attribute("codeSystem").value()) != kLoinc
                                         ? ": code not in LOINC"
                                         : ": value of type " + type + " (only PQ results are extracted)"));
      } else if (JsonValue q = Quantity(value); !q.is_null()) {
        JsonValue o = JsonValue::Object();
        o.Set("resourceType", JsonValue::String("Observation"));
        o.Set("status", JsonValue::String("final"));
        JsonValue category = JsonValue::Array();
        category.Append(Coded("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", ""));
        o.Set("category", std::move(category));
        o.Set("code", Coded("http://loinc.org", code.attribute("code").value(), code.attribute("displayName").value()));
        JsonValue subject = JsonValue::Object();
        subject.Set("reference", JsonValue::String(patient));
        o.Set("subject", std::move(subject));
        std::string when = FhirDateTimeFromDtm(DtmFromHl7Ts(Child(c, kHl7, "effectiveTime").attribute("value").value()));
        if (!when.empty()) o.Set("effectiveDateTime", JsonValue::String(when));
        o.Set("valueQuantity", std::move(q));
        pugi::xml_node interp = Child(c, kHl7, "interpretationCode");
        if (interp && interp.attribute("code").value()[0]) {
          JsonValue list = JsonValue::Array();
          list.Append(Coded("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                            interp.attribute("code").value(), interp.attribute("displayName").value()));
          o.Set("interpretation", std::move(list));
        }
        pugi::xml_node range = Child(Child(Child(c, kHl7, "referenceRange"), kHl7, "observationRange"), kHl7, "value");
        if (range) {
          JsonValue rr = JsonValue::Object();
          JsonValue low = Quantity(Child(range, kHl7, "low")), high = Quantity(Child(range, kHl7, "high"));
          if (!low.is_null()) rr.Set("low", std::move(low));
          if (!high.is_null()) rr.Set("high", std::move(high));
          if (!rr.members().empty()) {
            JsonValue list = JsonValue::Array();
            list.Append(std::move(rr));
            o.Set("referenceRange", std::move(list));
          }
        }
        JsonValue derived = JsonValue::Array();
        JsonValue ref = JsonValue::Object();
        ref.Set("reference", JsonValue::String(document));
        derived.Append(std::move(ref));
        o.Set("derivedFrom", std::move(derived));
        report->resources.push_back(std::move(o));
      } else {
        report->ignored.push_back("observation " + std::string(code.attribute("code").value()) +
                                  ": value is not a decimal quantity");
      }
    } else if (Is(c, kHl7, "substanceAdministration") && IsImmunization(c)) {
      JsonValue imm = Immunization(c, patient, document);
      if (imm.is_null()) {
        report->ignored.push_back("immunization without a vaccine code");
      } else {
        report->resources.push_back(std::move(imm));
      }
    }
    Walk(c, depth + 1, patient, document, report);
  }
}

}  // namespace

Result<ExtractionReport> ExtractCdaEntries(std::string_view cda_xml, const std::string& patient_reference,
                                           const std::string& document_reference) {
  auto doc = xds::ParseXml(cda_xml, 200);
  if (!doc.ok()) return doc.status();
  ExtractionReport report;
  Walk((*doc)->document_element(), 0, patient_reference, document_reference, &report);
  // Level 1: component/nonXMLBody/text, base64 (representation B64) or plain text.
  pugi::xml_node body = Child(Child((*doc)->document_element(), kHl7, "component"), kHl7, "nonXMLBody");
  if (body) {
    pugi::xml_node text = Child(body, kHl7, "text");
    std::string data = text.text().get();
    std::string type = text.attribute("mediaType").value();
    if (std::string(text.attribute("representation").value()) == "B64") {
      std::string compact;
      for (char ch : data)
        if (!std::isspace(static_cast<unsigned char>(ch))) compact.push_back(ch);
      auto bytes = Base64Decode(compact);
      if (bytes) data = std::move(*bytes);
      else data.clear();
    }
    if (!data.empty()) {
      report.embedded_content = std::move(data);
      report.embedded_type = type.empty() ? "text/plain" : type;
    } else {
      report.ignored.push_back("nonXMLBody without readable content");
    }
  }
  return report;
}

}  // namespace carnet::mapping
