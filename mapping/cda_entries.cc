#include "mapping/cda_entries.h"

#include <cctype>
#include <map>

#include "base/strings.h"
#include "mapping/cda_header.h"
#include "mapping/document_entry.h"
#include "mapping/ebrim_xml.h"

namespace carnet::mapping {
namespace {

using xds::Child;
using xds::Is;
using xds::Trim;

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
constexpr const char* kVitalSignEntry = "1.3.6.1.4.1.19376.1.5.3.1.4.13.2";
constexpr const char* kSocialHistoryEntry = "1.3.6.1.4.1.19376.1.5.3.1.4.13.4";
constexpr const char* kStatusEntry = "1.3.6.1.4.1.19376.1.5.3.1.4.1.1";  // problem / allergy status
constexpr const char* kSeriesNumberEntry = "2.16.840.1.113883.10.20.1.46";  // vaccination rank
constexpr const char* kDocumentTypeCode =
    "69764-9";  // "type of document": about the report, not a result

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
  bool resolved =
      !Child(Child(obs, kHl7, "effectiveTime"), kHl7, "high").attribute("value").empty();
  c.Set("clinicalStatus", Coded("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                resolved ? "resolved" : "active", ""));
  c.Set("verificationStatus",
        Coded("http://terminology.hl7.org/CodeSystem/condition-ver-status",
              std::string(obs.attribute("negationInd").value()) == "true" ? "refuted" : "confirmed",
              ""));
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
  a.Set("clinicalStatus",
        Coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", ""));
  a.Set("verificationStatus",
        Coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed",
              ""));
  a.Set("code", std::move(code));
  a.Set("patient", PatientRef(patient));
  std::string onset = When(Child(obs, kHl7, "effectiveTime"));
  if (!onset.empty()) a.Set("onsetDateTime", JsonValue::String(onset));
  return a;
}

// Medication entry (PCC 4.7): the product of the consumable -> MedicationStatement (what is
// or was taken), or MedicationRequest for a prescription line (moodCode INT).

// An immunization entry: a substanceAdministration carrying the IHE PCC immunization template
// (1.3.6.1.4.1.19376.1.5.3.1.4.12, which the French CI-SIS vaccination entries declare) or the
// C-CDA one (2.16.840.1.113883.10.20.22.4.52). Medication entries (PCC 4.7) are not immunizations.
bool IsImmunization(pugi::xml_node sa) {
  for (pugi::xml_node t = sa.first_child(); t; t = t.next_sibling())
    if (Is(t, kHl7, "templateId")) {
      std::string root = t.attribute("root").value();
      if (root == "1.3.6.1.4.1.19376.1.5.3.1.4.12" || root == "2.16.840.1.113883.10.20.22.4.52")
        return true;
    }
  return false;
}

JsonValue Immunization(pugi::xml_node sa, const std::string& patient, const std::string& document) {
  pugi::xml_node material = Child(Child(Child(sa, kHl7, "consumable"), kHl7, "manufacturedProduct"),
                                  kHl7, "manufacturedMaterial");
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
  // The rank of the vaccination (CI-SIS FR-Rang-de-la-vaccination, CCD series number).
  for (pugi::xml_node er = sa.first_child(); er; er = er.next_sibling()) {
    if (!Is(er, kHl7, "entryRelationship")) continue;
    pugi::xml_node obs = Child(er, kHl7, "observation");
    if (!HasTemplate(obs, kSeriesNumberEntry)) continue;
    std::string rank = Child(obs, kHl7, "value").attribute("value").value();
    if (rank.empty() || rank.find_first_not_of("0123456789") != std::string::npos || rank[0] == '0')
      continue;
    JsonValue applied = JsonValue::Object();
    applied.Set("doseNumberPositiveInt", JsonValue::Number(rank));
    JsonValue list = JsonValue::Array();
    list.Append(std::move(applied));
    imm.Set("protocolApplied", std::move(list));
  }
  pugi::xml_node lot = Child(material, kHl7, "lotNumberText");
  if (lot && lot.text().get()[0]) imm.Set("lotNumber", JsonValue::String(lot.text().get()));
  // Transcribed from a document: not the primary source; the Provenance names the document.
  (void)document;
  imm.Set("primarySource", JsonValue::Bool(false));
  imm.Set("reportOrigin", Coded("http://terminology.hl7.org/CodeSystem/immunization-origin",
                                "record", "Written Record"));
  return imm;
}

// What a walk down the CDA body knows of where it is.
struct WalkContext {
  std::string patient, document;
  // ID -> text of the narrative blocks.
  const std::map<std::string, std::string>* narrative = nullptr;
  bool laboratory = false;  // under an IHE Laboratory (XD-LAB) template
  // Nearest performer/assignedEntity (entry, organizer, section, serviceEvent).
  pugi::xml_node performer;
  pugi::xml_node author;      // the document's first author/assignedAuthor
  std::string document_time;  // the document's effectiveTime (FHIR dateTime)
};

bool HasTemplatePrefix(pugi::xml_node n, std::string_view prefix) {
  for (pugi::xml_node t = n.first_child(); t; t = t.next_sibling())
    if (Is(t, kHl7, "templateId") &&
        std::string_view(t.attribute("root").value()).substr(0, prefix.size()) == prefix)
      return true;
  return false;
}

pugi::xml_node PerformerOf(pugi::xml_node n) {
  for (pugi::xml_node p = n.first_child(); p; p = p.next_sibling())
    if (Is(p, kHl7, "performer"))
      if (pugi::xml_node ae = Child(p, kHl7, "assignedEntity")) return ae;
  return pugi::xml_node();
}

// An assignedEntity as a logical Reference: its identifier (RPPS, FINESS...) and a display
// (the person's name, else the organisation's).
JsonValue PerformerReference(pugi::xml_node ae) {
  JsonValue r = JsonValue::Object();
  pugi::xml_node id = Child(ae, kHl7, "id");
  std::string root = id.attribute("root").value(), ext = id.attribute("extension").value();
  if (!ext.empty()) {
    JsonValue identifier = JsonValue::Object();
    identifier.Set("system", JsonValue::String("urn:oid:" + root));
    identifier.Set("value", JsonValue::String(ext));
    r.Set("identifier", std::move(identifier));
  }
  pugi::xml_node name = Child(Child(ae, kHl7, "assignedPerson"), kHl7, "name");
  std::string display = Trim(std::string(Child(name, kHl7, "given").text().get()) + " " +
                             Child(name, kHl7, "family").text().get());
  if (display.empty())
    display = Trim(Child(Child(ae, kHl7, "representedOrganization"), kHl7, "name").text().get());
  if (!display.empty()) r.Set("display", JsonValue::String(display));
  return r.members().empty() ? JsonValue() : r;
}

// LOINC codes of the FHIR vital signs profile (hl7.org/fhir/R4/observation-vitalsigns.html).
bool IsVitalSignCode(const std::string& code) {
  static const char* kCodes[] = {"85353-1", "9279-1", "8867-4", "2708-6",  "59408-5",
                                 "8310-5",  "8302-2", "9843-4", "29463-7", "39156-5",
                                 "85354-9", "8480-6", "8462-4", "8478-0"};
  for (const char* c : kCodes)
    if (code == c) return true;
  return false;
}

// An observation's value as Observation.value[x]: PQ -> valueQuantity, IVL_PQ -> valueRange
// (or a valueQuantity with its comparator when one bound is given), CD/CE/CV/CO ->
// valueCodeableConcept, ST -> valueString, INT -> valueInteger, BL -> valueBoolean. False
// (with `why`) for what has no FHIR value here.
bool SetValue(JsonValue& o, pugi::xml_node value, const WalkContext& ctx, std::string* why) {
  std::string type = value.attribute("xsi:type").value();
  if (type.find(':') != std::string::npos) type = type.substr(type.find(':') + 1);
  if (type == "PQ") {
    JsonValue q = Quantity(value);
    if (q.is_null()) return *why = "value is not a decimal quantity", false;
    o.Set("valueQuantity", std::move(q));
    return true;
  }
  if (type == "IVL_PQ") {
    JsonValue low = Quantity(Child(value, kHl7, "low")),
              high = Quantity(Child(value, kHl7, "high"));
    if (!low.is_null() && !high.is_null()) {
      JsonValue range = JsonValue::Object();
      range.Set("low", std::move(low));
      range.Set("high", std::move(high));
      o.Set("valueRange", std::move(range));
      return true;
    }
    bool is_low = !low.is_null();
    JsonValue q = is_low ? std::move(low) : std::move(high);
    if (q.is_null()) return *why = "interval without a decimal bound", false;
    bool inclusive =
        std::string(Child(value, kHl7, is_low ? "low" : "high").attribute("inclusive").value()) !=
        "false";
    JsonValue with = JsonValue::Object();  // comparator comes before value in FHIR's order
    with.Set("value", *q.Find("value"));
    with.Set("comparator",
             JsonValue::String(is_low ? (inclusive ? ">=" : ">") : (inclusive ? "<=" : "<")));
    for (const auto& [k, v] : q.members())
      if (k != "value") with.Set(k, v);
    o.Set("valueQuantity", std::move(with));
    return true;
  }
  if (type == "CD" || type == "CE" || type == "CV" || type == "CO") {
    JsonValue cc = Concept(value);
    if (cc.is_null()) {
      // A result given only as text: originalText names the narrative that holds it.
      std::string ref =
          Child(Child(value, kHl7, "originalText"), kHl7, "reference").attribute("value").value();
      auto it = ref.size() > 1 && ref[0] == '#' && ctx.narrative
                    ? ctx.narrative->find(ref.substr(1))
                    : std::map<std::string, std::string>::const_iterator();
      if (!ctx.narrative || ref.size() < 2 || ref[0] != '#' || it == ctx.narrative->end() ||
          it->second.empty())
        return *why = "coded value without a code or text", false;
      cc = JsonValue::Object();
      cc.Set("text", JsonValue::String(it->second));
    }
    o.Set("valueCodeableConcept", std::move(cc));
    return true;
  }
  if (type == "ST") {
    std::string text = Trim(value.text().get());
    if (text.empty()) return *why = "empty text value", false;
    o.Set("valueString", JsonValue::String(text));
    return true;
  }
  if (type == "INT") {
    std::string v = value.attribute("value").value();
    if (v.empty() || !IsDecimal(v) || v.find('.') != std::string::npos)
      return *why = "integer value unreadable", false;
    o.Set("valueInteger", JsonValue::Number(v));
    return true;
  }
  if (type == "BL") {
    std::string v = value.attribute("value").value();
    if (v != "true" && v != "false") return *why = "boolean value unreadable", false;
    o.Set("valueBoolean", JsonValue::Bool(v == "true"));
    return true;
  }
  *why = "value of type " + (type.empty() ? std::string("(none)") : type) +
         " has no Observation.value here";
  return false;
}

// A result, a vital sign or another simple observation (LOINC-coded) as an Observation.
void ExtractResult(pugi::xml_node c, const WalkContext& ctx, ExtractionReport* report) {
  pugi::xml_node code = Child(c, kHl7, "code");
  std::string code_value = code.attribute("code").value();
  if (!code) return;
  if (std::string(code.attribute("codeSystem").value()) != kLoinc) {
    report->ignored.push_back("observation " + code_value + ": code not in LOINC");
    return;
  }
  if (HasTemplate(c, kStatusEntry)) {
    report->ignored.push_back("observation " + code_value +
                              ": the status of its problem or allergy entry");
    return;
  }
  if (code_value == kDocumentTypeCode) {
    report->ignored.push_back("observation " + code_value +
                              ": describes the report, not the patient");
    return;
  }
  pugi::xml_node value = Child(c, kHl7, "value");
  if (!value) {
    report->ignored.push_back("observation " + code_value + ": no value");
    return;
  }
  JsonValue o = JsonValue::Object();
  o.Set("resourceType", JsonValue::String("Observation"));
  std::string status = Child(c, kHl7, "statusCode").attribute("code").value();
  o.Set("status", JsonValue::String(status == "active"    ? "preliminary"
                                    : status == "aborted" ? "cancelled"
                                                          : "final"));
  const char* category = HasTemplate(c, kVitalSignEntry) || IsVitalSignCode(code_value)
                             ? "vital-signs"
                         : HasTemplate(c, kSocialHistoryEntry) ? "social-history"
                         : ctx.laboratory                      ? "laboratory"
                                                               : "exam";
  JsonValue categories = JsonValue::Array();
  categories.Append(
      Coded("http://terminology.hl7.org/CodeSystem/observation-category", category, ""));
  o.Set("category", std::move(categories));
  o.Set("code", Coded("http://loinc.org", code_value, code.attribute("displayName").value()));
  o.Set("subject", PatientRef(ctx.patient));
  std::string when = When(Child(c, kHl7, "effectiveTime"));
  if (!when.empty()) o.Set("effectiveDateTime", JsonValue::String(when));
  pugi::xml_node performer = PerformerOf(c);
  if (!performer) performer = ctx.performer;
  if (JsonValue p = performer ? PerformerReference(performer) : JsonValue(); !p.is_null()) {
    JsonValue list = JsonValue::Array();
    list.Append(std::move(p));
    o.Set("performer", std::move(list));
  }
  std::string why;
  if (!SetValue(o, value, ctx, &why)) {
    report->ignored.push_back("observation " + code_value + ": " + why);
    return;
  }
  pugi::xml_node interp = Child(c, kHl7, "interpretationCode");
  if (interp && interp.attribute("code").value()[0]) {
    JsonValue list = JsonValue::Array();
    list.Append(Coded("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                      interp.attribute("code").value(), interp.attribute("displayName").value()));
    o.Set("interpretation", std::move(list));
  }
  pugi::xml_node range =
      Child(Child(Child(c, kHl7, "referenceRange"), kHl7, "observationRange"), kHl7, "value");
  if (range) {
    JsonValue rr = JsonValue::Object();
    JsonValue low = Quantity(Child(range, kHl7, "low")),
              high = Quantity(Child(range, kHl7, "high"));
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
  ref.Set("reference", JsonValue::String(ctx.document));
  derived.Append(std::move(ref));
  o.Set("derivedFrom", std::move(derived));
  report->resources.push_back(std::move(o));
}

// UCUM time units as FHIR Timing units (s | min | h | d | wk | mo | a).
std::string TimingUnit(const std::string& ucum) {
  if (ucum == "s" || ucum == "min" || ucum == "h" || ucum == "d" || ucum == "wk" || ucum == "mo" ||
      ucum == "a")
    return ucum;
  return "";
}

// The narrative a `text/reference` (or `originalText/reference`) names, else the element's text.
std::string NarrativeOf(pugi::xml_node text, const WalkContext& ctx) {
  std::string ref = Child(text, kHl7, "reference").attribute("value").value();
  if (ref.size() > 1 && ref[0] == '#' && ctx.narrative) {
    auto it = ctx.narrative->find(ref.substr(1));
    if (it != ctx.narrative->end()) return it->second;
  }
  return Trim(text.text().get());
}

// The timing of a substanceAdministration's effectiveTime (IVL_TS, PIVL_TS, or an SXPR_TS of
// them): bounds from the interval, frequency from the period.
void AddTiming(pugi::xml_node time, JsonValue& repeat, int depth = 0) {
  if (!time || depth > 4) return;
  std::string type = time.attribute("xsi:type").value();
  if (type.find(':') != std::string::npos) type = type.substr(type.find(':') + 1);
  if (type == "SXPR_TS") {
    for (pugi::xml_node c = time.first_child(); c; c = c.next_sibling())
      if (Is(c, kHl7, "comp")) AddTiming(c, repeat, depth + 1);
    return;
  }
  if (type == "PIVL_TS") {
    pugi::xml_node period = Child(time, kHl7, "period");
    std::string value = period.attribute("value").value(),
                unit = TimingUnit(period.attribute("unit").value());
    if (IsDecimal(value) && !unit.empty()) {
      repeat.Set("frequency", JsonValue::Number("1"));
      repeat.Set("period", JsonValue::Number(value));
      repeat.Set("periodUnit", JsonValue::String(unit));
    }
    return;
  }
  // IVL_TS (the default): low/high, or low and a width.
  std::string low =
      FhirDateTimeFromDtm(DtmFromHl7Ts(Child(time, kHl7, "low").attribute("value").value()));
  std::string high =
      FhirDateTimeFromDtm(DtmFromHl7Ts(Child(time, kHl7, "high").attribute("value").value()));
  pugi::xml_node width = Child(time, kHl7, "width");
  if (!low.empty() || !high.empty()) {
    JsonValue bounds = JsonValue::Object();
    if (!low.empty()) bounds.Set("start", JsonValue::String(low));
    if (!high.empty()) bounds.Set("end", JsonValue::String(high));
    repeat.Set("boundsPeriod", std::move(bounds));
  } else if (width) {
    std::string value = width.attribute("value").value(),
                unit = TimingUnit(width.attribute("unit").value());
    if (IsDecimal(value) && !unit.empty()) {
      JsonValue duration = JsonValue::Object();
      duration.Set("value", JsonValue::Number(value));
      duration.Set("unit", JsonValue::String(unit));
      duration.Set("system", JsonValue::String("http://unitsofmeasure.org"));
      duration.Set("code", JsonValue::String(unit));
      repeat.Set("boundsDuration", std::move(duration));
    }
  }
}

// One Dosage from a substanceAdministration: its narrative as text, timing, route, dose (a
// quantity or a range) and maximum dose per period.
JsonValue DosageOf(pugi::xml_node sa, const WalkContext& ctx) {
  JsonValue d = JsonValue::Object();
  if (pugi::xml_node seq = Child(sa.parent(), kHl7, "sequenceNumber");
      seq && IsDecimal(seq.attribute("value").value()))
    d.Set("sequence", JsonValue::Number(seq.attribute("value").value()));
  if (std::string text = NarrativeOf(Child(sa, kHl7, "text"), ctx); !text.empty())
    d.Set("text", JsonValue::String(text));
  JsonValue repeat = JsonValue::Object();
  for (pugi::xml_node t = sa.first_child(); t; t = t.next_sibling())
    if (Is(t, kHl7, "effectiveTime")) AddTiming(t, repeat);
  if (!repeat.members().empty()) {
    JsonValue timing = JsonValue::Object();
    timing.Set("repeat", std::move(repeat));
    d.Set("timing", std::move(timing));
  }
  if (pugi::xml_node route = Child(sa, kHl7, "routeCode");
      route && route.attribute("code").value()[0])
    d.Set("route", Coded(SystemUri(route.attribute("codeSystem").value()),
                         route.attribute("code").value(), route.attribute("displayName").value()));
  pugi::xml_node dose = Child(sa, kHl7, "doseQuantity");
  JsonValue dose_and_rate = JsonValue::Object();
  if (JsonValue q = Quantity(dose); !q.is_null()) {
    dose_and_rate.Set("doseQuantity", std::move(q));
  } else {
    JsonValue low = Quantity(Child(dose, kHl7, "low")), high = Quantity(Child(dose, kHl7, "high"));
    if (!low.is_null() && low == high) {  // "from 1 to 1 tablet" is one tablet
      dose_and_rate.Set("doseQuantity", std::move(low));
    } else if (!low.is_null() || !high.is_null()) {
      JsonValue range = JsonValue::Object();
      if (!low.is_null()) range.Set("low", std::move(low));
      if (!high.is_null()) range.Set("high", std::move(high));
      dose_and_rate.Set("doseRange", std::move(range));
    }
  }
  if (!dose_and_rate.members().empty()) {
    JsonValue list = JsonValue::Array();
    list.Append(std::move(dose_and_rate));
    d.Set("doseAndRate", std::move(list));
  }
  pugi::xml_node max = Child(sa, kHl7, "maxDoseQuantity");
  JsonValue num = Quantity(Child(max, kHl7, "numerator")),
            den = Quantity(Child(max, kHl7, "denominator"));
  if (!num.is_null() && !den.is_null()) {
    JsonValue ratio = JsonValue::Object();
    ratio.Set("numerator", std::move(num));
    ratio.Set("denominator", std::move(den));
    d.Set("maxDosePerPeriod", std::move(ratio));
  }
  return d;
}

// The dosage of a medication entry: its own, then one per subordinate substanceAdministration
// (progressive doses, entryRelationship COMP with a sequenceNumber).
JsonValue Dosages(pugi::xml_node sa, const WalkContext& ctx) {
  JsonValue list = JsonValue::Array();
  JsonValue own = DosageOf(sa, ctx);
  if (own.members().size() > 0) list.Append(std::move(own));
  for (pugi::xml_node er = sa.first_child(); er; er = er.next_sibling()) {
    if (!Is(er, kHl7, "entryRelationship") ||
        std::string(er.attribute("typeCode").value()) != "COMP")
      continue;
    pugi::xml_node sub = Child(er, kHl7, "substanceAdministration");
    if (!sub) continue;
    JsonValue d = DosageOf(sub, ctx);
    if (d.members().size() > (d.Find("sequence") ? 1u : 0u)) list.Append(std::move(d));
  }
  return list;
}

JsonValue Medication(pugi::xml_node sa, const WalkContext& ctx) {
  const std::string& patient = ctx.patient;
  pugi::xml_node material = Child(Child(Child(sa, kHl7, "consumable"), kHl7, "manufacturedProduct"),
                                  kHl7, "manufacturedMaterial");
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
    // Prescribed when the document was written, by its author.
    if (!ctx.document_time.empty()) m.Set("authoredOn", JsonValue::String(ctx.document_time));
    if (JsonValue who = ctx.author ? PerformerReference(ctx.author) : JsonValue(); !who.is_null())
      m.Set("requester", std::move(who));
    if (JsonValue d = Dosages(sa, ctx); !d.items().empty())
      m.Set("dosageInstruction", std::move(d));
    return m;
  }
  m.Set("resourceType", JsonValue::String("MedicationStatement"));
  pugi::xml_node time = Child(sa, kHl7, "effectiveTime");
  std::string start =
      FhirDateTimeFromDtm(DtmFromHl7Ts(Child(time, kHl7, "low").attribute("value").value()));
  std::string end =
      FhirDateTimeFromDtm(DtmFromHl7Ts(Child(time, kHl7, "high").attribute("value").value()));
  m.Set("status", JsonValue::String(end.empty() ? "active" : "completed"));
  m.Set("medicationCodeableConcept", std::move(code));
  m.Set("subject", PatientRef(patient));
  if (!start.empty() || !end.empty()) {
    JsonValue period = JsonValue::Object();
    if (!start.empty()) period.Set("start", JsonValue::String(start));
    if (!end.empty()) period.Set("end", JsonValue::String(end));
    m.Set("effectivePeriod", std::move(period));
  }
  if (JsonValue d = Dosages(sa, ctx); !d.items().empty()) m.Set("dosage", std::move(d));
  return m;
}

// The text of every narrative element with an ID (what originalText/reference points at),
// whitespace collapsed.
void CollectNarrative(pugi::xml_node n, int depth, std::map<std::string, std::string>* out) {
  if (depth > 200) return;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    if (const char* id = c.attribute("ID").value(); id[0]) {
      std::string text, collapsed;
      for (const pugi::xpath_node& t : c.select_nodes(".//text()"))
        text += std::string(t.node().value()) + " ";
      for (char ch : text) {
        bool space = std::isspace(static_cast<unsigned char>(ch));
        if (space && (collapsed.empty() || collapsed.back() == ' ')) continue;
        collapsed.push_back(space ? ' ' : ch);
      }
      (*out)[id] = Trim(collapsed);
    }
    CollectNarrative(c, depth + 1, out);
  }
}

void Walk(pugi::xml_node n, int depth, WalkContext ctx, ExtractionReport* report) {
  if (depth > 200) return;
  if (HasTemplatePrefix(n, "1.3.6.1.4.1.19376.1.3.")) ctx.laboratory = true;
  if (pugi::xml_node p = PerformerOf(n)) ctx.performer = p;
  const std::string& patient = ctx.patient;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    if (Is(c, kHl7, "observation") && HasTemplate(c, kAllergyEntry)) {
      JsonValue a = Allergy(c, patient);
      if (a.is_null())
        report->ignored.push_back("allergy entry without a coded substance or reaction");
      else
        report->resources.push_back(std::move(a));
    } else if (Is(c, kHl7, "observation") && HasTemplate(c, kProblemEntry)) {
      JsonValue cond = Problem(c, patient);
      if (cond.is_null())
        report->ignored.push_back("problem entry without a coded value");
      else
        report->resources.push_back(std::move(cond));
    } else if (Is(c, kHl7, "substanceAdministration") && HasTemplate(c, kMedicationEntry) &&
               !IsImmunization(c)) {
      JsonValue m = Medication(c, ctx);
      if (m.is_null())
        report->ignored.push_back("medication entry without a coded product");
      else
        report->resources.push_back(std::move(m));
    } else if (Is(c, kHl7, "observation") && HasTemplate(c, kSeriesNumberEntry)) {
      // The rank of a vaccination: its Immunization's protocolApplied.doseNumber.
    } else if (Is(c, kHl7, "observation") &&
               std::string(c.attribute("moodCode").value()) == "EVN") {
      ExtractResult(c, ctx, report);
    } else if (Is(c, kHl7, "substanceAdministration") && IsImmunization(c)) {
      JsonValue imm = Immunization(c, patient, ctx.document);
      if (imm.is_null()) {
        report->ignored.push_back("immunization without a vaccine code");
      } else {
        report->resources.push_back(std::move(imm));
      }
    }
    Walk(c, depth + 1, ctx, report);
  }
}

}  // namespace

Result<ExtractionReport> ExtractCdaEntries(std::string_view cda_xml,
                                           const std::string& patient_reference,
                                           const std::string& document_reference) {
  auto doc = xds::ParseXml(cda_xml, 200);
  if (!doc.ok()) return doc.status();
  ExtractionReport report;
  std::map<std::string, std::string> narrative;
  CollectNarrative((*doc)->document_element(), 0, &narrative);
  WalkContext ctx;
  ctx.narrative = &narrative;
  ctx.patient = patient_reference;
  ctx.document = document_reference;
  // The performer a result falls back on: the serviceEvent's (XD-LAB: the laboratory).
  for (pugi::xml_node d = (*doc)->document_element().first_child(); d && !ctx.performer;
       d = d.next_sibling())
    if (Is(d, kHl7, "documentationOf")) ctx.performer = PerformerOf(Child(d, kHl7, "serviceEvent"));
  pugi::xml_node root = (*doc)->document_element();
  ctx.author = Child(Child(root, kHl7, "author"), kHl7, "assignedAuthor");
  ctx.document_time = FhirDateTimeFromDtm(
      DtmFromHl7Ts(Child(root, kHl7, "effectiveTime").attribute("value").value()));
  Walk(root, 0, ctx, &report);
  // Level 1: component/nonXMLBody/text, base64 (representation B64) or plain text.
  pugi::xml_node body =
      Child(Child((*doc)->document_element(), kHl7, "component"), kHl7, "nonXMLBody");
  if (body) {
    pugi::xml_node text = Child(body, kHl7, "text");
    std::string data = text.text().get();
    std::string type = text.attribute("mediaType").value();
    if (std::string(text.attribute("representation").value()) == "B64") {
      std::string compact;
      for (char ch : data)
        if (!std::isspace(static_cast<unsigned char>(ch))) compact.push_back(ch);
      auto bytes = Base64Decode(compact);
      if (bytes)
        data = std::move(*bytes);
      else
        data.clear();
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
