// The patient's choices per section of the health profile (profile_section_choice,
// migration 0009): which sections are hidden from professionals. What a section holds is
// health_profile/sections.h's; applying the choice to entries is the write path's.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// The sections the record's patient hid from professionals.
Result<std::vector<std::string>> HiddenProfileSections(Transaction& tx, long long patient_key);
Status SetProfileSectionHidden(Transaction& tx, long long patient_key, const std::string& section,
                               bool hidden);

}  // namespace carnet::storage
