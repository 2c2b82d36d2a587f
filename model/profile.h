// Profiles and value sets an operator posts (StructureDefinition with derivation constraint,
// ValueSet, CodeSystem: shared conformance content), enforced on top of the R4 core validation
// (model/validator.h).
//
// The model has no database: the stored resources come through ConformanceSource, implemented
// above (dossier/conformance_source.h) over the store. What a posted resource compiles into is
// kept in a process-wide ConformanceCache keyed by the stored version ("id/versionId/
// lastUpdated"), and every validation locates each canonical it needs once (one indexed
// lookup, not one per element) and compares versions: a write of a StructureDefinition or
// ValueSet is seen by the next validation, on this gateway and on any other sharing the
// database, without any invalidation message; a deleted one is no longer found.
//
// What a profile enforces (from its snapshot, or from its differential when it has no snapshot;
// a profile deriving from another posted profile by differential also enforces that one):
//   - cardinality min/max (max 0 forbids the element), of elements and of slices;
//   - fixed[x] (the value exactly) and pattern[x] (the instance contains the pattern);
//   - the types allowed on a choice element (value[x] restricted to Quantity);
//   - a required binding to a ValueSet (posted, or one of the R4 core value sets);
//   - constraint entries (FHIRPath; severity error refuses, warning is reported) with their
//     key and human text;
//   - slicing with value or pattern discriminators (the slice a repeated element's item belongs
//     to is the one whose fixed or pattern values it carries; closed slicing refuses items of no
//     slice). Other discriminators (type, profile, exists, paths through resolve()) are told as
//     information "slicing not checked" and their slices' rules are not applied: never a false
//     error, never a silent pass.
// Rules the snapshot repeats from the core definitions (status 1..1, the core invariants and
// bindings) are left to the core validator, so a snapshot and a differential give the same
// issues. Every issue names the profile's url.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "model/structure.h"
#include "model/validator.h"

namespace carnet::model {

// A stored conformance resource: `tag` changes whenever the stored resource does.
struct ConformanceHandle {
  std::string id;
  std::string tag;
};

class ConformanceSource {
 public:
  virtual ~ConformanceSource() = default;
  // The current (not deleted) resource of `type` (StructureDefinition, ValueSet, CodeSystem)
  // whose url is `url` and, when `version` is not empty, whose version is `version`; the most
  // recently written when several match; nullopt when none.
  virtual Result<std::optional<ConformanceHandle>> Locate(const std::string& type,
                                                          const std::string& url,
                                                          const std::string& version) = 0;
  // The content of what Locate found.
  virtual Result<JsonValue> Load(const std::string& type, const ConformanceHandle& handle) = 0;
};

struct CompiledProfile;
struct CompiledValueSet;
struct CompiledCodeSystem;

// Compiled conformance resources shared by the validations of the process (thread-safe).
class ConformanceCache {
 public:
  static ConformanceCache& Process();

  std::shared_ptr<const void> Get(const std::string& key);
  void Put(const std::string& key, std::shared_ptr<const void> value);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const void>> entries_;
};

// One validation's view of the conformance content: each canonical located at most once.
class Conformance {
 public:
  explicit Conformance(ConformanceSource& source,
                       ConformanceCache& cache = ConformanceCache::Process(),
                       const StructureRegistry& registry = StructureRegistry::R4())
      : source_(source), cache_(cache), registry_(registry) {}

  // nullptr when no such posted resource exists. `canonical` may carry "|version".
  Result<std::shared_ptr<const CompiledProfile>> Profile(const std::string& canonical);
  Result<std::shared_ptr<const CompiledValueSet>> ValueSet(const std::string& canonical);
  Result<std::shared_ptr<const CompiledCodeSystem>> CodeSystem(const std::string& canonical);

  const StructureRegistry& registry() const { return registry_; }

 private:
  template <typename T>
  Result<std::shared_ptr<const T>> Find(const std::string& type, const std::string& canonical);

  ConformanceSource& source_;
  ConformanceCache& cache_;
  const StructureRegistry& registry_;
  std::map<std::string, std::shared_ptr<const void>> seen_;  // "type canonical" -> compiled
};

// The issues of `resource` (already checked against the core definitions) against the
// profiles it claims in meta.profile and those in `asked` ($validate's profile parameter).
// The core profile of its own type (http://hl7.org/fhir/StructureDefinition/[type]) is the core
// validation, already done. A claimed profile the server does not know is accepted (R4 lets a
// server ignore what it does not know) with a warning "profile not known to this server, not
// checked"; an asked one it does not know is an error "profile not known". Errors: only those
// of the source (the database).
Result<std::vector<ValidationIssue>> ValidateProfiles(const JsonValue& resource,
                                                      const std::vector<std::string>& asked,
                                                      Conformance& conformance);

}  // namespace carnet::model
