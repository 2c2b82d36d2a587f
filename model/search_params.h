// The search-parameter registry: the official R4 SearchParameter definitions
// (StructureRegistry) plus the custom SearchParameter resources posted at run time (kept by a
// CustomSearchParamStore: table search_param, migration 0002, in storage/search_param_store.h).
// It drives both extraction on write and planning.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "model/search_path.h"

namespace carnet::model {

struct SearchParamDef {
  std::string code;  // "birthdate"
  // number date string token reference quantity uri; composite; special (Location's near)
  std::string type;
  std::string expression;                  // FHIRPath
  std::vector<std::string> targets;        // reference target types; empty: any
  std::shared_ptr<const SearchPath> path;  // parsed once
  bool custom = false;
  // A composite's components (and near's: latitude and longitude, numbers), in the order of
  // the value's `$`-separated parts: each is evaluated on every value `path` selects (the
  // repeating element that ties them, an Observation.component), and searched by its own
  // type's rules (dossier/search_index.h keeps the tie in the index rows).
  struct Component {
    std::string code;  // the parameter its definition names ("code", "value-quantity")
    std::string type;  // that parameter's type: number date string token reference quantity uri
    std::string expression;
    std::shared_ptr<const SearchPath> path;
  };
  std::vector<Component> components;
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

// One custom parameter as it is kept: one row per base type.
struct CustomSearchParam {
  std::string sp_id;  // the SearchParameter resource's id
  std::string base_type, code, param_type, expression;
  std::vector<std::string> targets;
  std::string url;  // SearchParameter.url: what another composite's component may name
  // A composite's components, resolved when it is written: code, type, expression of each.
  std::vector<std::string> components;  // flattened triples
};

// Where the custom parameters are kept, seen from the registry. The model does not know the
// database: the caller hands the registry this view of its transaction (dossier/: a
// storage::search_param_store over the write's or the search's storage::Transaction), so
// that model/ depends on base/ only, and the registry reads and writes through the caller's
// transaction as before.
class CustomSearchParamStore {
 public:
  virtual ~CustomSearchParamStore() = default;
  // A counter moved by every change, by any process sharing the database.
  virtual Result<long long> Generation() = 0;
  virtual Result<std::vector<CustomSearchParam>> LoadAll() = 0;
  // Removes every row of the SearchParameter `sp_id`.
  virtual Status Remove(const std::string& sp_id) = 0;
  // kDuplicate or kConflict: another SearchParameter already defines base_type.code.
  virtual Status Add(const CustomSearchParam& row) = 0;
  virtual Status BumpGeneration() = 0;
};

class SearchParamRegistry {
 public:
  static SearchParamRegistry& Instance();

  // The current set. Reads the custom parameters' generation counter from `store` at most
  // once every second (and right after a local change), and reloads them when it moved.
  Result<std::shared_ptr<const SearchParamSet>> Current(CustomSearchParamStore& store);
  // The official parameters only (no database needed): for the CapabilityStatement before
  // any custom parameter is known, and for tests.
  std::shared_ptr<const SearchParamSet> Official();

  // Keeps `store` in step with a SearchParameter resource being written (`resource` null:
  // deleted), in the write's transaction. kInvalid for a parameter this server cannot index
  // (type special, expression outside the supported subset, a composite whose component names
  // no known parameter).
  Status OnSearchParameterWrite(CustomSearchParamStore& store, const std::string& id,
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

// The rows a SearchParameter resource (not retired) defines, or why this server cannot take it,
// judged on the resource alone: a reserved code (kNotSupported), a code, type or expression it
// cannot index, bases that are not resource types (kInvalid). Whether another SearchParameter
// already holds the code is the store's to say (OnSearchParameterWrite). Shared by the write
// and by $validate, which tells a client before it writes.
//
// A composite (type composite) needs two components or more, each a `definition` naming a
// parameter this server knows (an official R4 one by its canonical URL, or one of `custom`, a
// posted SearchParameter by its url) of a type it indexes, and an `expression` evaluated on each
// value of the composite's own expression; else kInvalid naming the component. Without `custom`
// (nullptr: a check on the resource alone), a definition that is not an official parameter is
// left to the write to judge.
Result<std::vector<CustomSearchParam>> SearchParamRowsOf(
    const std::string& id, const JsonValue& resource,
    const std::vector<CustomSearchParam>* custom = nullptr);

// True for the parameter types carnet indexes (composite included; special only as the
// official near, built in).
bool IsIndexedParamType(const std::string& type);
// True for the types a composite's component may have (the indexed ones but composite).
bool IsComponentParamType(const std::string& type);

}  // namespace carnet::model
