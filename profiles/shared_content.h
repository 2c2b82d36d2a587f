// Who writes shared content (resources that belong to no patient's record) and which types
// of the Patient compartment may exist outside any record: data (profiles/data/
// shared_content.tsv describes the format), compiled in so that the binary works alone.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "base/status.h"
#include "profiles/actor.h"

namespace carnet::profiles {

class SharedContentRules {
 public:
  // Parses the rules text; `origin` names it in error messages ("file:line: ...").
  static Result<SharedContentRules> Parse(std::string_view text, std::string_view origin);
  // The copy of profiles/data/shared_content.tsv compiled into the binary.
  static const SharedContentRules& Builtin();
  static std::string_view BuiltinText();

  // Whether `kind` may create or update shared resources of `type`.
  bool MayWrite(std::string_view type, ActorKind kind) const;
  // Whether a resource of a Patient-compartment `type` may be stored outside any record.
  bool MayStandOutsideRecord(std::string_view type) const;
  // Whether carnet alone writes resources of `type`.
  bool WrittenByServer(std::string_view type) const;
  // The element of a `type` outside the Patient compartment whose Patient reference files the
  // resource in that patient's record ("patient" for Device); "" when the type has none.
  std::string FiledBy(std::string_view type) const;

 private:
  std::map<std::string, std::set<ActorKind>, std::less<>> writers_;  // "*": the default
  std::set<std::string, std::less<>> standalone_;
  std::set<std::string, std::less<>> server_;
  std::map<std::string, std::string, std::less<>> filed_;
};

}  // namespace carnet::profiles
