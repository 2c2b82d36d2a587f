// XML plumbing shared by the XDS.b wire layer: a hostile-input-safe parse, namespace-aware
// element matching on top of pugixml (which knows no namespaces), and escaping for the writers.
//
// Every XDS message is parsed through ParseXml: no DOCTYPE (so no entity can ever be declared,
// let alone expanded: spec/security.md items 1 and 2), bounded depth and size.
#pragma once

#include <pugixml.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace carnet::xds {

inline constexpr std::string_view kNsSoap12 = "http://www.w3.org/2003/05/soap-envelope";
inline constexpr std::string_view kNsWsa = "http://www.w3.org/2005/08/addressing";
inline constexpr std::string_view kNsXop = "http://www.w3.org/2004/08/xop/include";
inline constexpr std::string_view kNsRim = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
inline constexpr std::string_view kNsRs = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";
inline constexpr std::string_view kNsLcm = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
inline constexpr std::string_view kNsQuery = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0";
inline constexpr std::string_view kNsXds = "urn:ihe:iti:xds-b:2007";
inline constexpr std::string_view kNsWsse =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";

// An XDS.b request nests about 12 levels (Envelope/Body/PnR/SubmitObjectsRequest/
// RegistryObjectList/ExtrinsicObject/Classification/Slot/ValueList/Value); 64 leaves room for
// WS-Security headers and refuses the 100k-deep attack long before it costs anything.
inline constexpr int kMaxXmlDepth = 64;

// Parses `xml` (UTF-8) into a document. Refuses a DOCTYPE (and with it every entity
// declaration), malformed XML and nesting deeper than `max_depth`. The document is heap
// allocated so that nodes handed out stay valid when the owner moves.
Result<std::unique_ptr<pugi::xml_document>> ParseXml(std::string_view xml,
                                                     int max_depth = kMaxXmlDepth);

// The namespace URI of an element (its prefix resolved through the in-scope xmlns
// declarations) and its local name.
std::string_view NamespaceOf(pugi::xml_node element);
std::string_view LocalName(pugi::xml_node element);
// The namespace URI bound to `prefix` ("" = default namespace) at `element`.
std::string_view ResolvePrefix(pugi::xml_node element, std::string_view prefix);

// True when `element` is {ns}local.
bool Is(pugi::xml_node element, std::string_view ns, std::string_view local);
// First child element {ns}local, or an empty node.
pugi::xml_node Child(pugi::xml_node parent, std::string_view ns, std::string_view local);
// First child element whatever its name, or an empty node.
pugi::xml_node FirstElement(pugi::xml_node parent);
// Concatenated text children (pcdata and cdata), untrimmed.
std::string Text(pugi::xml_node element);

std::string Trim(std::string_view s);

// Escapes text for element content and for a double-quoted attribute value.
std::string XmlEscape(std::string_view s);

}  // namespace carnet::xds
