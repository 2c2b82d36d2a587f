// The narrative rules of FHIR R4 (narrative.html#rules), behind the invariants txt-1 and txt-2
// of Narrative.div (whose FHIRPath expression is only "htmlChecks()"):
//   - the div is XHTML: well-formed, root <div> in the namespace http://www.w3.org/1999/xhtml;
//   - txt-1: only the basic formatting elements and attributes of HTML 4.0 (chapters 7-11 but
//     9.4, and 15), <a> (name or href), images and style attributes: no head, body, script,
//     forms, frames, objects, external stylesheets, event attributes (onclick...), nor
//     javascript: links;
//   - txt-2: some non-whitespace content (text, or an image).
// The element and attribute lists are those of the HL7 reference validator for R4.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace carnet::model {

struct NarrativeProblem {
  std::string key;      // "txt-1" or "txt-2"
  std::string message;  // names the element or attribute at fault
};

// Every problem of the XHTML text `div` (at most one per rule and element name); empty when
// the narrative follows the rules.
std::vector<NarrativeProblem> CheckNarrative(std::string_view div);

}  // namespace carnet::model
