// Text forms used by the search index and the planner, so that what is written and what is
// searched are normalised by the same code (PostgreSQL's unaccent may not be installed).
#pragma once

#include <string>
#include <string_view>

namespace carnet::model {

// Lower case with the common Latin diacritics removed (é -> e, Ç -> c, œ -> oe, ß -> ss),
// for case- and accent-insensitive string search. Other characters pass through as written;
// invalid UTF-8 bytes are kept.
std::string NormalizeSearchText(std::string_view s);

}  // namespace carnet::model
