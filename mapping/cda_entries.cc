#include "mapping/cda_entries.h"

#include <cctype>

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

void Walk(pugi::xml_node n, int depth, const std::string& patient, const std::string& document,
          ExtractionReport* report) {
  if (depth > 200) return;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    if (Is(c, kHl7, "observation") && std::string(c.attribute("moodCode").value()) == "EVN") {
      pugi::xml_node code = Child(c, kHl7, "code");
      pugi::xml_node value = Child(c, kHl7, "value");
      std::string type = value.attribute("xsi:type").value();
      if (std::string(code.attribute("codeSystem").value()) != kLoinc || type != "PQ") {
        if (code && value) ++report->skipped;
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
        report->observations.push_back(std::move(o));
      } else {
        ++report->skipped;
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
  return report;
}

}  // namespace carnet::mapping
