#include "fhir/json_patch.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace carnet::fhir {
namespace {

// A JSON number literal reduced to sign, significant digits and decimal exponent, so that 1,
// 1.0, 10E-1 and 0.1e1 compare equal without going through (lossy) doubles.
struct CanonicalNumber {
  bool negative = false;
  std::string digits;  // no leading or trailing zeros; empty for zero
  int64_t exponent = 0;
  bool operator==(const CanonicalNumber&) const = default;
};

CanonicalNumber Canonicalize(std::string_view text) {
  CanonicalNumber n;
  size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    n.negative = true;
    ++i;
  }
  std::string digits;
  int64_t exponent = 0;
  bool in_fraction = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      in_fraction = true;
    } else if (c >= '0' && c <= '9') {
      digits.push_back(c);
      if (in_fraction) --exponent;
    } else {
      break;  // 'e' or 'E'
    }
  }
  if (i < text.size()) {
    ++i;
    bool negative_exp = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative_exp = text[i++] == '-';
    int64_t e = 0;
    for (; i < text.size(); ++i) {
      // Clamped: beyond this every literal is either zero or unrepresentable anyway, and the
      // comparison stays exact for everything smaller.
      if (e < 1'000'000'000) e = e * 10 + (text[i] - '0');
    }
    exponent += negative_exp ? -e : e;
  }
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return CanonicalNumber{};  // zero, whatever its sign
  size_t last = digits.find_last_not_of('0');
  exponent += static_cast<int64_t>(digits.size() - 1 - last);
  n.digits = digits.substr(first, last - first + 1);
  n.exponent = exponent;
  return n;
}

// Concatenation through string_view: GCC 12 reports false -Wrestrict positives on
// `"literal" + std::string&&` once inlined.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

Status Malformed(std::string_view message, size_t op_index) {
  return BadRequest(Cat({"malformed JSON Patch: ", message}), Cat({"/", std::to_string(op_index)}));
}

Status CannotApply(std::string_view message, size_t op_index) {
  return Invalid(Cat({"JSON Patch cannot be applied: ", message}),
                 Cat({"/", std::to_string(op_index)}));
}

// RFC 6901: "" is the whole document; otherwise "/" then tokens where "~1" is "/" and "~0" is
// "~" (in that order, so "~01" is "~1").
bool ParsePointer(std::string_view pointer, std::vector<std::string>* tokens) {
  tokens->clear();
  if (pointer.empty()) return true;
  if (pointer[0] != '/') return false;
  std::string token;
  for (size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens->push_back(std::move(token));
      token.clear();
      continue;
    }
    char c = pointer[i];
    if (c == '~') {
      if (i + 1 >= pointer.size()) return false;
      char next = pointer[++i];
      if (next == '0') {
        token.push_back('~');
      } else if (next == '1') {
        token.push_back('/');
      } else {
        return false;
      }
    } else {
      token.push_back(c);
    }
  }
  return true;
}

// An array index per RFC 6901: "0" or digits without a leading zero. nullopt-like -1 when the
// token is not an index (including "-", which callers handle first).
int64_t ParseIndex(const std::string& token) {
  if (token.empty() || token.size() > 9) return -1;  // larger arrays are not realistic
  if (token.size() > 1 && token[0] == '0') return -1;
  int64_t v = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string JoinPointer(const std::vector<std::string>& tokens, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    out.push_back('/');
    for (char c : tokens[i]) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out.push_back(c);
      }
    }
  }
  return out;
}

// The value at tokens[0, count), or nullptr with *why set.
JsonValue* Walk(JsonValue* root, const std::vector<std::string>& tokens, size_t count,
                std::string* why) {
  JsonValue* v = root;
  for (size_t i = 0; i < count; ++i) {
    const std::string& t = tokens[i];
    if (v->is_object()) {
      JsonValue* child = v->Find(t);
      if (!child) {
        *why = Cat({"no member at ", JoinPointer(tokens, i + 1)});
        return nullptr;
      }
      v = child;
    } else if (v->is_array()) {
      int64_t index = ParseIndex(t);
      if (index < 0 || static_cast<size_t>(index) >= v->items().size()) {
        *why = Cat({"no array element at ", JoinPointer(tokens, i + 1)});
        return nullptr;
      }
      v = &v->items()[static_cast<size_t>(index)];
    } else {
      *why = Cat({JoinPointer(tokens, i), " is neither an object nor an array"});
      return nullptr;
    }
  }
  return v;
}

class Patcher {
 public:
  explicit Patcher(JsonValue* doc) : doc_(doc) {}

  Status Add(const std::vector<std::string>& path, JsonValue value, size_t op) {
    if (path.empty()) {
      *doc_ = std::move(value);
      return Status::Ok();
    }
    std::string why;
    JsonValue* parent = Walk(doc_, path, path.size() - 1, &why);
    if (!parent) return CannotApply(why, op);
    const std::string& last = path.back();
    if (parent->is_object()) {
      parent->Set(last, std::move(value));
      return Status::Ok();
    }
    if (parent->is_array()) {
      auto& items = parent->items();
      if (last == "-") {
        items.push_back(std::move(value));
        return Status::Ok();
      }
      int64_t index = ParseIndex(last);
      if (index < 0 || static_cast<size_t>(index) > items.size())
        return CannotApply(Cat({"array index out of range at ", JoinPointer(path, path.size())}),
                           op);
      items.insert(items.begin() + index, std::move(value));
      return Status::Ok();
    }
    return CannotApply(
        Cat({JoinPointer(path, path.size() - 1), " is neither an object nor an array"}), op);
  }

  // Removes the target; its value goes to *removed when not null.
  Status Remove(const std::vector<std::string>& path, size_t op, JsonValue* removed = nullptr) {
    if (path.empty()) return CannotApply("the whole document cannot be removed", op);
    std::string why;
    JsonValue* parent = Walk(doc_, path, path.size() - 1, &why);
    if (!parent) return CannotApply(why, op);
    const std::string& last = path.back();
    if (parent->is_object()) {
      JsonValue* child = parent->Find(last);
      if (!child) return CannotApply(Cat({"no member at ", JoinPointer(path, path.size())}), op);
      if (removed) *removed = std::move(*child);
      parent->Remove(last);
      return Status::Ok();
    }
    if (parent->is_array()) {
      auto& items = parent->items();
      int64_t index = ParseIndex(last);
      if (index < 0 || static_cast<size_t>(index) >= items.size())
        return CannotApply(Cat({"no array element at ", JoinPointer(path, path.size())}), op);
      if (removed) *removed = std::move(items[static_cast<size_t>(index)]);
      items.erase(items.begin() + index);
      return Status::Ok();
    }
    return CannotApply(
        Cat({JoinPointer(path, path.size() - 1), " is neither an object nor an array"}), op);
  }

  Result<JsonValue*> Get(const std::vector<std::string>& path, size_t op) {
    std::string why;
    JsonValue* v = Walk(doc_, path, path.size(), &why);
    if (!v) return CannotApply(why, op);
    return v;
  }

 private:
  JsonValue* doc_;
};

bool IsPrefixPointer(const std::vector<std::string>& prefix, const std::vector<std::string>& path) {
  if (prefix.size() >= path.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (prefix[i] != path[i]) return false;
  return true;
}

}  // namespace

bool JsonPatchEquals(const JsonValue& a, const JsonValue& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case JsonValue::Kind::kNull:
      return true;
    case JsonValue::Kind::kBool:
      return a.as_bool() == b.as_bool();
    case JsonValue::Kind::kString:
      return a.text() == b.text();
    case JsonValue::Kind::kNumber:
      return Canonicalize(a.text()) == Canonicalize(b.text());
    case JsonValue::Kind::kArray: {
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i)
        if (!JsonPatchEquals(a.items()[i], b.items()[i])) return false;
      return true;
    }
    case JsonValue::Kind::kObject: {
      if (a.members().size() != b.members().size()) return false;
      for (const auto& [key, value] : a.members()) {
        const JsonValue* other = b.Find(key);
        if (!other || !JsonPatchEquals(value, *other)) return false;
      }
      return true;
    }
  }
  return false;
}

Status ApplyJsonPatch(const JsonValue& patch, JsonValue* document) {
  if (!patch.is_array()) return BadRequest("malformed JSON Patch: the patch must be a JSON array");
  JsonValue work = *document;
  Patcher patcher(&work);
  std::vector<std::string> path, from;
  for (size_t i = 0; i < patch.items().size(); ++i) {
    const JsonValue& op = patch.items()[i];
    if (!op.is_object()) return Malformed("an operation must be a JSON object", i);
    const JsonValue* op_name = op.Find("op");
    if (!op_name || !op_name->is_string()) return Malformed("\"op\" must be a string", i);
    const std::string& name = op_name->text();
    const JsonValue* path_value = op.Find("path");
    if (!path_value || !path_value->is_string()) return Malformed("\"path\" must be a string", i);
    if (!ParsePointer(path_value->text(), &path))
      return Malformed(Cat({"\"path\" is not a JSON Pointer: ", path_value->text()}), i);
    const JsonValue* value = op.Find("value");
    bool needs_from = name == "move" || name == "copy";
    if (needs_from) {
      const JsonValue* from_value = op.Find("from");
      if (!from_value || !from_value->is_string()) return Malformed("\"from\" must be a string", i);
      if (!ParsePointer(from_value->text(), &from))
        return Malformed(Cat({"\"from\" is not a JSON Pointer: ", from_value->text()}), i);
    }
    if ((name == "add" || name == "replace" || name == "test") && !value)
      return Malformed(Cat({"\"", name, "\" needs a \"value\""}), i);

    if (name == "add") {
      CARNET_RETURN_IF_ERROR(patcher.Add(path, *value, i));
    } else if (name == "remove") {
      CARNET_RETURN_IF_ERROR(patcher.Remove(path, i));
    } else if (name == "replace") {
      Result<JsonValue*> target = patcher.Get(path, i);
      if (!target.ok()) return target.status();
      **target = *value;
    } else if (name == "move") {
      if (from == path) continue;
      if (IsPrefixPointer(from, path))
        return CannotApply("a value cannot be moved into one of its own children", i);
      JsonValue moved;
      CARNET_RETURN_IF_ERROR(patcher.Remove(from, i, &moved));
      CARNET_RETURN_IF_ERROR(patcher.Add(path, std::move(moved), i));
    } else if (name == "copy") {
      Result<JsonValue*> source = patcher.Get(from, i);
      if (!source.ok()) return source.status();
      JsonValue copy = **source;
      CARNET_RETURN_IF_ERROR(patcher.Add(path, std::move(copy), i));
    } else if (name == "test") {
      Result<JsonValue*> target = patcher.Get(path, i);
      if (!target.ok()) return target.status();
      if (!JsonPatchEquals(**target, *value))
        return CannotApply(Cat({"test failed: the value at \"", path_value->text(), "\" differs"}),
                           i);
    } else {
      return Malformed(Cat({"unknown op \"", name, "\""}), i);
    }
  }
  *document = std::move(work);
  return Status::Ok();
}

}  // namespace carnet::fhir
