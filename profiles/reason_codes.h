// The reason codes of access decisions and authentication failures (reason_codes.def): the
// fixed vocabulary the request log line, the access history and the support view share.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace carnet::profiles {

enum class Reason {
#define CARNET_REASON(name, code, side, meaning) name,
#include "profiles/reason_codes.def"
#undef CARNET_REASON
};

enum class ReasonSide { kPermit, kDeny };

// "care-team", "matrix"...
std::string_view ReasonCode(Reason reason);
// What the code means, for a person (README, the support view).
std::string_view ReasonMeaning(Reason reason);
ReasonSide SideOf(Reason reason);
// nullopt for a code outside the vocabulary.
std::optional<Reason> ParseReason(std::string_view code);
// Every reason, in the order of reason_codes.def.
const std::vector<Reason>& AllReasons();

}  // namespace carnet::profiles
