#include "fhir/operation_definitions.h"

#include <cstdio>
#include <set>

namespace carnet::fhir {

// Defined in the file generated from fhir/data/operation_definitions.json (cmake/embed_text.cmake).
const char* EmbeddedOperationDefinitions();

namespace {

// Each parameter has a name, a use, bounds and documentation, and a type or, as R4's opd-1
// allows, parts (checked the same way) instead.
Status CheckParameters(const JsonValue& params, const std::string& where) {
  for (const JsonValue& p : params.items()) {
    std::string name = p.GetString("name");
    std::string at = where + " parameter '" + name + "'";
    if (name.empty()) return BadRequest(where + ": a parameter without name");
    if (p.GetString("use") != "in" && p.GetString("use") != "out")
      return BadRequest(at + ": use is in or out");
    const JsonValue* min = p.Find("min");
    if (!min || !min->is_number()) return BadRequest(at + ": min is not a number");
    if (p.GetString("max").empty()) return BadRequest(at + ": no max");
    if (p.GetString("documentation").empty()) return BadRequest(at + ": no documentation");
    const JsonValue* parts = p.Find("part");
    if (parts && parts->is_array() && !parts->items().empty()) {
      CARNET_RETURN_IF_ERROR(CheckParameters(*parts, at));
    } else if (p.GetString("type").empty()) {
      return BadRequest(at + ": no type (nor parts)");
    }
  }
  return Status::Ok();
}

Status CheckDefinition(const JsonValue& od, const std::string& where) {
  if (!od.is_object() || od.GetString("resourceType") != "OperationDefinition")
    return BadRequest(where + ": not an OperationDefinition");
  for (const char* key : {"id", "code", "name", "status", "kind", "description", "comment"})
    if (od.GetString(key).empty()) return BadRequest(where + ": no " + key);
  if (od.GetString("kind") != "operation") return BadRequest(where + ": kind is not operation");
  if (od.Find("url")) return BadRequest(where + ": url is set by the server, not the file");
  const JsonValue* resources = od.Find("resource");
  if (!resources || !resources->is_array() || resources->items().empty())
    return BadRequest(where + ": no resource");
  bool any_level = false;
  for (const char* key : {"system", "type", "instance"}) {
    const JsonValue* b = od.Find(key);
    if (!b || !b->is_bool()) return BadRequest(where + ": " + key + " is not a boolean");
    any_level = any_level || b->as_bool();
  }
  if (!any_level) return BadRequest(where + ": neither system, type nor instance");
  const JsonValue* params = od.Find("parameter");
  if (!params || !params->is_array()) return BadRequest(where + ": no parameter list");
  return CheckParameters(*params, where);
}

}  // namespace

Result<std::vector<JsonValue>> ParseOperationDefinitions(std::string_view text,
                                                         std::string_view origin) {
  auto doc = ParseJson(text);
  if (!doc.ok()) return BadRequest(std::string(origin) + ": " + doc.status().message());
  const JsonValue* list = doc->Find("operations");
  if (!list || !list->is_array())
    return BadRequest(std::string(origin) + ": no \"operations\" array");
  std::vector<JsonValue> out;
  std::set<std::string> ids;
  for (const JsonValue& od : list->items()) {
    std::string where = std::string(origin) + ": OperationDefinition '" + od.GetString("id") + "'";
    CARNET_RETURN_IF_ERROR(CheckDefinition(od, where));
    if (!ids.insert(od.GetString("id")).second) return BadRequest(where + ": id used twice");
    out.push_back(od);
  }
  return out;
}

const std::vector<JsonValue>& OperationDefinitions() {
  static const std::vector<JsonValue> kAll = [] {
    auto r = ParseOperationDefinitions(EmbeddedOperationDefinitions(),
                                       "builtin operation_definitions.json");
    if (r.ok()) return std::move(r).value();
    std::fprintf(stderr, "carnet: %s\n", r.status().message().c_str());
    return std::vector<JsonValue>{};
  }();
  return kAll;
}

const JsonValue* FindOperationDefinition(std::string_view id) {
  for (const JsonValue& od : OperationDefinitions())
    if (od.GetString("id") == id) return &od;
  return nullptr;
}

bool IsOwnOperationDefinition(std::string_view id) {
  return FindOperationDefinition(id) != nullptr;
}

std::string OperationDefinitionUrl(const std::string& base_url, std::string_view id) {
  return base_url + "/OperationDefinition/" + std::string(id);
}

JsonValue ServedOperationDefinition(const JsonValue& definition, const std::string& base_url) {
  JsonValue out = JsonValue::Object();
  for (const auto& [key, value] : definition.members()) {
    out.Set(key, value);
    if (key == "id")
      out.Set("url", JsonValue::String(OperationDefinitionUrl(base_url, value.text())));
  }
  return out;
}

bool AppliesTo(const JsonValue& definition, std::string_view type) {
  if (const JsonValue* resources = definition.Find("resource"))
    for (const JsonValue& r : resources->items())
      if (r.text() == "Resource" || r.text() == type) return true;
  return false;
}

}  // namespace carnet::fhir
