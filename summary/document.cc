#include "summary/document.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "base/strings.h"
#include "model/structure.h"

namespace carnet::summary {
namespace {

constexpr char kLoinc[] = "http://loinc.org";
constexpr char kXhtmlNs[] = "http://www.w3.org/1999/xhtml";

JsonValue Str(std::string s) { return JsonValue::String(std::move(s)); }

JsonValue LoincConcept(const std::string& code, const std::string& display) {
  JsonValue coding = JsonValue::Object();
  coding.Set("system", Str(kLoinc));
  coding.Set("code", Str(code));
  coding.Set("display", Str(display));
  JsonValue codings = JsonValue::Array();
  codings.Append(std::move(coding));
  JsonValue cc = JsonValue::Object();
  cc.Set("coding", std::move(codings));
  return cc;
}

JsonValue Narrative(const std::string& xhtml_inside) {
  JsonValue text = JsonValue::Object();
  text.Set("status", Str("generated"));
  text.Set("div", Str(std::string("<div xmlns=\"") + kXhtmlNs + "\">" + xhtml_inside + "</div>"));
  return text;
}

JsonValue Reference(const std::string& reference, const std::string& display = {}) {
  JsonValue r = JsonValue::Object();
  r.Set("reference", Str(reference));
  if (!display.empty()) r.Set("display", Str(display));
  return r;
}

bool IsDateLike(std::string_view s) {
  if (s.size() < 4) return false;
  for (size_t i = 0; i < 4; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  if (s.size() == 4) return true;
  return s[4] == '-' && s.size() >= 7 && std::isdigit(static_cast<unsigned char>(s[5])) &&
         std::isdigit(static_cast<unsigned char>(s[6])) &&
         (s.size() == 7 || (s[7] == '-' && s.size() >= 10));
}

// Everything that makes a reader's text of the record's resources.
class Reader {
 public:
  // `given`: what the caller may see, by "Type/id": a reference without a display reads as
  // its target's name.
  Reader(const SectionTable& table, std::string patient_id, std::string base_url,
         const std::map<std::string, const JsonValue*>& given)
      : table_(table),
        patient_id_(std::move(patient_id)),
        patient_url_(base_url + "/Patient/" + patient_id_),
        base_url_(std::move(base_url)),
        given_(given) {}

  bool NamesPatient(const JsonValue* ref) const {
    if (!ref || !ref->is_object()) return false;
    std::string r = ref->GetString("reference");
    if (r.empty()) return false;
    std::string rel = "Patient/" + patient_id_;
    return r == rel || r == patient_url_ ||
           (r.size() > rel.size() && r.compare(r.size() - rel.size(), rel.size(), rel) == 0 &&
            r[r.size() - rel.size() - 1] == '/');
  }

  std::string Label(const std::string& code) const {
    auto it = table_.labels.find(code);
    return it == table_.labels.end() ? code : it->second;
  }

  std::string Concept(const JsonValue& cc) const {
    std::string text = cc.GetString("text");
    if (!text.empty()) return text;
    if (const JsonValue* codings = cc.Find("coding"); codings && codings->is_array()) {
      for (const auto& c : codings->items())
        if (std::string d = c.GetString("display"); !d.empty()) return d;
      for (const auto& c : codings->items())
        if (std::string code = c.GetString("code"); !code.empty()) return Label(code);
    }
    return "";
  }

  std::string Ref(const JsonValue& ref) const {
    std::string display = ref.GetString("display");
    if (!display.empty()) return display;
    if (NamesPatient(&ref)) return "le patient";
    std::string r = ref.GetString("reference");
    auto keys = ReferencedResources(ref, base_url_);
    if (!keys.empty())
      if (auto it = given_.find(keys[0]); it != given_.end())
        if (std::string name = Name(*it->second); !name.empty()) return name;
    if (!r.empty()) return r;
    if (const JsonValue* id = ref.Find("identifier")) return id->GetString("value");
    return "";
  }

  // What a referenced resource is called: a Practitioner's or Organization's name, a
  // Medication's or Device's code or name.
  std::string Name(const JsonValue& target) const {
    if (const JsonValue* names = target.Find("name");
        names && names->is_array() && !names->items().empty()) {
      const JsonValue& n = names->items()[0];
      std::string text = n.GetString("text");
      if (!text.empty()) return text;
      std::string out;
      for (const char* part : {"prefix", "given"})
        if (const JsonValue* p = n.Find(part); p && p->is_array())
          for (const auto& g : p->items()) out += (out.empty() ? "" : " ") + g.text();
      std::string family = n.GetString("family");
      return out + (out.empty() || family.empty() ? "" : " ") + family;
    }
    if (std::string name = target.GetString("name"); !name.empty()) return name;
    if (const JsonValue* code = target.Find("code"); code && code->is_object())
      return Concept(*code);
    if (const JsonValue* names = target.Find("deviceName");
        names && names->is_array() && !names->items().empty())
      return names->items()[0].GetString("name");
    return "";
  }

  std::string Quantity(const JsonValue& q) const {
    const JsonValue* v = q.Find("value");
    if (!v) return "";
    std::string out = q.GetString("comparator") + v->text();
    std::string unit = q.GetString("unit");
    if (unit.empty()) unit = q.GetString("code");
    if (!unit.empty()) out += " " + unit;
    return out;
  }

  std::string Period(const JsonValue& p) const {
    std::string start = ReadableDate(p.GetString("start")), end = ReadableDate(p.GetString("end"));
    if (!start.empty() && !end.empty()) return "du " + start + " au " + end;
    if (!start.empty()) return "depuis le " + start;
    if (!end.empty()) return "jusqu'au " + end;
    return "";
  }

  // A complex element, by its type when known, else by its shape.
  std::string Complex(const JsonValue& v, const std::string& type) const {
    if (type == "CodeableConcept" || v.Find("coding") ||
        (v.Find("text") && v.members().size() == 1))
      return Concept(v);
    if (type == "Reference" || v.Find("reference") || (v.Find("display") && !v.Find("code")))
      return Ref(v);
    if (type == "Coding" || (v.Find("code") && !v.Find("value"))) {
      std::string d = v.GetString("display");
      return d.empty() ? Label(v.GetString("code")) : d;
    }
    if (v.Find("value") && v.Find("value")->is_number()) return Quantity(v);
    if (type == "Period" || v.Find("start") || v.Find("end")) return Period(v);
    if (type == "Range" || v.Find("low") || v.Find("high")) {
      std::string low = v.Find("low") ? Quantity(*v.Find("low")) : "";
      std::string high = v.Find("high") ? Quantity(*v.Find("high")) : "";
      return low.empty() ? "≤ " + high : high.empty() ? "≥ " + low : low + " – " + high;
    }
    if (type == "Ratio" || v.Find("numerator")) {
      std::string n = v.Find("numerator") ? Quantity(*v.Find("numerator")) : "";
      std::string d = v.Find("denominator") ? Quantity(*v.Find("denominator")) : "";
      return d.empty() ? n : n + " / " + d;
    }
    if (type == "Timing" || v.Find("event") || v.Find("repeat")) {
      if (const JsonValue* e = v.Find("event"); e && e->is_array() && !e->items().empty())
        return ReadableDate(e->items()[0].text());
      if (const JsonValue* r = v.Find("repeat"))
        if (const JsonValue* b = r->Find("boundsPeriod")) return Period(*b);
      return Concept(v.Find("code") ? *v.Find("code") : JsonValue::Object());
    }
    if (type == "Annotation") return v.GetString("text");
    return "";
  }

  std::string Item(const model::FhirPathNode& n) const {
    using Kind = model::FhirPathNode::Kind;
    switch (n.kind) {
      case Kind::kDate:
      case Kind::kDateTime:
        return ReadableDate(n.text);
      case Kind::kBoolean:
        return Label(n.boolean ? "true" : "false");
      case Kind::kElement:
        break;
      default:
        return model::FhirPathToString(n);
    }
    if (!n.json) return "";
    const JsonValue& v = *n.json;
    if (v.is_object()) return Complex(v, n.type);
    if (v.is_bool()) return Label(v.as_bool() ? "true" : "false");
    if (v.is_number()) return v.text();
    if (!v.is_string()) return "";
    const std::string& s = v.text();
    if (n.type == "date" || n.type == "dateTime" || n.type == "instant" ||
        (n.type.empty() && IsDateLike(s)))
      return ReadableDate(s);
    if (n.type == "code") return Label(s);
    return s;
  }

  std::string Column(const SectionColumn& col, const JsonValue& resource, bool declared) const {
    if (col.source) return declared ? std::string(kDeclaredByPatient) : Source(resource);
    model::FhirPathEnvironment env;
    env.registry = &model::StructureRegistry::R4();
    auto items = col.expression->Evaluate(resource, env);
    if (!items.ok()) return "";
    std::string out;
    std::set<std::string> seen;
    for (const auto& n : *items) {
      std::string s = Item(n);
      if (s.empty() || !seen.insert(s).second) continue;
      out += (out.empty() ? "" : ", ") + s;
    }
    return out;
  }

  // Who recorded the entry, when it says so.
  std::string Source(const JsonValue& r) const {
    for (const char* field : {"recorder", "asserter", "informationSource", "requester", "performer",
                              "author", "source"}) {
      const JsonValue* v = r.Find(field);
      if (!v) continue;
      const JsonValue* first = v->is_array() ? (v->items().empty() ? nullptr : &v->items()[0]) : v;
      if (!first) continue;
      if (const JsonValue* actor = first->Find("actor")) first = actor;  // Procedure.performer
      if (first->is_object()) {
        std::string s = Ref(*first);
        if (!s.empty()) return s;
      }
    }
    return "";
  }

  // Whether the patient recorded the resource themselves: one of the fields that say who
  // recorded, reported or asserted it names the Patient.
  bool DeclaredByPatient(const JsonValue& r) const {
    for (const char* field : {"recorder", "asserter", "informationSource", "requester", "performer",
                              "author", "source"}) {
      const JsonValue* v = r.Find(field);
      if (!v) continue;
      if (v->is_array()) {
        for (const auto& item : v->items())
          if (NamesPatient(&item) || NamesPatient(item.Find("actor"))) return true;
      } else if (NamesPatient(v)) {
        return true;
      }
    }
    return false;
  }

 private:
  const SectionTable& table_;
  std::string patient_id_;
  std::string patient_url_;
  std::string base_url_;
  const std::map<std::string, const JsonValue*>& given_;
};

// The family name in capitals, as French documents write it: ASCII and the Latin-1 letters
// (é -> É, ç -> Ç), and œ; other characters unchanged.
std::string Capitals(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(std::toupper(c));
    } else if (c == 0xC3 && i + 1 < s.size()) {
      unsigned char n = static_cast<unsigned char>(s[++i]);
      out += static_cast<char>(c);
      out += static_cast<char>(n >= 0xA0 && n <= 0xBE && n != 0xB7 ? n - 0x20 : n);
    } else if (c == 0xC5 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x93) {
      out += "\xC5\x92";
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string HumanName(const JsonValue& patient) {
  const JsonValue* names = patient.Find("name");
  if (!names || !names->is_array() || names->items().empty()) return "";
  const JsonValue* chosen = &names->items()[0];
  for (const auto& n : names->items())
    if (n.GetString("use") == "official") chosen = &n;
  std::string text = chosen->GetString("text");
  if (!text.empty()) return text;
  std::string out;
  if (const JsonValue* given = chosen->Find("given"); given && given->is_array())
    for (const auto& g : given->items()) out += (out.empty() ? "" : " ") + g.text();
  std::string family = chosen->GetString("family");
  std::string upper = Capitals(family);
  if (!upper.empty()) out += (out.empty() ? "" : " ") + upper;
  return out;
}

PatientIdentity Identity(const JsonValue& patient) {
  PatientIdentity p;
  p.name = HumanName(patient);
  if (p.name.empty()) p.name = "Patient " + patient.GetString("id");
  p.birth_date = ReadableDate(patient.GetString("birthDate"));
  if (const JsonValue* ids = patient.Find("identifier"); ids && ids->is_array())
    for (const auto& id : ids->items()) {
      std::string system = id.GetString("system"), value = id.GetString("value");
      if (value.empty()) continue;
      // INS-NIR, INS-NIA and their test and demo OIDs (1.2.250.1.213.1.4.8 to .11).
      bool ins = system.rfind("urn:oid:1.2.250.1.213.1.4.", 0) == 0 &&
                 (system.size() == 27 || system.size() == 28);
      p.identifiers.push_back((ins ? "INS : " : "Identifiant : ") + value);
    }
  return p;
}

std::string Row(const std::vector<std::string>& cells, const char* tag) {
  std::string out = "<tr>";
  for (const auto& c : cells)
    out += std::string("<") + tag + ">" + XhtmlEscape(c) + "</" + tag + ">";
  return out + "</tr>";
}

std::string FullUrl(const std::string& base, const std::string& type, const std::string& id) {
  return base + "/" + type + "/" + id;
}

void CollectReferences(const JsonValue& v, const std::string& base_url,
                       std::vector<std::string>* out) {
  if (v.is_array()) {
    for (const auto& item : v.items()) CollectReferences(item, base_url, out);
    return;
  }
  if (!v.is_object()) return;
  for (const auto& [key, value] : v.members()) {
    if (key == "contained") continue;  // their references are resolved within the resource
    if (key == "reference" && value.is_string()) {
      std::string r = value.text();
      if (!base_url.empty() && r.rfind(base_url + "/", 0) == 0) r = r.substr(base_url.size() + 1);
      if (auto h = r.find("/_history/"); h != std::string::npos) r.resize(h);
      size_t slash = r.find('/');
      if (slash == std::string::npos || slash == 0 || r.find('/', slash + 1) != std::string::npos ||
          r.find(':') != std::string::npos || !std::isupper(static_cast<unsigned char>(r[0])))
        continue;
      if (std::find(out->begin(), out->end(), r) == out->end()) out->push_back(r);
      continue;
    }
    CollectReferences(value, base_url, out);
  }
}

}  // namespace

std::vector<std::string> ReferencedResources(const JsonValue& resource,
                                             const std::string& base_url) {
  std::vector<std::string> out;
  CollectReferences(resource, base_url, &out);
  return out;
}

std::string XhtmlEscape(std::string_view text) { return XmlEscape(text); }

std::string ReadableDate(const std::string& d) {
  if (!IsDateLike(d)) return d;
  if (d.size() == 4) return d;
  if (d.size() == 7) return d.substr(5, 2) + "/" + d.substr(0, 4);
  return d.substr(8, 2) + "/" + d.substr(5, 2) + "/" + d.substr(0, 4);
}

std::string RequesterDisplay(const profiles::Actor& actor) {
  using profiles::ActorKind;
  std::string name = actor.claims.is_object() ? actor.claims.GetString("name") : "";
  if (name.empty() && actor.claims.is_object()) {
    std::string given = actor.claims.GetString("given_name"),
                family = actor.claims.GetString("family_name");
    name = given + (given.empty() || family.empty() ? "" : " ") + family;
  }
  switch (actor.kind) {
    case ActorKind::kPatient:
      return name.empty() ? "le patient" : name + " (le patient)";
    case ActorKind::kGuardian:
      return (name.empty() ? "" : name + ", ") + "représentant légal";
    case ActorKind::kProfessional: {
      // TRE_G15 professions (france.md).
      static const std::map<std::string, std::string> kProfessions = {
          {"10", "médecin"},
          {"21", "pharmacien"},
          {"26", "audioprothésiste"},
          {"28", "opticien-lunetier"},
          {"40", "chirurgien-dentiste"},
          {"50", "sage-femme"},
          {"60", "infirmier"},
          {"70", "masseur-kinésithérapeute"},
          {"91", "orthoptiste"}};
      auto it = kProfessions.find(actor.profession);
      std::string what = it != kProfessions.end() ? it->second : "professionnel de santé";
      std::string id = actor.national_id.empty() ? "" : ", RPPS " + actor.national_id;
      if (!actor.national_id.empty() && actor.national_id[0] == '0')
        id = ", ADELI " + actor.national_id;
      return (name.empty() ? "" : name + " ") + "(" + what + id + ")";
    }
    case ActorKind::kApp:
      return "application " + actor.client_id + " (pour le patient)";
    case ActorKind::kSystem:
      return "système " + actor.client_id;
    case ActorKind::kOperator:
      return "opérateur " + actor.PrincipalId();
    case ActorKind::kSupport:
      return "support " + actor.PrincipalId();
    case ActorKind::kDenied:
      break;
  }
  return actor.PrincipalId();
}

Result<Summary> BuildSummary(const SummaryRequest& request, const SectionTable& table) {
  const JsonValue& patient = request.patient;
  std::string patient_id = patient.GetString("id");
  if (patient.GetString("resourceType") != "Patient" || patient_id.empty())
    return Internal("a summary needs its Patient");
  std::string patient_url = FullUrl(request.base_url, "Patient", patient_id);
  std::map<std::string, const JsonValue*> by_key;  // what the caller may see, by Type/id
  for (const auto* list : {&request.resources, &request.shared})
    for (const JsonValue& r : *list)
      by_key.emplace(r.GetString("resourceType") + "/" + r.GetString("id"), &r);
  Reader reader(table, patient_id, request.base_url, by_key);

  Summary out;
  out.title = kSummaryTitle;
  out.patient_id = patient_id;
  out.patient = Identity(patient);
  out.requester = request.requester;
  std::string now = FormatUtc(request.now);
  now = now.substr(0, 19) + "Z";  // whole seconds
  out.date = ReadableDate(now.substr(0, 10));

  // Provenances naming the Patient as an agent: what they target was declared by the patient.
  std::set<std::string> declared_targets;
  for (const JsonValue& r : request.resources) {
    if (r.GetString("resourceType") != "Provenance") continue;
    bool by_patient = false;
    if (const JsonValue* agents = r.Find("agent"); agents && agents->is_array())
      for (const auto& a : agents->items())  // the patient, or a guardian on their behalf
        by_patient = by_patient || reader.NamesPatient(a.Find("who")) ||
                     reader.NamesPatient(a.Find("onBehalfOf"));
    if (!by_patient) continue;
    if (const JsonValue* targets = r.Find("target"); targets && targets->is_array())
      for (const auto& t : targets->items()) {
        std::string ref = t.GetString("reference");
        if (auto h = ref.find("/_history/"); h != std::string::npos) ref.resize(h);
        declared_targets.insert(ref);
      }
  }

  model::FhirPathEnvironment env;
  env.registry = &model::StructureRegistry::R4();
  std::vector<const JsonValue*> included;  // in the Bundle, in order of first use
  std::set<const JsonValue*> included_set;
  JsonValue sections = JsonValue::Array();
  for (const SectionRule& rule : table.sections) {
    SummarySection section;
    section.rule = &rule;
    std::vector<const JsonValue*> section_resources;  // beside section.rows
    for (const JsonValue& r : request.resources) {
      std::string type = r.GetString("resourceType");
      bool fills = false;
      for (const SectionEntryRule& e : rule.entries) {
        if (e.resource_type != type) continue;
        if (!e.filter) {
          fills = true;
          break;
        }
        auto keep = e.filter->EvaluateBoolean(r, env);
        if (keep.ok() && *keep) {
          fills = true;
          break;
        }
      }
      if (!fills) continue;
      SummaryRow row;
      row.full_url = FullUrl(request.base_url, type, r.GetString("id"));
      row.patient_declared =
          reader.DeclaredByPatient(r) || declared_targets.count(type + "/" + r.GetString("id")) > 0;
      for (const SectionColumn& col : rule.columns)
        row.cells.push_back(reader.Column(col, r, row.patient_declared));
      section.rows.push_back(std::move(row));
      section_resources.push_back(&r);
      if (included_set.insert(&r).second) included.push_back(&r);
    }
    if (section.rows.empty() && rule.conformance != Conformance::kRequired) continue;
    if (rule.order) {
      // Most recent first; entries without a date last, each group in the record's order.
      std::vector<std::pair<std::string, size_t>> keys;
      for (size_t i = 0; i < section.rows.size(); ++i) {
        auto items = rule.order->Evaluate(*section_resources[i], env);
        std::string key =
            items.ok() && !items->empty() ? model::FhirPathToString(items->front()) : "";
        keys.emplace_back(key, i);
      }
      std::stable_sort(keys.begin(), keys.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      std::vector<SummaryRow> sorted;
      for (const auto& k : keys) sorted.push_back(std::move(section.rows[k.second]));
      section.rows = std::move(sorted);
    }

    JsonValue s = JsonValue::Object();
    s.Set("title", Str(rule.title));
    s.Set("code", LoincConcept(rule.code, rule.loinc_display));
    std::string div;
    if (section.rows.empty()) {
      div = "<p>Aucune information disponible.</p>";
    } else {
      std::vector<std::string> headers;
      for (const auto& c : rule.columns) headers.push_back(c.header);
      div = "<table><thead>" + Row(headers, "th") + "</thead><tbody>";
      for (const auto& row : section.rows) div += Row(row.cells, "td");
      div += "</tbody></table>";
    }
    s.Set("text", Narrative(div));
    if (section.rows.empty()) {
      JsonValue coding = JsonValue::Object();
      coding.Set("system", Str("http://terminology.hl7.org/CodeSystem/list-empty-reason"));
      coding.Set("code", Str("unavailable"));
      coding.Set("display", Str("Unavailable"));
      JsonValue codings = JsonValue::Array();
      codings.Append(std::move(coding));
      JsonValue reason = JsonValue::Object();
      reason.Set("coding", std::move(codings));
      reason.Set("text", Str("Aucune information disponible"));
      s.Set("emptyReason", std::move(reason));
    } else {
      JsonValue entries = JsonValue::Array();
      for (const auto& row : section.rows) entries.Append(Reference(row.full_url));
      s.Set("entry", std::move(entries));
    }
    sections.Append(std::move(s));
    out.sections.push_back(std::move(section));
  }

  // What the entries reference, when the caller may see it (it was given), goes in too, and
  // what that references in turn.
  for (size_t i = 0; i < included.size(); ++i)
    for (const std::string& key : ReferencedResources(*included[i], request.base_url)) {
      auto it = by_key.find(key);
      if (it != by_key.end() && included_set.insert(it->second).second)
        included.push_back(it->second);
    }

  // carnet, the author of the document.
  std::string device_uuid = NewUuid();
  JsonValue device = JsonValue::Object();
  device.Set("resourceType", Str("Device"));
  device.Set("id", Str(device_uuid));
  device.Set("text", Narrative("<p>carnet, passerelle du dossier médical partagé</p>"));
  JsonValue device_name = JsonValue::Object();
  device_name.Set("name", Str("carnet"));
  device_name.Set("type", Str("user-friendly-name"));
  JsonValue device_names = JsonValue::Array();
  device_names.Append(std::move(device_name));
  device.Set("deviceName", std::move(device_names));
  device.Set("manufacturer", Str("carnet"));

  std::string composition_uuid = NewUuid();
  JsonValue composition = JsonValue::Object();
  composition.Set("resourceType", Str("Composition"));
  composition.Set("id", Str(composition_uuid));
  composition.Set("language", Str("fr-FR"));
  std::string intro = "<p>" + XhtmlEscape(out.title) + " de " + XhtmlEscape(out.patient.name);
  if (!out.patient.birth_date.empty()) intro += ", né(e) le " + XhtmlEscape(out.patient.birth_date);
  intro += "</p><p>Établie le " + XhtmlEscape(out.date) + " par carnet" +
           (out.requester.empty() ? "" : " ; demandée par : " + XhtmlEscape(out.requester)) +
           ".</p>";
  composition.Set("text", Narrative(intro));
  composition.Set("status", Str("final"));
  composition.Set("type", LoincConcept("60591-5", "Patient summary Document"));
  composition.Set("subject", Reference(patient_url, out.patient.name));
  composition.Set("date", Str(now));
  JsonValue authors = JsonValue::Array();
  authors.Append(Reference("urn:uuid:" + device_uuid, "carnet"));
  composition.Set("author", std::move(authors));
  composition.Set("title", Str(out.title));
  composition.Set("confidentiality", Str("N"));
  composition.Set("section", std::move(sections));

  JsonValue entries = JsonValue::Array();
  auto entry = [&](std::string full_url, JsonValue resource) {
    JsonValue e = JsonValue::Object();
    e.Set("fullUrl", Str(std::move(full_url)));
    e.Set("resource", std::move(resource));
    entries.Append(std::move(e));
  };
  entry("urn:uuid:" + composition_uuid, std::move(composition));
  entry(patient_url, patient);
  entry("urn:uuid:" + device_uuid, std::move(device));
  for (const JsonValue* r : included)
    entry(FullUrl(request.base_url, r->GetString("resourceType"), r->GetString("id")), *r);

  std::string bundle_uuid = NewUuid();
  JsonValue bundle = JsonValue::Object();
  bundle.Set("resourceType", Str("Bundle"));
  bundle.Set("id", Str(bundle_uuid));
  bundle.Set("language", Str("fr-FR"));
  JsonValue identifier = JsonValue::Object();
  identifier.Set("system", Str("urn:ietf:rfc:3986"));
  identifier.Set("value", Str("urn:uuid:" + bundle_uuid));
  bundle.Set("identifier", std::move(identifier));
  bundle.Set("type", Str("document"));
  bundle.Set("timestamp", Str(now));
  bundle.Set("entry", std::move(entries));
  out.bundle = std::move(bundle);
  return out;
}

}  // namespace carnet::summary
