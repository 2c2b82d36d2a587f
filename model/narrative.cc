#include "model/narrative.h"

#include <cctype>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <vector>

namespace carnet::model {
namespace {

constexpr std::string_view kXhtmlNamespace = "http://www.w3.org/1999/xhtml";

bool IsAllowedElement(std::string_view name) {
  static const std::set<std::string_view> kNames = {
      "p",     "br",   "div",   "h1",      "h2",       "h3",     "h4",         "h5",  "h6",
      "a",     "span", "b",     "em",      "i",        "strong", "small",      "big", "tt",
      "dfn",   "q",    "var",   "abbr",    "acronym",  "cite",   "blockquote", "hr",  "address",
      "bdo",   "kbd",  "sub",   "sup",     "ul",       "ol",     "li",         "dl",  "dt",
      "dd",    "pre",  "table", "caption", "colgroup", "col",    "thead",      "tr",  "tfoot",
      "tbody", "th",   "td",    "code",    "samp",     "img",    "map",        "area"};
  return kNames.count(name) > 0;
}

// Attributes any allowed element may carry, then those allowed on one element only.
bool IsAllowedAttribute(std::string_view element, std::string_view attribute) {
  static const std::set<std::string_view> kAny = {
      "title",    "style",   "class", "id",      "lang",    "xml:lang", "dir",     "accesskey",
      "tabindex", "span",    "width", "align",   "valign",  "char",     "charoff", "abbr",
      "axis",     "headers", "scope", "rowspan", "colspan", "xmlns"};
  static const std::set<std::string> kOnElement = {"a.href",
                                                   "a.name",
                                                   "a.charset",
                                                   "a.type",
                                                   "a.hreflang",
                                                   "a.rel",
                                                   "a.rev",
                                                   "a.shape",
                                                   "a.coords",
                                                   "img.src",
                                                   "img.alt",
                                                   "img.longdesc",
                                                   "img.height",
                                                   "img.width",
                                                   "img.usemap",
                                                   "img.ismap",
                                                   "img.border",
                                                   "map.name",
                                                   "area.shape",
                                                   "area.coords",
                                                   "area.href",
                                                   "area.nohref",
                                                   "area.alt",
                                                   "table.summary",
                                                   "table.width",
                                                   "table.border",
                                                   "table.frame",
                                                   "table.rules",
                                                   "table.cellspacing",
                                                   "table.cellpadding",
                                                   "pre.space",
                                                   "td.nowrap",
                                                   "blockquote.cite",
                                                   "q.cite",
                                                   "ol.start",
                                                   "ol.type",
                                                   "ul.type",
                                                   "li.value",
                                                   "li.type"};
  if (kAny.count(attribute) > 0) return true;
  std::string key(element);
  key += '.';
  key += attribute;
  return kOnElement.count(key) > 0;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (s.size() - i < prefix.size()) return false;
  for (size_t k = 0; k < prefix.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(s[i + k])) != prefix[k]) return false;
  }
  return true;
}

bool HasNonWhitespace(const char* text) {
  for (const char* p = text; *p; ++p)
    if (!std::isspace(static_cast<unsigned char>(*p))) return true;
  return false;
}

}  // namespace

std::vector<NarrativeProblem> CheckNarrative(std::string_view div) {
  std::vector<NarrativeProblem> problems;
  constexpr char kTxt1[] = "txt-1";
  pugi::xml_document doc;
  // No DOCTYPE, no entity expansion: what is not a plain element tree is refused as such.
  pugi::xml_parse_result parsed =
      doc.load_buffer(div.data(), div.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    problems.push_back({kTxt1, std::string("the narrative is not well-formed XHTML: ") +
                                   parsed.description() + " at offset " +
                                   std::to_string(parsed.offset)});
    return problems;
  }
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "div") {
    problems.push_back({kTxt1, "the narrative's root element must be <div>, not <" +
                                   std::string(root.name()) + ">"});
    return problems;
  }
  if (std::string_view(root.attribute("xmlns").value()) != kXhtmlNamespace) {
    problems.push_back({kTxt1, "the narrative <div> must be in the XHTML namespace (xmlns=\"" +
                                   std::string(kXhtmlNamespace) + "\")"});
  }
  std::set<std::string> reported;  // one problem per element or attribute name
  auto report = [&](const std::string& what, std::string message) {
    if (reported.insert(what).second) problems.push_back({kTxt1, std::move(message)});
  };
  bool content = false;
  // Iterative walk: the depth of a hostile narrative must not reach the stack.
  std::vector<pugi::xml_node> stack = {root};
  while (!stack.empty()) {
    pugi::xml_node node = stack.back();
    stack.pop_back();
    if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
      if (HasNonWhitespace(node.value())) content = true;
      continue;
    }
    if (node.type() != pugi::node_element) continue;
    std::string_view name = node.name();
    // A refused element's attributes are not judged as well: one problem per fault.
    bool allowed = IsAllowedElement(name);
    if (!allowed) {
      report("<" + std::string(name) + ">",
             "<" + std::string(name) +
                 "> is not allowed in a narrative (only basic HTML formatting: no head, body, "
                 "script, form, frame, object, style or link elements)");
    }
    if (name == "img") content = true;
    for (pugi::xml_attribute a : allowed ? node.attributes()
                                         : pugi::xml_object_range<pugi::xml_attribute_iterator>(
                                               node.attributes_end(), node.attributes_end())) {
      std::string_view attr = a.name();
      if (attr == "xmlns" && std::string_view(a.value()) != kXhtmlNamespace) {
        report("xmlns", "a narrative element may only use the XHTML namespace, not " +
                            std::string(a.value()));
      } else if (!IsAllowedAttribute(name, attr)) {
        bool event = attr.size() > 2 && attr.substr(0, 2) == "on";
        report(std::string(name) + "@" + std::string(attr),
               "the attribute " + std::string(attr) + " is not allowed on <" + std::string(name) +
                   "> in a narrative" + (event ? " (no event attributes)" : ""));
      } else if ((attr == "href" || attr == "src") && (StartsWithNoCase(a.value(), "javascript:") ||
                                                       StartsWithNoCase(a.value(), "vbscript:"))) {
        report(std::string(name) + "@" + std::string(attr) + ":script",
               "<" + std::string(name) + " " + std::string(attr) +
                   "> may not hold a script in a narrative");
      }
    }
    std::vector<pugi::xml_node> kids;
    for (pugi::xml_node kid : node.children()) kids.push_back(kid);
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.push_back(*it);
  }
  if (!content)
    problems.push_back({"txt-2",
                        "the narrative has no content: it must hold some text (or an "
                        "image), not only whitespace"});
  return problems;
}

}  // namespace carnet::model
