// The posted conformance content (StructureDefinition, ValueSet, CodeSystem: shared content an
// operator writes) as the validator's model::ConformanceSource, read in the caller's
// transaction: a profile posted earlier in the same transaction Bundle is already seen.
#pragma once

#include <optional>
#include <string>

#include "model/profile.h"
#include "storage/transaction.h"

namespace carnet::dossier {

class StoredConformance : public model::ConformanceSource {
 public:
  explicit StoredConformance(storage::Transaction& tx) : tx_(tx) {}

  // The tag is "id/versionId/lastUpdated": every write (update, delete, or a create after a
  // rollback that reused the id) gives another tag, so the process-wide cache of compiled
  // profiles is never stale, on this gateway or on another one sharing the database: each
  // validation that needs a canonical asks the database which version is current (one indexed
  // lookup per canonical per validation, none per element), and reads and compiles the
  // resource only when that version is new to the cache.
  Result<std::optional<model::ConformanceHandle>> Locate(const std::string& type,
                                                         const std::string& url,
                                                         const std::string& version) override;
  Result<JsonValue> Load(const std::string& type, const model::ConformanceHandle& handle) override;

 private:
  storage::Transaction& tx_;
};

}  // namespace carnet::dossier
