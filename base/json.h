// carnet's JSON document: an ordered tree that keeps numbers exactly as written.
//
// FHIR requires decimals to survive a round trip as written ("1.50" stays "1.50"), objects to
// keep their member order, and duplicate keys to be refused; a generic DOM gives none of
// these. JsonValue is built from RapidJSON's SAX reader (iterative, so deep input cannot
// overflow the stack; depth is bounded before anything is built) and written back with the
// numbers' original text.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace carnet {

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default;  // null
  static JsonValue Bool(bool b);
  // `text` must be a valid JSON number literal (as written in the source).
  static JsonValue Number(std::string text);
  static JsonValue String(std::string s);
  static JsonValue Array();
  static JsonValue Object();

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  bool as_bool() const { return bool_; }
  // The string's value, or the number's literal text.
  const std::string& text() const { return text_; }

  // Array items (empty unless an array).
  const std::vector<JsonValue>& items() const { return items_; }
  std::vector<JsonValue>& items() { return items_; }
  void Append(JsonValue v) { items_.push_back(std::move(v)); }

  // Object members in document order (empty unless an object).
  const std::vector<Member>& members() const { return members_; }
  std::vector<Member>& members() { return members_; }
  // Member by key, or nullptr.
  const JsonValue* Find(std::string_view key) const;
  JsonValue* Find(std::string_view key);
  // Replaces the member's value, or appends the member when absent.
  JsonValue& Set(std::string key, JsonValue v);
  // True when the member was there.
  bool Remove(std::string_view key);

  // Convenience: the string value of member `key`, or "" when absent or not a string.
  std::string GetString(std::string_view key) const;

  // Deep equality; object member order does not matter, array order does, numbers compare
  // by their literal text.
  bool operator==(const JsonValue& other) const;
  bool operator!=(const JsonValue& other) const { return !(*this == other); }

 private:
  explicit JsonValue(Kind kind, std::string text = {});

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<JsonValue> items_;
  std::vector<Member> members_;
};

struct JsonParseOptions {
  // Deeper input is refused before any value is built (FHIR resources stay far below this).
  int max_depth = 100;
  // FHIR forbids repeated keys in an object.
  bool reject_duplicate_keys = true;
};

// Parses UTF-8 JSON text. kBadRequest with the byte offset on malformed input, invalid UTF-8,
// excessive depth, duplicate keys, or trailing content.
Result<JsonValue> ParseJson(std::string_view text, const JsonParseOptions& options = {});

// Compact (or indented with two spaces when pretty) JSON text.
std::string WriteJson(const JsonValue& value, bool pretty = false);
void WriteJson(const JsonValue& value, bool pretty, std::string* out);

}  // namespace carnet
