#include "dossier/conformance_source.h"

#include "storage/index_lookup.h"
#include "storage/resource_store.h"

namespace carnet::dossier {

Result<std::optional<model::ConformanceHandle>> StoredConformance::Locate(
    const std::string& type, const std::string& url, const std::string& version) {
  auto rows = storage::FindByCanonicalUrl(tx_, type, url);
  if (!rows.ok()) return rows.status();
  for (const storage::CanonicalRow& row : *rows) {
    if (!version.empty() && row.canonical_version != version) continue;
    return std::optional<model::ConformanceHandle>(model::ConformanceHandle{
        row.id, row.id + "/" + std::to_string(row.version) + "/" + row.last_updated});
  }
  return std::optional<model::ConformanceHandle>();
}

Result<JsonValue> StoredConformance::Load(const std::string& type,
                                          const model::ConformanceHandle& handle) {
  auto current = storage::ReadCurrent(tx_, type, handle.id, /*lock=*/false);
  if (!current.ok()) return current.status();
  if (!*current || (*current)->deleted)
    return Internal(type + "/" + handle.id + " vanished while it was being read");
  auto parsed = ParseJson((*current)->content);
  if (!parsed.ok()) return Internal("stored " + type + "/" + handle.id + " is unreadable");
  return parsed;
}

}  // namespace carnet::dossier
