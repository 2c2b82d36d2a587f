// The kinds of measurement a connected device writes through an app (weight, blood pressure,
// glucose...), each with the LOINC codes of its Observations: data (profiles/data/
// measurement_kinds.tsv describes the format), compiled in so that the binary works alone.
// The patient's Consent for an app lists the kinds it may write (provision.code).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace carnet::profiles {

// The code system of the kinds in a Consent's provision.code.
inline constexpr const char* kMeasurementKindSystem =
    "https://carnet.example.org/fhir/CodeSystem/measurement-kind";

class MeasurementKinds {
 public:
  static Result<MeasurementKinds> Parse(std::string_view text, std::string_view origin);
  // The copy of profiles/data/measurement_kinds.tsv compiled into the binary.
  static const MeasurementKinds& Builtin();
  static std::string_view BuiltinText();

  bool Knows(std::string_view kind) const { return displays_.count(std::string(kind)) > 0; }
  // The kind of an Observation with these LOINC codes (Observation.code), "" for none.
  std::string KindOfCodes(const std::vector<std::string>& loinc_codes) const;
  // The kinds, in file order.
  const std::vector<std::string>& Kinds() const { return order_; }

 private:
  std::map<std::string, std::string> kind_of_code_;  // LOINC -> kind
  std::map<std::string, std::string> displays_;      // kind -> French name
  std::vector<std::string> order_;
};

// The LOINC codes of a resource's `code` (an Observation's).
std::vector<std::string> LoincCodes(const JsonValue& resource);

}  // namespace carnet::profiles
