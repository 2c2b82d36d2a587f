#include "base/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <unordered_set>

#include "base/strings.h"

namespace carnet {

JsonValue::JsonValue(Kind kind, std::string text) : kind_(kind), text_(std::move(text)) {}

JsonValue JsonValue::Bool(bool b) {
  JsonValue v(Kind::kBool);
  v.bool_ = b;
  return v;
}
JsonValue JsonValue::Number(std::string text) { return JsonValue(Kind::kNumber, std::move(text)); }
JsonValue JsonValue::String(std::string s) { return JsonValue(Kind::kString, std::move(s)); }
JsonValue JsonValue::Array() { return JsonValue(Kind::kArray); }
JsonValue JsonValue::Object() { return JsonValue(Kind::kObject); }

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}

JsonValue* JsonValue::Find(std::string_view key) {
  for (auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}

JsonValue& JsonValue::Set(std::string key, JsonValue v) {
  if (JsonValue* existing = Find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  members_.emplace_back(std::move(key), std::move(v));
  return members_.back().second;
}

bool JsonValue::Remove(std::string_view key) {
  auto it = std::find_if(members_.begin(), members_.end(),
                         [&](const Member& m) { return m.first == key; });
  if (it == members_.end()) return false;
  members_.erase(it);
  return true;
}

std::string JsonValue::GetString(std::string_view key) const {
  const JsonValue* v = Find(key);
  return v && v->is_string() ? v->text() : std::string();
}

bool JsonValue::operator==(const JsonValue& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kNull: return true;
    case Kind::kBool: return bool_ == o.bool_;
    case Kind::kNumber:
    case Kind::kString: return text_ == o.text_;
    case Kind::kArray: return items_ == o.items_;
    case Kind::kObject:
      if (members_.size() != o.members_.size()) return false;
      for (const auto& m : members_) {
        const JsonValue* other = o.Find(m.first);
        if (!other || !(*other == m.second)) return false;
      }
      return true;
  }
  return false;
}

namespace {

// Pass 1 only checks depth, so that nothing deep is ever built (and later destroyed
// recursively).
struct DepthCheck : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, DepthCheck> {
  int depth = 0, max_depth = 0, limit = 0;
  bool Default() { return true; }
  bool Open() {
    max_depth = std::max(max_depth, ++depth);
    return depth <= limit;
  }
  bool StartObject() { return Open(); }
  bool StartArray() { return Open(); }
  bool EndObject(rapidjson::SizeType) { --depth; return true; }
  bool EndArray(rapidjson::SizeType) { --depth; return true; }
};

struct Builder {
  std::vector<JsonValue> stack;          // containers being built
  std::vector<std::string> keys;         // pending key per open object
  std::vector<std::unordered_set<std::string>> seen;
  JsonValue root;
  bool have_root = false;
  bool reject_duplicates = true;
  std::string error;

  bool Add(JsonValue v) {
    if (stack.empty()) {
      root = std::move(v);
      have_root = true;
      return true;
    }
    JsonValue& top = stack.back();
    if (top.is_array()) {
      top.Append(std::move(v));
    } else {
      top.members().emplace_back(std::move(keys.back()), std::move(v));
    }
    return true;
  }
  bool Null() { return Add(JsonValue()); }
  bool Bool(bool b) { return Add(JsonValue::Bool(b)); }
  bool Int(int) { return false; }  // numbers arrive as RawNumber (kParseNumbersAsStringsFlag)
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return Add(JsonValue::Number(std::string(s, n)));
  }
  // RapidJSON 1.1 validates the UTF-8 it reads, but decodes a \uDC00-\uDFFF escape that
  // follows no high surrogate into the three bytes of a surrogate (ED B0..BF xx), which are
  // not UTF-8; refused here like the invalid UTF-8 they are (found by fuzz/json_fuzzer).
  bool Utf8(const char* s, rapidjson::SizeType n) {
    for (rapidjson::SizeType i = 0; i + 1 < n; ++i) {
      auto lead = static_cast<unsigned char>(s[i]), next = static_cast<unsigned char>(s[i + 1]);
      if (lead == 0xED && (next & 0xE0) == 0xA0) {
        error = "a \\u escape names a lone UTF-16 surrogate, not a character";
        return false;
      }
    }
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return Utf8(s, n) && Add(JsonValue::String(std::string(s, n)));
  }
  bool StartObject() {
    stack.push_back(JsonValue::Object());
    keys.emplace_back();
    seen.emplace_back();
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (!Utf8(s, n)) return false;
    keys.back().assign(s, n);
    if (reject_duplicates && !seen.back().insert(keys.back()).second) {
      error = "duplicate key \"" + keys.back() + "\"";
      return false;
    }
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    JsonValue v = std::move(stack.back());
    stack.pop_back();
    keys.pop_back();
    seen.pop_back();
    return Add(std::move(v));
  }
  bool StartArray() {
    stack.push_back(JsonValue::Array());
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    JsonValue v = std::move(stack.back());
    stack.pop_back();
    return Add(std::move(v));
  }
};

constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag |
                                 rapidjson::kParseNumbersAsStringsFlag |
                                 rapidjson::kParseValidateEncodingFlag;

void Indent(std::string* out, int depth) {
  out->push_back('\n');
  out->append(static_cast<size_t>(depth) * 2, ' ');
}

void Write(const JsonValue& v, bool pretty, int depth, std::string* out) {
  switch (v.kind()) {
    case JsonValue::Kind::kNull: out->append("null"); break;
    case JsonValue::Kind::kBool: out->append(v.as_bool() ? "true" : "false"); break;
    case JsonValue::Kind::kNumber: out->append(v.text()); break;
    case JsonValue::Kind::kString:
      out->push_back('"');
      out->append(JsonEscape(v.text()));
      out->push_back('"');
      break;
    case JsonValue::Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : v.items()) {
        if (!first) out->push_back(',');
        first = false;
        if (pretty) Indent(out, depth + 1);
        Write(item, pretty, depth + 1, out);
      }
      if (pretty && !v.items().empty()) Indent(out, depth);
      out->push_back(']');
      break;
    }
    case JsonValue::Kind::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, value] : v.members()) {
        if (!first) out->push_back(',');
        first = false;
        if (pretty) Indent(out, depth + 1);
        out->push_back('"');
        out->append(JsonEscape(key));
        out->append(pretty ? "\": " : "\":");
        Write(value, pretty, depth + 1, out);
      }
      if (pretty && !v.members().empty()) Indent(out, depth);
      out->push_back('}');
      break;
    }
  }
}

// One SAX pass of RapidJSON over the text into `handler`.
template <typename Handler>
rapidjson::ParseResult ParseWith(std::string_view text, Handler& handler) {
  rapidjson::Reader reader;
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  return reader.Parse<kParseFlags>(is, handler);
}

Status MalformedJson(const rapidjson::ParseResult& ok) {
  return BadRequest(std::string("malformed JSON: ") + rapidjson::GetParseError_En(ok.Code()) +
                    " at offset " + std::to_string(ok.Offset()));
}

}  // namespace

Result<JsonValue> ParseJson(std::string_view text, const JsonParseOptions& options) {
  {
    // A first pass that builds nothing bounds the depth before any value is kept.
    DepthCheck check;
    check.limit = options.max_depth;
    rapidjson::ParseResult ok = ParseWith(text, check);
    if (!ok) {
      if (check.depth > options.max_depth)
        return BadRequest("JSON nested deeper than " + std::to_string(options.max_depth) +
                          " levels");
      return MalformedJson(ok);
    }
  }
  Builder b;
  b.reject_duplicates = options.reject_duplicate_keys;
  rapidjson::ParseResult ok = ParseWith(text, b);
  if (!ok) {
    if (!b.error.empty()) return BadRequest("malformed JSON: " + b.error);
    return MalformedJson(ok);
  }
  return std::move(b.root);
}

void WriteJson(const JsonValue& value, bool pretty, std::string* out) {
  Write(value, pretty, 0, out);
}

std::string WriteJson(const JsonValue& value, bool pretty) {
  std::string out;
  WriteJson(value, pretty, &out);
  return out;
}

}  // namespace carnet
