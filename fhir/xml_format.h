// FHIR R4 XML <-> JSON, driven by the structure definitions (model/structure.h).
//
// The two representations carry the same content; what differs is how (R4 "XML
// Representation" / "JSON Representation"): primitives are `value` attributes in XML and typed
// JSON values, with their id/extensions in a parallel `_name` member; Element.id and
// Extension.url are XML attributes; repeating elements are repeated XML elements but one JSON
// array; resources inside resources are wrapped in an element named after the property;
// the narrative is embedded XHTML in XML and a string in JSON. XML needs the definition order
// of elements, so the JSON -> XML direction sorts by the tables.
//
// Numbers are never converted: their literal text passes between the JsonValue and the XML
// attribute unchanged ("1.50" stays "1.50"). The narrative div is carried verbatim too, so
// that JSON -> XML -> JSON gives back the very same string.
//
// Hostile XML (DOCTYPE, entity declarations, references other than the five built-ins and
// character references, deep nesting, invalid UTF-8) is refused before pugixml sees it:
// nothing is expanded, nothing is fetched.
#pragma once

#include <string>
#include <string_view>

#include "base/json.h"
#include "base/status.h"

namespace carnet::fhir {

// Elements nested deeper than this are refused (kBadRequest) before any tree is built; real
// resources (Questionnaire items included) stay far below.
inline constexpr int kMaxXmlDepth = 200;

// FHIR JSON resource -> FHIR XML (namespace http://hl7.org/fhir), elements in definition
// order, with an XML declaration; two-space indentation when `pretty`. kInvalid (with the
// element path in Status::location) when the JSON does not fit the definitions.
Result<std::string> ResourceJsonToXml(const JsonValue& resource, bool pretty);

// FHIR XML resource -> FHIR JSON. kBadRequest on malformed or hostile XML (DOCTYPE, entities,
// invalid UTF-8, depth over kMaxXmlDepth, root outside the FHIR namespace); kInvalid, with
// the element path in Status::location, on content that does not fit the definitions
// (unknown element, stray text, unexpected attribute, bad primitive value).
Result<JsonValue> ResourceXmlToJson(std::string_view xml);

}  // namespace carnet::fhir
