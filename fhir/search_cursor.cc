#include "fhir/search_cursor.h"

#include <cstdint>
#include <cstdio>

#include "base/json.h"

namespace carnet::fhir {
namespace {

const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Url(const std::string& in) {
  std::string out;
  size_t i = 0;
  while (i + 2 < in.size()) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
    i += 3;
  }
  if (i < in.size()) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (i + 1 < in.size()) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool FromBase64Url(const std::string& in, std::string* out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = nullptr;
    for (const char* a = kAlphabet; *a; ++a)
      if (*a == c) p = a;
    if (!p) return false;
    acc = (acc << 6) | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

// Binds a cursor to its query and contents (not a secret: it catches cursors used on
// another query or edited by hand; the values are parameters anyway).
std::string Check(const std::string& query, const std::string& payload) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : query + '\n' + payload) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

std::string EncodeCursor(const KeysetPosition& position, const std::string& query) {
  JsonValue keys = JsonValue::Array();
  for (const auto& k : position.keys) keys.Append(k ? JsonValue::String(*k) : JsonValue());
  JsonValue payload = JsonValue::Object();
  payload.Set("d", JsonValue::String(position.before ? "p" : "n"));
  payload.Set("t", JsonValue::String(position.res_type));
  payload.Set("i", JsonValue::String(position.res_id));
  payload.Set("k", std::move(keys));
  std::string text = WriteJson(payload);
  JsonValue wrapped = JsonValue::Object();
  wrapped.Set("p", JsonValue::String(text));
  wrapped.Set("c", JsonValue::String(Check(query, text)));
  return Base64Url(WriteJson(wrapped));
}

Result<KeysetPosition> DecodeCursor(const std::string& cursor, const std::string& query,
                                    size_t key_count) {
  Status bad = BadRequest("_cursor is not a paging cursor of this search", "_cursor");
  std::string raw;
  if (cursor.size() > 8192 || !FromBase64Url(cursor, &raw)) return bad;
  auto wrapped = ParseJson(raw);
  if (!wrapped.ok() || !wrapped->is_object()) return bad;
  std::string text = wrapped->GetString("p");
  if (Check(query, text) != wrapped->GetString("c")) return bad;
  auto payload = ParseJson(text);
  if (!payload.ok() || !payload->is_object()) return bad;
  KeysetPosition pos;
  pos.before = payload->GetString("d") == "p";
  pos.res_type = payload->GetString("t");
  pos.res_id = payload->GetString("i");
  const JsonValue* keys = payload->Find("k");
  if (!keys || !keys->is_array() || keys->items().size() != key_count) return bad;
  for (const auto& k : keys->items()) {
    if (k.is_null())
      pos.keys.emplace_back();
    else if (k.is_string())
      pos.keys.emplace_back(k.text());
    else
      return bad;
  }
  return pos;
}

}  // namespace carnet::fhir
