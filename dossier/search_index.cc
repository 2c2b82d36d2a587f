#include "dossier/search_index.h"

#include <cstdlib>
#include <set>

#include "base/strings.h"
#include "dossier/document_extraction.h"
#include "dossier/search_params.h"
#include "model/search_dates.h"
#include "model/search_text.h"
#include "model/structure.h"

namespace carnet::dossier {

using model::DateRange;
using model::NormalizeSearchText;
using model::ParseDateRange;
using model::PathValue;
using model::SearchParamSet;

namespace {

// B-tree entries must stay well under PostgreSQL's 2704-byte limit.
constexpr size_t kMaxIndexedText = 1000;

std::string Clip(std::string s) {
  if (s.size() <= kMaxIndexedText) return s;
  size_t n = kMaxIndexedText;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // UTF-8 boundary
  s.resize(n);
  return s;
}

std::optional<std::string> Opt(const JsonValue& obj, const char* key) {
  const JsonValue* v = obj.Find(key);
  if (!v || !(v->is_string() || v->is_number() || v->is_bool())) return std::nullopt;
  if (v->is_bool()) return std::string(v->as_bool() ? "true" : "false");
  if (v->text().empty()) return std::nullopt;
  return Clip(v->text());
}

std::optional<std::string> Norm(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return Clip(NormalizeSearchText(*s));
}

std::optional<std::string> PrimitiveText(const PathValue& v) {
  if (v.kind == PathValue::Kind::kBoolean) return std::string(v.boolean ? "true" : "false");
  if (v.kind == PathValue::Kind::kString) return v.text;
  if (!v.json) return std::nullopt;
  if (v.json->is_bool()) return std::string(v.json->as_bool() ? "true" : "false");
  if (v.json->is_string() || v.json->is_number()) return v.json->text();
  return std::nullopt;
}

bool IsQuantityType(const std::string& t) {
  return t == "Quantity" || t == "Age" || t == "Duration" || t == "Distance" || t == "Count" ||
         t == "SimpleQuantity" || t == "MoneyQuantity" || t == "Money";
}

// Every string leaf under an element (bounded): strings of a complex value.
void StringLeaves(const JsonValue& v, int depth, std::vector<std::string>* out) {
  if (depth > 8 || out->size() > 50) return;
  if (v.is_string()) {
    out->push_back(v.text());
  } else if (v.is_array()) {
    for (const auto& i : v.items()) StringLeaves(i, depth + 1, out);
  } else if (v.is_object()) {
    for (const auto& [k, m] : v.members())
      if (k != "extension" && k != "id" && k != "url" && k != "system" && k != "use")
        StringLeaves(m, depth + 1, out);
  }
}

void AddString(const std::string& code, const std::string& s, IndexRows* rows) {
  if (s.empty()) return;
  IndexRows::String row;
  row.param = code;
  row.norm = Clip(NormalizeSearchText(s));
  row.exact = Clip(s);
  rows->strings.push_back(std::move(row));
}

void ExtractString(const std::string& code, const PathValue& v, IndexRows* rows) {
  if (auto t = PrimitiveText(v)) {
    if (v.kind != PathValue::Kind::kElement || !v.json || !v.json->is_object()) {
      AddString(code, *t, rows);
      return;
    }
  }
  if (!v.json || !v.json->is_object()) return;
  std::vector<std::string> parts;
  if (v.type == "HumanName") {
    for (const char* k : {"family", "given", "prefix", "suffix", "text"})
      if (const JsonValue* m = v.json->Find(k)) StringLeaves(*m, 0, &parts);
  } else if (v.type == "Address") {
    for (const char* k : {"line", "city", "district", "state", "postalCode", "country", "text"})
      if (const JsonValue* m = v.json->Find(k)) StringLeaves(*m, 0, &parts);
  } else {
    StringLeaves(*v.json, 0, &parts);
  }
  for (const auto& p : parts) AddString(code, p, rows);
}

void ExtractToken(const std::string& code, const PathValue& v, IndexRows* rows) {
  auto add = [&](std::optional<std::string> system, std::optional<std::string> c,
                 std::optional<std::string> text) {
    if (!c && !text) return;
    IndexRows::Token t;
    t.param = code;
    t.system = std::move(system);
    t.code = std::move(c);
    t.text_norm = Norm(text);
    rows->tokens.push_back(std::move(t));
  };
  if (v.kind != PathValue::Kind::kElement || !v.json || !v.json->is_object()) {
    if (auto t = PrimitiveText(v)) add(std::nullopt, Clip(*t), std::nullopt);
    return;
  }
  const JsonValue& j = *v.json;
  if (v.type == "CodeableConcept") {
    if (const JsonValue* codings = j.Find("coding"); codings && codings->is_array())
      for (const auto& c : codings->items())
        add(Opt(c, "system"), Opt(c, "code"), Opt(c, "display"));
    if (auto text = Opt(j, "text")) add(std::nullopt, std::nullopt, text);
  } else if (v.type == "Identifier") {
    IndexRows::Token t;
    t.param = code;
    t.system = Opt(j, "system");
    t.code = Opt(j, "value");
    if (const JsonValue* type = j.Find("type")) {
      t.text_norm = Norm(Opt(*type, "text"));
      if (const JsonValue* codings = type->Find("coding");
          codings && codings->is_array() && !codings->items().empty()) {
        t.type_system = Opt(codings->items()[0], "system");
        t.type_code = Opt(codings->items()[0], "code");
      }
    }
    if (t.code) rows->tokens.push_back(std::move(t));
  } else if (v.type == "ContactPoint") {
    add(Opt(j, "system"), Opt(j, "value"), std::nullopt);
  } else if (IsQuantityType(v.type)) {
    add(Opt(j, "system"), Opt(j, "code"), Opt(j, "unit"));
  } else if (v.type == "Reference") {
    if (const JsonValue* id = j.Find("identifier"))
      add(Opt(*id, "system"), Opt(*id, "value"), std::nullopt);
  } else {
    // Coding and anything shaped like it.
    add(Opt(j, "system"), Opt(j, "code"), Opt(j, "display"));
  }
}

void ExtractReference(const std::string& code, const PathValue& v, IndexRows* rows) {
  IndexRows::Reference r;
  r.param = code;
  std::string ref;
  if (v.json && v.json->is_object()) {
    ref = v.json->GetString("reference");
    if (const JsonValue* id = v.json->Find("identifier"); id && id->is_object()) {
      r.id_system = Opt(*id, "system");
      r.id_value = Opt(*id, "value");
    }
  } else if (auto t = PrimitiveText(v)) {
    ref = *t;  // canonical, uri
  }
  if (!ref.empty()) {
    ParsedReference p = ParseReference(ref);
    if (!p.type.empty()) r.target_type = p.type;
    if (!p.id.empty()) r.target_id = p.id;
    if (!p.url.empty()) r.target_url = Clip(p.url);
  }
  if (r.target_id || r.target_url || r.id_value) rows->references.push_back(std::move(r));
}

void AddDate(const std::string& code, const std::optional<std::string>& low,
             const std::optional<std::string>& high, IndexRows* rows) {
  std::optional<DateRange> l, h;
  if (low) l = ParseDateRange(*low);
  if (high) h = ParseDateRange(*high);
  if (!l && !h) return;
  rows->dates.push_back({code, l ? l->low : "-infinity", h ? h->high : "infinity"});
}

void ExtractDate(const std::string& code, const PathValue& v, IndexRows* rows) {
  if (!v.json) return;
  if (!v.json->is_object()) {
    if (auto t = PrimitiveText(v)) AddDate(code, t, t, rows);
    return;
  }
  const JsonValue& j = *v.json;
  if (v.type == "Period") {
    AddDate(code, Opt(j, "start"), Opt(j, "end"), rows);
  } else if (v.type == "Timing") {
    std::optional<std::string> first, last;
    if (const JsonValue* events = j.Find("event"); events && events->is_array())
      for (const auto& e : events->items()) {
        if (!e.is_string()) continue;
        if (!first || e.text() < *first) first = e.text();
        if (!last || e.text() > *last) last = e.text();
      }
    if (first) AddDate(code, first, last, rows);
    if (const JsonValue* rep = j.Find("repeat"))
      if (const JsonValue* bounds = rep->Find("boundsPeriod"))
        AddDate(code, Opt(*bounds, "start"), Opt(*bounds, "end"), rows);
  }
}

void ExtractQuantity(const std::string& code, const PathValue& v, IndexRows* rows) {
  if (!v.json) return;
  if (v.json->is_number()) {
    rows->quantities.push_back(
        {code, v.json->text(), std::nullopt, std::nullopt, std::nullopt, std::nullopt});
    return;
  }
  if (!v.json->is_object()) return;
  const JsonValue& j = *v.json;
  if (v.type == "Range") {
    const JsonValue* low = j.Find("low");
    const JsonValue* high = j.Find("high");
    const JsonValue* lv = low ? low->Find("value") : nullptr;
    const JsonValue* hv = high ? high->Find("value") : nullptr;
    if (!(lv && lv->is_number()) && !(hv && hv->is_number())) return;
    const JsonValue* unit = lv && lv->is_number() ? low : high;
    std::string value = lv && lv->is_number() ? lv->text() : hv->text();
    rows->quantities.push_back({code, value,
                                lv && lv->is_number() ? lv->text() : std::string("-1e30"),
                                hv && hv->is_number() ? hv->text() : std::string("1e30"),
                                Opt(*unit, "system"), Opt(*unit, "code")});
    return;
  }
  const JsonValue* value = j.Find("value");
  if (!value || !value->is_number()) return;
  IndexRows::Quantity q{code,         value->text(),    std::nullopt,
                        std::nullopt, Opt(j, "system"), Opt(j, "code")};
  if (v.type == "Money") {
    q.system = "urn:iso:std:iso:4217";
    q.code = Opt(j, "currency");
  } else if (!q.code) {
    q.code = Opt(j, "unit");  // units compared as written when no code is given
  }
  rows->quantities.push_back(std::move(q));
}

void ExtractUri(const std::string& code, const PathValue& v, IndexRows* rows) {
  if (auto t = PrimitiveText(v); t && !t->empty()) rows->uris.push_back({code, Clip(*t)});
}

// The text given to full-text search per resource and parameter is bounded (a tsvector holds
// at most 1 MB); past the bound, the words of the rest are not searchable.
constexpr size_t kMaxFullText = 256 * 1024;

// `s` without what PostgreSQL cannot take as text: invalid UTF-8 and control characters (NUL
// above all) become spaces.
std::string CleanText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size() && c != 0xC0 && c != 0xC1 && c <= 0xF4;
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && n > 2) {  // no overlong form, surrogate, or code point past U+10FFFF
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0) && !(c == 0xF0 && c1 < 0x90) &&
           !(c == 0xF4 && c1 >= 0x90);
    }
    if (!ok || (n == 1 && c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      out += ' ';
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

// The words of XHTML or XML (a narrative's div, a CDA document): the character data, tags
// replaced by spaces (so that <td>a</td><td>b</td> stays two words), the predefined and
// numeric character references decoded, comments and processing instructions left out.
std::string MarkupText(std::string_view x) {
  std::string out;
  size_t i = 0;
  while (i < x.size() && out.size() < kMaxFullText) {
    char c = x[i];
    if (c == '<') {
      std::string_view close = ">";
      if (x.substr(i, 9) == "<![CDATA[") {
        size_t end = x.find("]]>", i + 9);
        out += ' ';
        out.append(x.substr(i + 9, (end == std::string_view::npos ? x.size() : end) - i - 9));
        out += ' ';
        i = end == std::string_view::npos ? x.size() : end + 3;
        continue;
      }
      if (x.substr(i, 4) == "<!--") close = "-->";
      size_t end = x.find(close, i + 1);
      i = end == std::string_view::npos ? x.size() : end + close.size();
      out += ' ';
    } else if (c == '&') {
      size_t semi = x.find(';', i);
      std::string_view name =
          semi == std::string_view::npos || semi - i > 10 ? "" : x.substr(i + 1, semi - i - 1);
      static const std::pair<std::string_view, uint32_t> kNamed[] = {
          {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", ' '}};
      uint32_t cp = 0;
      for (const auto& [n, v] : kNamed)
        if (name == n) cp = v;
      if (cp == 0 && name.size() > 1 && name[0] == '#') {
        bool hex = name[1] == 'x' || name[1] == 'X';
        std::string digits(name.substr(hex ? 2 : 1));
        char* endp = nullptr;
        unsigned long v = digits.empty() ? 0 : std::strtoul(digits.c_str(), &endp, hex ? 16 : 10);
        if (endp && *endp == '\0' && v > 0 && v < 0x110000 && (v < 0xD800 || v > 0xDFFF))
          cp = static_cast<uint32_t>(v);
      }
      if (cp == 0) {
        out += c;
        ++i;
      } else {
        AppendUtf8(cp, &out);
        i = semi + 1;
      }
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

// Every string of a resource, for _content: its elements' values (the narrative as words),
// but not what names or encodes rather than says (ids, references, systems, urls, base64).
void ContentStrings(const JsonValue& v, const std::string& key, std::string* out) {
  if (out->size() >= kMaxFullText) return;
  if (v.is_string()) {
    if (key == "div") {
      *out += MarkupText(v.text());
    } else {
      *out += v.text();
    }
    *out += '\n';
  } else if (v.is_array()) {
    for (const auto& i : v.items()) ContentStrings(i, key, out);
  } else if (v.is_object()) {
    static const std::set<std::string> kSkipped = {
        "resourceType", "id", "meta", "reference", "system", "url", "fullUrl", "data", "hash"};
    for (const auto& [k, m] : v.members())
      if (!kSkipped.count(k)) ContentStrings(m, k, out);
  }
}

void AddFullText(const std::string& param, std::string text, IndexRows* rows) {
  if (text.size() > kMaxFullText) {
    size_t n = kMaxFullText;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    text.resize(n);
  }
  text = CleanText(text);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return;
  std::string folded = NormalizeSearchText(text);
  rows->texts.push_back({param, std::move(text), std::move(folded)});
}

// The words of a document's bytes when they are text: XML or HTML (a CDA document) as its
// character data, plain text and JSON as written; nothing for a PDF, an image...
bool IsTextType(const std::string& type) {
  return type.rfind("text/", 0) == 0 || type.find("xml") != std::string::npos ||
         type.find("html") != std::string::npos || type.find("json") != std::string::npos;
}

std::string DocumentWords(const std::string& bytes, const std::string& content_type) {
  std::string type = NormalizeSearchText(content_type);
  size_t start = bytes.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  bool markup = type.find("xml") != std::string::npos || type.find("html") != std::string::npos ||
                (start != std::string::npos && bytes[start] == '<');
  if (markup) return MarkupText(bytes);
  if (type.rfind("text/", 0) == 0 || type.find("json") != std::string::npos) return bytes;
  return std::string();
}

// The rows of one value `v` of a parameter of type `type` (not composite).
void ExtractTyped(const std::string& type, const std::string& code, const PathValue& v,
                  IndexRows* rows) {
  if (type == "string")
    ExtractString(code, v, rows);
  else if (type == "token")
    ExtractToken(code, v, rows);
  else if (type == "reference")
    ExtractReference(code, v, rows);
  else if (type == "date")
    ExtractDate(code, v, rows);
  else if (type == "number" || type == "quantity")
    ExtractQuantity(code, v, rows);
  else if (type == "uri")
    ExtractUri(code, v, rows);
}

size_t TypedRowCount(const IndexRows& r) {
  return r.strings.size() + r.tokens.size() + r.references.size() + r.dates.size() +
         r.quantities.size() + r.uris.size();
}

// Moves the rows of `part` into `rows`, tied by `group`.
void AppendGroup(IndexRows&& part, int group, IndexRows* rows) {
  auto move = [group](auto& from, auto& to) {
    for (auto& r : from) {
      r.group = group;
      to.push_back(std::move(r));
    }
  };
  move(part.strings, rows->strings);
  move(part.tokens, rows->tokens);
  move(part.references, rows->references);
  move(part.dates, rows->dates);
  move(part.quantities, rows->quantities);
  move(part.uris, rows->uris);
}

// A composite (or near): for each value of its expression (the repeating element: the
// Observation itself, one of its components...), each component's rows, in the table of the
// component's type under "<code>$<position>", all with the group number of that value. A value
// lacking one of the components cannot match and gives no rows.
void ExtractComposite(const model::SearchParamDef& def, const JsonValue& resource,
                      IndexRows* rows) {
  int group = 0;
  for (const PathValue& element : def.path->Evaluate(resource)) {
    IndexRows part;
    bool complete = true;
    for (size_t i = 0; i < def.components.size() && complete; ++i) {
      const auto& component = def.components[i];
      size_t before = TypedRowCount(part);
      std::string param = def.code + "$" + std::to_string(i);
      for (const PathValue& v : component.path->Evaluate(element, resource))
        ExtractTyped(component.type, param, v, &part);
      complete = TypedRowCount(part) > before;
    }
    if (complete) AppendGroup(std::move(part), group++, rows);
  }
}

}  // namespace

ParsedReference ParseReference(const std::string& ref_in) {
  ParsedReference p;
  std::string ref = ref_in;
  if (ref.empty() || ref[0] == '#') return p;  // contained: not a searchable target
  bool absolute = ref.find("://") != std::string::npos || ref.rfind("urn:", 0) == 0;
  if (absolute) {
    p.url = ref;
    size_t bar = p.url.find('|');  // canonical|version
    if (bar != std::string::npos) p.url.erase(bar);
    return p;
  }
  size_t q = ref.find_first_of("?#");
  if (q != std::string::npos) ref.erase(q);
  size_t h = ref.find("/_history/");
  if (h != std::string::npos) ref.erase(h);
  size_t slash = ref.find('/');
  if (slash == std::string::npos || ref.find('/', slash + 1) != std::string::npos) {
    p.url = ref_in;
    return p;
  }
  p.type = ref.substr(0, slash);
  p.id = ref.substr(slash + 1);
  if (!model::StructureRegistry::R4().IsResourceType(p.type) || p.id.empty()) {
    p = ParsedReference();
    p.url = ref_in;
  }
  return p;
}

IndexRows ExtractIndexRows(const SearchParamSet& params, const std::string& type,
                           const JsonValue& resource) {
  IndexRows rows;
  for (const auto& [code, def] : params.ForType(type)) {
    // Served straight from the resource table's columns.
    if (code == "_id" || code == "_lastUpdated") continue;
    if (!def->path) continue;
    if (!def->components.empty()) {
      ExtractComposite(*def, resource, &rows);
      continue;
    }
    for (const PathValue& v : def->path->Evaluate(resource))
      ExtractTyped(def->type, code, v, &rows);
  }
  // Full text: _text is the narrative, _content every string of the resource (a
  // DocumentReference's document is added by AddDocumentText, which reads it from the store).
  // A Binary is never searched (fhir/search.cc): its words are its document's.
  if (type == "Binary") return rows;
  if (const JsonValue* text = resource.Find("text"))
    if (const JsonValue* div = text->Find("div"); div && div->is_string())
      AddFullText("_text", MarkupText(div->text()), &rows);
  std::string content;
  ContentStrings(resource, "", &content);
  AddFullText("_content", std::move(content), &rows);
  return rows;
}

Status AddDocumentText(storage::Transaction& tx, const std::string& type, const JsonValue& resource,
                       IndexRows* rows) {
  if (type != "DocumentReference") return Status::Ok();
  // A document declared as something else than text (a PDF, an image) has no words to give:
  // its bytes (megabytes, in a Binary) are not read on every version of the DocumentReference.
  if (const JsonValue* content = resource.Find("content");
      content && content->is_array() && !content->items().empty())
    if (const JsonValue* attachment = content->items()[0].Find("attachment")) {
      std::string declared = NormalizeSearchText(attachment->GetString("contentType"));
      if (!declared.empty() && !IsTextType(declared)) return Status::Ok();
    }
  std::string content_type;
  auto bytes = DocumentContentOf(tx, resource, &content_type);
  if (!bytes.ok()) return bytes.status();
  std::string words = DocumentWords(*bytes, content_type);
  if (words.empty()) return Status::Ok();
  // One _content row: the resource's strings, then the document's words.
  std::string content;
  for (auto t = rows->texts.begin(); t != rows->texts.end(); ++t)
    if (t->param == "_content") {
      content = std::move(t->text) + "\n";
      rows->texts.erase(t);
      break;
    }
  AddFullText("_content", content + words, rows);
  return Status::Ok();
}

Status ReindexDocument(storage::Transaction& tx, const std::string& dr_id,
                       const std::string& content_url) {
  auto dr = storage::ReadCurrent(tx, "DocumentReference", dr_id, false);
  if (!dr.ok()) return dr.status();
  if (!*dr || (*dr)->deleted) return Status::Ok();
  auto json = ParseJson((*dr)->content);
  if (!json.ok()) return Status::Ok();
  if (!content_url.empty()) {
    const JsonValue* content = json->Find("content");
    const JsonValue* attachment = content && content->is_array() && !content->items().empty()
                                      ? content->items()[0].Find("attachment")
                                      : nullptr;
    if (!attachment || attachment->GetString("url") != content_url) return Status::Ok();
  }
  auto params = CurrentSearchParams(tx);
  if (!params.ok()) return params.status();
  IndexRows rows = ExtractIndexRows(**params, "DocumentReference", *json);
  CARNET_RETURN_IF_ERROR(AddDocumentText(tx, "DocumentReference", *json, &rows));
  return storage::WriteIndexRows(tx, **dr, rows);
}

Status UpdateSearchIndex(storage::Transaction& tx, const storage::StoredResource& stored,
                         const JsonValue* resource) {
  auto& registry = model::SearchParamRegistry::Instance();
  TransactionSearchParamStore store(tx);
  if (stored.type == "SearchParameter")
    CARNET_RETURN_IF_ERROR(registry.OnSearchParameterWrite(store, stored.id, resource));
  IndexRows rows;
  if (resource != nullptr) {
    auto params = registry.Current(store);
    if (!params.ok()) return params.status();
    rows = ExtractIndexRows(**params, stored.type, *resource);
    CARNET_RETURN_IF_ERROR(AddDocumentText(tx, stored.type, *resource, &rows));
    // The content of a document written after it (the order of an XDS submission): the
    // document's _content gains its words.
    if (const JsonValue* context = resource->Find("securityContext");
        context && stored.type == "Binary") {
      std::string ref = context->GetString("reference");
      if (ref.rfind("DocumentReference/", 0) == 0)
        CARNET_RETURN_IF_ERROR(ReindexDocument(tx, ref.substr(18), "Binary/" + stored.id));
    }
  }
  // A first version has no index rows yet (a resource deleted and written again has a later
  // version number).
  return storage::WriteIndexRows(tx, stored, rows, stored.version == 1);
}

Result<long long> Reindex(storage::Pool& pool, const std::string& type) {
  constexpr int kBatch = 500;
  long long done = 0;
  std::string after_type, after_id;
  while (true) {
    int batch = 0;
    Status st = storage::RunInTransaction(pool, [&](storage::Transaction& tx) -> Status {
      batch = 0;
      auto params = CurrentSearchParams(tx);
      if (!params.ok()) return params.status();
      auto resources = storage::ResourcesToReindex(tx, type, after_type, after_id, kBatch);
      if (!resources.ok()) return resources.status();
      for (const storage::StoredResource& s : *resources) {
        auto json = ParseJson(s.content);
        if (!json.ok()) continue;
        IndexRows rows = ExtractIndexRows(**params, s.type, *json);
        CARNET_RETURN_IF_ERROR(AddDocumentText(tx, s.type, *json, &rows));
        CARNET_RETURN_IF_ERROR(storage::WriteIndexRows(tx, s, rows));
        after_type = s.type;
        after_id = s.id;
        ++batch;
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    done += batch;
    if (batch < kBatch) return done;
  }
}

}  // namespace carnet::dossier
