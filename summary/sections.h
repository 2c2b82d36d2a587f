// The sections of the patient summary (HL7 IPS, Composition-uv-ips): which LOINC code, title and
// conformance each has, which resources of the record fill it, and the columns its table shows.
// The list is a published rule, so it is data: summary/data/ips_sections.tsv (compiled in),
// read once.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/fhirpath.h"

namespace carnet::summary {

// IPS section conformance: a required section is always in the summary (with an emptyReason
// when nothing fills it); the others only when something does.
enum class Conformance { kRequired, kRecommended, kOptional };

struct SectionEntryRule {
  std::string resource_type;
  std::optional<model::FhirPathExpression> filter;  // none: every resource of the type
};

struct SectionColumn {
  std::string header;
  // FHIRPath on the entry's resource; none for the built-in `*source` column (who recorded it).
  std::optional<model::FhirPathExpression> expression;
  bool source = false;
};

struct SectionRule {
  std::string code;  // LOINC
  std::string loinc_display;
  std::string title;  // French
  Conformance conformance = Conformance::kOptional;
  std::vector<SectionEntryRule> entries;
  std::vector<SectionColumn> columns;
  // The entries' date (FHIRPath): most recent first. None: the record's order.
  std::optional<model::FhirPathExpression> order;
};

struct SectionTable {
  std::vector<SectionRule> sections;  // in the summary's order
  // French labels of bare codes (statuses without a display).
  std::map<std::string, std::string, std::less<>> labels;
};

// Parses a table in the format of summary/data/ips_sections.tsv; kInternal naming the line on
// any fault (an unknown section, a FHIRPath that does not parse, a section without columns).
Result<SectionTable> ParseSectionTable(std::string_view tsv);

// The compiled-in table, parsed on first use (a fault there is a build defect: it aborts).
const SectionTable& IpsSections();

}  // namespace carnet::summary
