#include "health_profile/sections.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/strings.h"
#include "base/tsv.h"

namespace carnet::health_profile {

const char* EmbeddedSections();  // data/sections.tsv, compiled in

namespace {

constexpr char kExtractionTagCode[] = "cda-extraction";  // dossier/document_extraction.h

struct Holding {
  std::string section, type, element, code;
};
struct Table {
  std::vector<Section> sections;
  std::vector<Holding> holdings;
};

const Table& Rules() {
  static const Table table = [] {
    Table t;
    for (const TsvRow& row : ReadTsv(EmbeddedSections())) {
      const auto& c = row.cells;
      if (c.size() >= 4 && c[0] == "section")
        t.sections.push_back({c[1], c[2] == "-" ? "" : c[2], c[3]});
      else if (c.size() >= 3 && c[0] == "holds")
        t.holdings.push_back({c[1], c[2], c.size() > 4 ? c[3] : "", c.size() > 4 ? c[4] : ""});
    }
    return t;
  }();
  return table;
}

bool ConceptHasCode(const JsonValue& concept_json, const std::string& code) {
  const JsonValue* codings = concept_json.Find("coding");
  if (!codings || !codings->is_array()) return false;
  for (const JsonValue& c : codings->items())
    if (c.GetString("code") == code) return true;
  return false;
}

bool ElementHasCode(const JsonValue& resource, const std::string& element,
                    const std::string& code) {
  const JsonValue* v = resource.Find(element);
  if (!v) return false;
  if (v->is_array()) {
    for (const JsonValue& c : v->items())
      if (ConceptHasCode(c, code)) return true;
    return false;
  }
  return ConceptHasCode(*v, code);
}

JsonValue Ref(const std::string& reference) {
  JsonValue r = JsonValue::Object();
  r.Set("reference", JsonValue::String(reference));
  return r;
}

JsonValue Extension(const char* url, const char* key, JsonValue value) {
  JsonValue e = JsonValue::Object();
  e.Set("url", JsonValue::String(url));
  e.Set(key, std::move(value));
  return e;
}

// "Type/id" of a reference, without a version.
std::string Unversioned(std::string ref) {
  size_t history = ref.find("/_history/");
  if (history != std::string::npos) ref.resize(history);
  return ref;
}

// The fact a resource states, to find the same fact stated twice: its code (first coding),
// its date (the day), and for a measurement its value. "" when it has no code: then it is
// never merged.
std::string FactKey(const JsonValue& r) {
  std::string code;
  for (const char* key : {"code", "vaccineCode", "medicationCodeableConcept"}) {
    const JsonValue* concept_json = r.Find(key);
    if (!concept_json || !concept_json->is_object()) continue;
    if (const JsonValue* codings = concept_json->Find("coding");
        codings && codings->is_array() && !codings->items().empty()) {
      const JsonValue& c = codings->items()[0];
      code = c.GetString("system") + "|" + c.GetString("code");
    } else {
      code = "text|" + concept_json->GetString("text");
    }
    break;
  }
  if (code.empty() || code == "text|") return "";
  std::string date;
  for (const char* key : {"onsetDateTime", "occurrenceDateTime", "effectiveDateTime",
                          "performedDateTime", "recordedDate", "dateAsserted", "date"}) {
    date = r.GetString(key);
    if (!date.empty()) break;
  }
  std::string value;
  if (const JsonValue* q = r.Find("valueQuantity"); q && q->is_object())
    if (const JsonValue* v = q->Find("value")) value = v->text() + " " + q->GetString("code");
  return r.GetString("resourceType") + "|" + code + "|" + date.substr(0, 10) + "|" + value;
}

struct Origin {
  bool patient = false;
  std::vector<std::string> documents;
};

}  // namespace

const std::vector<Section>& Sections() { return Rules().sections; }

std::string SectionOf(const JsonValue& resource) {
  std::string type = resource.GetString("resourceType");
  for (const Holding& h : Rules().holdings)
    if (h.type == type && (h.element.empty() || ElementHasCode(resource, h.element, h.code)))
      return h.section;
  return "";
}

JsonValue BuildProfile(const std::vector<JsonValue>& resources, const std::string& patient_id,
                       const std::string& base_url,
                       const std::vector<std::string>& hidden_sections) {
  const std::string patient_ref = "Patient/" + patient_id;
  // Where each entry comes from, from the Provenances the caller may see.
  std::map<std::string, Origin> origins;  // "Type/id" -> origin
  for (const JsonValue& r : resources) {
    if (r.GetString("resourceType") != "Provenance") continue;
    bool extraction = false;
    if (const JsonValue* meta = r.Find("meta"))
      if (const JsonValue* tags = meta->Find("tag"); tags && tags->is_array())
        for (const JsonValue& t : tags->items())
          extraction = extraction || t.GetString("code") == kExtractionTagCode;
    bool by_patient = false;
    if (const JsonValue* agents = r.Find("agent"); agents && agents->is_array())
      for (const JsonValue& a : agents->items()) {
        const JsonValue* who = a.Find("who");
        const JsonValue* behalf = a.Find("onBehalfOf");
        by_patient = by_patient || (who && who->GetString("reference") == patient_ref) ||
                     (behalf && behalf->GetString("reference") == patient_ref);
      }
    std::vector<std::string> documents;
    if (const JsonValue* entities = r.Find("entity"); entities && entities->is_array())
      for (const JsonValue& e : entities->items())
        if (const JsonValue* what = e.Find("what"))
          documents.push_back(what->GetString("reference"));
    if (const JsonValue* targets = r.Find("target"); targets && targets->is_array())
      for (const JsonValue& t : targets->items()) {
        Origin& o = origins[Unversioned(t.GetString("reference"))];
        if (extraction)
          o.documents.insert(o.documents.end(), documents.begin(), documents.end());
        else if (by_patient)
          o.patient = true;
      }
  }

  auto declared = [&](const JsonValue& r) {
    auto o = origins.find(r.GetString("resourceType") + "/" + r.GetString("id"));
    return o != origins.end() && o->second.patient;
  };
  auto Rank = [&](const JsonValue& r) {
    const JsonValue* meta = r.Find("meta");
    return std::make_pair(declared(r) ? 0 : 1, meta ? meta->GetString("lastUpdated") : "");
  };
  // The facts of each section: one resource stands for each fact, the others stating it are
  // its duplicates.
  struct Fact {
    const JsonValue* resource;
    std::vector<const JsonValue*> duplicates;
  };
  std::map<std::string, std::vector<Fact>> facts;                // section -> facts
  std::map<std::string, std::pair<std::string, size_t>> by_key;  // fact key -> (section, index)
  const JsonValue* patient = nullptr;
  for (const JsonValue& r : resources) {
    if (r.GetString("resourceType") == "Patient" && r.GetString("id") == patient_id) patient = &r;
    std::string section = SectionOf(r);
    if (section.empty()) continue;
    std::string key = FactKey(r);
    if (!key.empty()) {
      auto seen = by_key.find(section + "|" + key);
      if (seen != by_key.end()) {
        // The patient's own statement stands for the fact, else the earliest written.
        Fact& fact = facts[section][seen->second.second];
        if (Rank(r) < Rank(*fact.resource)) {
          fact.duplicates.push_back(fact.resource);
          fact.resource = &r;
        } else {
          fact.duplicates.push_back(&r);
        }
        continue;
      }
      by_key[section + "|" + key] = {section, facts[section].size()};
    }
    facts[section].push_back({&r, {}});
  }

  auto add_sources = [&](JsonValue& entry, const JsonValue& r) {
    std::string ref = r.GetString("resourceType") + "/" + r.GetString("id");
    auto o = origins.find(ref);
    bool patient_source = o != origins.end() && o->second.patient;
    bool document_source = o != origins.end() && !o->second.documents.empty();
    JsonValue& exts = *entry.Find("extension");
    // A measurement a connected device took (Observation.device), pushed by an app: the
    // device, and the app (meta.source, who wrote it).
    const JsonValue* device = r.Find("device");
    std::string device_ref = device && device->is_object() ? device->GetString("reference") : "";
    const char* source = patient_source        ? "patient"
                         : document_source     ? "document"
                         : !device_ref.empty() ? "device"
                                               : "professional";
    exts.Append(Extension(kSourceExtension, "valueCode", JsonValue::String(source)));
    if (!device_ref.empty()) {
      exts.Append(Extension(kDeviceExtension, "valueReference", Ref(device_ref)));
      const JsonValue* meta = r.Find("meta");
      if (std::string app = meta ? meta->GetString("source") : ""; !app.empty())
        exts.Append(Extension(kAppExtension, "valueString", JsonValue::String(app)));
    }
    if (document_source)
      for (const std::string& d : o->second.documents)
        exts.Append(Extension(kDocumentExtension, "valueReference", Ref(d)));
  };

  JsonValue bundle = JsonValue::Object();
  bundle.Set("resourceType", JsonValue::String("Bundle"));
  bundle.Set("id", JsonValue::String(NewUuid()));
  bundle.Set("type", JsonValue::String("collection"));
  bundle.Set("timestamp", JsonValue::String(FormatUtc(std::chrono::system_clock::now())));
  JsonValue entries = JsonValue::Array();
  auto add_entry = [&](const JsonValue& r) {
    JsonValue e = JsonValue::Object();
    e.Set("fullUrl", JsonValue::String(base_url + "/" + r.GetString("resourceType") + "/" +
                                       r.GetString("id")));
    e.Set("resource", r);
    entries.Append(std::move(e));
  };
  if (patient) add_entry(*patient);
  std::vector<const JsonValue*> shown;
  for (const Section& s : Sections()) {
    JsonValue list = JsonValue::Object();
    list.Set("resourceType", JsonValue::String("List"));
    list.Set("id", JsonValue::String("profile-" + s.name));
    list.Set("status", JsonValue::String("current"));
    list.Set("mode", JsonValue::String("snapshot"));
    list.Set("title", JsonValue::String(s.title));
    if (std::find(hidden_sections.begin(), hidden_sections.end(), s.name) !=
        hidden_sections.end()) {
      JsonValue exts = JsonValue::Array();
      exts.Append(Extension(kHiddenSectionExtension, "valueBoolean", JsonValue::Bool(true)));
      list.Set("extension", std::move(exts));
    }
    if (!s.loinc.empty()) {
      JsonValue coding = JsonValue::Object();
      coding.Set("system", JsonValue::String("http://loinc.org"));
      coding.Set("code", JsonValue::String(s.loinc));
      JsonValue codings = JsonValue::Array();
      codings.Append(std::move(coding));
      JsonValue code = JsonValue::Object();
      code.Set("coding", std::move(codings));
      list.Set("code", std::move(code));
    }
    list.Set("subject", Ref(patient_ref));
    JsonValue items = JsonValue::Array();
    for (const Fact& f : facts[s.name]) {
      JsonValue item = JsonValue::Object();
      item.Set("extension", JsonValue::Array());
      add_sources(item, *f.resource);
      for (const JsonValue* d : f.duplicates) {
        item.Find("extension")
            ->Append(Extension(kDuplicateExtension, "valueReference",
                               Ref(d->GetString("resourceType") + "/" + d->GetString("id"))));
        add_sources(item, *d);
      }
      item.Set("item",
               Ref(f.resource->GetString("resourceType") + "/" + f.resource->GetString("id")));
      items.Append(std::move(item));
      shown.push_back(f.resource);
    }
    if (items.items().empty()) {
      JsonValue coding = JsonValue::Object();
      coding.Set("system",
                 JsonValue::String("http://terminology.hl7.org/CodeSystem/list-empty-reason"));
      coding.Set("code", JsonValue::String("nilknown"));
      JsonValue codings = JsonValue::Array();
      codings.Append(std::move(coding));
      JsonValue reason = JsonValue::Object();
      reason.Set("coding", std::move(codings));
      reason.Set("text", JsonValue::String("Rien de renseigné"));
      list.Set("emptyReason", std::move(reason));
    } else {
      list.Set("entry", std::move(items));
    }
    JsonValue e = JsonValue::Object();
    e.Set("fullUrl", JsonValue::String(base_url + "/List/profile-" + s.name));
    e.Set("resource", std::move(list));
    entries.Append(std::move(e));
  }
  for (const JsonValue* r : shown) add_entry(*r);
  bundle.Set("entry", std::move(entries));
  return bundle;
}

}  // namespace carnet::health_profile
