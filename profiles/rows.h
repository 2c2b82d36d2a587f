// The row files of profiles/data/ (the habilitation matrix, the shared-content rules): one
// row per line, fields separated by tabs or runs of spaces, '#' starting a comment.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace carnet::profiles {

// Splits a line on tabs or spaces; with max_fields > 0 the last field takes the rest of the
// line (display texts contain spaces).
std::vector<std::string> RowFields(std::string_view line, size_t max_fields = 0);

// Calls `row` for each line that is not blank once its comment is removed, with the line and
// its place ("origin:line") for error messages; stops at the first error.
Status ForEachRow(
    std::string_view text, std::string_view origin,
    const std::function<Status(std::string_view line, const std::string& where)>& row);

}  // namespace carnet::profiles
