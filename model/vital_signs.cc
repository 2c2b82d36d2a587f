#include "model/vital_signs.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "base/tsv.h"

namespace carnet::model {

const char* EmbeddedVitalSigns();  // model/data/vital_signs.tsv, compiled in

namespace {

constexpr char kLoinc[] = "http://loinc.org";
constexpr char kUcum[] = "http://unitsofmeasure.org";

struct Bounds {
  double min = 0, max = 0;
};
struct Measure {
  std::string display;
  std::vector<std::pair<std::string, Bounds>> units;  // UCUM code -> bounds, in the file's order
};
struct Order {
  std::string higher, lower, display;
};
struct Table {
  std::map<std::string, Measure> measures;  // LOINC -> its units
  std::map<std::string, Order> orders;      // panel LOINC -> the order of two components
};

const Table& Rules() {
  static const Table table = [] {
    Table t;
    for (const TsvRow& row : ReadTsv(EmbeddedVitalSigns())) {
      const auto& c = row.cells;
      if (c.size() >= 5 && c[0] == "range") {
        Measure& m = t.measures[c[1]];
        m.display = c.size() > 5 ? c[5] : c[1];
        m.units.emplace_back(
            c[2], Bounds{std::strtod(c[3].c_str(), nullptr), std::strtod(c[4].c_str(), nullptr)});
      } else if (c.size() >= 4 && c[0] == "order") {
        t.orders[c[1]] = Order{c[2], c[3], c.size() > 4 ? c[4] : ""};
      }
    }
    return t;
  }();
  return table;
}

// The LOINC codes of a CodeableConcept.
std::vector<std::string> LoincCodes(const JsonValue* concept_json) {
  std::vector<std::string> out;
  if (!concept_json) return out;
  if (const JsonValue* codings = concept_json->Find("coding"); codings && codings->is_array())
    for (const JsonValue& c : codings->items())
      if (c.GetString("system") == kLoinc) out.push_back(c.GetString("code"));
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string UnitList(const Measure& m) {
  std::string out;
  for (const auto& [unit, b] : m.units) out += (out.empty() ? "" : ", ") + unit;
  return out;
}

// The value of `quantity` in `unit` (its UCUM code), when it has one.
struct Reading {
  bool present = false;
  double value = 0;
  std::string unit;
};

Reading Check(const JsonValue* code, const JsonValue* quantity, const std::string& where,
              std::vector<ValidationIssue>* issues) {
  Reading r;
  if (!quantity || !quantity->is_object()) return r;
  const Table& t = Rules();
  for (const std::string& loinc : LoincCodes(code)) {
    auto m = t.measures.find(loinc);
    if (m == t.measures.end()) continue;
    const Measure& measure = m->second;
    std::string unit = quantity->GetString("code");
    auto bounds = std::find_if(measure.units.begin(), measure.units.end(),
                               [&](const auto& u) { return u.first == unit; });
    if (quantity->GetString("system") != kUcum || bounds == measure.units.end()) {
      std::string given = unit.empty() ? quantity->GetString("unit") : unit;
      issues->push_back({"error", "code-invalid", where + ".code",
                         measure.display + " (LOINC " + loinc + ") is given in UCUM units (" +
                             UnitList(measure) + ", system " + kUcum + "), not '" + given + "'"});
      return r;
    }
    const JsonValue* value = quantity->Find("value");
    if (!value || !value->is_number()) return r;
    double v = std::strtod(value->text().c_str(), nullptr);
    if (v < bounds->second.min || v > bounds->second.max) {
      issues->push_back({"error", "value", where + ".value",
                         measure.display + " of " + value->text() + " " + unit +
                             " is not a possible measurement (expected between " +
                             Num(bounds->second.min) + " and " + Num(bounds->second.max) + " " +
                             unit + ")"});
      return r;
    }
    r.present = true;
    r.value = v;
    r.unit = unit;
    return r;
  }
  return r;
}

}  // namespace

void CheckMeasurements(const JsonValue& observation, std::vector<ValidationIssue>* issues) {
  if (observation.GetString("resourceType") != "Observation") return;
  Check(observation.Find("code"), observation.Find("valueQuantity"), "Observation.valueQuantity",
        issues);
  std::map<std::string, Reading> components;  // LOINC -> reading
  std::map<std::string, size_t> index;
  if (const JsonValue* list = observation.Find("component"); list && list->is_array())
    for (size_t i = 0; i < list->items().size(); ++i) {
      const JsonValue& c = list->items()[i];
      Reading r = Check(c.Find("code"), c.Find("valueQuantity"),
                        "Observation.component[" + std::to_string(i) + "].valueQuantity", issues);
      if (!r.present) continue;
      for (const std::string& loinc : LoincCodes(c.Find("code"))) {
        components[loinc] = r;
        index[loinc] = i;
      }
    }
  for (const std::string& panel : LoincCodes(observation.Find("code"))) {
    auto o = Rules().orders.find(panel);
    if (o == Rules().orders.end()) continue;
    auto hi = components.find(o->second.higher), lo = components.find(o->second.lower);
    if (hi == components.end() || lo == components.end() || hi->second.unit != lo->second.unit)
      continue;
    if (hi->second.value <= lo->second.value)
      issues->push_back({"error", "value",
                         "Observation.component[" + std::to_string(index[o->second.lower]) +
                             "].valueQuantity.value",
                         "not a possible measurement: " + o->second.display + " (LOINC " +
                             o->second.higher + " " + Num(hi->second.value) +
                             " is not above LOINC " + o->second.lower + " " +
                             Num(lo->second.value) + " " + lo->second.unit + ")"});
  }
}

}  // namespace carnet::model
