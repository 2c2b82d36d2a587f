#include "fhir/xml_format.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "model/structure.h"

namespace carnet::fhir {
namespace {

using model::ElementDef;
using model::ResolvedChild;
using model::StructureRegistry;
using model::TypeDef;
using model::TypeKind;

constexpr std::string_view kFhirNs = "http://hl7.org/fhir";
constexpr std::string_view kXhtmlNs = "http://www.w3.org/1999/xhtml";
constexpr std::string_view kXsiNs = "http://www.w3.org/2001/XMLSchema-instance";
constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";

// ---------------------------------------------------------------------------------------------
// Characters
// ---------------------------------------------------------------------------------------------

// The XML 1.0 Char production: what a document may hold at all, literally or by reference.
bool IsXmlChar(uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// Offset of the first byte that is not well-formed UTF-8 (overlong forms and surrogates
// included) or not an XML Char; npos when the whole text is fine.
size_t FindBadChar(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    uint32_t c;
    size_t len;
    if (b0 < 0x80) {
      c = b0;
      len = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      c = b0 & 0x1F;
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      c = b0 & 0x0F;
      len = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      c = b0 & 0x07;
      len = 4;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return i;
      c = (c << 6) | (b & 0x3F);
    }
    const bool overlong = (len == 3 && c < 0x800) || (len == 4 && c < 0x10000);
    if (overlong || (c >= 0xD800 && c <= 0xDFFF) || !IsXmlChar(c)) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return IsSpace(c); });
}

// XML parsers must turn CR LF and lone CR into LF; the raw narrative text gets the same
// treatment so that the JSON string holds what an XML parser would have seen.
std::string NormalizeEol(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The pre-scan: a small tokenizer that runs before pugixml. It refuses what pugixml would
// quietly skip or keep (DOCTYPE and other declarations, undeclared entity references), bounds
// the depth before any tree exists, and finds where an element ends in the source (used to
// carry the narrative verbatim). It only needs to be right on well-formed input; pugixml
// judges well-formedness afterwards.
// ---------------------------------------------------------------------------------------------

enum class Tok { kText, kStart, kEmpty, kEnd, kComment, kCData, kPi, kDecl, kUnterminated };

struct Token {
  Tok kind;
  size_t end;  // one past the token
};

Token NextToken(std::string_view s, size_t pos) {
  auto until = [&](size_t from, std::string_view close, Tok kind) {
    size_t e = s.find(close, from);
    return e == std::string_view::npos ? Token{Tok::kUnterminated, s.size()}
                                       : Token{kind, e + close.size()};
  };
  if (s[pos] != '<') {
    size_t e = s.find('<', pos);
    return {Tok::kText, e == std::string_view::npos ? s.size() : e};
  }
  std::string_view rest = s.substr(pos);
  if (rest.starts_with("<!--")) return until(pos + 4, "-->", Tok::kComment);
  if (rest.starts_with("<![CDATA[")) return until(pos + 9, "]]>", Tok::kCData);
  if (rest.starts_with("<?")) return until(pos + 2, "?>", Tok::kPi);
  if (rest.starts_with("<!")) return {Tok::kDecl, pos + 2};
  if (rest.starts_with("</")) return until(pos + 2, ">", Tok::kEnd);
  // A start tag: '>' inside a quoted attribute value does not end it.
  char quote = 0;
  for (size_t i = pos + 1; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return {s[i - 1] == '/' ? Tok::kEmpty : Tok::kStart, i + 1};
    }
  }
  return {Tok::kUnterminated, s.size()};
}

// Every '&' in [from, to) must start one of the five predefined entity references or a
// character reference to an XML Char: no other entity can be declared, so any other name is
// either an attack or an error.
bool ReferencesOk(std::string_view s, size_t from, size_t to) {
  for (size_t i = s.find('&', from); i < to; i = s.find('&', i + 1)) {
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi >= to || semi - i > 12) return false;
    std::string_view ref = s.substr(i + 1, semi - i - 1);
    if (ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos") continue;
    if (ref.size() < 2 || ref[0] != '#') return false;
    bool hex = ref[1] == 'x';
    std::string_view digits = ref.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 8) return false;
    uint32_t c = 0;
    for (char d : digits) {
      int v;
      if (d >= '0' && d <= '9') {
        v = d - '0';
      } else if (hex && d >= 'a' && d <= 'f') {
        v = d - 'a' + 10;
      } else if (hex && d >= 'A' && d <= 'F') {
        v = d - 'A' + 10;
      } else {
        return false;
      }
      c = c * (hex ? 16 : 10) + static_cast<uint32_t>(v);
    }
    if (!IsXmlChar(c)) return false;
  }
  return true;
}

// Attribute and namespace-declaration counts of the start tag s[from, to). Namespace prefixes
// are resolved by walking the declarations in scope, so their number is what bounds the cost
// of each lookup.
struct TagCounts {
  int attributes = 0;
  int ns_decls = 0;
};

TagCounts CountAttributes(std::string_view s, size_t from, size_t to) {
  TagCounts n;
  char quote = 0;
  bool in_run = false;  // inside a run of name characters
  size_t run_start = from;
  for (size_t i = from + 1; i < to; ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_run = false;
    } else if (IsSpace(c)) {
      in_run = false;
    } else if (c == '=') {
      // The attribute's name is the last run, spaces before '=' allowed.
      ++n.attributes;
      if (s.substr(run_start, 5) == "xmlns") ++n.ns_decls;
      in_run = false;
    } else if (!in_run) {
      run_start = i;
      in_run = true;
    }
  }
  return n;
}

// Far above what FHIR or XHTML use (a handful), low enough to keep lookups cheap.
constexpr int kMaxAttributes = 256;
constexpr int kMaxNsDecls = 16;

Status ScanXml(std::string_view s, int max_depth) {
  int depth = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    Token t = NextToken(s, pos);
    switch (t.kind) {
      case Tok::kUnterminated:
        return BadRequest("malformed XML: unterminated markup at byte " + std::to_string(pos));
      case Tok::kDecl:
        // DOCTYPE, ENTITY, ELEMENT...: internal subsets are how entity expansion attacks and
        // external entities (XXE) get in; FHIR never needs them.
        return BadRequest("DOCTYPE and other markup declarations are not accepted (byte " +
                          std::to_string(pos) + ")");
      case Tok::kStart:
      case Tok::kEmpty:
        if (depth + 1 > max_depth)
          return BadRequest("XML nested deeper than " + std::to_string(max_depth) + " elements");
        if (t.kind == Tok::kStart) ++depth;
        if (TagCounts n = CountAttributes(s, pos, t.end);
            n.attributes > kMaxAttributes || n.ns_decls > kMaxNsDecls)
          return BadRequest("too many attributes or namespace declarations on one element (byte " +
                            std::to_string(pos) + ")");
        [[fallthrough]];
      case Tok::kText:
        if (!ReferencesOk(s, pos, t.end))
          return BadRequest(
              "only the predefined XML entities and character references are accepted (byte " +
              std::to_string(pos) + ")");
        break;
      case Tok::kEnd:
        --depth;
        break;
      case Tok::kComment:
      case Tok::kCData:
      case Tok::kPi:
        break;
    }
    pos = t.end;
  }
  return Status::Ok();
}

// One past the end of the element whose start tag begins at s[lt] ('<'); npos when the
// source does not close it.
size_t ElementEnd(std::string_view s, size_t lt) {
  int depth = 0;
  size_t pos = lt;
  while (pos < s.size()) {
    Token t = NextToken(s, pos);
    switch (t.kind) {
      case Tok::kUnterminated:
      case Tok::kDecl:
        return std::string_view::npos;
      case Tok::kStart:
        ++depth;
        break;
      case Tok::kEmpty:
        if (depth == 0) return t.end;
        break;
      case Tok::kEnd:
        if (--depth == 0) return t.end;
        break;
      default:
        break;
    }
    pos = t.end;
  }
  return std::string_view::npos;
}

// ---------------------------------------------------------------------------------------------
// Namespaces: pugixml is not namespace-aware, so prefixes are resolved here.
// ---------------------------------------------------------------------------------------------

std::pair<std::string_view, std::string_view> SplitQName(std::string_view qname) {
  size_t colon = qname.find(':');
  if (colon == std::string_view::npos) return {{}, qname};
  return {qname.substr(0, colon), qname.substr(colon + 1)};
}

class NsScope {
 public:
  // Binds the declarations on `el`; returns the mark to Pop back to.
  size_t Push(pugi::xml_node el) {
    size_t mark = bindings_.size();
    for (pugi::xml_attribute a : el.attributes()) {
      std::string_view name = a.name();
      if (name == "xmlns") bindings_.emplace_back("", a.value());
      if (name.starts_with("xmlns:")) bindings_.emplace_back(name.substr(6), a.value());
    }
    return mark;
  }
  void Pop(size_t mark) { bindings_.resize(mark); }
  // The URI bound to `prefix`; nullopt when unbound ("" for no default namespace).
  std::optional<std::string_view> Resolve(std::string_view prefix) const {
    if (prefix == "xml") return kXmlNs;
    for (auto it = bindings_.rbegin(); it != bindings_.rend(); ++it)
      if (it->first == prefix) return std::string_view(it->second);
    if (prefix.empty()) return std::string_view();
    return std::nullopt;
  }

 private:
  std::vector<std::pair<std::string, std::string>> bindings_;
};

bool IsNsDecl(std::string_view attr) { return attr == "xmlns" || attr.starts_with("xmlns:"); }

// True when every prefix used in the subtree of `el` is declared inside it, i.e. the
// subtree's source text can be lifted out as is.
bool SelfContained(pugi::xml_node el, NsScope& scope, int depth) {
  if (depth > kMaxXmlDepth) return false;
  size_t mark = scope.Push(el);
  bool ok = true;
  auto bound = [&](std::string_view qname) {
    auto [prefix, local] = SplitQName(qname);
    return prefix.empty() || prefix == "xml" || prefix == "xmlns" || scope.Resolve(prefix);
  };
  if (!bound(el.name())) ok = false;
  for (pugi::xml_attribute a : el.attributes())
    if (!bound(a.name())) ok = false;
  for (pugi::xml_node c = el.first_child(); ok && c; c = c.next_sibling())
    if (c.type() == pugi::node_element && !SelfContained(c, scope, depth + 1)) ok = false;
  scope.Pop(mark);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

void AppendEscaped(std::string_view s, bool attribute, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        if (attribute) {
          *out += "&quot;";
        } else {
          *out += c;
        }
        break;
      // Literal whitespace in an attribute is normalised to a space by the reader: references
      // keep tabs and line breaks in primitive values.
      case '\t':
        *out += attribute ? "&#9;" : "\t";
        break;
      case '\n':
        *out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        *out += "&#13;";
        break;
      default:
        *out += c;
    }
  }
}

// The namespace-resolved serialisation of an XHTML subtree, for the rare narrative whose
// source cannot be lifted verbatim (prefixed div, prefixes declared on FHIR ancestors).
class XhtmlSerializer {
 public:
  explicit XhtmlSerializer(const NsScope& outer) : scope_(outer) {}

  // nullopt when the subtree uses a prefix that no declaration binds.
  std::optional<std::string> Run(pugi::xml_node div) {
    std::string out;
    Element(div, true, &out);
    if (unbound_) return std::nullopt;
    return out;
  }

 private:
  void Element(pugi::xml_node el, bool root, std::string* out) {
    size_t mark = scope_.Push(el);
    std::string name = Name(el.name());
    *out += '<';
    *out += name;
    if (root) {
      *out += " xmlns=\"";
      *out += kXhtmlNs;
      *out += '"';
      // Prefixes bound outside the div and used inside: declare them on the div.
      std::vector<std::string> used;
      CollectPrefixes(el, &used);
      for (const std::string& p : used) {
        auto uri = scope_.Resolve(p);
        if (!uri || *uri == kXhtmlNs || p == "xml") continue;
        *out += " xmlns:" + p + "=\"";
        AppendEscaped(*uri, true, out);
        *out += '"';
      }
    }
    for (pugi::xml_attribute a : el.attributes()) {
      std::string_view an = a.name();
      if (root && IsNsDecl(an)) continue;
      if (an == "xmlns" && a.value() == kXhtmlNs) continue;
      if (an.starts_with("xmlns:") && a.value() == kXhtmlNs) continue;
      if (auto prefix = SplitQName(an).first;
          !IsNsDecl(an) && !prefix.empty() && !scope_.Resolve(prefix))
        unbound_ = true;
      *out += ' ';
      *out += an;
      *out += "=\"";
      AppendEscaped(a.value(), true, out);
      *out += '"';
    }
    if (!el.first_child()) {
      *out += "/>";
    } else {
      *out += '>';
      for (pugi::xml_node c : el.children()) {
        if (c.type() == pugi::node_element) {
          Element(c, false, out);
        } else if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
          AppendEscaped(c.value(), false, out);
        }
      }
      *out += "</" + name + ">";
    }
    scope_.Pop(mark);
  }

  // XHTML elements lose their prefix (the div declares XHTML as the default namespace).
  std::string Name(std::string_view qname) {
    auto [prefix, local] = SplitQName(qname);
    if (prefix.empty()) return std::string(qname);
    auto uri = scope_.Resolve(prefix);
    if (!uri) unbound_ = true;
    if (uri == kXhtmlNs) return std::string(local);
    return std::string(qname);
  }

  void CollectPrefixes(pugi::xml_node el, std::vector<std::string>* used) {
    auto note = [&](std::string_view qname) {
      auto [prefix, local] = SplitQName(qname);
      if (prefix.empty() || prefix == "xmlns") return;
      if (std::find(used->begin(), used->end(), prefix) == used->end()) used->emplace_back(prefix);
    };
    note(el.name());
    for (pugi::xml_attribute a : el.attributes()) note(a.name());
    for (pugi::xml_node c = el.first_child(); c; c = c.next_sibling())
      if (c.type() == pugi::node_element) CollectPrefixes(c, used);
  }

  NsScope scope_;
  bool unbound_ = false;
};

// ---------------------------------------------------------------------------------------------
// Type questions answered from the tables
// ---------------------------------------------------------------------------------------------

enum class JsonKind { kString, kNumber, kBool };

JsonKind PrimitiveJsonKind(std::string_view type) {
  if (type == "boolean") return JsonKind::kBool;
  if (type == "integer" || type == "decimal" || type == "positiveInt" || type == "unsignedInt" ||
      type == "integer64")
    return JsonKind::kNumber;
  return JsonKind::kString;
}

bool IsIntegerType(std::string_view type) {
  return type == "integer" || type == "positiveInt" || type == "unsignedInt" || type == "integer64";
}

// The JSON number grammar (RFC 8259), which is also FHIR's lexical space for decimal.
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

const char* KindName(JsonKind k) {
  switch (k) {
    case JsonKind::kBool:
      return "a JSON boolean";
    case JsonKind::kNumber:
      return "a JSON number";
    case JsonKind::kString:
      break;
  }
  return "a JSON string";
}

std::string Indexed(const std::string& loc, std::string_view name, std::optional<size_t> i) {
  std::string s = loc;
  if (!s.empty()) s += '.';
  s += name;
  if (i) s += "[" + std::to_string(*i) + "]";
  return s;
}

// How an element is carried, from its concrete type.
enum class Shape { kAttribute, kXhtml, kResource, kPrimitive, kComplex };

class Tables {
 public:
  explicit Tables(const StructureRegistry& reg) : reg_(reg), element_(reg.Find("Element")) {}

  const StructureRegistry& reg() const { return reg_; }
  // Where the id and extensions of a primitive live (the `_name` object).
  const TypeDef* element() const { return element_; }

  Shape ShapeOf(const ResolvedChild& rc) const {
    if (rc.def->xml_attribute) return Shape::kAttribute;
    if (rc.def->is_xhtml() || rc.type == "xhtml") return Shape::kXhtml;
    const std::string& t = rc.type;
    if (t.empty() || t == "BackboneElement" || t == "Element") return Shape::kComplex;
    if (t == "Resource" || t == "DomainResource" || reg_.IsResourceType(t)) return Shape::kResource;
    if (reg_.IsPrimitiveType(t)) return Shape::kPrimitive;
    return Shape::kComplex;
  }

  // Position of `def` among `children` (definition order); unknown positions go last.
  static size_t OrderOf(const std::vector<const ElementDef*>& children, const ElementDef* def) {
    for (size_t i = 0; i < children.size(); ++i)
      if (children[i] == def || children[i]->path == def->path) return i;
    return children.size();
  }

 private:
  const StructureRegistry& reg_;
  const TypeDef* element_;
};

// ---------------------------------------------------------------------------------------------
// JSON -> XML
// ---------------------------------------------------------------------------------------------

class XmlWriter {
 public:
  XmlWriter(const Tables& t, bool pretty) : t_(t), pretty_(pretty) {}

  Status Root(const JsonValue& resource) {
    out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    CARNET_RETURN_IF_ERROR(Resource(resource, "", 0, true));
    if (pretty_) out_ += '\n';
    return Status::Ok();
  }

  std::string Take() { return std::move(out_); }

 private:
  using Attrs = std::vector<std::pair<std::string, std::string>>;

  void NewLine(int level) {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(static_cast<size_t>(level) * 2, ' ');
  }

  Status Resource(const JsonValue& obj, const std::string& loc, int level, bool root) {
    if (!obj.is_object()) return Invalid("a resource must be a JSON object", loc);
    const JsonValue* rt = obj.Find("resourceType");
    if (!rt || !rt->is_string()) return Invalid("resourceType is missing", loc);
    const TypeDef* td = t_.reg().Find(rt->text());
    if (!td || td->kind != TypeKind::kResource || td->is_abstract)
      return Invalid("unknown resourceType '" + rt->text() + "'", loc);
    Attrs attrs;
    if (root) attrs.emplace_back("xmlns", std::string(kFhirNs));
    std::string here = loc.empty() ? td->name : loc;
    return Element(td->name, attrs, *td, td->name, obj, here, level, true);
  }

  struct Entry {
    std::string name;  // without the underscore
    const JsonValue* value = nullptr;
    const JsonValue* ext = nullptr;  // the `_name` member
    ResolvedChild rc;
    Shape shape = Shape::kComplex;
    size_t order = 0;
    size_t seen = 0;
  };

  // Writes <name attrs...> with the members of `obj` (children of `path` in `owner`) as its
  // attributes and content.
  Status Element(std::string_view name, Attrs attrs, const TypeDef& owner, const std::string& path,
                 const JsonValue& obj, const std::string& loc, int level, bool is_resource) {
    if (level > kMaxXmlDepth) return Invalid("nested too deep", loc);
    if (!obj.is_object()) return Invalid("expected a JSON object", loc);
    std::vector<Entry> entries;
    std::vector<const ElementDef*> children;  // definition order, fetched on first need
    for (const auto& [key, value] : obj.members()) {
      if (is_resource && key == "resourceType") continue;
      bool under = key.starts_with('_');
      std::string base = under ? key.substr(1) : key;
      auto it = std::find_if(entries.begin(), entries.end(),
                             [&](const Entry& e) { return e.name == base; });
      if (it == entries.end()) {
        auto rc = t_.reg().ResolveChild(owner, path, base);
        if (!rc || !rc->def) return Invalid("unknown element '" + key + "'", Indexed(loc, key, {}));
        Entry e;
        e.name = base;
        e.rc = *rc;
        e.shape = t_.ShapeOf(*rc);
        if (children.empty()) children = owner.ChildrenOf(path);
        e.order = Tables::OrderOf(children, rc->def);
        e.seen = entries.size();
        entries.push_back(std::move(e));
        it = entries.end() - 1;
      }
      (under ? it->ext : it->value) = &value;
    }
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.order < b.order; });
    for (size_t i = 1; i < entries.size(); ++i)
      if (entries[i].rc.def == entries[i - 1].rc.def)
        return Invalid("'" + entries[i - 1].name + "' and '" + entries[i].name +
                           "' are two values for the single element " + entries[i].rc.def->name,
                       Indexed(loc, entries[i].name, {}));

    bool has_content = false;
    for (const Entry& e : entries) {
      if (e.shape != Shape::kAttribute) {
        has_content = true;
        continue;
      }
      std::string at = Indexed(loc, e.name, {});
      if (e.ext) return Invalid("an XML attribute cannot carry an id or extensions", at);
      if (!e.value || e.value->is_array() || e.value->is_object() || e.value->is_null())
        return Invalid("expected a primitive value", at);
      std::string text;
      CARNET_RETURN_IF_ERROR(PrimitiveText(e.rc.type, *e.value, at, &text));
      attrs.emplace_back(e.name, std::move(text));
    }

    NewLine(level);
    out_ += '<';
    out_ += name;
    for (const auto& [an, av] : attrs) {
      out_ += ' ';
      out_ += an;
      out_ += "=\"";
      AppendEscaped(av, true, &out_);
      out_ += '"';
    }
    if (!has_content) {
      out_ += "/>";
      return Status::Ok();
    }
    out_ += '>';
    for (const Entry& e : entries)
      if (e.shape != Shape::kAttribute) CARNET_RETURN_IF_ERROR(Member(e, owner, loc, level + 1));
    NewLine(level);
    out_ += "</";
    out_ += name;
    out_ += '>';
    return Status::Ok();
  }

  Status Member(const Entry& e, const TypeDef& owner, const std::string& loc, int level) {
    const bool array = e.rc.def->is_array();
    std::string at = Indexed(loc, e.name, {});
    // Collect the occurrences: one, or each item of the array(s).
    std::vector<const JsonValue*> values, exts;
    auto spread = [&](const JsonValue* v, std::vector<const JsonValue*>* into) -> Status {
      if (!v) return Status::Ok();
      if (array) {
        if (!v->is_array()) return Invalid("expected a JSON array", at);
        if (v->items().empty()) return Invalid("empty arrays are not allowed in FHIR JSON", at);
        for (const JsonValue& item : v->items()) into->push_back(&item);
      } else {
        if (v->is_array()) return Invalid("expected a single value, not an array", at);
        into->push_back(v);
      }
      return Status::Ok();
    };
    CARNET_RETURN_IF_ERROR(spread(e.value, &values));
    CARNET_RETURN_IF_ERROR(spread(e.ext, &exts));
    if (e.ext && e.shape != Shape::kPrimitive)
      return Invalid("'_" + e.name + "' is only allowed on primitive elements", at);
    if (e.value && e.ext && values.size() != exts.size())
      return Invalid("'" + e.name + "' and '_" + e.name + "' must have the same length", at);
    size_t n = std::max(values.size(), exts.size());
    for (size_t i = 0; i < n; ++i) {
      const JsonValue* v = i < values.size() ? values[i] : nullptr;
      const JsonValue* x = i < exts.size() ? exts[i] : nullptr;
      if (v && v->is_null()) v = nullptr;
      if (x && x->is_null()) x = nullptr;
      std::string item_loc = Indexed(loc, e.name, array ? std::optional<size_t>(i) : std::nullopt);
      switch (e.shape) {
        case Shape::kAttribute:
          break;
        case Shape::kXhtml:
          if (!v || !v->is_string()) return Invalid("the narrative div must be a string", item_loc);
          CARNET_RETURN_IF_ERROR(Xhtml(v->text(), item_loc, level));
          break;
        case Shape::kResource:
          if (!v) return Invalid("expected a resource", item_loc);
          NewLine(level);
          out_ += '<' + e.name + '>';
          CARNET_RETURN_IF_ERROR(Resource(*v, item_loc, level + 1, false));
          NewLine(level);
          out_ += "</" + e.name + '>';
          break;
        case Shape::kPrimitive: {
          if (!v && !x) return Invalid("null with neither a value nor an extension", item_loc);
          Attrs attrs;
          if (v) {
            std::string text;
            CARNET_RETURN_IF_ERROR(PrimitiveText(e.rc.type, *v, item_loc, &text));
            attrs.emplace_back("value", std::move(text));
          }
          static const JsonValue kEmpty = JsonValue::Object();
          if (!t_.element()) return Internal("the tables have no Element type");
          if (x && !x->is_object()) return Invalid("'_" + e.name + "' must hold objects", item_loc);
          // The `_name` object is an Element: id (an attribute) and extensions.
          CARNET_RETURN_IF_ERROR(Element(e.name, std::move(attrs), *t_.element(), "Element",
                                         x ? *x : kEmpty, item_loc, level, false));
          break;
        }
        case Shape::kComplex: {
          if (!v || !v->is_object()) return Invalid("expected a JSON object", item_loc);
          auto [scope, scope_path] = t_.reg().ChildScope(owner, *e.rc.def, e.rc.type);
          if (!scope) return Internal("no definition for the children of " + e.rc.def->path);
          CARNET_RETURN_IF_ERROR(
              Element(e.name, {}, *scope, scope_path, *v, item_loc, level, false));
          break;
        }
      }
    }
    return Status::Ok();
  }

  Status PrimitiveText(const std::string& type, const JsonValue& v, const std::string& loc,
                       std::string* text) {
    JsonKind want = PrimitiveJsonKind(type);
    switch (v.kind()) {
      case JsonValue::Kind::kBool:
        if (want != JsonKind::kBool) break;
        *text = v.as_bool() ? "true" : "false";
        return Status::Ok();
      case JsonValue::Kind::kNumber:
        if (want != JsonKind::kNumber) break;
        *text = v.text();  // the literal as written: 1.50 stays 1.50
        return Status::Ok();
      case JsonValue::Kind::kString:
        if (want != JsonKind::kString) break;
        if (FindBadChar(v.text()) != std::string::npos)
          return Invalid("the string holds a character XML cannot carry", loc);
        *text = v.text();
        return Status::Ok();
      default:
        break;
    }
    return Invalid("a " + type + " must be " + KindName(want), loc);
  }

  // The narrative is inserted as written in the JSON string, after checking it is one
  // well-formed, self-contained XHTML div (so it cannot break out of its place).
  Status Xhtml(const std::string& div, const std::string& loc, int level) {
    if (FindBadChar(div) != std::string::npos ||
        FindForbiddenCharReference(div) != std::string::npos)
      return Invalid("the narrative holds a character XML cannot carry", loc);
    Status scan = ScanXml(div, kMaxXmlDepth - level);
    if (!scan.ok()) return Invalid("narrative: " + scan.message(), loc);
    if (!div.starts_with("<div") || div.size() < 5 ||
        !(IsSpace(div[4]) || div[4] == '>' || div[4] == '/') || ElementEnd(div, 0) != div.size())
      return Invalid("the narrative must be a single <div> element", loc);
    pugi::xml_document doc;
    pugi::xml_parse_result r =
        doc.load_buffer(div.data(), div.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!r)
      return Invalid(std::string("the narrative is not well-formed XML: ") + r.description(), loc);
    pugi::xml_node root = doc.document_element();
    pugi::xml_attribute xmlns = root.attribute("xmlns");
    NsScope scope;
    if (!SelfContained(root, scope, 0))
      return Invalid("the narrative uses an undeclared namespace prefix", loc);
    NewLine(level);
    if (!xmlns) {
      // The JSON form must declare it; accept the common omission and supply it.
      out_ += "<div xmlns=\"";
      out_ += kXhtmlNs;
      out_ += '"';
      out_.append(div, 4);
      return Status::Ok();
    }
    if (xmlns.value() != kXhtmlNs)
      return Invalid("the narrative div must be in the XHTML namespace", loc);
    out_ += div;
    return Status::Ok();
  }

  const Tables& t_;
  bool pretty_;
  std::string out_;
};

// ---------------------------------------------------------------------------------------------
// XML -> JSON
// ---------------------------------------------------------------------------------------------

class XmlReader {
 public:
  XmlReader(const Tables& t, std::string_view source) : t_(t), source_(source) {}

  Result<JsonValue> Resource(pugi::xml_node el, const std::string& loc, int depth) {
    size_t mark = scope_.Push(el);
    auto [prefix, local] = SplitQName(el.name());
    auto ns = scope_.Resolve(prefix);
    if (!ns || *ns != kFhirNs) {
      scope_.Pop(mark);
      return Invalid("<" + std::string(el.name()) + "> is not in the FHIR namespace", loc);
    }
    const TypeDef* td = t_.reg().Find(local);
    if (!td || td->kind != TypeKind::kResource || td->is_abstract) {
      scope_.Pop(mark);
      return Invalid("unknown resource type '" + std::string(local) + "'", loc);
    }
    JsonValue obj = JsonValue::Object();
    obj.Set("resourceType", JsonValue::String(td->name));
    std::string here = loc.empty() ? td->name : loc;
    Status s = Children(*td, td->name, el, here, depth, nullptr, &obj);
    scope_.Pop(mark);
    if (!s.ok()) return s;
    return obj;
  }

 private:
  // One member being collected: repeated XML elements become one JSON array, and a
  // primitive's values and id/extensions become the parallel `name` / `_name` members.
  struct Pending {
    std::string name;
    const ElementDef* def = nullptr;
    bool primitive = false;
    std::vector<JsonValue> values;
    std::vector<JsonValue> exts;
    bool any_ext = false;
  };

  // Fills `obj` from the attributes and child elements of `el`, the children of `path` in
  // `owner`. `value` receives the `value` attribute when the caller reads a primitive
  // (nullptr: no such attribute allowed).
  Status Children(const TypeDef& owner, const std::string& path, pugi::xml_node el,
                  const std::string& loc, int depth, std::optional<std::string>* value,
                  JsonValue* obj) {
    if (depth > kMaxXmlDepth) return BadRequest("XML nested too deep", loc);
    std::vector<std::string_view> seen_attrs;
    for (pugi::xml_attribute a : el.attributes()) {
      std::string_view an = a.name();
      if (std::find(seen_attrs.begin(), seen_attrs.end(), an) != seen_attrs.end())
        return BadRequest("attribute '" + std::string(an) + "' repeated", loc);
      seen_attrs.push_back(an);
      if (IsNsDecl(an)) continue;
      auto [prefix, local] = SplitQName(an);
      if (!prefix.empty()) {
        // xsi:schemaLocation and friends are schema hints, not content.
        if (scope_.Resolve(prefix) == kXsiNs) continue;
        return Invalid("unexpected attribute '" + std::string(an) + "'", loc);
      }
      if (an == "value" && value) {
        *value = std::string(a.value());
        continue;
      }
      auto rc = t_.reg().ResolveChild(owner, path, an);
      if (!rc || !rc->def || !rc->def->xml_attribute)
        return Invalid("unexpected attribute '" + std::string(an) + "'", loc);
      auto v = Typed(rc->type, a.value(), Indexed(loc, an, {}));
      if (!v.ok()) return v.status();
      obj->Set(std::string(an), std::move(*v));
    }

    std::vector<Pending> pending;
    for (pugi::xml_node c = el.first_child(); c; c = c.next_sibling()) {
      switch (c.type()) {
        case pugi::node_element:
          CARNET_RETURN_IF_ERROR(Child(owner, path, c, loc, depth + 1, &pending));
          break;
        case pugi::node_pcdata:
        case pugi::node_cdata:
          if (IsBlank(c.value())) break;
          return Invalid("text is not allowed in <" + std::string(el.name()) + ">", loc);
        default:  // comments and processing instructions carry no content
          break;
      }
    }
    for (Pending& p : pending) {
      if (!p.primitive) {
        if (p.def->is_array()) {
          JsonValue arr = JsonValue::Array();
          for (JsonValue& v : p.values) arr.Append(std::move(v));
          obj->Set(p.name, std::move(arr));
        } else {
          obj->Set(p.name, std::move(p.values[0]));
        }
        continue;
      }
      if (p.def->is_array()) {
        // Nulls fill the positions without a value (or without id/extensions), as in the
        // specification's examples: "given": [null], "_given": [{...}].
        JsonValue arr = JsonValue::Array();
        for (JsonValue& v : p.values) arr.Append(std::move(v));
        obj->Set(p.name, std::move(arr));
        if (p.any_ext) {
          JsonValue ext = JsonValue::Array();
          for (JsonValue& v : p.exts) ext.Append(std::move(v));
          obj->Set("_" + p.name, std::move(ext));
        }
      } else {
        if (!p.values[0].is_null()) obj->Set(p.name, std::move(p.values[0]));
        if (p.any_ext) obj->Set("_" + p.name, std::move(p.exts[0]));
      }
    }
    return Status::Ok();
  }

  Status Child(const TypeDef& owner, const std::string& path, pugi::xml_node c,
               const std::string& loc, int depth, std::vector<Pending>* pending) {
    size_t mark = scope_.Push(c);
    Status s = ChildInScope(owner, path, c, loc, depth, pending);
    scope_.Pop(mark);
    return s;
  }

  Status ChildInScope(const TypeDef& owner, const std::string& path, pugi::xml_node c,
                      const std::string& loc, int depth, std::vector<Pending>* pending) {
    auto [prefix, local_view] = SplitQName(c.name());
    std::string local(local_view);
    auto ns = scope_.Resolve(prefix);
    if (!ns)
      return Invalid("undeclared namespace prefix on <" + std::string(c.name()) + ">",
                     Indexed(loc, local, {}));
    const bool xhtml = *ns == kXhtmlNs && local == "div";
    if (*ns != kFhirNs && !xhtml)
      return Invalid("<" + std::string(c.name()) + "> is not in the FHIR namespace",
                     Indexed(loc, local, {}));
    auto rc = t_.reg().ResolveChild(owner, path, local);
    if (!rc || !rc->def) return Invalid("unknown element <" + local + ">", Indexed(loc, local, {}));
    Shape shape = t_.ShapeOf(*rc);
    if ((shape == Shape::kXhtml) != xhtml)
      return Invalid(
          xhtml ? "unexpected XHTML <div>" : "the narrative <div> must be in the XHTML namespace",
          Indexed(loc, local, {}));
    if (shape == Shape::kAttribute)
      return Invalid("<" + local + "> must be written as an attribute", Indexed(loc, local, {}));

    auto it = std::find_if(pending->begin(), pending->end(),
                           [&](const Pending& p) { return p.def == rc->def; });
    if (it != pending->end() && it->name != local)
      return Invalid("<" + it->name + "> and <" + local + "> both given for " + rc->def->name,
                     Indexed(loc, local, {}));
    if (it != pending->end() && !rc->def->is_array())
      return Invalid("<" + local + "> repeats but " + rc->def->path + " is not a list",
                     Indexed(loc, local, {}));
    if (it == pending->end()) {
      Pending p;
      p.name = local;
      p.def = rc->def;
      p.primitive = shape == Shape::kPrimitive;
      pending->push_back(std::move(p));
      it = pending->end() - 1;
    }
    std::string at = Indexed(
        loc, local, rc->def->is_array() ? std::optional<size_t>(it->values.size()) : std::nullopt);

    switch (shape) {
      case Shape::kAttribute:
        break;
      case Shape::kXhtml: {
        auto div = Div(c);
        if (!div) return Invalid("the narrative uses an undeclared namespace prefix", at);
        it->values.push_back(JsonValue::String(std::move(*div)));
        break;
      }
      case Shape::kResource: {
        pugi::xml_node inner;
        for (pugi::xml_attribute a : c.attributes())
          if (!IsNsDecl(a.name()))
            return Invalid("unexpected attribute '" + std::string(a.name()) + "'", at);
        for (pugi::xml_node n = c.first_child(); n; n = n.next_sibling()) {
          if (n.type() == pugi::node_element) {
            if (inner) return Invalid("<" + local + "> must hold exactly one resource", at);
            inner = n;
          } else if ((n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) &&
                     !IsBlank(n.value())) {
            return Invalid("text is not allowed in <" + local + ">", at);
          }
        }
        if (!inner) return Invalid("<" + local + "> must hold a resource", at);
        auto r = Resource(inner, at, depth + 1);
        if (!r.ok()) return r.status();
        it->values.push_back(std::move(*r));
        break;
      }
      case Shape::kPrimitive: {
        if (!t_.element()) return Internal("the tables have no Element type");
        std::optional<std::string> text;
        JsonValue ext = JsonValue::Object();
        CARNET_RETURN_IF_ERROR(Children(*t_.element(), "Element", c, at, depth, &text, &ext));
        if (!text && ext.members().empty())
          return Invalid("<" + local + "> has neither a value nor an extension", at);
        JsonValue v;
        if (text) {
          auto typed = Typed(rc->type, *text, at);
          if (!typed.ok()) return typed.status();
          v = std::move(*typed);
        }
        it->values.push_back(std::move(v));
        if (ext.members().empty()) {
          it->exts.emplace_back();
        } else {
          it->exts.push_back(std::move(ext));
          it->any_ext = true;
        }
        break;
      }
      case Shape::kComplex: {
        auto [scope, scope_path] = t_.reg().ChildScope(owner, *rc->def, rc->type);
        if (!scope) return Internal("no definition for the children of " + rc->def->path);
        JsonValue obj = JsonValue::Object();
        CARNET_RETURN_IF_ERROR(Children(*scope, scope_path, c, at, depth, nullptr, &obj));
        it->values.push_back(std::move(obj));
        break;
      }
    }
    return Status::Ok();
  }

  // The JSON value of a primitive's XML text, typed by the element's type.
  Result<JsonValue> Typed(const std::string& type, std::string_view text, const std::string& at) {
    switch (PrimitiveJsonKind(type)) {
      case JsonKind::kBool:
        if (text == "true") return JsonValue::Bool(true);
        if (text == "false") return JsonValue::Bool(false);
        return Invalid("'" + std::string(text) + "' is not a boolean", at);
      case JsonKind::kNumber:
        if (!IsJsonNumber(text) ||
            (IsIntegerType(type) && text.find_first_of(".eE") != std::string_view::npos))
          return Invalid("'" + std::string(text) + "' is not a valid " + type, at);
        return JsonValue::Number(std::string(text));
      case JsonKind::kString:
        break;
    }
    return JsonValue::String(std::string(text));
  }

  // The narrative as the JSON string: its source text, lifted verbatim when it stands on its
  // own (the usual `<div xmlns="http://www.w3.org/1999/xhtml">`), so that entity spelling,
  // quotes and empty-element forms survive; otherwise a namespace-fixed serialisation.
  std::optional<std::string> Div(pugi::xml_node div) {
    ptrdiff_t name_at = div.offset_debug();
    pugi::xml_attribute xmlns = div.attribute("xmlns");
    NsScope inner;
    if (name_at > 0 && static_cast<size_t>(name_at) < source_.size() &&
        source_[name_at - 1] == '<' && std::string_view(div.name()) == "div" && xmlns &&
        xmlns.value() == kXhtmlNs && SelfContained(div, inner, 0)) {
      size_t lt = static_cast<size_t>(name_at) - 1;
      size_t end = ElementEnd(source_, lt);
      if (end != std::string_view::npos) return NormalizeEol(source_.substr(lt, end - lt));
    }
    return XhtmlSerializer(scope_).Run(div);
  }

  const Tables& t_;
  std::string_view source_;
  NsScope scope_;
};

}  // namespace

Result<std::string> ResourceJsonToXml(const JsonValue& resource, bool pretty) {
  Tables tables(model::StructureRegistry::R4());
  XmlWriter w(tables, pretty);
  CARNET_RETURN_IF_ERROR(w.Root(resource));
  return w.Take();
}

Result<JsonValue> ResourceXmlToJson(std::string_view xml) {
  if (xml.starts_with("\xEF\xBB\xBF")) xml.remove_prefix(3);
  if (size_t bad = FindBadChar(xml); bad != std::string_view::npos)
    return BadRequest("invalid UTF-8 or a character XML does not allow at byte " +
                      std::to_string(bad));
  if (size_t bad = FindForbiddenCharReference(xml); bad != std::string_view::npos)
    return BadRequest(
        "a reference to a character XML does not allow (" +
        std::string(xml.substr(bad, std::min<size_t>(xml.find(';', bad) - bad + 1, 16))) +
        ") at byte " + std::to_string(bad));
  CARNET_RETURN_IF_ERROR(ScanXml(xml, kMaxXmlDepth));

  // No DTD processing exists in pugixml (nothing is expanded or fetched); parse_doctype only
  // makes a DOCTYPE visible so that it is refused again here, should the scan ever miss one.
  // Whitespace-only text is kept for the narrative's sake (FHIR elements ignore it).
  const unsigned flags = pugi::parse_cdata | pugi::parse_escapes | pugi::parse_wconv_attribute |
                         pugi::parse_eol | pugi::parse_ws_pcdata | pugi::parse_declaration |
                         pugi::parse_doctype;
  pugi::xml_document doc;
  pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size(), flags, pugi::encoding_utf8);
  if (!r)
    return BadRequest(std::string("malformed XML: ") + r.description() + " at byte " +
                      std::to_string(r.offset));
  pugi::xml_node root;
  for (pugi::xml_node n : doc.children()) {
    switch (n.type()) {
      case pugi::node_doctype:
        return BadRequest("DOCTYPE is not accepted");
      case pugi::node_declaration: {
        std::string enc = n.attribute("encoding").value();
        std::transform(enc.begin(), enc.end(), enc.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (!enc.empty() && enc != "utf-8" && enc != "utf8")
          return BadRequest("FHIR XML must be UTF-8, not " + std::string(enc));
        break;
      }
      case pugi::node_element:
        if (root) return BadRequest("malformed XML: more than one root element");
        root = n;
        break;
      case pugi::node_pcdata:
      case pugi::node_cdata:
        if (!IsBlank(n.value())) return BadRequest("malformed XML: text outside the root");
        break;
      default:
        break;
    }
  }
  if (!root) return BadRequest("malformed XML: no root element");
  {
    NsScope scope;
    scope.Push(root);
    auto ns = scope.Resolve(SplitQName(root.name()).first);
    if (!ns || *ns != kFhirNs)
      return BadRequest("the root element <" + std::string(root.name()) +
                        "> is not in the FHIR namespace (http://hl7.org/fhir)");
  }
  Tables tables(model::StructureRegistry::R4());
  XmlReader reader(tables, xml);
  return reader.Resource(root, "", 0);
}

}  // namespace carnet::fhir
