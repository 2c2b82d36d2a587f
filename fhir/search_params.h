// The search-parameter registry: the official R4 SearchParameter definitions
// (model::StructureRegistry) plus the custom SearchParameter resources posted at run time
// (table search_param, migration 0002). It drives both extraction on write and planning.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "fhir/search_path.h"
#include "storage/transaction.h"

namespace carnet::fhir {

struct SearchParamDef {
  std::string code;                        // "birthdate"
  std::string type;                        // number date string token reference quantity uri
  std::string expression;                  // FHIRPath
  std::vector<std::string> targets;        // reference target types; empty: any
  std::shared_ptr<const SearchPath> path;  // parsed once
  bool custom = false;
};

// The parameters in force at one moment: immutable, shared by the threads that use it.
class SearchParamSet {
 public:
  // The parameter `code` of `type`, or nullptr (unknown or not indexable).
  const SearchParamDef* Find(const std::string& type, const std::string& code) const;
  // Every indexable parameter of `type`, by code.
  const std::map<std::string, const SearchParamDef*>& ForType(const std::string& type) const;

 private:
  friend class SearchParamRegistry;
  std::map<std::string, std::map<std::string, const SearchParamDef*>> by_type_;
  std::vector<std::shared_ptr<const SearchParamDef>> owned_;
};

class SearchParamRegistry {
 public:
  static SearchParamRegistry& Instance();

  // The current set. Reads the custom parameters' generation counter through `tx` at most
  // once every second (and right after a local change), and reloads them when it moved.
  Result<std::shared_ptr<const SearchParamSet>> Current(storage::Transaction& tx);
  // The official parameters only (no database needed): for the CapabilityStatement before
  // any custom parameter is known, and for tests.
  std::shared_ptr<const SearchParamSet> Official();

  // Keeps table search_param in step with a SearchParameter resource being written
  // (`resource` null: deleted), in the write's transaction. kInvalid for a parameter this
  // server cannot index (type composite/special, expression outside the supported subset).
  Status OnSearchParameterWrite(storage::Transaction& tx, const std::string& id,
                                const JsonValue* resource);

 private:
  SearchParamRegistry() = default;
  std::shared_ptr<const SearchParamSet> BuildOfficial();

  std::mutex mu_;
  std::shared_ptr<const SearchParamSet> official_;  // guarded by mu_
  std::shared_ptr<const SearchParamSet> current_;   // guarded by mu_
  long long generation_ = -1;                       // guarded by mu_
  long long checked_at_ms_ = 0;                     // guarded by mu_
};

// True for the parameter types carnet indexes.
bool IsIndexedParamType(const std::string& type);

}  // namespace carnet::fhir
