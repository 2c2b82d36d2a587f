#include "fhir/search_path.h"

#include <cctype>

#include "profiles/structure.h"

namespace carnet::fhir {

using profiles::StructureRegistry;

namespace {

constexpr size_t kMaxExpression = 4000;
constexpr int kMaxDepth = 64;
constexpr size_t kMaxItems = 10000;

}  // namespace

struct SearchPath::Node {
  enum class Kind {
    kName,
    kFunc,
    kInvoke,
    kUnion,
    kEq,
    kNe,
    kAnd,
    kOr,
    kIs,
    kAs,
    kString,
    kBool,
    kThis
  };
  Kind kind;
  std::string name;  // kName, kFunc, kIs/kAs (type name), kString
  bool boolean = false;
  std::vector<std::shared_ptr<const Node>> args;  // operands / function arguments
};

namespace {

using NodePtr = std::shared_ptr<const SearchPath::Node>;
using Node = SearchPath::Node;
using Collection = std::vector<PathValue>;

// ---- parsing ------------------------------------------------------------------------------

struct Token {
  enum class Kind { kIdent, kString, kNumber, kSymbol, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) { Next(); }

  Result<NodePtr> ParseAll() {
    auto n = ParseOr(0);
    if (!n.ok()) return n;
    if (tok_.kind != Token::Kind::kEnd) return Error("unexpected '" + tok_.text + "'");
    if (!error_.empty()) return Error(error_);
    return n;
  }

 private:
  Status Error(const std::string& what) const {
    return BadRequest("search expression: " + what, std::string(text_));
  }

  void Next() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    tok_ = Token();
    if (pos_ >= text_.size()) return;
    char c = text_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '%') {
      size_t start = pos_++;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
        ++pos_;
      tok_ = {Token::Kind::kIdent, std::string(text_.substr(start, pos_ - start))};
      return;
    }
    if (c == '`') {
      size_t end = text_.find('`', pos_ + 1);
      if (end == std::string_view::npos) {
        error_ = "unterminated `identifier`";
        pos_ = text_.size();
        return;
      }
      tok_ = {Token::Kind::kIdent, std::string(text_.substr(pos_ + 1, end - pos_ - 1))};
      pos_ = end + 1;
      return;
    }
    if (c == '\'') {
      std::string s;
      ++pos_;
      while (pos_ < text_.size() && text_[pos_] != '\'') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
          ++pos_;
          char e = text_[pos_];
          s.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        } else {
          s.push_back(text_[pos_]);
        }
        ++pos_;
      }
      if (pos_ >= text_.size()) error_ = "unterminated string";
      ++pos_;
      tok_ = {Token::Kind::kString, s};
      return;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.'))
        ++pos_;
      tok_ = {Token::Kind::kNumber, std::string(text_.substr(start, pos_ - start))};
      return;
    }
    if (c == '!' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '=') {
      tok_ = {Token::Kind::kSymbol, "!="};
      pos_ += 2;
      return;
    }
    tok_ = {Token::Kind::kSymbol, std::string(1, c)};
    ++pos_;
  }

  bool IsSymbol(const char* s) const { return tok_.kind == Token::Kind::kSymbol && tok_.text == s; }
  bool IsWord(const char* s) const { return tok_.kind == Token::Kind::kIdent && tok_.text == s; }

  static NodePtr Make(Node::Kind kind, std::vector<NodePtr> args, std::string name = {}) {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->args = std::move(args);
    n->name = std::move(name);
    return n;
  }

  Result<NodePtr> ParseOr(int depth) {
    if (depth > kMaxDepth) return Error("expression nested too deeply");
    auto lhs = ParseAnd(depth + 1);
    if (!lhs.ok()) return lhs;
    NodePtr n = *lhs;
    while (IsWord("or")) {
      Next();
      auto rhs = ParseAnd(depth + 1);
      if (!rhs.ok()) return rhs;
      n = Make(Node::Kind::kOr, {n, *rhs});
    }
    return n;
  }

  Result<NodePtr> ParseAnd(int depth) {
    auto lhs = ParseEq(depth + 1);
    if (!lhs.ok()) return lhs;
    NodePtr n = *lhs;
    while (IsWord("and")) {
      Next();
      auto rhs = ParseEq(depth + 1);
      if (!rhs.ok()) return rhs;
      n = Make(Node::Kind::kAnd, {n, *rhs});
    }
    return n;
  }

  Result<NodePtr> ParseEq(int depth) {
    auto lhs = ParseUnion(depth + 1);
    if (!lhs.ok()) return lhs;
    if (IsSymbol("=") || IsSymbol("!=")) {
      Node::Kind k = IsSymbol("=") ? Node::Kind::kEq : Node::Kind::kNe;
      Next();
      auto rhs = ParseUnion(depth + 1);
      if (!rhs.ok()) return rhs;
      return Make(k, {*lhs, *rhs});
    }
    return lhs;
  }

  Result<NodePtr> ParseUnion(int depth) {
    auto lhs = ParseTypeOp(depth + 1);
    if (!lhs.ok()) return lhs;
    NodePtr n = *lhs;
    while (IsSymbol("|")) {
      Next();
      auto rhs = ParseTypeOp(depth + 1);
      if (!rhs.ok()) return rhs;
      n = Make(Node::Kind::kUnion, {n, *rhs});
    }
    return n;
  }

  Result<std::string> TypeName() {
    if (tok_.kind != Token::Kind::kIdent) return Error("a type name is expected");
    std::string name = tok_.text;
    Next();
    while (IsSymbol(".")) {  // FHIR.Patient, System.String
      Next();
      if (tok_.kind != Token::Kind::kIdent) return Error("a type name is expected");
      name = tok_.text;
      Next();
    }
    return name;
  }

  Result<NodePtr> ParseTypeOp(int depth) {
    auto lhs = ParseTerm(depth + 1);
    if (!lhs.ok()) return lhs;
    if (IsWord("is") || IsWord("as")) {
      Node::Kind k = IsWord("is") ? Node::Kind::kIs : Node::Kind::kAs;
      Next();
      auto type = TypeName();
      if (!type.ok()) return type.status();
      return Make(k, {*lhs}, *type);
    }
    return lhs;
  }

  Result<NodePtr> ParseTerm(int depth) {
    auto n = ParsePrimary(depth + 1);
    if (!n.ok()) return n;
    NodePtr cur = *n;
    while (IsSymbol(".")) {
      Next();
      auto inv = ParseInvocation(depth + 1);
      if (!inv.ok()) return inv;
      cur = Make(Node::Kind::kInvoke, {cur, *inv});
    }
    return cur;
  }

  Result<NodePtr> ParsePrimary(int depth) {
    if (depth > kMaxDepth) return Error("expression nested too deeply");
    if (IsSymbol("(")) {
      Next();
      auto inner = ParseOr(depth + 1);
      if (!inner.ok()) return inner;
      if (!IsSymbol(")")) return Error("')' expected");
      Next();
      return inner;
    }
    if (tok_.kind == Token::Kind::kString) {
      auto n = Make(Node::Kind::kString, {}, tok_.text);
      Next();
      return n;
    }
    if (tok_.kind == Token::Kind::kNumber) {
      auto n = Make(Node::Kind::kString, {}, tok_.text);
      Next();
      return n;
    }
    if (IsWord("true") || IsWord("false")) {
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kBool;
      n->boolean = IsWord("true");
      Next();
      return NodePtr(n);
    }
    return ParseInvocation(depth + 1);
  }

  Result<NodePtr> ParseInvocation(int depth) {
    if (tok_.kind != Token::Kind::kIdent) return Error("a name is expected");
    std::string name = tok_.text;
    Next();
    if (name == "$this") return Make(Node::Kind::kThis, {});
    if (!name.empty() && (name[0] == '%' || name[0] == '$'))
      return Error("variable " + name + " is not supported in search expressions");
    if (!IsSymbol("(")) return Make(Node::Kind::kName, {}, name);
    Next();
    static const char* const kFunctions[] = {"where", "ofType", "as",    "is",      "exists",
                                             "empty", "not",    "first", "resolve", "extension"};
    bool known = false;
    for (const char* f : kFunctions) known = known || name == f;
    if (!known) return Error("function " + name + "() is not supported in search expressions");
    std::vector<NodePtr> args;
    if (!IsSymbol(")")) {
      while (true) {
        auto a = ParseOr(depth + 1);
        if (!a.ok()) return a;
        args.push_back(*a);
        if (IsSymbol(",")) {
          Next();
          continue;
        }
        break;
      }
    }
    if (!IsSymbol(")")) return Error("')' expected after the arguments of " + name + "()");
    Next();
    bool one_arg =
        name == "where" || name == "ofType" || name == "as" || name == "is" || name == "extension";
    if (one_arg && args.size() != 1) return Error(name + "() takes one argument");
    if (!one_arg && name != "exists" && !args.empty()) return Error(name + "() takes no argument");
    if ((name == "ofType" || name == "as" || name == "is") && args[0]->kind != Node::Kind::kName)
      return Error(name + "() takes a type name");
    return Make(Node::Kind::kFunc, std::move(args), name);
  }

  std::string_view text_;
  size_t pos_ = 0;
  Token tok_;
  std::string error_;
};

// ---- evaluation ---------------------------------------------------------------------------

struct Evaluator {
  const StructureRegistry& registry = StructureRegistry::R4();
  const JsonValue* root = nullptr;

  bool IsA(const std::string& type, const std::string& wanted) const {
    if (type == wanted) return true;
    if (wanted == "Resource" || wanted == "DomainResource") {
      return registry.IsResourceType(type);
    }
    const profiles::TypeDef* t = registry.Find(type);
    for (int hops = 0; t != nullptr && hops < 8; ++hops) {
      if (t->base.empty()) break;
      if (t->base == wanted) return true;
      t = registry.Find(t->base);
    }
    // System types as FHIRPath spells them.
    if (wanted == "String") return type == "string" || type == "code" || type == "uri";
    if (wanted == "Boolean") return type == "boolean";
    return false;
  }

  PathValue ResourceItem(const JsonValue& json) const {
    PathValue v;
    v.json = &json;
    v.type = json.GetString("resourceType");
    v.scope = registry.Find(v.type);
    v.scope_path = v.type;
    return v;
  }

  void Children(const PathValue& item, const std::string& name, Collection* out) const {
    if (item.kind != PathValue::Kind::kElement || item.json == nullptr || !item.json->is_object())
      return;
    for (const auto& [key, val] : item.json->members()) {
      if (key.empty() || key[0] == '_' || key == "resourceType") continue;
      if (key.compare(0, name.size(), name) != 0) continue;
      std::string type;
      const profiles::TypeDef* scope = nullptr;
      std::string scope_path;
      if (item.scope != nullptr) {
        auto child = registry.ResolveChild(*item.scope, item.scope_path, key);
        if (!child) continue;
        if (child->def->name != name && child->def->name != name + "[x]") continue;
        type = child->type;
        auto cs = registry.ChildScope(*item.scope, *child->def, type);
        scope = cs.first;
        scope_path = cs.second;
      } else {
        if (key.size() != name.size()) {
          // untyped choice: valueQuantity -> Quantity
          if (!std::isupper(static_cast<unsigned char>(key[name.size()]))) continue;
          type = key.substr(name.size());
          std::string lower = type;
          lower[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[0])));
          if (registry.IsPrimitiveType(lower)) type = lower;
        }
      }
      auto add = [&](const JsonValue& v) {
        if (out->size() >= kMaxItems || v.is_null()) return;
        PathValue p;
        p.json = &v;
        p.type = type;
        p.scope = scope;
        p.scope_path = scope_path;
        if (type == "Resource" && v.is_object()) p = ResourceItem(v);
        out->push_back(std::move(p));
      };
      if (val.is_array()) {
        for (const auto& v : val.items()) add(v);
      } else {
        add(val);
      }
    }
  }

  static std::string AsString(const PathValue& v) {
    if (v.kind == PathValue::Kind::kBoolean) return v.boolean ? "true" : "false";
    if (v.kind == PathValue::Kind::kString) return v.text;
    if (v.json == nullptr) return "";
    if (v.json->is_bool()) return v.json->as_bool() ? "true" : "false";
    if (v.json->is_string() || v.json->is_number()) return v.json->text();
    return "";
  }

  static PathValue Bool(bool b) {
    PathValue v;
    v.kind = PathValue::Kind::kBoolean;
    v.boolean = b;
    return v;
  }

  static bool Truthy(const Collection& c) {
    if (c.size() != 1) return false;
    const PathValue& v = c[0];
    if (v.kind == PathValue::Kind::kBoolean) return v.boolean;
    if (v.kind == PathValue::Kind::kElement && v.json && v.json->is_bool())
      return v.json->as_bool();
    return true;  // a single non-boolean item counts as true (FHIRPath singleton evaluation)
  }

  // The target resource type of a Reference, or "" when unknown.
  std::string ReferenceType(const PathValue& v) const {
    if (v.json == nullptr || !v.json->is_object()) return "";
    std::string ref = v.json->GetString("reference");
    if (ref.empty()) return v.json->GetString("type");
    if (ref[0] == '#') {
      const JsonValue* contained = root ? root->Find("contained") : nullptr;
      if (contained && contained->is_array())
        for (const auto& c : contained->items())
          if ("#" + c.GetString("id") == ref) return c.GetString("resourceType");
      return "";
    }
    size_t q = ref.find_first_of("?#");
    if (q != std::string::npos) ref.erase(q);
    size_t h = ref.find("/_history/");
    if (h != std::string::npos) ref.erase(h);
    size_t last = ref.rfind('/');
    if (last == std::string::npos || last == 0) return "";
    size_t prev = ref.rfind('/', last - 1);
    std::string type = ref.substr(prev == std::string::npos ? 0 : prev + 1,
                                  last - (prev == std::string::npos ? 0 : prev + 1));
    return registry.IsResourceType(type) ? type : "";
  }

  Collection Eval(const Node& n, const Collection& focus) const {
    Collection out;
    switch (n.kind) {
      case Node::Kind::kThis:
        return focus;
      case Node::Kind::kString: {
        PathValue v;
        v.kind = PathValue::Kind::kString;
        v.text = n.name;
        out.push_back(std::move(v));
        return out;
      }
      case Node::Kind::kBool:
        out.push_back(Bool(n.boolean));
        return out;
      case Node::Kind::kName: {
        bool type_name = !n.name.empty() && std::isupper(static_cast<unsigned char>(n.name[0]));
        for (const PathValue& item : focus) {
          if (type_name && item.kind == PathValue::Kind::kElement && item.json &&
              item.json->is_object() && item.json->Find("resourceType") && IsA(item.type, n.name)) {
            out.push_back(item);
            continue;
          }
          Children(item, n.name, &out);
        }
        return out;
      }
      case Node::Kind::kInvoke: {
        Collection lhs = Eval(*n.args[0], focus);
        return Eval(*n.args[1], lhs);
      }
      case Node::Kind::kUnion: {
        out = Eval(*n.args[0], focus);
        for (PathValue& v : Eval(*n.args[1], focus)) {
          bool dup = false;
          for (const PathValue& o : out)
            dup = dup || (o.kind == PathValue::Kind::kElement && o.json == v.json && v.json);
          if (!dup && out.size() < kMaxItems) out.push_back(std::move(v));
        }
        return out;
      }
      case Node::Kind::kEq:
      case Node::Kind::kNe: {
        Collection a = Eval(*n.args[0], focus);
        Collection b = Eval(*n.args[1], focus);
        if (a.empty() || b.empty()) return out;
        bool eq = a.size() == b.size();
        for (size_t i = 0; eq && i < a.size(); ++i) eq = AsString(a[i]) == AsString(b[i]);
        out.push_back(Bool(n.kind == Node::Kind::kEq ? eq : !eq));
        return out;
      }
      case Node::Kind::kAnd:
        out.push_back(Bool(Truthy(Eval(*n.args[0], focus)) && Truthy(Eval(*n.args[1], focus))));
        return out;
      case Node::Kind::kOr:
        out.push_back(Bool(Truthy(Eval(*n.args[0], focus)) || Truthy(Eval(*n.args[1], focus))));
        return out;
      case Node::Kind::kIs: {
        Collection a = Eval(*n.args[0], focus);
        if (a.size() == 1) out.push_back(Bool(IsA(a[0].type, n.name)));
        return out;
      }
      case Node::Kind::kAs: {
        for (PathValue& v : Eval(*n.args[0], focus))
          if (IsA(v.type, n.name)) out.push_back(std::move(v));
        return out;
      }
      case Node::Kind::kFunc:
        return Call(n, focus);
    }
    return out;
  }

  Collection Call(const Node& n, const Collection& focus) const {
    Collection out;
    const std::string& f = n.name;
    if (f == "where") {
      for (const PathValue& item : focus)
        if (Truthy(Eval(*n.args[0], {item}))) out.push_back(item);
    } else if (f == "ofType" || f == "as") {
      for (const PathValue& item : focus)
        if (IsA(item.type, n.args[0]->name)) out.push_back(item);
    } else if (f == "is") {
      if (focus.size() == 1) out.push_back(Bool(IsA(focus[0].type, n.args[0]->name)));
    } else if (f == "exists") {
      if (n.args.empty()) {
        out.push_back(Bool(!focus.empty()));
      } else {
        bool any = false;
        for (const PathValue& item : focus) any = any || Truthy(Eval(*n.args[0], {item}));
        out.push_back(Bool(any));
      }
    } else if (f == "empty") {
      out.push_back(Bool(focus.empty()));
    } else if (f == "not") {
      if (!focus.empty()) out.push_back(Bool(!Truthy(focus)));
    } else if (f == "first") {
      if (!focus.empty()) out.push_back(focus[0]);
    } else if (f == "resolve") {
      for (const PathValue& item : focus) {
        std::string type = ReferenceType(item);
        if (type.empty()) continue;
        PathValue v = item;
        v.type = type;
        v.scope = nullptr;
        out.push_back(std::move(v));
      }
    } else if (f == "extension") {
      Collection url = Eval(*n.args[0], focus);
      std::string wanted = url.empty() ? "" : AsString(url[0]);
      Collection ext;
      for (const PathValue& item : focus) Children(item, "extension", &ext);
      for (PathValue& e : ext)
        if (e.json && e.json->GetString("url") == wanted) out.push_back(std::move(e));
    }
    return out;
  }
};

}  // namespace

Result<SearchPath> SearchPath::Parse(std::string_view text) {
  if (text.size() > kMaxExpression) return BadRequest("search expression too long");
  Parser p(text);
  auto root = p.ParseAll();
  if (!root.ok()) return root.status();
  SearchPath sp;
  sp.text_ = std::string(text);
  sp.root_ = *root;
  return sp;
}

std::vector<PathValue> SearchPath::Evaluate(const JsonValue& resource) const {
  Evaluator ev;
  ev.root = &resource;
  if (!root_) return {};
  return ev.Eval(*root_, {ev.ResourceItem(resource)});
}

}  // namespace carnet::fhir
