#include "model/compartment.h"

#include <algorithm>

namespace carnet::model {
namespace {

// Splits a FHIRPath expression at top-level '|'.
std::vector<std::string> SplitUnion(const std::string& expr) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string cur;
  for (char c : expr) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == '|' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  parts.push_back(cur);
  for (auto& p : parts) {
    p.erase(0, p.find_first_not_of(' '));
    p.erase(p.find_last_not_of(' ') + 1);
  }
  return parts;
}

void Collect(const JsonValue& node, const std::vector<std::string>& path, size_t i,
             std::vector<const JsonValue*>* out) {
  if (node.is_array()) {
    for (const auto& item : node.items()) Collect(item, path, i, out);
    return;
  }
  if (i == path.size()) {
    out->push_back(&node);
    return;
  }
  if (!node.is_object()) return;
  if (const JsonValue* child = node.Find(path[i])) Collect(*child, path, i + 1, out);
}

}  // namespace

// Compartment parameters are simple paths ("Observation.subject", optionally narrowed by
// ".where(resolve() is Patient)"), so a path walk over the references suffices here; the
// reference's own text says whether it points at a Patient.
std::vector<std::string> PatientCompartmentIds(const JsonValue& resource,
                                               const StructureRegistry& registry) {
  std::vector<std::string> ids;
  std::string type = resource.GetString("resourceType");
  if (type == "Patient") {
    std::string id = resource.GetString("id");
    if (!id.empty()) ids.push_back(id);
    return ids;
  }
  for (const std::string& code : registry.PatientCompartmentParams(type)) {
    const auto* sp = registry.FindSearchParam(type, code);
    if (!sp) continue;
    for (std::string part : SplitUnion(sp->expression)) {
      if (part.rfind(type + ".", 0) != 0) continue;
      part = part.substr(type.size() + 1);
      size_t where = part.find(".where(");
      if (where != std::string::npos) part = part.substr(0, where);
      if (part.find_first_of("() ") != std::string::npos) continue;
      std::vector<std::string> path;
      size_t start = 0;
      while (start <= part.size()) {
        size_t dot = part.find('.', start);
        path.push_back(part.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        start = dot == std::string::npos ? part.size() + 1 : dot + 1;
      }
      std::vector<const JsonValue*> found;
      Collect(resource, path, 0, &found);
      for (const JsonValue* ref : found) {
        if (!ref->is_object()) continue;
        std::string r = ref->GetString("reference");
        if (r.rfind("Patient/", 0) != 0) continue;
        std::string id = r.substr(8, r.find('/', 8) == std::string::npos ? std::string::npos
                                                                         : r.find('/', 8) - 8);
        if (!id.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      }
    }
  }
  return ids;
}

}  // namespace carnet::model
