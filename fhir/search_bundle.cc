#include "fhir/search_bundle.h"

#include <cctype>

#include "model/structure.h"

namespace carnet::fhir {
namespace {

// The element name of a JSON member: valueQuantity -> value (for choice elements).
bool NameMatches(const std::string& key, const std::string& name) {
  if (key == name) return true;
  return key.size() > name.size() && key.compare(0, name.size(), name) == 0 &&
         std::isupper(static_cast<unsigned char>(key[name.size()]));
}

bool Mandatory(const model::TypeDef* def, const std::string& type, const std::string& key) {
  if (!def) return false;
  const auto& registry = model::StructureRegistry::R4();
  auto child = registry.ResolveChild(*def, type, key);
  return child && child->def->min > 0;
}

// In the summary per the definition's isSummary flag (choice members included).
bool InSummary(const model::TypeDef* def, const std::string& type, const std::string& key) {
  if (!def) return false;
  const auto& registry = model::StructureRegistry::R4();
  auto child =
      registry.ResolveChild(*def, type, key.size() > 1 && key[0] == '_' ? key.substr(1) : key);
  return child && child->def->is_summary;
}

void MarkSubsetted(JsonValue& resource) {
  JsonValue* meta = resource.Find("meta");
  if (!meta) meta = &resource.Set("meta", JsonValue::Object());
  JsonValue* tags = meta->Find("tag");
  if (!tags || !tags->is_array()) tags = &meta->Set("tag", JsonValue::Array());
  JsonValue tag = JsonValue::Object();
  tag.Set("system", JsonValue::String("http://terminology.hl7.org/CodeSystem/v3-ObservationValue"));
  tag.Set("code", JsonValue::String("SUBSETTED"));
  tag.Set("display", JsonValue::String("Resource encoded in summary mode"));
  tags->Append(std::move(tag));
}

}  // namespace

JsonValue BundleLink(const std::string& relation, const std::string& url) {
  JsonValue l = JsonValue::Object();
  l.Set("relation", JsonValue::String(relation));
  l.Set("url", JsonValue::String(url));
  return l;
}

JsonValue SearchsetEntry(const std::string& base_url, const std::string& type,
                         const std::string& id, JsonValue resource, const char* mode) {
  JsonValue entry = JsonValue::Object();
  entry.Set("fullUrl", JsonValue::String(base_url + "/" + type + "/" + id));
  entry.Set("resource", std::move(resource));
  JsonValue search = JsonValue::Object();
  search.Set("mode", JsonValue::String(mode));
  entry.Set("search", std::move(search));
  return entry;
}

JsonValue ShapeResource(JsonValue resource, const std::string& summary,
                        const std::vector<std::string>& elements) {
  if ((summary.empty() || summary == "false") && elements.empty()) return resource;
  std::string type = resource.GetString("resourceType");
  const model::TypeDef* def = model::StructureRegistry::R4().Find(type);
  bool removed = false;
  JsonValue out = JsonValue::Object();
  for (auto& [key, value] : resource.members()) {
    bool keep;
    if (key == "resourceType" || key == "id" || key == "meta") {
      keep = true;
    } else if (!elements.empty()) {
      keep = Mandatory(def, type, key);
      for (const auto& e : elements) keep = keep || NameMatches(key, e);
    } else if (summary == "data") {
      keep = key != "text";
    } else if (summary == "text") {
      keep = key == "text" || Mandatory(def, type, key);
    } else {  // true
      keep = InSummary(def, type, key) || Mandatory(def, type, key);
      if (key == "text" || key == "contained") keep = false;
    }
    if (keep) {
      out.members().emplace_back(key, std::move(value));
    } else {
      removed = true;
    }
  }
  if (removed) MarkSubsetted(out);
  return out;
}

}  // namespace carnet::fhir
