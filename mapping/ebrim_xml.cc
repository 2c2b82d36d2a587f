#include "mapping/ebrim_xml.h"

#include <vector>

#include "base/strings.h"

namespace carnet::xds {

Result<std::unique_ptr<pugi::xml_document>> ParseXml(std::string_view xml, int max_depth) {
  // What XML 1.0 forbids, literally or by reference, is refused before pugixml (which would
  // take it, and cut a value short at a NUL).
  if (size_t at = FindControlCharacter(xml); at != std::string_view::npos)
    return BadRequest("a control character XML does not allow at offset " + std::to_string(at));
  if (size_t at = FindForbiddenCharReference(xml); at != std::string_view::npos)
    return BadRequest("a reference to a character XML does not allow at offset " +
                      std::to_string(at));
  auto doc = std::make_unique<pugi::xml_document>();
  // parse_doctype makes pugixml keep the DOCTYPE as a node (instead of skipping it silently) so
  // that it can be refused below; pugixml itself never expands custom entities.
  const unsigned options = (pugi::parse_default | pugi::parse_doctype) & ~pugi::parse_wconv_attribute;
  pugi::xml_parse_result r = doc->load_buffer(xml.data(), xml.size(), options, pugi::encoding_utf8);
  if (!r) {
    return BadRequest(std::string("malformed XML: ") + r.description() + " at offset " +
                      std::to_string(r.offset));
  }
  // Depth-first walk without recursion: a hostile depth must not become a deep C++ stack.
  struct Frame {
    pugi::xml_node node;
    int depth;
  };
  std::vector<Frame> stack;
  bool has_element = false;
  for (pugi::xml_node c = doc->first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_doctype) return BadRequest("DOCTYPE is not allowed in XDS messages");
    if (c.type() == pugi::node_element) {
      has_element = true;
      stack.push_back({c, 1});
    }
  }
  if (!has_element) return BadRequest("malformed XML: no root element");
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    if (f.depth > max_depth) {
      return BadRequest("XML nested deeper than " + std::to_string(max_depth) + " elements");
    }
    for (pugi::xml_node c = f.node.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_doctype) return BadRequest("DOCTYPE is not allowed");
      if (c.type() == pugi::node_element) stack.push_back({c, f.depth + 1});
    }
  }
  return doc;
}

std::string_view ResolvePrefix(pugi::xml_node element, std::string_view prefix) {
  std::string attr = prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
  if (prefix == "xml") return "http://www.w3.org/XML/1998/namespace";
  for (pugi::xml_node n = element; n && n.type() == pugi::node_element; n = n.parent()) {
    pugi::xml_attribute a = n.attribute(attr.c_str());
    if (a) return a.value();
  }
  return {};
}

std::string_view NamespaceOf(pugi::xml_node element) {
  std::string_view name = element.name();
  size_t colon = name.find(':');
  return ResolvePrefix(element, colon == std::string_view::npos ? std::string_view{}
                                                                  : name.substr(0, colon));
}

std::string_view LocalName(pugi::xml_node element) {
  std::string_view name = element.name();
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool Is(pugi::xml_node element, std::string_view ns, std::string_view local) {
  return element.type() == pugi::node_element && LocalName(element) == local &&
         NamespaceOf(element) == ns;
}

pugi::xml_node Child(pugi::xml_node parent, std::string_view ns, std::string_view local) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (Is(c, ns, local)) return c;
  }
  return {};
}

pugi::xml_node FirstElement(pugi::xml_node parent) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) return c;
  }
  return {};
}

std::string Text(pugi::xml_node element) {
  std::string out;
  for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  }
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n'))
    --e;
  return std::string(s.substr(b, e - b));
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#13;"; break;
      case '\n': out += "&#10;"; break;
      case '\t': out += "&#9;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace carnet::xds
