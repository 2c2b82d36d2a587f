#include "summary/sections.h"

#include <cstdio>
#include <cstdlib>

#include "base/tsv.h"

namespace carnet::summary {

const char* EmbeddedIpsSections();  // generated from summary/data/ips_sections.tsv

namespace {

Status Fault(const TsvRow& row, const std::string& why) {
  return Internal("ips_sections.tsv line " + std::to_string(row.line) + ": " + why);
}

}  // namespace

Result<SectionTable> ParseSectionTable(std::string_view tsv) {
  SectionTable table;
  auto find = [&](const std::string& code) -> SectionRule* {
    for (SectionRule& s : table.sections)
      if (s.code == code) return &s;
    return nullptr;
  };
  for (const TsvRow& row : ReadTsv(tsv)) {
    const auto& c = row.cells;
    const std::string& kind = c[0];
    if (kind == "section") {
      if (c.size() != 5) return Fault(row, "a section has a code, a conformance and two titles");
      if (find(c[1])) return Fault(row, "section " + c[1] + " is listed twice");
      SectionRule s;
      s.code = c[1];
      if (c[2] == "required")
        s.conformance = Conformance::kRequired;
      else if (c[2] == "recommended")
        s.conformance = Conformance::kRecommended;
      else if (c[2] == "optional")
        s.conformance = Conformance::kOptional;
      else
        return Fault(row, "conformance '" + c[2] + "' is not required, recommended or optional");
      s.title = c[3];
      s.loinc_display = c[4];
      table.sections.push_back(std::move(s));
    } else if (kind == "entry" || kind == "column") {
      if (c.size() < 3) return Fault(row, kind + " needs a section and a value");
      SectionRule* s = find(c[1]);
      if (!s) return Fault(row, "section " + c[1] + " is not declared above");
      if (kind == "entry") {
        SectionEntryRule e;
        e.resource_type = c[2];
        if (c.size() > 3 && !c[3].empty()) {
          auto f = model::FhirPathExpression::Parse(c[3]);
          if (!f.ok()) return Fault(row, "filter: " + f.status().message());
          e.filter = std::move(f).value();
        }
        s->entries.push_back(std::move(e));
      } else {
        if (c.size() != 4) return Fault(row, "a column has a header and an expression");
        SectionColumn col;
        col.header = c[2];
        if (c[3] == "*source") {
          col.source = true;
        } else {
          auto e = model::FhirPathExpression::Parse(c[3]);
          if (!e.ok()) return Fault(row, "column: " + e.status().message());
          col.expression = std::move(e).value();
        }
        s->columns.push_back(std::move(col));
      }
    } else if (kind == "order") {
      if (c.size() != 3) return Fault(row, "an order has a section and an expression");
      SectionRule* s = find(c[1]);
      if (!s) return Fault(row, "section " + c[1] + " is not declared above");
      auto e = model::FhirPathExpression::Parse(c[2]);
      if (!e.ok()) return Fault(row, "order: " + e.status().message());
      s->order = std::move(e).value();
    } else if (kind == "label") {
      if (c.size() != 3) return Fault(row, "a label has a code and its French");
      table.labels[c[1]] = c[2];
    } else {
      return Fault(row, "unknown row kind '" + kind + "'");
    }
  }
  for (const SectionRule& s : table.sections) {
    if (s.entries.empty())
      return Internal("ips_sections.tsv: section " + s.code + " has no entry rule");
    if (s.columns.empty())
      return Internal("ips_sections.tsv: section " + s.code + " has no column");
  }
  return table;
}

const SectionTable& IpsSections() {
  static const SectionTable kTable = [] {
    auto t = ParseSectionTable(EmbeddedIpsSections());
    if (!t.ok()) {
      std::fprintf(stderr, "carnet: %s\n", t.status().message().c_str());
      std::abort();
    }
    return std::move(t).value();
  }();
  return kTable;
}

}  // namespace carnet::summary
