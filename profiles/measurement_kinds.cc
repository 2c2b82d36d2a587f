#include "profiles/measurement_kinds.h"

#include "profiles/rows.h"

namespace carnet::profiles {

// Defined in the file generated from profiles/data/measurement_kinds.tsv.
const char* EmbeddedMeasurementKinds();

Result<MeasurementKinds> MeasurementKinds::Parse(std::string_view text, std::string_view origin) {
  MeasurementKinds kinds;
  Status rows = ForEachRow(text, origin, [&](std::string_view line, const std::string& where) {
    std::vector<std::string> f = RowFields(line, 4);
    if (f[0] != "kind") return BadRequest(where + ": unknown row kind " + f[0]);
    if (f.size() != 4) return BadRequest(where + ": expected 'kind CODE LOINC,... DISPLAY'");
    if (kinds.displays_.count(f[1])) return BadRequest(where + ": kind " + f[1] + " twice");
    kinds.displays_[f[1]] = f[3];
    kinds.order_.push_back(f[1]);
    size_t start = 0;
    while (start <= f[2].size()) {
      size_t comma = f[2].find(',', start);
      if (comma == std::string::npos) comma = f[2].size();
      std::string code = f[2].substr(start, comma - start);
      if (code.empty()) return BadRequest(where + ": empty LOINC code");
      auto [it, added] = kinds.kind_of_code_.emplace(code, f[1]);
      if (!added)
        return BadRequest(where + ": LOINC " + code + " already belongs to kind " + it->second);
      start = comma + 1;
    }
    return Status::Ok();
  });
  if (!rows.ok()) return rows;
  return kinds;
}

std::string_view MeasurementKinds::BuiltinText() { return EmbeddedMeasurementKinds(); }

const MeasurementKinds& MeasurementKinds::Builtin() {
  // The compiled-in file is checked by the unit tests; should it ever be broken, no kind is
  // known and an app whose Consent lists kinds writes no measurement.
  static const MeasurementKinds kBuiltin = [] {
    auto r = Parse(BuiltinText(), "builtin measurement_kinds.tsv");
    return r.ok() ? *r : MeasurementKinds();
  }();
  return kBuiltin;
}

std::string MeasurementKinds::KindOfCodes(const std::vector<std::string>& loinc_codes) const {
  for (const auto& code : loinc_codes)
    if (auto it = kind_of_code_.find(code); it != kind_of_code_.end()) return it->second;
  return "";
}

std::vector<std::string> LoincCodes(const JsonValue& resource) {
  std::vector<std::string> out;
  const JsonValue* code = resource.Find("code");
  const JsonValue* codings = code && code->is_object() ? code->Find("coding") : nullptr;
  if (!codings || !codings->is_array()) return out;
  for (const auto& c : codings->items())
    if (c.GetString("system") == "http://loinc.org" && !c.GetString("code").empty())
      out.push_back(c.GetString("code"));
  return out;
}

}  // namespace carnet::profiles
