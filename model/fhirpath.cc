#include "model/fhirpath.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <unordered_map>

#include "base/strings.h"
#include "model/narrative.h"
#include "model/structure.h"

namespace carnet::model {

// ---------------------------------------------------------------------------------------
// Bounds. Expressions in FHIR definitions are a few hundred characters and a handful of
// levels deep; these leave ample room while keeping every recursion (parse, evaluate,
// destroy) far from the stack limit.
namespace {
constexpr size_t kMaxExpressionLength = 16 * 1024;
constexpr int kMaxAstHeight = 200;
constexpr int kMaxParseDepth = 100;
constexpr size_t kMaxPairComparisons = 20'000'000;
constexpr std::string_view kUnsupportedPrefix = "unsupported FHIRPath feature: ";
// matches()/replaceMatches() (definitions only): std::regex recurses per character of the
// subject, so the subject is bounded; longer strings are an evaluation error (the invariant
// is then reported as not checked for that element, never passed).
constexpr size_t kMaxRegexSubject = 4096;
constexpr size_t kMaxRegexPattern = 512;

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || IsUpper(c) || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

// Byte offsets of each code point of a UTF-8 string (plus the end), so that substring(),
// length() and indexOf() count characters, not bytes.
std::vector<size_t> CodePointOffsets(std::string_view s) {
  std::vector<size_t> offsets;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) offsets.push_back(i);
  offsets.push_back(s.size());
  return offsets;
}

std::string FormatDouble(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Nodes

FhirPathNode FhirPathNode::Element(const JsonValue* json, std::string type) {
  FhirPathNode n;
  n.kind = Kind::kElement;
  n.json = json;
  n.type = std::move(type);
  return n;
}
FhirPathNode FhirPathNode::Boolean(bool b) {
  FhirPathNode n;
  n.kind = Kind::kBoolean;
  n.boolean = b;
  return n;
}
FhirPathNode FhirPathNode::String(std::string s) {
  FhirPathNode n;
  n.kind = Kind::kString;
  n.text = std::move(s);
  return n;
}
FhirPathNode FhirPathNode::Integer(int64_t i) {
  FhirPathNode n;
  n.kind = Kind::kInteger;
  n.integer = i;
  return n;
}
FhirPathNode FhirPathNode::Decimal(std::string text) {
  FhirPathNode n;
  n.kind = Kind::kDecimal;
  n.decimal = std::strtod(text.c_str(), nullptr);
  n.text = std::move(text);
  return n;
}

namespace {

using Kind = FhirPathNode::Kind;
using Collection = FhirPathCollection;

FhirPathNode DecimalOf(double d) {
  FhirPathNode n;
  n.kind = Kind::kDecimal;
  n.decimal = d;
  n.text = FormatDouble(d);
  return n;
}

// A decimal rounded to `scale` places (at most 15, where doubles stop being exact anyway).
FhirPathNode DecimalWithScale(double d, int scale) {
  if (scale > 15 || !std::isfinite(d)) return DecimalOf(d);
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.*f", std::max(scale, 1), d);
  return FhirPathNode::Decimal(buf);
}

FhirPathNode Temporal(Kind kind, std::string text) {
  FhirPathNode n;
  n.kind = kind;
  n.text = std::move(text);
  return n;
}

FhirPathNode QuantityOf(double value, std::string text, std::string unit) {
  FhirPathNode n;
  n.kind = Kind::kQuantity;
  n.decimal = value;
  n.text = std::move(text);
  n.unit = std::move(unit);
  return n;
}

bool IsCalendarUnit(std::string_view u) {
  static const std::set<std::string_view> kUnits = {
      "year", "years", "month",  "months",  "week",   "weeks",   "day",         "days",
      "hour", "hours", "minute", "minutes", "second", "seconds", "millisecond", "milliseconds"};
  return kUnits.count(u) > 0;
}

// The unit two quantities compare by: "years" and "year" are the same unit, and the calendar
// durations of fixed length equal their UCUM units ("day" = 'd'; "year" is not 'a').
std::string NormalizeUnit(std::string_view u) {
  std::string s(u);
  if (IsCalendarUnit(s) && s.back() == 's') s.pop_back();
  static const std::map<std::string_view, std::string_view> kUcum = {
      {"week", "wk"},    {"day", "d"},    {"hour", "h"},
      {"minute", "min"}, {"second", "s"}, {"millisecond", "ms"}};
  if (auto it = kUcum.find(s); it != kUcum.end()) return std::string(it->second);
  return s;
}

// The few UCUM units clinical data mostly uses, with their factor to the dimension's base
// unit; enough to compare 185 '[lb_av]' with 84 'kg'. Not a UCUM engine: other units compare
// only with themselves.
struct UnitScale {
  std::string_view dimension;
  double factor;
};

std::optional<UnitScale> ScaleOf(std::string_view unit) {
  static const std::map<std::string_view, UnitScale> kUnits = {
      {"g", {"mass", 1}},
      {"mg", {"mass", 1e-3}},
      {"ug", {"mass", 1e-6}},
      {"kg", {"mass", 1e3}},
      {"[lb_av]", {"mass", 453.59237}},
      {"[oz_av]", {"mass", 28.349523125}},
      {"m", {"length", 1}},
      {"cm", {"length", 1e-2}},
      {"mm", {"length", 1e-3}},
      {"km", {"length", 1e3}},
      {"[in_i]", {"length", 0.0254}},
      {"[ft_i]", {"length", 0.3048}},
      {"L", {"volume", 1}},
      {"l", {"volume", 1}},
      {"dL", {"volume", 0.1}},
      {"mL", {"volume", 1e-3}},
      {"s", {"time", 1}},
      {"ms", {"time", 1e-3}},
      {"min", {"time", 60}},
      {"h", {"time", 3600}},
      {"d", {"time", 86400}},
      {"wk", {"time", 604800}},
  };
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) return std::nullopt;
  return it->second;
}

// `value` (in unit `from`) expressed in unit `to`; nullopt when not convertible.
std::optional<double> ConvertUnit(double value, std::string_view from, std::string_view to) {
  std::string f = NormalizeUnit(from), t = NormalizeUnit(to);
  if (f == t) return value;
  auto sf = ScaleOf(f), st = ScaleOf(t);
  if (!sf || !st || sf->dimension != st->dimension) return std::nullopt;
  return value * sf->factor / st->factor;
}

}  // namespace

std::string FhirPathToString(const FhirPathNode& n) {
  switch (n.kind) {
    case Kind::kElement:
      if (!n.json) return "";
      if (n.json->is_bool()) return n.json->as_bool() ? "true" : "false";
      if (n.json->is_string() || n.json->is_number()) return n.json->text();
      return WriteJson(*n.json);
    case Kind::kReference:
      return n.text;
    case Kind::kBoolean:
      return n.boolean ? "true" : "false";
    case Kind::kInteger:
      return std::to_string(n.integer);
    case Kind::kString:
    case Kind::kDecimal:
    case Kind::kDate:
    case Kind::kDateTime:
    case Kind::kTime:
      return n.text;
    case Kind::kQuantity:
      if (IsCalendarUnit(n.unit)) return Cat({n.text, " ", n.unit});
      return Cat({n.text, " '", n.unit, "'"});
  }
  return "";
}

// ---------------------------------------------------------------------------------------
// Dates and times: partial precision, optional time zone.
namespace {

struct TemporalValue {
  // year, month, day, hour, minute, millisecond-of-minute
  int64_t c[6] = {0, 1, 1, 0, 0, 0};
  int precision = 0;  // number of components present (Time: 3 for hh, ... shifted below)
  bool has_tz = false;
  int tz_minutes = 0;
  bool is_time = false;
};

bool ReadDigits(std::string_view s, size_t* i, int n, int64_t* out) {
  if (*i + n > s.size()) return false;
  int64_t v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

// hh[:mm[:ss[.fff]]] into t->c[3..5]; returns false on malformed input.
bool ParseTimePart(std::string_view s, size_t* i, TemporalValue* t) {
  int64_t v;
  if (!ReadDigits(s, i, 2, &v) || v > 23) return false;
  t->c[3] = v;
  t->precision = 4;
  if (*i < s.size() && s[*i] == ':') {
    ++*i;
    if (!ReadDigits(s, i, 2, &v) || v > 59) return false;
    t->c[4] = v;
    t->precision = 5;
    if (*i < s.size() && s[*i] == ':') {
      ++*i;
      if (!ReadDigits(s, i, 2, &v) || v > 60) return false;
      int64_t ms = v * 1000;
      if (*i < s.size() && s[*i] == '.') {
        ++*i;
        size_t start = *i;
        int64_t frac = 0;
        int digits = 0;
        while (*i < s.size() && IsDigit(s[*i])) {
          if (digits < 3) frac = frac * 10 + (s[*i] - '0'), ++digits;
          ++*i;
        }
        if (*i == start) return false;
        while (digits < 3) frac *= 10, ++digits;
        ms += frac;
      }
      t->c[5] = ms;
      t->precision = 6;
    }
  }
  return true;
}

bool ParseTz(std::string_view s, size_t* i, TemporalValue* t) {
  if (*i >= s.size()) return true;
  if (s[*i] == 'Z') {
    ++*i;
    t->has_tz = true;
    return true;
  }
  if (s[*i] == '+' || s[*i] == '-') {
    bool neg = s[*i] == '-';
    ++*i;
    int64_t h, m;
    if (!ReadDigits(s, i, 2, &h) || *i >= s.size() || s[*i] != ':') return false;
    ++*i;
    if (!ReadDigits(s, i, 2, &m)) return false;
    t->has_tz = true;
    t->tz_minutes = static_cast<int>((neg ? -1 : 1) * (h * 60 + m));
    return true;
  }
  return false;
}

// Date and DateTime text: YYYY[-MM[-DD]][T[hh[:mm[:ss[.fff]]]][tz]]. `allow_time` false for
// Date. A trailing "T" alone (the @2015T literal) is accepted.
std::optional<TemporalValue> ParseDateTime(std::string_view s, bool allow_time) {
  TemporalValue t;
  size_t i = 0;
  int64_t v;
  if (!ReadDigits(s, &i, 4, &v)) return std::nullopt;
  t.c[0] = v;
  t.precision = 1;
  if (i < s.size() && s[i] == '-') {
    ++i;
    if (!ReadDigits(s, &i, 2, &v) || v < 1 || v > 12) return std::nullopt;
    t.c[1] = v;
    t.precision = 2;
    if (i < s.size() && s[i] == '-') {
      ++i;
      if (!ReadDigits(s, &i, 2, &v) || v < 1 || v > 31) return std::nullopt;
      t.c[2] = v;
      t.precision = 3;
    }
  }
  if (i < s.size() && s[i] == 'T') {
    if (!allow_time) return std::nullopt;
    ++i;
    if (i < s.size() && IsDigit(s[i])) {
      if (t.precision < 3 || !ParseTimePart(s, &i, &t)) return std::nullopt;
    }
    if (!ParseTz(s, &i, &t)) return std::nullopt;
  } else if (allow_time && i < s.size() && t.precision == 3) {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return t;
}

std::optional<TemporalValue> ParseTime(std::string_view s) {
  TemporalValue t;
  t.is_time = true;
  size_t i = 0;
  if (i < s.size() && s[i] == 'T') ++i;
  if (!ParseTimePart(s, &i, &t) || i != s.size()) return std::nullopt;
  return t;
}

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yoe + era * 400 + (*m <= 2);
}

// Shifts a DateTime with a time zone to UTC, so that instants written in different zones
// compare by the instant (only meaningful from hour precision on).
TemporalValue ToUtc(TemporalValue t) {
  if (!t.has_tz || t.tz_minutes == 0 || t.precision < 4 || t.is_time) return t;
  int64_t minutes =
      DaysFromCivil(t.c[0], t.c[1], t.c[2]) * 1440 + t.c[3] * 60 + t.c[4] - t.tz_minutes;
  int64_t days = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
  int64_t rem = minutes - days * 1440;
  CivilFromDays(days, &t.c[0], &t.c[1], &t.c[2]);
  t.c[3] = rem / 60;
  t.c[4] = rem % 60;
  t.tz_minutes = 0;
  return t;
}

int64_t MinutesOf(const TemporalValue& t) {
  return DaysFromCivil(t.c[0], t.c[1], t.c[2]) * 1440 + t.c[3] * 60 + t.c[4] - t.tz_minutes;
}

// -1/0/1, or nullopt when the answer depends on precision (or a time zone) the values do
// not have.
std::optional<int> CompareTemporal(TemporalValue a, TemporalValue b) {
  if (a.is_time != b.is_time) return std::nullopt;
  if (a.has_tz && b.has_tz) {
    a = ToUtc(a);
    b = ToUtc(b);
  } else if (a.has_tz != b.has_tz && !a.is_time && a.precision >= 4 && b.precision >= 4) {
    // One side is local time, anywhere from UTC-14:00 to UTC+14:00: only instants more than
    // 28 hours apart are ordered with certainty.
    int64_t diff = MinutesOf(a) - MinutesOf(b);
    if (diff > 28 * 60) return 1;
    if (diff < -28 * 60) return -1;
    return std::nullopt;
  }
  int first = a.is_time ? 3 : 0;
  int common = std::min(a.precision, b.precision);
  for (int k = first; k < common; ++k) {
    if (a.c[k] != b.c[k]) return a.c[k] < b.c[k] ? -1 : 1;
  }
  // Seconds and milliseconds are one precision; otherwise unequal precision is uncertain.
  if (a.precision != b.precision) return std::nullopt;
  return 0;
}

std::optional<TemporalValue> TemporalOf(const FhirPathNode& n) {
  switch (n.kind) {
    case Kind::kDate:
      return ParseDateTime(n.text, false);
    case Kind::kDateTime:
      return ParseDateTime(n.text, true);
    case Kind::kTime:
      return ParseTime(n.text);
    default:
      return std::nullopt;
  }
}

bool IsTemporal(Kind k) { return k == Kind::kDate || k == Kind::kDateTime || k == Kind::kTime; }

std::string NowText(bool with_time) {
  auto now = std::chrono::system_clock::now();
  std::time_t tt = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  if (!with_time) {
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  } else {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    char base[48];
    std::strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf, sizeof buf, "%s.%03dZ", base, static_cast<int>(ms.count()));
  }
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The AST

enum class Fn {
  kEmpty,
  kExists,
  kAll,
  kAllTrue,
  kAnyTrue,
  kAllFalse,
  kAnyFalse,
  kSubsetOf,
  kSupersetOf,
  kCount,
  kDistinct,
  kIsDistinct,
  kWhere,
  kSelect,
  kRepeat,
  kOfType,
  kIs,
  kAs,
  kSingle,
  kFirst,
  kLast,
  kTail,
  kSkip,
  kTake,
  kIntersect,
  kExclude,
  kUnion,
  kCombine,
  kIif,
  kToBoolean,
  kConvertsToBoolean,
  kToInteger,
  kConvertsToInteger,
  kToDecimal,
  kConvertsToDecimal,
  kToString,
  kConvertsToString,
  kToDate,
  kConvertsToDate,
  kToDateTime,
  kConvertsToDateTime,
  kToTime,
  kConvertsToTime,
  kToQuantity,
  kConvertsToQuantity,
  kIndexOf,
  kSubstring,
  kStartsWith,
  kEndsWith,
  kContains,
  kUpper,
  kLower,
  kReplace,
  kLength,
  kToChars,
  kTrim,
  kSplit,
  kJoin,
  kChildren,
  kDescendants,
  kNot,
  kTrace,
  kToday,
  kNow,
  kTimeOfDay,
  kExtension,
  kHasValue,
  kGetValue,
  kResolve,
  kAbs,
  kCeiling,
  kFloor,
  kRound,
  kTruncate,
  kSqrt,
  kExp,
  kLn,
  kLog,
  kPower,
  kHtmlChecks,
  kMatches,         // definitions only (FhirPathParseOptions)
  kReplaceMatches,  // definitions only
};

namespace {

struct FnInfo {
  Fn fn;
  int min_args;
  int max_args;
  bool type_arg = false;  // the argument is a type specifier (is, as, ofType)
};

const std::unordered_map<std::string_view, FnInfo>& Functions() {
  static const auto* kTable = new std::unordered_map<std::string_view, FnInfo>{
      {"empty", {Fn::kEmpty, 0, 0}},
      {"exists", {Fn::kExists, 0, 1}},
      {"all", {Fn::kAll, 1, 1}},
      {"allTrue", {Fn::kAllTrue, 0, 0}},
      {"anyTrue", {Fn::kAnyTrue, 0, 0}},
      {"allFalse", {Fn::kAllFalse, 0, 0}},
      {"anyFalse", {Fn::kAnyFalse, 0, 0}},
      {"subsetOf", {Fn::kSubsetOf, 1, 1}},
      {"supersetOf", {Fn::kSupersetOf, 1, 1}},
      {"count", {Fn::kCount, 0, 0}},
      {"distinct", {Fn::kDistinct, 0, 0}},
      {"isDistinct", {Fn::kIsDistinct, 0, 0}},
      {"where", {Fn::kWhere, 1, 1}},
      {"select", {Fn::kSelect, 1, 1}},
      {"repeat", {Fn::kRepeat, 1, 1}},
      {"ofType", {Fn::kOfType, 1, 1, true}},
      {"is", {Fn::kIs, 1, 1, true}},
      {"as", {Fn::kAs, 1, 1, true}},
      {"single", {Fn::kSingle, 0, 0}},
      {"first", {Fn::kFirst, 0, 0}},
      {"last", {Fn::kLast, 0, 0}},
      {"tail", {Fn::kTail, 0, 0}},
      {"skip", {Fn::kSkip, 1, 1}},
      {"take", {Fn::kTake, 1, 1}},
      {"intersect", {Fn::kIntersect, 1, 1}},
      {"exclude", {Fn::kExclude, 1, 1}},
      {"union", {Fn::kUnion, 1, 1}},
      {"combine", {Fn::kCombine, 1, 1}},
      {"iif", {Fn::kIif, 2, 3}},
      {"toBoolean", {Fn::kToBoolean, 0, 0}},
      {"convertsToBoolean", {Fn::kConvertsToBoolean, 0, 0}},
      {"toInteger", {Fn::kToInteger, 0, 0}},
      {"convertsToInteger", {Fn::kConvertsToInteger, 0, 0}},
      {"toDecimal", {Fn::kToDecimal, 0, 0}},
      {"convertsToDecimal", {Fn::kConvertsToDecimal, 0, 0}},
      {"toString", {Fn::kToString, 0, 0}},
      {"convertsToString", {Fn::kConvertsToString, 0, 0}},
      {"toDate", {Fn::kToDate, 0, 0}},
      {"convertsToDate", {Fn::kConvertsToDate, 0, 0}},
      {"toDateTime", {Fn::kToDateTime, 0, 0}},
      {"convertsToDateTime", {Fn::kConvertsToDateTime, 0, 0}},
      {"toTime", {Fn::kToTime, 0, 0}},
      {"convertsToTime", {Fn::kConvertsToTime, 0, 0}},
      {"toQuantity", {Fn::kToQuantity, 0, 1}},
      {"convertsToQuantity", {Fn::kConvertsToQuantity, 0, 1}},
      {"indexOf", {Fn::kIndexOf, 1, 1}},
      {"substring", {Fn::kSubstring, 1, 2}},
      {"startsWith", {Fn::kStartsWith, 1, 1}},
      {"endsWith", {Fn::kEndsWith, 1, 1}},
      {"contains", {Fn::kContains, 1, 1}},
      {"upper", {Fn::kUpper, 0, 0}},
      {"lower", {Fn::kLower, 0, 0}},
      {"replace", {Fn::kReplace, 2, 2}},
      {"length", {Fn::kLength, 0, 0}},
      {"toChars", {Fn::kToChars, 0, 0}},
      {"trim", {Fn::kTrim, 0, 0}},
      {"split", {Fn::kSplit, 1, 1}},
      {"join", {Fn::kJoin, 0, 1}},
      {"children", {Fn::kChildren, 0, 0}},
      {"descendants", {Fn::kDescendants, 0, 0}},
      {"not", {Fn::kNot, 0, 0}},
      {"trace", {Fn::kTrace, 1, 2}},
      {"today", {Fn::kToday, 0, 0}},
      {"now", {Fn::kNow, 0, 0}},
      {"timeOfDay", {Fn::kTimeOfDay, 0, 0}},
      {"extension", {Fn::kExtension, 1, 1}},
      {"hasValue", {Fn::kHasValue, 0, 0}},
      {"getValue", {Fn::kGetValue, 0, 0}},
      {"resolve", {Fn::kResolve, 0, 0}},
      {"abs", {Fn::kAbs, 0, 0}},
      {"ceiling", {Fn::kCeiling, 0, 0}},
      {"floor", {Fn::kFloor, 0, 0}},
      {"round", {Fn::kRound, 0, 1}},
      {"truncate", {Fn::kTruncate, 0, 0}},
      {"sqrt", {Fn::kSqrt, 0, 0}},
      {"exp", {Fn::kExp, 0, 0}},
      {"ln", {Fn::kLn, 0, 0}},
      {"log", {Fn::kLog, 1, 1}},
      {"power", {Fn::kPower, 1, 1}},
      {"htmlChecks", {Fn::kHtmlChecks, 0, 0}},
  };
  return *kTable;
}

// Functions parsed only in expressions of the definitions (FhirPathParseOptions).
const std::unordered_map<std::string_view, FnInfo>& RegexFunctions() {
  static const auto* kTable = new std::unordered_map<std::string_view, FnInfo>{
      {"matches", {Fn::kMatches, 1, 1}},
      {"replaceMatches", {Fn::kReplaceMatches, 2, 2}},
  };
  return *kTable;
}

// Functions of FHIRPath / FHIR that carnet knowingly does not implement (see the header).
bool IsKnownUnsupportedFunction(std::string_view name) {
  static const std::set<std::string_view> kNames = {"matches",
                                                    "matchesFull",
                                                    "replaceMatches",
                                                    "aggregate",
                                                    "sort",
                                                    "type",
                                                    "conformsTo",
                                                    "memberOf",
                                                    "subsumes",
                                                    "subsumedBy",
                                                    "precision",
                                                    "lowBoundary",
                                                    "highBoundary",
                                                    "comparable",
                                                    "encode",
                                                    "decode",
                                                    "escape",
                                                    "unescape",
                                                    "defineVariable",
                                                    "elementDefinition",
                                                    "slice",
                                                    "checkModifiers",
                                                    "hasTemplateIdOf",
                                                    "ofType2",
                                                    "lastIndexOf",
                                                    "yearOf",
                                                    "monthOf",
                                                    "dayOf",
                                                    "hourOf",
                                                    "minuteOf",
                                                    "secondOf",
                                                    "millisecondOf",
                                                    "timezoneOffsetOf",
                                                    "dateOf",
                                                    "timeOf",
                                                    "duration",
                                                    "difference",
                                                    "coalesce"};
  return kNames.count(name) > 0;
}

}  // namespace

struct FhirPathExpression::Ast {
  enum class Op {
    kLiteral,   // literal
    kEmptySet,  // {}
    kMember,    // name (on the focus)
    kFunction,  // name(args) (on the focus)
    kThis,
    kIndex,
    kTotal,
    kVariable,  // %name
    kInvoke,    // children[0] . children[1] (kMember or kFunction)
    kIndexer,   // children[0] [ children[1] ]
    kNegate,    // - children[0]
    kBinary,    // children[0] name children[1]
    kIsType,    // children[0] is type_name
    kAsType,    // children[0] as type_name
  };
  Op op = Op::kLiteral;
  std::string name;
  std::string type_name;  // is/as/ofType: "Quantity", "FHIR.Patient", "System.Integer"
  Fn fn = Fn::kEmpty;
  FhirPathNode literal;
  // matches()/replaceMatches(): the pattern, compiled when parsed.
  std::shared_ptr<const std::regex> regex;
  std::vector<std::unique_ptr<Ast>> children;
  int height = 1;
};

using Ast = FhirPathExpression::Ast;

// ---------------------------------------------------------------------------------------
// Lexer
namespace {

enum class Tok { kEnd, kIdent, kString, kNumber, kTemporal, kSymbol, kVariable, kSpecial };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier (unquoted), string value, number text, symbol...
  Kind temporal_kind = Kind::kDate;
  bool quoted = false;  // a `delimited` identifier: never a keyword
  size_t pos = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s, bool keep_unknown_escapes = false)
      : s_(s), keep_unknown_escapes_(keep_unknown_escapes) {}

  Status Run(std::vector<Token>* out) {
    while (true) {
      CARNET_RETURN_IF_ERROR(SkipSpaceAndComments());
      Token t;
      t.pos = i_;
      if (i_ >= s_.size()) {
        out->push_back(t);
        return Status::Ok();
      }
      char c = s_[i_];
      if (IsIdentStart(c)) {
        size_t start = i_;
        while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
        t.kind = Tok::kIdent;
        t.text = std::string(s_.substr(start, i_ - start));
      } else if (c == '`') {
        t.kind = Tok::kIdent;
        t.quoted = true;
        CARNET_RETURN_IF_ERROR(Quoted('`', &t.text));
      } else if (c == '\'') {
        t.kind = Tok::kString;
        CARNET_RETURN_IF_ERROR(Quoted('\'', &t.text));
      } else if (IsDigit(c)) {
        size_t start = i_;
        while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
        if (i_ + 1 < s_.size() && s_[i_] == '.' && IsDigit(s_[i_ + 1])) {
          ++i_;
          while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
        }
        t.kind = Tok::kNumber;
        t.text = std::string(s_.substr(start, i_ - start));
      } else if (c == '@') {
        ++i_;
        CARNET_RETURN_IF_ERROR(TemporalLiteral(&t));
      } else if (c == '%') {
        ++i_;
        t.kind = Tok::kVariable;
        if (i_ < s_.size() && s_[i_] == '`') {
          CARNET_RETURN_IF_ERROR(Quoted('`', &t.text));
        } else if (i_ < s_.size() && s_[i_] == '\'') {
          CARNET_RETURN_IF_ERROR(Quoted('\'', &t.text));
        } else {
          size_t start = i_;
          // Variable names such as %vs-name contain '-'.
          while (i_ < s_.size() && (IsIdentChar(s_[i_]) || s_[i_] == '-')) ++i_;
          if (i_ == start) return Error("'%' must be followed by a name");
          t.text = std::string(s_.substr(start, i_ - start));
        }
      } else if (c == '$') {
        ++i_;
        size_t start = i_;
        while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
        t.kind = Tok::kSpecial;
        t.text = std::string(s_.substr(start, i_ - start));
        if (t.text != "this" && t.text != "index" && t.text != "total")
          return Error("unknown $ name");
      } else {
        static constexpr std::string_view kTwo[] = {"!=", "!~", "<=", ">="};
        t.kind = Tok::kSymbol;
        for (std::string_view two : kTwo) {
          if (s_.substr(i_, 2) == two) t.text = std::string(two);
        }
        if (t.text.empty()) {
          if (std::strchr("()[]{}.,|=~<>+-*/&", c) == nullptr || c == '\0')
            return Error(Cat({"unexpected character '", std::string_view(&c, 1), "'"}));
          t.text = std::string(1, c);
        }
        i_ += t.text.size();
      }
      out->push_back(std::move(t));
    }
  }

 private:
  Status Error(std::string_view message) const {
    return BadRequest(Cat({"FHIRPath syntax error at offset ", std::to_string(i_), ": ", message}));
  }

  Status SkipSpaceAndComments() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        ++i_;
      } else if (s_.substr(i_, 2) == "//") {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (s_.substr(i_, 2) == "/*") {
        size_t end = s_.find("*/", i_ + 2);
        if (end == std::string_view::npos) return Error("unterminated comment");
        i_ = end + 2;
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  Status Quoted(char quote, std::string* out) {
    ++i_;
    while (i_ < s_.size() && s_[i_] != quote) {
      char c = s_[i_++];
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) break;
      char e = s_[i_++];
      switch (e) {
        case '\'':
        case '"':
        case '`':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return Error("bad \\u escape");
          uint32_t cp = 0;
          for (int k = 0; k < 4; ++k) {
            char h = s_[i_++];
            cp <<= 4;
            if (IsDigit(h))
              cp |= h - '0';
            else if (h >= 'a' && h <= 'f')
              cp |= h - 'a' + 10;
            else if (h >= 'A' && h <= 'F')
              cp |= h - 'A' + 10;
            else
              return Error("bad \\u escape");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          if (!keep_unknown_escapes_) return Error("unknown escape");
          out->push_back('\\');
          out->push_back(e);
      }
    }
    if (i_ >= s_.size()) return Error("unterminated literal");
    ++i_;
    return Status::Ok();
  }

  // After '@': a Date, DateTime (with 'T') or Time ('T' first).
  Status TemporalLiteral(Token* t) {
    size_t start = i_;
    t->kind = Tok::kTemporal;
    auto take_time = [&] {
      // hh[:mm[:ss[.fff]]]
      while (i_ < s_.size() && (IsDigit(s_[i_]) || s_[i_] == ':')) ++i_;
      if (i_ + 1 < s_.size() && s_[i_] == '.' && IsDigit(s_[i_ + 1])) {
        ++i_;
        while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
      }
    };
    auto take_tz = [&] {
      if (i_ < s_.size() && s_[i_] == 'Z') {
        ++i_;
      } else if (i_ + 5 < s_.size() + 0 && (s_[i_] == '+' || s_[i_] == '-') &&
                 IsDigit(s_[i_ + 1]) && IsDigit(s_[i_ + 2]) && s_[i_ + 3] == ':') {
        i_ += 6;
      }
    };
    if (i_ < s_.size() && s_[i_] == 'T') {
      ++i_;
      take_time();
      take_tz();
      t->temporal_kind = Kind::kTime;
      t->text = std::string(s_.substr(start + 1, i_ - start - 1));
      if (!ParseTime(t->text)) return Error("malformed time literal");
      return Status::Ok();
    }
    while (i_ < s_.size() && (IsDigit(s_[i_]) || s_[i_] == '-')) {
      // A '-' after a complete date is an operator, not part of the literal.
      if (s_[i_] == '-' && i_ - start >= 10) break;
      ++i_;
    }
    bool has_t = false;
    if (i_ < s_.size() && s_[i_] == 'T') {
      has_t = true;
      ++i_;
      take_time();
      take_tz();
    }
    t->text = std::string(s_.substr(start, i_ - start));
    t->temporal_kind = has_t ? Kind::kDateTime : Kind::kDate;
    if (!ParseDateTime(t->text, has_t)) return Error("malformed date/time literal");
    return Status::Ok();
  }

  std::string_view s_;
  size_t i_ = 0;
  bool keep_unknown_escapes_ = false;
};

// ---------------------------------------------------------------------------------------
// Parser: precedence climbing over the FHIRPath grammar (lowest first):
//   implies; or xor; and; in contains; = ~ != !~; < > <= >=; |; is as; + - &; * / div mod;
//   unary + -; postfix . and [].

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens, bool definitions = false)
      : t_(std::move(tokens)), definitions_(definitions) {}

  Result<std::unique_ptr<Ast>> ParseAll() {
    auto e = Expr(0);
    if (!e.ok()) return e.status();
    if (Peek().kind != Tok::kEnd) return Error("unexpected trailing input");
    return std::move(*e);
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, t_.size() - 1);
    return t_[i];
  }
  bool IsSymbol(std::string_view s, size_t ahead = 0) const {
    const Token& t = Peek(ahead);
    return t.kind == Tok::kSymbol && t.text == s;
  }
  bool IsKeyword(std::string_view s) const {
    const Token& t = Peek();
    return t.kind == Tok::kIdent && !t.quoted && t.text == s;
  }
  Status Error(std::string_view message) const {
    return BadRequest(
        Cat({"FHIRPath syntax error at offset ", std::to_string(Peek().pos), ": ", message}));
  }

  Result<std::unique_ptr<Ast>> Make(Ast::Op op, std::string name,
                                    std::vector<std::unique_ptr<Ast>> children) {
    auto a = std::make_unique<Ast>();
    a->op = op;
    a->name = std::move(name);
    int h = 0;
    for (const auto& c : children) h = std::max(h, c->height);
    a->height = h + 1;
    a->children = std::move(children);
    if (a->height > kMaxAstHeight) return Error("expression nested too deeply");
    return a;
  }

  // The binary operator at precedence `level`, or "" when the next token is none.
  std::string BinaryOp(int level) const {
    const Token& t = Peek();
    auto sym = [&](std::initializer_list<std::string_view> ops) -> std::string {
      if (t.kind != Tok::kSymbol) return "";
      for (auto op : ops)
        if (t.text == op) return t.text;
      return "";
    };
    auto kw = [&](std::initializer_list<std::string_view> ops) -> std::string {
      if (t.kind != Tok::kIdent || t.quoted) return "";
      for (auto op : ops)
        if (t.text == op) return t.text;
      return "";
    };
    switch (level) {
      case 0:
        return kw({"implies"});
      case 1:
        return kw({"or", "xor"});
      case 2:
        return kw({"and"});
      case 3:
        return kw({"in", "contains"});
      case 4:
        return sym({"=", "~", "!=", "!~"});
      case 5:
        return sym({"<", ">", "<=", ">="});
      case 6:
        return sym({"|"});
      case 7:
        return kw({"is", "as"});
      case 8:
        return sym({"+", "-", "&"});
      case 9: {
        std::string s = sym({"*", "/"});
        return s.empty() ? kw({"div", "mod"}) : s;
      }
    }
    return "";
  }

  Result<std::unique_ptr<Ast>> Expr(int level) {
    if (++depth_ > kMaxParseDepth) return Error("expression nested too deeply");
    auto r = ExprAt(level);
    --depth_;
    return r;
  }

  Result<std::unique_ptr<Ast>> ExprAt(int level) {
    if (level >= 10) return Unary();
    auto left = Expr(level + 1);
    if (!left.ok()) return left;
    std::unique_ptr<Ast> l = std::move(*left);
    while (true) {
      std::string op = BinaryOp(level);
      if (op.empty()) return l;
      ++pos_;
      if (level == 7) {
        auto type = TypeSpecifier();
        if (!type.ok()) return type.status();
        std::vector<std::unique_ptr<Ast>> kids;
        kids.push_back(std::move(l));
        auto node = Make(op == "is" ? Ast::Op::kIsType : Ast::Op::kAsType, op, std::move(kids));
        if (!node.ok()) return node;
        (*node)->type_name = *type;
        l = std::move(*node);
        continue;
      }
      // implies is right-associative; everything else left-associative.
      auto right = Expr(level == 0 ? 0 : level + 1);
      if (!right.ok()) return right;
      std::vector<std::unique_ptr<Ast>> kids;
      kids.push_back(std::move(l));
      kids.push_back(std::move(*right));
      auto node = Make(Ast::Op::kBinary, op, std::move(kids));
      if (!node.ok()) return node;
      l = std::move(*node);
      if (level == 0) return l;
    }
  }

  Result<std::string> TypeSpecifier() {
    std::string name;
    while (true) {
      const Token& t = Peek();
      if (t.kind != Tok::kIdent) return Error("type name expected");
      name += t.text;
      ++pos_;
      if (IsSymbol(".") && Peek(1).kind == Tok::kIdent && name.find('.') == std::string::npos) {
        ++pos_;
        name += '.';
        continue;
      }
      return name;
    }
  }

  Result<std::unique_ptr<Ast>> Unary() {
    if (IsSymbol("-") || IsSymbol("+")) {
      bool negate = Peek().text == "-";
      ++pos_;
      if (++depth_ > kMaxParseDepth) return Error("expression nested too deeply");
      auto operand = Unary();
      --depth_;
      if (!operand.ok()) return operand;
      if (!negate) return operand;
      // Fold a negative number literal, so that -1 is an Integer literal.
      Ast& o = **operand;
      if (o.op == Ast::Op::kLiteral &&
          (o.literal.kind == Kind::kInteger || o.literal.kind == Kind::kDecimal ||
           o.literal.kind == Kind::kQuantity)) {
        o.literal.integer = -o.literal.integer;
        o.literal.decimal = -o.literal.decimal;
        if (o.literal.kind != Kind::kInteger) o.literal.text = Cat({"-", o.literal.text});
        return operand;
      }
      std::vector<std::unique_ptr<Ast>> kids;
      kids.push_back(std::move(*operand));
      return Make(Ast::Op::kNegate, "-", std::move(kids));
    }
    return Postfix();
  }

  Result<std::unique_ptr<Ast>> Postfix() {
    auto term = Term();
    if (!term.ok()) return term;
    std::unique_ptr<Ast> l = std::move(*term);
    while (true) {
      if (IsSymbol(".")) {
        ++pos_;
        auto inv = Invocation();
        if (!inv.ok()) return inv;
        std::vector<std::unique_ptr<Ast>> kids;
        kids.push_back(std::move(l));
        kids.push_back(std::move(*inv));
        auto node = Make(Ast::Op::kInvoke, ".", std::move(kids));
        if (!node.ok()) return node;
        l = std::move(*node);
      } else if (IsSymbol("[")) {
        ++pos_;
        auto index = Expr(0);
        if (!index.ok()) return index;
        if (!IsSymbol("]")) return Error("']' expected");
        ++pos_;
        std::vector<std::unique_ptr<Ast>> kids;
        kids.push_back(std::move(l));
        kids.push_back(std::move(*index));
        auto node = Make(Ast::Op::kIndexer, "[]", std::move(kids));
        if (!node.ok()) return node;
        l = std::move(*node);
      } else {
        return l;
      }
    }
  }

  // identifier | function call | $this | $index | $total
  Result<std::unique_ptr<Ast>> Invocation() {
    const Token t = Peek();
    if (t.kind == Tok::kSpecial) {
      ++pos_;
      Ast::Op op = t.text == "this"    ? Ast::Op::kThis
                   : t.text == "index" ? Ast::Op::kIndex
                                       : Ast::Op::kTotal;
      return Make(op, t.text, {});
    }
    if (t.kind != Tok::kIdent) return Error("identifier expected");
    ++pos_;
    if (!IsSymbol("(")) return Make(Ast::Op::kMember, t.text, {});
    ++pos_;
    const FnInfo* found = nullptr;
    if (auto it = Functions().find(t.text); it != Functions().end()) {
      found = &it->second;
    } else if (auto r = RegexFunctions().find(t.text);
               definitions_ && r != RegexFunctions().end()) {
      found = &r->second;
    }
    if (found == nullptr) {
      if (IsKnownUnsupportedFunction(t.text))
        return BadRequest(Cat({kUnsupportedPrefix, t.text, "()"}));
      return Error(Cat({"unknown function ", t.text, "()"}));
    }
    const FnInfo& info = *found;
    std::vector<std::unique_ptr<Ast>> args;
    std::string type_name;
    if (info.type_arg) {
      auto type = TypeSpecifier();
      if (!type.ok()) return type.status();
      type_name = *type;
    } else if (!IsSymbol(")")) {
      while (true) {
        auto arg = Expr(0);
        if (!arg.ok()) return arg;
        args.push_back(std::move(*arg));
        if (!IsSymbol(",")) break;
        ++pos_;
      }
    }
    if (!IsSymbol(")")) return Error("')' expected");
    ++pos_;
    int n = info.type_arg ? 1 : static_cast<int>(args.size());
    if (n < info.min_args || n > info.max_args)
      return Error(Cat({"wrong number of arguments for ", t.text, "()"}));
    auto node = Make(Ast::Op::kFunction, t.text, std::move(args));
    if (!node.ok()) return node;
    (*node)->fn = info.fn;
    // The R4 definitions apply the as() function to collections (dom-3:
    // %resource.descendants().as(canonical)), as FHIRPath N1 engines allowed: it filters
    // there, like ofType().
    if (definitions_ && info.fn == Fn::kAs) (*node)->fn = Fn::kOfType;
    (*node)->type_name = std::move(type_name);
    if (info.fn == Fn::kMatches || info.fn == Fn::kReplaceMatches) {
      Status st = CompileRegex(**node);
      if (!st.ok()) return st;
    }
    return node;
  }

  // The pattern of matches()/replaceMatches() must be a string literal, compiled here once.
  Status CompileRegex(Ast& call) const {
    const Ast& pattern = *call.children[0];
    if (pattern.op != Ast::Op::kLiteral || pattern.literal.kind != Kind::kString)
      return BadRequest(Cat({kUnsupportedPrefix, call.name, "() with a computed pattern"}));
    const std::string& text = pattern.literal.text;
    if (text.size() > kMaxRegexPattern)
      return BadRequest(Cat({kUnsupportedPrefix, call.name, "() with a pattern that long"}));
    try {
      call.regex = std::make_shared<const std::regex>(text, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return BadRequest(Cat(
          {kUnsupportedPrefix, call.name, "() pattern the regex engine refuses (", e.what(), ")"}));
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<Ast>> Literal(FhirPathNode value) {
    auto node = Make(Ast::Op::kLiteral, "", {});
    if (node.ok()) (*node)->literal = std::move(value);
    return node;
  }

  Result<std::unique_ptr<Ast>> Term() {
    const Token t = Peek();
    switch (t.kind) {
      case Tok::kEnd:
        return Error("unexpected end of expression");
      case Tok::kString:
        ++pos_;
        return Literal(FhirPathNode::String(t.text));
      case Tok::kTemporal:
        ++pos_;
        return Literal(Temporal(t.temporal_kind, t.text));
      case Tok::kNumber: {
        ++pos_;
        // A quantity: number followed by a unit string or a calendar keyword.
        if (Peek().kind == Tok::kString ||
            (Peek().kind == Tok::kIdent && !Peek().quoted && IsCalendarUnit(Peek().text))) {
          std::string unit = Peek().text;
          if (Peek().kind != Tok::kString && unit.back() == 's') unit.pop_back();
          ++pos_;
          return Literal(QuantityOf(std::strtod(t.text.c_str(), nullptr), t.text, unit));
        }
        if (t.text.find('.') != std::string::npos) return Literal(FhirPathNode::Decimal(t.text));
        int64_t v = 0;
        auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        if (r.ec != std::errc()) return Literal(FhirPathNode::Decimal(t.text));
        return Literal(FhirPathNode::Integer(v));
      }
      case Tok::kVariable:
        ++pos_;
        return Make(Ast::Op::kVariable, t.text, {});
      case Tok::kSpecial:
        return Invocation();
      case Tok::kIdent:
        if (!t.quoted && (t.text == "true" || t.text == "false")) {
          ++pos_;
          return Literal(FhirPathNode::Boolean(t.text == "true"));
        }
        return Invocation();
      case Tok::kSymbol:
        if (t.text == "(") {
          ++pos_;
          auto inner = Expr(0);
          if (!inner.ok()) return inner;
          if (!IsSymbol(")")) return Error("')' expected");
          ++pos_;
          return inner;
        }
        if (t.text == "{" && IsSymbol("}", 1)) {
          pos_ += 2;
          return Make(Ast::Op::kEmptySet, "{}", {});
        }
        return Error(Cat({"unexpected '", t.text, "'"}));
    }
    return Error("unexpected token");
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool definitions_ = false;
};

}  // namespace

Result<FhirPathExpression> FhirPathExpression::Parse(std::string_view text) {
  return Parse(text, FhirPathParseOptions{});
}

Result<FhirPathExpression> FhirPathExpression::Parse(std::string_view text,
                                                     const FhirPathParseOptions& options) {
  std::string location(text.substr(0, 200));
  if (text.size() > kMaxExpressionLength)
    return BadRequest("FHIRPath expression too long", location);
  std::vector<Token> tokens;
  Status s = Lexer(text, options.definitions).Run(&tokens);
  if (!s.ok()) return BadRequest(s.message(), location);
  auto ast = Parser(std::move(tokens), options.definitions).ParseAll();
  if (!ast.ok()) return BadRequest(ast.status().message(), location);
  FhirPathExpression e;
  e.text_ = std::string(text);
  e.root_ = std::shared_ptr<const Ast>(std::move(*ast));
  return e;
}

bool FhirPathExpression::IsUnsupportedFeature(const Status& status) {
  return status.code() == ErrorCode::kBadRequest &&
         status.message().compare(0, kUnsupportedPrefix.size(), kUnsupportedPrefix) == 0;
}

// ---------------------------------------------------------------------------------------
// Evaluation
namespace {

// FHIR data types that can follow a choice element's name (valueQuantity): used to
// recognise choice members when there is no registry to ask.
bool IsChoiceSuffixType(std::string_view suffix) {
  static const std::set<std::string_view> kTypes = {"Base64Binary",
                                                    "Boolean",
                                                    "Canonical",
                                                    "Code",
                                                    "Date",
                                                    "DateTime",
                                                    "Decimal",
                                                    "Id",
                                                    "Instant",
                                                    "Integer",
                                                    "Markdown",
                                                    "Oid",
                                                    "PositiveInt",
                                                    "String",
                                                    "Time",
                                                    "UnsignedInt",
                                                    "Uri",
                                                    "Url",
                                                    "Uuid",
                                                    "Address",
                                                    "Age",
                                                    "Annotation",
                                                    "Attachment",
                                                    "CodeableConcept",
                                                    "Coding",
                                                    "ContactDetail",
                                                    "ContactPoint",
                                                    "Contributor",
                                                    "Count",
                                                    "DataRequirement",
                                                    "Distance",
                                                    "Dosage",
                                                    "Duration",
                                                    "Expression",
                                                    "HumanName",
                                                    "Identifier",
                                                    "Meta",
                                                    "Money",
                                                    "ParameterDefinition",
                                                    "Period",
                                                    "Quantity",
                                                    "Range",
                                                    "Ratio",
                                                    "Reference",
                                                    "RelatedArtifact",
                                                    "SampledData",
                                                    "Signature",
                                                    "Timing",
                                                    "TriggerDefinition",
                                                    "UsageContext"};
  return kTypes.count(suffix) > 0;
}

// "DateTime" -> "dateTime" for primitives, "Quantity" stays.
std::string TypeFromSuffix(std::string_view suffix) {
  static const std::set<std::string_view> kPrimitive = {
      "Base64Binary", "Boolean",     "Canonical", "Code",     "Date", "DateTime",    "Decimal",
      "Id",           "Instant",     "Integer",   "Markdown", "Oid",  "PositiveInt", "String",
      "Time",         "UnsignedInt", "Uri",       "Url",      "Uuid"};
  std::string s(suffix);
  if (kPrimitive.count(suffix) && !s.empty()) s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

bool IsQuantityType(std::string_view t) {
  return t == "Quantity" || t == "Age" || t == "Count" || t == "Distance" || t == "Duration" ||
         t == "MoneyQuantity" || t == "SimpleQuantity";
}

struct Ctx {
  const FhirPathEnvironment* env = nullptr;
  const StructureRegistry* registry = nullptr;
  const JsonValue* resource = nullptr;
  const JsonValue* root_resource = nullptr;
  const Collection* context = nullptr;  // %context
  const Collection* focus = nullptr;    // what a leading identifier or function applies to
  const FhirPathNode* this_node = nullptr;
  int64_t index = 0;
  const Collection* total = nullptr;
};

Status EvalError(std::string_view message) {
  return Invalid(Cat({"FHIRPath evaluation: ", message}));
}

class Evaluator {
 public:
  explicit Evaluator(const Ctx& root) : root_(root) {}

  Result<Collection> Eval(const Ast& a, const Ctx& c) const;

  // Resource node: typed by resourceType, children scoped by the registry.
  FhirPathNode ResourceNode(const JsonValue* json) const {
    FhirPathNode n = FhirPathNode::Element(json, json ? json->GetString("resourceType") : "");
    if (root_.registry && !n.type.empty()) {
      n.scope = root_.registry->Find(n.type);
      if (n.scope) n.scope_path = n.type;
    }
    return n;
  }

 private:
  // Equality-based set operations compare every pair: refuse sizes that would make a
  // hostile expression ("descendants() | descendants()" on a large resource) burn seconds.
  static Status CheckPairs(size_t n, size_t m) {
    if (n != 0 && m > kMaxPairComparisons / n)
      return EvalError("set operation on collections too large");
    return Status::Ok();
  }

  Status Grow(const Collection& c) const {
    if (c.size() > root_.env->max_items)
      return EvalError(Cat({"more than ", std::to_string(root_.env->max_items), " items"}));
    return Status::Ok();
  }

  // ---- navigation ----

  // The nodes for JSON member `key` of `parent` (value `v`, "_key" sibling `ext`).
  void AddMember(const FhirPathNode& parent, std::string_view key, const JsonValue* v,
                 const JsonValue* ext, std::string_view choice_suffix, Collection* out) const {
    std::string type;
    const TypeDef* scope = nullptr;
    std::string scope_path;
    const StructureRegistry* reg = root_.registry;
    if (reg) {
      const TypeDef* owner = parent.scope;
      std::string owner_path = parent.scope_path;
      if (!owner && parent.is_primitive_element()) {
        // id and extension of a primitive are Element's.
        owner = reg->Find("Element");
        owner_path = "Element";
      }
      if (owner) {
        if (auto rc = reg->ResolveChild(*owner, owner_path, key); rc && rc->def) {
          type = rc->type;
          auto [td, path] = reg->ChildScope(*owner, *rc->def, type);
          scope = td;
          scope_path = std::move(path);
        }
      }
    }
    if (type.empty() && !choice_suffix.empty()) {
      type = TypeFromSuffix(choice_suffix);
      if (reg && !reg->IsPrimitiveType(type)) {
        scope = reg->Find(type);
        if (scope) scope_path = type;
      }
    }
    if (type.empty() && key == "extension") type = "Extension";
    auto add = [&](const JsonValue* item, const JsonValue* item_ext) {
      if ((!item || item->is_null()) && (!item_ext || item_ext->is_null())) return;
      if (item && item->is_null()) item = nullptr;
      if (item_ext && !item_ext->is_object()) item_ext = nullptr;
      if (item && item->is_object() && item->Find("resourceType")) {
        out->push_back(ResourceNode(item));
        return;
      }
      FhirPathNode n = FhirPathNode::Element(item, type);
      n.element = item_ext;
      n.scope = scope;
      n.scope_path = scope_path;
      if (!n.scope && reg && !type.empty() && !reg->IsPrimitiveType(type)) {
        n.scope = reg->Find(type);
        if (n.scope) n.scope_path = type;
      }
      out->push_back(std::move(n));
    };
    if (v && v->is_array()) {
      const auto& items = v->items();
      const std::vector<JsonValue>* ext_items = ext && ext->is_array() ? &ext->items() : nullptr;
      for (size_t i = 0; i < items.size(); ++i)
        add(&items[i], ext_items && i < ext_items->size() ? &(*ext_items)[i] : nullptr);
    } else if (v) {
      add(v, ext);
    } else if (ext && ext->is_array()) {
      for (const auto& e : ext->items()) add(nullptr, &e);
    } else if (ext) {
      add(nullptr, ext);
    }
  }

  // Children of `parent` named `name` (a FHIRPath name: "value" finds "valueQuantity").
  void Children(const FhirPathNode& parent, std::string_view name, Collection* out) const {
    if (parent.kind != Kind::kElement) return;
    const JsonValue* obj = parent.json && parent.json->is_object() ? parent.json : parent.element;
    if (!obj || !obj->is_object()) return;
    bool is_resource_object = obj == parent.json;
    const JsonValue* v = obj->Find(name);
    const JsonValue* ext = is_resource_object ? obj->Find(Cat({"_", name})) : nullptr;
    if (v || ext) {
      AddMember(parent, name, v, ext, {}, out);
      return;
    }
    // A choice element: name + type suffix.
    for (const auto& [key, value] : obj->members()) {
      std::string_view k = key;
      bool underscore = !k.empty() && k[0] == '_';
      if (underscore) k.remove_prefix(1);
      if (k.size() <= name.size() || k.compare(0, name.size(), name) != 0 ||
          !IsUpper(k[name.size()]))
        continue;
      if (underscore && obj->Find(k)) continue;  // taken with its value
      std::string_view suffix = k.substr(name.size());
      bool is_choice = false;
      if (root_.registry && parent.scope) {
        auto rc = root_.registry->ResolveChild(*parent.scope, parent.scope_path, k);
        is_choice = rc && rc->def && rc->def->is_choice() &&
                    rc->def->name.compare(0, rc->def->name.size() - 3, name) == 0 &&
                    rc->def->name.size() - 3 == name.size();
      } else {
        is_choice = IsChoiceSuffixType(suffix);
      }
      if (!is_choice) continue;
      const JsonValue* val = underscore ? nullptr : &value;
      const JsonValue* e = is_resource_object && !underscore ? obj->Find(Cat({"_", k})) : nullptr;
      if (underscore) e = &value;
      AddMember(parent, k, val, e, suffix, out);
    }
  }

  // Every child element, in document order.
  void AllChildren(const FhirPathNode& parent, Collection* out) const {
    if (parent.kind != Kind::kElement) return;
    const JsonValue* obj = parent.json && parent.json->is_object() ? parent.json : parent.element;
    if (!obj || !obj->is_object()) return;
    bool is_resource_object = obj == parent.json;
    for (const auto& [key, value] : obj->members()) {
      if (key == "resourceType") continue;
      std::string_view k = key;
      if (!k.empty() && k[0] == '_') {
        if (!is_resource_object || obj->Find(k.substr(1))) continue;
        AddMember(parent, k.substr(1), nullptr, &value, {}, out);
        continue;
      }
      const JsonValue* ext = is_resource_object ? obj->Find(Cat({"_", k})) : nullptr;
      AddMember(parent, k, &value, ext, {}, out);
    }
  }

  // ---- types ----

  struct TypeSpec {
    std::string ns;  // "", "FHIR", "System"
    std::string name;
  };
  static TypeSpec SplitType(std::string_view t) {
    size_t dot = t.find('.');
    if (dot == std::string_view::npos) return {"", std::string(t)};
    return {std::string(t.substr(0, dot)), std::string(t.substr(dot + 1))};
  }

  static std::string_view SystemTypeName(Kind k) {
    switch (k) {
      case Kind::kBoolean:
        return "Boolean";
      case Kind::kString:
        return "String";
      case Kind::kInteger:
        return "Integer";
      case Kind::kDecimal:
        return "Decimal";
      case Kind::kDate:
        return "Date";
      case Kind::kDateTime:
        return "DateTime";
      case Kind::kTime:
        return "Time";
      case Kind::kQuantity:
        return "Quantity";
      default:
        return "";
    }
  }

  // True when FHIR type `type` is `wanted` or derives from it.
  bool DerivesFrom(std::string type, std::string_view wanted, bool is_resource) const {
    for (int guard = 0; guard < 16 && !type.empty(); ++guard) {
      if (type == wanted) return true;
      std::string base;
      if (root_.registry) {
        if (const TypeDef* td = root_.registry->Find(type)) base = td->base;
      }
      if (base.empty()) {
        // Without registry: the derivations FHIRPath tests and search expressions rely on.
        if (IsQuantityType(type) && type != "Quantity") {
          base = "Quantity";
        } else if (is_resource && type != "Resource" && type != "DomainResource") {
          base = (type == "Bundle" || type == "Binary" || type == "Parameters") ? "Resource"
                                                                                : "DomainResource";
        } else if (type == "DomainResource") {
          base = "Resource";
        }
      }
      // Base may be a canonical URL in some generated tables: keep the last segment.
      if (size_t slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
      type = base;
    }
    return false;
  }

  // is() follows derivation (code is a string, Age is a Quantity). as()/ofType() do too,
  // except between FHIR primitive types: the official tests want gender.as(string) empty,
  // since code only constrains string, while ofType(Quantity) must still keep an Age.
  bool IsOfType(const FhirPathNode& n, std::string_view spec, bool exact_primitive = false) const {
    TypeSpec t = SplitType(spec);
    if (n.kind == Kind::kElement) {
      if (t.ns == "System") return false;
      bool is_resource = n.json && n.json->is_object() && n.json->Find("resourceType");
      std::string type = n.type;
      if (type.empty() && is_resource) type = n.json->GetString("resourceType");
      if (type.empty()) {
        // Untyped JSON: judge primitives by their system type.
        if (t.ns == "FHIR" || !n.is_primitive_element()) return false;
        Result<std::optional<FhirPathNode>> v = ToSystem(n);
        return v.ok() && v->has_value() && SystemTypeName((*v)->kind) == t.name;
      }
      if (exact_primitive && !type.empty() && !IsUpper(type[0])) return type == t.name;
      return DerivesFrom(type, t.name, is_resource);
    }
    if (n.kind == Kind::kReference) {
      if (t.ns == "System") return false;
      return DerivesFrom(n.type, t.name, true);
    }
    if (t.ns == "FHIR") return false;
    return SystemTypeName(n.kind) == t.name;
  }

  // A type name nobody knows is an error rather than a silent "false" (typos in search
  // definitions should show). Only checkable with a registry.
  Status CheckType(std::string_view spec) const {
    if (!root_.registry) return Status::Ok();
    TypeSpec t = SplitType(spec);
    static const std::set<std::string_view> kSystem = {
        "Boolean", "String", "Integer", "Decimal", "Date", "DateTime", "Time", "Quantity"};
    if (t.ns != "FHIR" && kSystem.count(t.name)) return Status::Ok();
    if (t.ns != "System" && root_.registry->Find(t.name)) return Status::Ok();
    if (t.ns == "System") return Status::Ok();  // System.Patient: simply never matches
    return EvalError(Cat({"unknown type ", spec}));
  }

 public:
  // ---- values ----

  // The system value of a primitive element (Boolean, String, Integer, Decimal, Date,
  // DateTime, Time); a system value itself; nullopt for complex elements and primitives
  // without value.
  static Result<std::optional<FhirPathNode>> ToSystem(const FhirPathNode& n) {
    if (n.kind != Kind::kElement) {
      if (n.kind == Kind::kReference) return std::optional<FhirPathNode>();
      return std::optional<FhirPathNode>(n);
    }
    const JsonValue* j = n.json;
    if (!j || j->is_object() || j->is_array() || j->is_null()) return std::optional<FhirPathNode>();
    if (j->is_bool()) return std::optional<FhirPathNode>(FhirPathNode::Boolean(j->as_bool()));
    const std::string& t = n.type;
    if (j->is_number()) {
      bool integral = j->text().find_first_of(".eE") == std::string::npos;
      if (t == "integer" || t == "positiveInt" || t == "unsignedInt" || (t.empty() && integral)) {
        int64_t v = 0;
        auto r = std::from_chars(j->text().data(), j->text().data() + j->text().size(), v);
        if (r.ec == std::errc() && r.ptr == j->text().data() + j->text().size())
          return std::optional<FhirPathNode>(FhirPathNode::Integer(v));
      }
      return std::optional<FhirPathNode>(FhirPathNode::Decimal(j->text()));
    }
    if (t == "date" && ParseDateTime(j->text(), false))
      return std::optional<FhirPathNode>(Temporal(Kind::kDate, j->text()));
    if ((t == "dateTime" || t == "instant") && ParseDateTime(j->text(), true)) {
      bool is_date = j->text().find('T') == std::string::npos;
      return std::optional<FhirPathNode>(
          Temporal(is_date ? Kind::kDate : Kind::kDateTime, j->text()));
    }
    if (t == "time" && ParseTime(j->text()))
      return std::optional<FhirPathNode>(Temporal(Kind::kTime, j->text()));
    return std::optional<FhirPathNode>(FhirPathNode::String(j->text()));
  }

  // A FHIR Quantity element as a system Quantity (UCUM code when the system is UCUM,
  // otherwise the code or the human unit).
  static std::optional<FhirPathNode> QuantityFromElement(const FhirPathNode& n) {
    if (n.kind == Kind::kQuantity) return n;
    if (n.kind != Kind::kElement || !n.json || !n.json->is_object()) return std::nullopt;
    if (!n.type.empty() && !IsQuantityType(n.type)) return std::nullopt;
    const JsonValue* value = n.json->Find("value");
    if (!value || !value->is_number()) return std::nullopt;
    std::string unit = n.json->GetString("code");
    if (unit.empty()) unit = n.json->GetString("unit");
    return QuantityOf(std::strtod(value->text().c_str(), nullptr), value->text(), unit);
  }

  static bool IsNumeric(Kind k) { return k == Kind::kInteger || k == Kind::kDecimal; }
  static double NumberOf(const FhirPathNode& n) {
    return n.kind == Kind::kInteger ? static_cast<double>(n.integer) : n.decimal;
  }

  // A string element of unknown type compared with a date literal is read as a date: untyped
  // JSON has no other way to say that "1974-12-25" is one.
  static std::optional<FhirPathNode> CoerceTemporal(const FhirPathNode& s, Kind target) {
    if (s.kind != Kind::kString) return std::nullopt;
    if (target == Kind::kTime) {
      if (ParseTime(s.text)) return Temporal(Kind::kTime, s.text);
      return std::nullopt;
    }
    if (ParseDateTime(s.text, true)) {
      return Temporal(s.text.find('T') == std::string::npos ? Kind::kDate : Kind::kDateTime,
                      s.text);
    }
    return std::nullopt;
  }

  // Brings two items to comparable system values; false when they are not comparable.
  static bool Normalize(const FhirPathNode& x, const FhirPathNode& y, FhirPathNode* a,
                        FhirPathNode* b) {
    if (x.kind == Kind::kQuantity || y.kind == Kind::kQuantity) {
      auto qa = QuantityFromElement(x), qb = QuantityFromElement(y);
      if (!qa || !qb) return false;
      *a = *qa;
      *b = *qb;
      return true;
    }
    auto sa = ToSystem(x), sb = ToSystem(y);
    if (!sa.ok() || !sb.ok() || !sa->has_value() || !sb->has_value()) return false;
    *a = **sa;
    *b = **sb;
    if (IsTemporal(a->kind) && b->kind == Kind::kString && y.kind == Kind::kElement &&
        y.type.empty()) {
      if (auto t = CoerceTemporal(*b, a->kind)) *b = *t;
    } else if (IsTemporal(b->kind) && a->kind == Kind::kString && x.kind == Kind::kElement &&
               x.type.empty()) {
      if (auto t = CoerceTemporal(*a, b->kind)) *a = *t;
    }
    return true;
  }

  // FHIRPath '=' on two items: true, false, or nullopt (empty: uncertain).
  static std::optional<bool> ItemEquals(const FhirPathNode& x, const FhirPathNode& y) {
    if (x.kind == Kind::kElement && y.kind == Kind::kElement && x.json && y.json &&
        x.json->is_object() && y.json->is_object())
      return *x.json == *y.json;
    if (x.kind == Kind::kReference || y.kind == Kind::kReference)
      return x.kind == y.kind && x.type == y.type && x.text == y.text;
    FhirPathNode a, b;
    if (!Normalize(x, y, &a, &b)) {
      // Complex vs primitive, or valueless primitives.
      return false;
    }
    if (IsNumeric(a.kind) && IsNumeric(b.kind)) return NumberOf(a) == NumberOf(b);
    if (IsTemporal(a.kind) && IsTemporal(b.kind)) {
      if ((a.kind == Kind::kTime) != (b.kind == Kind::kTime)) return false;
      auto ta = TemporalOf(a), tb = TemporalOf(b);
      if (!ta || !tb) return false;
      auto c = CompareTemporal(*ta, *tb);
      if (!c) return std::nullopt;
      return *c == 0;
    }
    if (a.kind != b.kind) return false;
    switch (a.kind) {
      case Kind::kBoolean:
        return a.boolean == b.boolean;
      case Kind::kString:
        return a.text == b.text;
      case Kind::kQuantity: {
        auto bv = ConvertUnit(b.decimal, b.unit, a.unit);
        if (!bv) return std::nullopt;
        return std::fabs(a.decimal - *bv) <= 1e-12 * std::max(1.0, std::fabs(a.decimal));
      }
      default:
        return false;
    }
  }

  static std::string NormalizeForEquivalence(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : s) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        space = true;
        continue;
      }
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
  }

  static int DecimalPlaces(const FhirPathNode& n) {
    if (n.kind != Kind::kDecimal && n.kind != Kind::kQuantity) return 0;
    size_t dot = n.text.find('.');
    return dot == std::string::npos ? 0 : static_cast<int>(n.text.size() - dot - 1);
  }

  // FHIRPath '~' on two items.
  static bool ItemEquivalent(const FhirPathNode& x, const FhirPathNode& y) {
    if (x.kind == Kind::kElement && y.kind == Kind::kElement && x.json && y.json &&
        x.json->is_object() && y.json->is_object())
      return *x.json == *y.json;
    FhirPathNode a, b;
    if (!Normalize(x, y, &a, &b)) return false;
    if (IsNumeric(a.kind) && IsNumeric(b.kind)) {
      int places = std::min(DecimalPlaces(a), DecimalPlaces(b));
      double scale = std::pow(10.0, places);
      return std::round(NumberOf(a) * scale) == std::round(NumberOf(b) * scale);
    }
    if (IsTemporal(a.kind) && IsTemporal(b.kind)) {
      auto ta = TemporalOf(a), tb = TemporalOf(b);
      if (!ta || !tb) return false;
      auto c = CompareTemporal(*ta, *tb);
      return c && *c == 0;
    }
    if (a.kind != b.kind) return false;
    switch (a.kind) {
      case Kind::kBoolean:
        return a.boolean == b.boolean;
      case Kind::kString:
        return NormalizeForEquivalence(a.text) == NormalizeForEquivalence(b.text);
      case Kind::kQuantity: {
        // Compared at the precision of the less precise value, in the first one's unit.
        auto bv = ConvertUnit(b.decimal, b.unit, a.unit);
        if (!bv) return false;
        int places = std::min(DecimalPlaces(a), DecimalPlaces(b));
        double scale = std::pow(10.0, places);
        return std::round(a.decimal * scale) == std::round(*bv * scale);
      }
      default:
        return false;
    }
  }

  static std::optional<bool> CollectionEquals(const Collection& a, const Collection& b) {
    if (a.empty() || b.empty()) return std::nullopt;
    if (a.size() != b.size()) return false;
    bool uncertain = false;
    for (size_t i = 0; i < a.size(); ++i) {
      auto r = ItemEquals(a[i], b[i]);
      if (!r) {
        uncertain = true;
      } else if (!*r) {
        return false;
      }
    }
    if (uncertain) return std::nullopt;
    return true;
  }

  static bool CollectionEquivalent(const Collection& a, const Collection& b) {
    if (a.size() != b.size()) return false;
    std::vector<bool> used(b.size(), false);
    for (const auto& x : a) {
      bool found = false;
      for (size_t j = 0; j < b.size() && !found; ++j) {
        if (!used[j] && ItemEquivalent(x, b[j])) used[j] = found = true;
      }
      if (!found) return false;
    }
    return true;
  }

  static bool Contains(const Collection& c, const FhirPathNode& n) {
    for (const auto& x : c) {
      auto e = ItemEquals(x, n);
      if (e && *e) return true;
    }
    return false;
  }

  static Collection Distinct(const Collection& c) {
    Collection out;
    for (const auto& x : c)
      if (!Contains(out, x)) out.push_back(x);
    return out;
  }

  // Singleton evaluation of collections as a boolean: empty -> nullopt; one boolean -> it;
  // one other item -> true; several -> error.
  static Result<std::optional<bool>> ToBool(const Collection& c) {
    if (c.empty()) return std::optional<bool>();
    if (c.size() > 1) return EvalError("a single boolean expected, got a collection");
    auto v = ToSystem(c[0]);
    if (v.ok() && v->has_value() && (*v)->kind == Kind::kBoolean)
      return std::optional<bool>((*v)->boolean);
    return std::optional<bool>(true);
  }

  // The single item's system value, or an error when there are several.
  static Result<std::optional<FhirPathNode>> Single(const Collection& c, std::string_view what) {
    if (c.empty()) return std::optional<FhirPathNode>();
    if (c.size() > 1) return EvalError(Cat({what, " expects a single item, got a collection"}));
    return ToSystem(c[0]);
  }

  static Result<std::optional<std::string>> SingleString(const Collection& c,
                                                         std::string_view what) {
    auto v = Single(c, what);
    if (!v.ok()) return v.status();
    if (!v->has_value() || (*v)->kind != Kind::kString) return std::optional<std::string>();
    return std::optional<std::string>((*v)->text);
  }

  static Result<std::optional<int64_t>> SingleInteger(const Collection& c, std::string_view what) {
    auto v = Single(c, what);
    if (!v.ok()) return v.status();
    if (!v->has_value()) return std::optional<int64_t>();
    if ((*v)->kind != Kind::kInteger) return EvalError(Cat({what, " expects an integer"}));
    return std::optional<int64_t>((*v)->integer);
  }

 private:
  // ---- operators ----

  Result<Collection> Compare(const std::string& op, const Collection& l,
                             const Collection& r) const {
    if (l.empty() || r.empty()) return Collection{};
    if (l.size() > 1 || r.size() > 1) return EvalError(Cat({"'", op, "' on a collection"}));
    FhirPathNode a, b;
    if (!Normalize(l[0], r[0], &a, &b))
      return EvalError(Cat({"'", op, "' on values that cannot be compared"}));
    std::optional<int> c;
    if (IsNumeric(a.kind) && IsNumeric(b.kind)) {
      double x = NumberOf(a), y = NumberOf(b);
      c = x < y ? -1 : x > y ? 1 : 0;
    } else if (IsTemporal(a.kind) && IsTemporal(b.kind)) {
      auto ta = TemporalOf(a), tb = TemporalOf(b);
      if (!ta || !tb || ta->is_time != tb->is_time)
        return EvalError(Cat({"'", op, "' on values that cannot be compared"}));
      c = CompareTemporal(*ta, *tb);
    } else if (a.kind == Kind::kString && b.kind == Kind::kString) {
      c = a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
    } else if (a.kind == Kind::kQuantity && b.kind == Kind::kQuantity) {
      auto bv = ConvertUnit(b.decimal, b.unit, a.unit);
      if (!bv) return Collection{};
      c = a.decimal < *bv ? -1 : a.decimal > *bv ? 1 : 0;
    } else {
      return EvalError(Cat({"'", op, "' on values that cannot be compared"}));
    }
    if (!c) return Collection{};
    bool v = op == "<" ? *c < 0 : op == ">" ? *c > 0 : op == "<=" ? *c <= 0 : *c >= 0;
    return Collection{FhirPathNode::Boolean(v)};
  }

  Result<Collection> Arithmetic(const std::string& op, const Collection& l,
                                const Collection& r) const {
    if (op == "&") {
      auto a = SingleString(l, "&");
      if (!a.ok()) return a.status();
      auto b = SingleString(r, "&");
      if (!b.ok()) return b.status();
      return Collection{FhirPathNode::String(Cat({a->value_or(""), b->value_or("")}))};
    }
    auto av = Single(l, op);
    if (!av.ok()) return av.status();
    auto bv = Single(r, op);
    if (!bv.ok()) return bv.status();
    if (!av->has_value() || !bv->has_value()) return Collection{};
    const FhirPathNode& a = **av;
    const FhirPathNode& b = **bv;
    if (op == "+" && a.kind == Kind::kString && b.kind == Kind::kString)
      return Collection{FhirPathNode::String(Cat({a.text, b.text}))};
    if (a.kind == Kind::kQuantity || b.kind == Kind::kQuantity || IsTemporal(a.kind) ||
        IsTemporal(b.kind))
      return EvalError(Cat({"'", op, "' on quantities or dates is not supported"}));
    if (!IsNumeric(a.kind) || !IsNumeric(b.kind))
      return EvalError(Cat({"'", op, "' needs numbers"}));
    if (a.kind == Kind::kInteger && b.kind == Kind::kInteger && op != "/") {
      int64_t x = a.integer, y = b.integer, z = 0;
      bool overflow = false;
      if (op == "+") {
        overflow = __builtin_add_overflow(x, y, &z);
      } else if (op == "-") {
        overflow = __builtin_sub_overflow(x, y, &z);
      } else if (op == "*") {
        overflow = __builtin_mul_overflow(x, y, &z);
      } else if (op == "div" || op == "mod") {
        if (y == 0) return Collection{};
        if (x == INT64_MIN && y == -1) return Collection{};
        z = op == "div" ? x / y : x % y;
      }
      if (overflow) return Collection{};
      return Collection{FhirPathNode::Integer(z)};
    }
    double x = NumberOf(a), y = NumberOf(b);
    // Doubles carry binary noise (1.8 - 1.2 = 0.6000000000000001); decimal results are
    // rounded to the scale exact decimal arithmetic would give.
    int scale_sum = DecimalPlaces(a) + DecimalPlaces(b);
    int scale_max = std::max(DecimalPlaces(a), DecimalPlaces(b));
    if (op == "+") return Collection{DecimalWithScale(x + y, scale_max)};
    if (op == "-") return Collection{DecimalWithScale(x - y, scale_max)};
    if (op == "*") return Collection{DecimalWithScale(x * y, scale_sum)};
    if (y == 0) return Collection{};
    if (op == "/") return Collection{DecimalOf(x / y)};
    if (op == "div") {
      // A quotient beyond a 64-bit Integer has no result, as an integer overflow has none
      // above (converting it would be undefined behaviour: found by the fhirpath fuzzer).
      double q = std::trunc(x / y);
      if (!std::isfinite(q) || q < -9223372036854775808.0 || q >= 9223372036854775808.0)
        return Collection{};
      return Collection{FhirPathNode::Integer(static_cast<int64_t>(q))};
    }
    return Collection{DecimalWithScale(std::fmod(x, y), scale_max)};  // mod
  }

  Result<Collection> Binary(const Ast& a, const Ctx& c) const {
    const std::string& op = a.name;
    auto lr = Eval(*a.children[0], c);
    if (!lr.ok()) return lr;
    const Collection& l = *lr;
    // Boolean operators short-circuit where the result is already known.
    if (op == "and" || op == "or" || op == "implies" || op == "xor") {
      auto lb = ToBool(l);
      if (!lb.ok()) return lb.status();
      if (op == "and" && *lb == std::optional<bool>(false))
        return Collection{FhirPathNode::Boolean(false)};
      if (op == "or" && *lb == std::optional<bool>(true))
        return Collection{FhirPathNode::Boolean(true)};
      if (op == "implies" && *lb == std::optional<bool>(false))
        return Collection{FhirPathNode::Boolean(true)};
      auto rr = Eval(*a.children[1], c);
      if (!rr.ok()) return rr;
      auto rb = ToBool(*rr);
      if (!rb.ok()) return rb.status();
      std::optional<bool> x = *lb, y = *rb, z;
      if (op == "and") {
        if (y == false)
          z = false;
        else if (x && y)
          z = true;
      } else if (op == "or") {
        if (y == true)
          z = true;
        else if (x && y)
          z = false;
      } else if (op == "xor") {
        if (x && y) z = *x != *y;
      } else {  // implies, x is true or empty
        if (y == true)
          z = true;
        else if (x && y)
          z = false;
      }
      if (!z) return Collection{};
      return Collection{FhirPathNode::Boolean(*z)};
    }
    auto rr = Eval(*a.children[1], c);
    if (!rr.ok()) return rr;
    const Collection& r = *rr;
    if (op == "|") {
      Collection all = l;
      all.insert(all.end(), r.begin(), r.end());
      CARNET_RETURN_IF_ERROR(CheckPairs(all.size(), all.size()));
      return Distinct(all);
    }
    if (op == "=" || op == "!=") {
      auto e = CollectionEquals(l, r);
      if (!e) return Collection{};
      return Collection{FhirPathNode::Boolean(op == "=" ? *e : !*e)};
    }
    if (op == "~" || op == "!~") {
      bool e = CollectionEquivalent(l, r);
      return Collection{FhirPathNode::Boolean(op == "~" ? e : !e)};
    }
    if (op == "<" || op == ">" || op == "<=" || op == ">=") return Compare(op, l, r);
    if (op == "in" || op == "contains") {
      const Collection& item = op == "in" ? l : r;
      const Collection& set = op == "in" ? r : l;
      if (item.empty()) return Collection{};
      if (item.size() > 1) return EvalError(Cat({"'", op, "' with a collection as item"}));
      return Collection{FhirPathNode::Boolean(Contains(set, item[0]))};
    }
    return Arithmetic(op, l, r);
  }

  // ---- resolve() ----

  // The resource a reference points to when it is at hand (contained, same Bundle), or a
  // kReference node carrying only the target type.
  void Resolve(const FhirPathNode& n, const Ctx& c, Collection* out) const {
    std::string ref;
    std::string declared_type;
    if (n.kind == Kind::kElement && n.json) {
      if (n.json->is_object()) {
        ref = n.json->GetString("reference");
        declared_type = n.json->GetString("type");
      } else if (n.json->is_string()) {
        ref = n.json->text();  // canonical / uri
      }
    } else if (n.kind == Kind::kString) {
      ref = n.text;
    }
    if (ref.empty() && declared_type.empty()) return;
    if (!ref.empty() && ref[0] == '#') {
      const JsonValue* container = c.resource;
      if (!container) return;
      if (ref.size() == 1) {
        out->push_back(ResourceNode(container));
        return;
      }
      if (const JsonValue* contained = container->Find("contained")) {
        for (const auto& r : contained->items()) {
          if (r.GetString("id") == std::string_view(ref).substr(1)) {
            out->push_back(ResourceNode(&r));
            return;
          }
        }
      }
      return;
    }
    // "Patient/1", "http://x/fhir/Patient/1/_history/2", "urn:uuid:..."
    std::string_view path = ref;
    if (size_t h = path.find("/_history/"); h != std::string_view::npos) path = path.substr(0, h);
    std::string type, id;
    if (size_t slash = path.rfind('/'); slash != std::string_view::npos && slash > 0) {
      id = std::string(path.substr(slash + 1));
      std::string_view before = path.substr(0, slash);
      size_t prev = before.rfind('/');
      type = std::string(prev == std::string_view::npos ? before : before.substr(prev + 1));
    }
    bool type_ok = !type.empty() && IsUpper(type[0]);
    if (type_ok && root_.registry) type_ok = root_.registry->IsResourceType(type);
    if (!type_ok) type.clear();
    if (type.empty()) type = declared_type;
    // The same Bundle.
    const JsonValue* bundle = c.root_resource;
    if (bundle && bundle->GetString("resourceType") == "Bundle") {
      if (const JsonValue* entries = bundle->Find("entry")) {
        for (const auto& e : entries->items()) {
          const JsonValue* r = e.Find("resource");
          if (!r) continue;
          std::string full = e.GetString("fullUrl");
          bool match = !ref.empty() && full == ref;
          if (!match && !type.empty() && !id.empty()) {
            match = r->GetString("resourceType") == type && r->GetString("id") == id;
            if (match && !full.empty() && ref.find("://") != std::string::npos) match = full == ref;
          }
          if (match) {
            out->push_back(ResourceNode(r));
            return;
          }
        }
      }
    }
    if (type.empty()) return;
    FhirPathNode target;
    target.kind = Kind::kReference;
    target.type = type;
    target.text = ref;
    out->push_back(std::move(target));
  }

  // ---- functions ----

  Result<Collection> EvalArg(const Ast& call, size_t i, const Ctx& c) const {
    return Eval(*call.children[i], c);
  }

  // Evaluates `expr` with each item of `input` as $this.
  template <typename F>
  Status ForEach(const Ast& expr, const Collection& input, const Ctx& c, F&& f) const {
    for (size_t i = 0; i < input.size(); ++i) {
      Collection one{input[i]};
      Ctx sub = c;
      sub.focus = &one;
      sub.this_node = &input[i];
      sub.index = static_cast<int64_t>(i);
      auto r = Eval(expr, sub);
      if (!r.ok()) return r.status();
      CARNET_RETURN_IF_ERROR(f(i, *r));
    }
    return Status::Ok();
  }

  // matches() (whole string) and replaceMatches(), with the pattern compiled at parse time.
  Result<Collection> Regex(const Ast& call, const Collection& in, const Ctx& c) const {
    auto sv = SingleString(in, call.name);
    if (!sv.ok()) return sv.status();
    if (!sv->has_value() || !call.regex) return Collection{};
    const std::string& s = **sv;
    if (s.size() > kMaxRegexSubject)
      return EvalError(Cat(
          {call.name, "() on a string longer than ", std::to_string(kMaxRegexSubject), " bytes"}));
    try {
      if (call.fn == Fn::kMatches)
        return Collection{FhirPathNode::Boolean(std::regex_match(s, *call.regex))};
      auto with = EvalArg(call, 1, c);
      if (!with.ok()) return with;
      auto replacement = SingleString(*with, call.name);
      if (!replacement.ok()) return replacement.status();
      if (!replacement->has_value()) return Collection{};
      return Collection{FhirPathNode::String(std::regex_replace(s, *call.regex, **replacement))};
    } catch (const std::regex_error& e) {
      return EvalError(Cat({call.name, "(): ", e.what()}));
    }
  }

  Result<Collection> StringFn(const Ast& call, const Collection& in, const Ctx& c) const {
    auto sv = SingleString(in, call.name);
    if (!sv.ok()) return sv.status();
    if (!sv->has_value()) return Collection{};
    const std::string& s = **sv;
    auto arg_string = [&](size_t i) -> Result<std::optional<std::string>> {
      auto a = EvalArg(call, i, c);
      if (!a.ok()) return a.status();
      return SingleString(*a, call.name);
    };
    switch (call.fn) {
      case Fn::kUpper:
      case Fn::kLower: {
        // ASCII letters only: FHIR codes and identifiers; no locale dependence.
        std::string out = s;
        for (char& ch : out)
          ch = static_cast<char>(call.fn == Fn::kUpper
                                     ? std::toupper(static_cast<unsigned char>(ch))
                                     : std::tolower(static_cast<unsigned char>(ch)));
        return Collection{FhirPathNode::String(out)};
      }
      case Fn::kLength:
        return Collection{
            FhirPathNode::Integer(static_cast<int64_t>(CodePointOffsets(s).size() - 1))};
      case Fn::kToChars: {
        Collection out;
        auto off = CodePointOffsets(s);
        for (size_t i = 0; i + 1 < off.size(); ++i)
          out.push_back(FhirPathNode::String(s.substr(off[i], off[i + 1] - off[i])));
        return out;
      }
      case Fn::kTrim: {
        size_t b = s.find_first_not_of(" \t\r\n");
        if (b == std::string::npos) return Collection{FhirPathNode::String("")};
        size_t e = s.find_last_not_of(" \t\r\n");
        return Collection{FhirPathNode::String(s.substr(b, e - b + 1))};
      }
      case Fn::kSubstring: {
        auto start_c = EvalArg(call, 0, c);
        if (!start_c.ok()) return start_c;
        auto start = SingleInteger(*start_c, "substring");
        if (!start.ok()) return start.status();
        if (!start->has_value()) return Collection{};
        auto off = CodePointOffsets(s);
        int64_t n = static_cast<int64_t>(off.size() - 1);
        int64_t b = **start;
        if (b < 0 || b >= n) return Collection{};
        int64_t e = n;
        if (call.children.size() > 1) {
          auto len_c = EvalArg(call, 1, c);
          if (!len_c.ok()) return len_c;
          auto len = SingleInteger(*len_c, "substring");
          if (!len.ok()) return len.status();
          if (len->has_value()) e = std::clamp<int64_t>(b + std::max<int64_t>(**len, 0), b, n);
        }
        return Collection{FhirPathNode::String(s.substr(off[b], off[e] - off[b]))};
      }
      case Fn::kStartsWith:
      case Fn::kEndsWith:
      case Fn::kContains:
      case Fn::kIndexOf: {
        auto a = arg_string(0);
        if (!a.ok()) return a.status();
        if (!a->has_value()) return Collection{};
        const std::string& x = **a;
        if (call.fn == Fn::kStartsWith)
          return Collection{FhirPathNode::Boolean(s.compare(0, x.size(), x) == 0)};
        if (call.fn == Fn::kEndsWith)
          return Collection{FhirPathNode::Boolean(
              s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0)};
        if (call.fn == Fn::kContains)
          return Collection{FhirPathNode::Boolean(s.find(x) != std::string::npos)};
        size_t at = s.find(x);
        if (at == std::string::npos) return Collection{FhirPathNode::Integer(-1)};
        auto off = CodePointOffsets(s);
        return Collection{
            FhirPathNode::Integer(std::lower_bound(off.begin(), off.end(), at) - off.begin())};
      }
      case Fn::kReplace: {
        auto pattern = arg_string(0);
        if (!pattern.ok()) return pattern.status();
        auto subst = arg_string(1);
        if (!subst.ok()) return subst.status();
        if (!pattern->has_value() || !subst->has_value()) return Collection{};
        const std::string& p = **pattern;
        const std::string& r = **subst;
        std::string out;
        if (p.empty()) {
          // Between every character (and at both ends), as the specification says.
          auto off = CodePointOffsets(s);
          out = r;
          for (size_t i = 0; i + 1 < off.size(); ++i) {
            out.append(s, off[i], off[i + 1] - off[i]);
            out += r;
          }
        } else {
          size_t pos = 0;
          while (true) {
            size_t at = s.find(p, pos);
            if (at == std::string::npos) break;
            out.append(s, pos, at - pos);
            out += r;
            pos = at + p.size();
          }
          out.append(s, pos);
        }
        if (out.size() > 1024 * 1024) return EvalError("replace() result too large");
        return Collection{FhirPathNode::String(out)};
      }
      case Fn::kSplit: {
        auto sep = arg_string(0);
        if (!sep.ok()) return sep.status();
        if (!sep->has_value()) return Collection{};
        Collection out;
        const std::string& d = **sep;
        if (d.empty()) return Collection{FhirPathNode::String(s)};
        size_t pos = 0;
        while (true) {
          size_t at = s.find(d, pos);
          out.push_back(FhirPathNode::String(
              s.substr(pos, at == std::string::npos ? std::string::npos : at - pos)));
          if (at == std::string::npos) break;
          pos = at + d.size();
        }
        return out;
      }
      default:
        return EvalError("internal: not a string function");
    }
  }

  Result<Collection> Convert(const Ast& call, const Collection& in) const {
    bool test = false;
    Fn fn = call.fn;
    switch (fn) {
      case Fn::kConvertsToBoolean:
        test = true, fn = Fn::kToBoolean;
        break;
      case Fn::kConvertsToInteger:
        test = true, fn = Fn::kToInteger;
        break;
      case Fn::kConvertsToDecimal:
        test = true, fn = Fn::kToDecimal;
        break;
      case Fn::kConvertsToString:
        test = true, fn = Fn::kToString;
        break;
      case Fn::kConvertsToDate:
        test = true, fn = Fn::kToDate;
        break;
      case Fn::kConvertsToDateTime:
        test = true, fn = Fn::kToDateTime;
        break;
      case Fn::kConvertsToTime:
        test = true, fn = Fn::kToTime;
        break;
      case Fn::kConvertsToQuantity:
        test = true, fn = Fn::kToQuantity;
        break;
      default:
        break;
    }
    auto v = Single(in, call.name);
    if (!v.ok()) return v.status();
    if (!v->has_value()) {
      if (in.empty()) return Collection{};
      // A complex element converts to nothing.
      return test ? Collection{FhirPathNode::Boolean(false)} : Collection{};
    }
    const FhirPathNode& x = **v;
    std::optional<FhirPathNode> r;
    switch (fn) {
      case Fn::kToBoolean:
        if (x.kind == Kind::kBoolean)
          r = x;
        else if (x.kind == Kind::kInteger && (x.integer == 0 || x.integer == 1))
          r = FhirPathNode::Boolean(x.integer == 1);
        else if (x.kind == Kind::kDecimal && (x.decimal == 0 || x.decimal == 1))
          r = FhirPathNode::Boolean(x.decimal == 1);
        else if (x.kind == Kind::kString) {
          std::string l = NormalizeForEquivalence(x.text);
          if (l == "true" || l == "t" || l == "yes" || l == "y" || l == "1" || l == "1.0")
            r = FhirPathNode::Boolean(true);
          if (l == "false" || l == "f" || l == "no" || l == "n" || l == "0" || l == "0.0")
            r = FhirPathNode::Boolean(false);
        }
        break;
      case Fn::kToInteger:
        if (x.kind == Kind::kInteger)
          r = x;
        else if (x.kind == Kind::kBoolean)
          r = FhirPathNode::Integer(x.boolean ? 1 : 0);
        else if (x.kind == Kind::kString) {
          std::string_view t = x.text;
          size_t skip = !t.empty() && (t[0] == '+' || t[0] == '-') ? 1 : 0;
          bool digits = t.size() > skip && std::all_of(t.begin() + skip, t.end(), IsDigit);
          int64_t i = 0;
          if (digits) {
            const char* b = t.data() + (t[0] == '+' ? 1 : 0);
            auto res = std::from_chars(b, t.data() + t.size(), i);
            if (res.ec == std::errc()) r = FhirPathNode::Integer(i);
          }
        }
        break;
      case Fn::kToDecimal:
        if (x.kind == Kind::kDecimal)
          r = x;
        else if (x.kind == Kind::kInteger)
          r = FhirPathNode::Decimal(std::to_string(x.integer));
        else if (x.kind == Kind::kBoolean)
          r = FhirPathNode::Decimal(x.boolean ? "1.0" : "0.0");
        else if (x.kind == Kind::kString) {
          std::string_view t = x.text;
          size_t i = !t.empty() && (t[0] == '+' || t[0] == '-') ? 1 : 0;
          size_t d0 = i;
          while (i < t.size() && IsDigit(t[i])) ++i;
          bool ok = i > d0;
          if (ok && i < t.size() && t[i] == '.') {
            size_t f0 = ++i;
            while (i < t.size() && IsDigit(t[i])) ++i;
            ok = i > f0;
          }
          if (ok && i == t.size())
            r = FhirPathNode::Decimal(std::string(t[0] == '+' ? t.substr(1) : t));
        }
        break;
      case Fn::kToString:
        r = FhirPathNode::String(FhirPathToString(x));
        break;
      case Fn::kToDate:
        if (x.kind == Kind::kDate)
          r = x;
        else if (x.kind == Kind::kDateTime)
          r = Temporal(Kind::kDate, x.text.substr(0, x.text.find('T')));
        else if (x.kind == Kind::kString && ParseDateTime(x.text, false))
          r = Temporal(Kind::kDate, x.text);
        break;
      case Fn::kToDateTime:
        if (x.kind == Kind::kDateTime)
          r = x;
        else if (x.kind == Kind::kDate)
          r = Temporal(Kind::kDateTime, x.text);
        else if (x.kind == Kind::kString && ParseDateTime(x.text, true))
          r = Temporal(Kind::kDateTime, x.text);
        break;
      case Fn::kToTime:
        if (x.kind == Kind::kTime)
          r = x;
        else if (x.kind == Kind::kString && ParseTime(x.text) && x.text[0] != 'T')
          r = Temporal(Kind::kTime, x.text);
        break;
      case Fn::kToQuantity:
        if (x.kind == Kind::kQuantity)
          r = x;
        else if (IsNumeric(x.kind))
          r = QuantityOf(NumberOf(x), FhirPathToString(x), "1");
        else if (x.kind == Kind::kBoolean)
          r = QuantityOf(x.boolean ? 1 : 0, x.boolean ? "1.0" : "0.0", "1");
        else if (x.kind == Kind::kString) {
          // "<number> ['<ucum>'|calendar unit]"
          std::string_view t = x.text;
          size_t i = 0;
          if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
          size_t d0 = i;
          while (i < t.size() && (IsDigit(t[i]) || t[i] == '.')) ++i;
          if (i == d0) break;
          std::string number(t.substr(0, i));
          while (i < t.size() && t[i] == ' ') ++i;
          std::string_view rest = t.substr(i);
          std::string unit = "1";
          if (rest.size() >= 2 && rest.front() == '\'' && rest.back() == '\'') {
            unit = std::string(rest.substr(1, rest.size() - 2));
          } else if (IsCalendarUnit(rest)) {
            unit = std::string(rest);
            if (unit.back() == 's') unit.pop_back();
          } else if (!rest.empty()) {
            break;
          }
          r = QuantityOf(std::strtod(number.c_str(), nullptr), number, unit);
        }
        break;
      default:
        break;
    }
    if (test) return Collection{FhirPathNode::Boolean(r.has_value())};
    if (!r) return Collection{};
    return Collection{*r};
  }

  Result<Collection> Math(const Ast& call, const Collection& in, const Ctx& c) const {
    auto v = Single(in, call.name);
    if (!v.ok()) return v.status();
    if (!v->has_value()) return Collection{};
    const FhirPathNode& x = **v;
    if (x.kind == Kind::kQuantity && call.fn == Fn::kAbs) {
      FhirPathNode q = x;
      q.decimal = std::fabs(q.decimal);
      if (!q.text.empty() && q.text[0] == '-') q.text.erase(0, 1);
      return Collection{q};
    }
    if (!IsNumeric(x.kind)) return EvalError(Cat({call.name, "() needs a number"}));
    double d = NumberOf(x);
    switch (call.fn) {
      case Fn::kAbs:
        if (x.kind == Kind::kInteger)
          return Collection{FhirPathNode::Integer(x.integer < 0 ? -x.integer : x.integer)};
        return Collection{DecimalOf(std::fabs(d))};
      case Fn::kCeiling:
        return Collection{FhirPathNode::Integer(static_cast<int64_t>(std::ceil(d)))};
      case Fn::kFloor:
        return Collection{FhirPathNode::Integer(static_cast<int64_t>(std::floor(d)))};
      case Fn::kTruncate:
        return Collection{FhirPathNode::Integer(static_cast<int64_t>(std::trunc(d)))};
      case Fn::kRound: {
        int64_t places = 0;
        if (!call.children.empty()) {
          auto p = EvalArg(call, 0, c);
          if (!p.ok()) return p;
          auto pi = SingleInteger(*p, "round");
          if (!pi.ok()) return pi.status();
          if (pi->has_value()) places = std::clamp<int64_t>(**pi, 0, 15);
        }
        double scale = std::pow(10.0, static_cast<double>(places));
        double rounded = std::round(d * scale) / scale;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(places), rounded);
        return Collection{FhirPathNode::Decimal(buf)};
      }
      case Fn::kSqrt:
        if (d < 0) return Collection{};
        return Collection{DecimalOf(std::sqrt(d))};
      case Fn::kExp:
        return Collection{DecimalOf(std::exp(d))};
      case Fn::kLn:
        if (d <= 0) return Collection{};
        return Collection{DecimalOf(std::log(d))};
      case Fn::kLog:
      case Fn::kPower: {
        auto p = EvalArg(call, 0, c);
        if (!p.ok()) return p;
        auto pv = Single(*p, call.name);
        if (!pv.ok()) return pv.status();
        if (!pv->has_value() || !IsNumeric((*pv)->kind)) return Collection{};
        double y = NumberOf(**pv);
        if (call.fn == Fn::kLog) {
          if (d <= 0 || y <= 0 || y == 1) return Collection{};
          return Collection{DecimalOf(std::log(d) / std::log(y))};
        }
        double r = std::pow(d, y);
        if (std::isnan(r)) return Collection{};
        if (x.kind == Kind::kInteger && (*pv)->kind == Kind::kInteger && y >= 0 &&
            std::fabs(r) < 9.2e18)
          return Collection{FhirPathNode::Integer(static_cast<int64_t>(r))};
        return Collection{DecimalOf(r)};
      }
      default:
        return EvalError("internal: not a math function");
    }
  }

  Result<Collection> Function(const Ast& call, const Collection& in, const Ctx& c) const {
    switch (call.fn) {
      case Fn::kEmpty:
        return Collection{FhirPathNode::Boolean(in.empty())};
      case Fn::kExists:
        if (call.children.empty()) return Collection{FhirPathNode::Boolean(!in.empty())};
        [[fallthrough]];
      case Fn::kWhere: {
        Collection out;
        Status s = ForEach(*call.children[0], in, c, [&](size_t i, const Collection& r) {
          auto b = ToBool(r);
          if (!b.ok()) return b.status();
          if (*b == std::optional<bool>(true)) out.push_back(in[i]);
          return Status::Ok();
        });
        if (!s.ok()) return s;
        if (call.fn == Fn::kExists) return Collection{FhirPathNode::Boolean(!out.empty())};
        return out;
      }
      case Fn::kAll: {
        bool all = true;
        Status s = ForEach(*call.children[0], in, c, [&](size_t, const Collection& r) {
          auto b = ToBool(r);
          if (!b.ok()) return b.status();
          if (*b != std::optional<bool>(true)) all = false;
          return Status::Ok();
        });
        if (!s.ok()) return s;
        return Collection{FhirPathNode::Boolean(all)};
      }
      case Fn::kAllTrue:
      case Fn::kAnyTrue:
      case Fn::kAllFalse:
      case Fn::kAnyFalse: {
        bool want = call.fn == Fn::kAllTrue || call.fn == Fn::kAnyTrue;
        bool all = call.fn == Fn::kAllTrue || call.fn == Fn::kAllFalse;
        bool result = all;
        for (const auto& x : in) {
          auto v = ToSystem(x);
          if (!v.ok() || !v->has_value() || (*v)->kind != Kind::kBoolean)
            return EvalError(Cat({call.name, "() on a non-boolean item"}));
          bool match = (*v)->boolean == want;
          if (all && !match) result = false;
          if (!all && match) result = true;
        }
        return Collection{FhirPathNode::Boolean(result)};
      }
      case Fn::kSubsetOf:
      case Fn::kSupersetOf: {
        auto other = EvalArg(call, 0, c);
        if (!other.ok()) return other;
        const Collection& sub = call.fn == Fn::kSubsetOf ? in : *other;
        const Collection& super = call.fn == Fn::kSubsetOf ? *other : in;
        CARNET_RETURN_IF_ERROR(CheckPairs(sub.size(), super.size()));
        for (const auto& x : sub)
          if (!Contains(super, x)) return Collection{FhirPathNode::Boolean(false)};
        return Collection{FhirPathNode::Boolean(true)};
      }
      case Fn::kCount:
        return Collection{FhirPathNode::Integer(static_cast<int64_t>(in.size()))};
      case Fn::kDistinct:
        return Distinct(in);
      case Fn::kIsDistinct:
        CARNET_RETURN_IF_ERROR(CheckPairs(in.size(), in.size()));
        return Collection{FhirPathNode::Boolean(Distinct(in).size() == in.size())};
      case Fn::kSelect: {
        Collection out;
        Status s = ForEach(*call.children[0], in, c, [&](size_t, const Collection& r) {
          out.insert(out.end(), r.begin(), r.end());
          return Grow(out);
        });
        if (!s.ok()) return s;
        return out;
      }
      case Fn::kRepeat: {
        Collection out;
        Collection frontier = in;
        while (!frontier.empty()) {
          Collection next;
          Status s = ForEach(*call.children[0], frontier, c, [&](size_t, const Collection& r) {
            for (const auto& x : r) {
              CARNET_RETURN_IF_ERROR(CheckPairs(out.size() + 1, out.size() + 1));
              if (Contains(out, x)) continue;
              out.push_back(x);
              next.push_back(x);
            }
            return Grow(out);
          });
          if (!s.ok()) return s;
          frontier = std::move(next);
        }
        return out;
      }
      case Fn::kOfType:
      case Fn::kAs: {
        CARNET_RETURN_IF_ERROR(CheckType(call.type_name));
        // The function as() is singleton-only, as specified; the 'as' operator is lenient.
        if (call.fn == Fn::kAs && in.size() > 1) return EvalError("as() on a collection");
        Collection out;
        for (const auto& x : in)
          if (IsOfType(x, call.type_name, true)) out.push_back(x);
        return out;
      }
      case Fn::kIs:
        CARNET_RETURN_IF_ERROR(CheckType(call.type_name));
        if (in.empty()) return Collection{};
        if (in.size() > 1) return EvalError("is() on a collection");
        return Collection{FhirPathNode::Boolean(IsOfType(in[0], call.type_name))};
      case Fn::kSingle:
        if (in.size() > 1) return EvalError("single() on a collection of several items");
        return in;
      case Fn::kFirst:
        if (in.empty()) return Collection{};
        return Collection{in.front()};
      case Fn::kLast:
        if (in.empty()) return Collection{};
        return Collection{in.back()};
      case Fn::kTail:
        if (in.empty()) return Collection{};
        return Collection(in.begin() + 1, in.end());
      case Fn::kSkip:
      case Fn::kTake: {
        auto n = EvalArg(call, 0, c);
        if (!n.ok()) return n;
        auto k = SingleInteger(*n, call.name);
        if (!k.ok()) return k.status();
        int64_t count = k->value_or(0);
        size_t m =
            static_cast<size_t>(std::clamp<int64_t>(count, 0, static_cast<int64_t>(in.size())));
        if (call.fn == Fn::kSkip) return Collection(in.begin() + m, in.end());
        return Collection(in.begin(), in.begin() + m);
      }
      case Fn::kIntersect:
      case Fn::kExclude:
      case Fn::kUnion:
      case Fn::kCombine: {
        auto other = EvalArg(call, 0, c);
        if (!other.ok()) return other;
        Collection out;
        CARNET_RETURN_IF_ERROR(CheckPairs(in.size() + other->size(), in.size() + other->size()));
        if (call.fn == Fn::kUnion || call.fn == Fn::kCombine) {
          out = in;
          out.insert(out.end(), other->begin(), other->end());
          if (call.fn == Fn::kUnion) out = Distinct(out);
          return out;
        }
        for (const auto& x : in) {
          bool member = Contains(*other, x);
          if (call.fn == Fn::kIntersect ? member && !Contains(out, x) : !member) out.push_back(x);
        }
        return out;
      }
      case Fn::kIif: {
        if (in.size() > 1) return EvalError("iif() on a collection");
        // The criterion and the results are evaluated on iif's input, when it has one.
        Ctx sub = c;
        if (!in.empty()) {
          sub.focus = &in;
          sub.this_node = &in[0];
        }
        auto cond = Eval(*call.children[0], sub);
        if (!cond.ok()) return cond;
        auto b = ToBool(*cond);
        if (!b.ok()) return b.status();
        if (*b == std::optional<bool>(true)) return Eval(*call.children[1], sub);
        if (call.children.size() > 2) return Eval(*call.children[2], sub);
        return Collection{};
      }
      case Fn::kToBoolean:
      case Fn::kConvertsToBoolean:
      case Fn::kToInteger:
      case Fn::kConvertsToInteger:
      case Fn::kToDecimal:
      case Fn::kConvertsToDecimal:
      case Fn::kToString:
      case Fn::kConvertsToString:
      case Fn::kToDate:
      case Fn::kConvertsToDate:
      case Fn::kToDateTime:
      case Fn::kConvertsToDateTime:
      case Fn::kToTime:
      case Fn::kConvertsToTime:
      case Fn::kToQuantity:
      case Fn::kConvertsToQuantity:
        return Convert(call, in);
      case Fn::kIndexOf:
      case Fn::kSubstring:
      case Fn::kStartsWith:
      case Fn::kEndsWith:
      case Fn::kContains:
      case Fn::kUpper:
      case Fn::kLower:
      case Fn::kReplace:
      case Fn::kLength:
      case Fn::kToChars:
      case Fn::kTrim:
      case Fn::kSplit:
        return StringFn(call, in, c);
      case Fn::kJoin: {
        std::string sep;
        if (!call.children.empty()) {
          auto a = EvalArg(call, 0, c);
          if (!a.ok()) return a;
          auto s = SingleString(*a, "join");
          if (!s.ok()) return s.status();
          sep = s->value_or("");
        }
        std::string out;
        for (size_t i = 0; i < in.size(); ++i) {
          if (i) out += sep;
          out += FhirPathToString(in[i]);
        }
        return Collection{FhirPathNode::String(out)};
      }
      case Fn::kChildren: {
        Collection out;
        for (const auto& x : in) AllChildren(x, &out);
        CARNET_RETURN_IF_ERROR(Grow(out));
        return out;
      }
      case Fn::kDescendants: {
        // Breadth-first; JSON depth is bounded by the parser, the item count here.
        Collection out;
        Collection frontier = in;
        while (!frontier.empty()) {
          Collection next;
          for (const auto& x : frontier) AllChildren(x, &next);
          out.insert(out.end(), next.begin(), next.end());
          CARNET_RETURN_IF_ERROR(Grow(out));
          frontier = std::move(next);
        }
        return out;
      }
      case Fn::kNot: {
        auto b = ToBool(in);
        if (!b.ok()) return b.status();
        if (!b->has_value()) return Collection{};
        return Collection{FhirPathNode::Boolean(!**b)};
      }
      case Fn::kTrace:
        return in;  // no logging of patient data
      case Fn::kToday:
        return Collection{Temporal(Kind::kDate, NowText(false))};
      case Fn::kNow:
        return Collection{Temporal(Kind::kDateTime, NowText(true))};
      case Fn::kTimeOfDay: {
        std::string now = NowText(true);
        return Collection{Temporal(Kind::kTime, now.substr(11, 12))};
      }
      case Fn::kExtension: {
        auto url_c = EvalArg(call, 0, c);
        if (!url_c.ok()) return url_c;
        auto url = SingleString(*url_c, "extension");
        if (!url.ok()) return url.status();
        if (!url->has_value()) return Collection{};
        Collection exts;
        for (const auto& x : in) Children(x, "extension", &exts);
        Collection out;
        for (const auto& e : exts)
          if (e.json && e.json->is_object() && e.json->GetString("url") == **url) out.push_back(e);
        return out;
      }
      case Fn::kHasValue:
        return Collection{FhirPathNode::Boolean(in.size() == 1 && in[0].kind == Kind::kElement &&
                                                in[0].json && !in[0].json->is_object() &&
                                                !in[0].json->is_array())};
      case Fn::kGetValue: {
        if (in.size() != 1 || !in[0].is_primitive_element()) return Collection{};
        auto v = ToSystem(in[0]);
        if (!v.ok() || !v->has_value()) return Collection{};
        return Collection{**v};
      }
      case Fn::kResolve: {
        Collection out;
        for (const auto& x : in) Resolve(x, c, &out);
        return out;
      }
      case Fn::kAbs:
      case Fn::kCeiling:
      case Fn::kFloor:
      case Fn::kRound:
      case Fn::kTruncate:
      case Fn::kSqrt:
      case Fn::kExp:
      case Fn::kLn:
      case Fn::kLog:
      case Fn::kPower:
        return Math(call, in, c);
      case Fn::kHtmlChecks: {
        // R4's narrative rules (model/narrative.h) on the div's XHTML text.
        if (in.empty()) return Collection{};
        if (in.size() > 1) return EvalError("htmlChecks() on a collection");
        const FhirPathNode& div = in[0];
        if (div.kind != Kind::kElement || !div.json || !div.json->is_string())
          return EvalError("htmlChecks() on something other than a narrative div");
        return Collection{FhirPathNode::Boolean(CheckNarrative(div.json->text()).empty())};
      }
      case Fn::kMatches:
      case Fn::kReplaceMatches:
        return Regex(call, in, c);
    }
    return EvalError("internal: unknown function");
  }

  // A name at the start of a path or after '.'.
  Result<Collection> Member(const std::string& name, const Collection& in, bool leading) const {
    Collection out;
    if (leading && !name.empty() && IsUpper(name[0])) {
      // "Patient.name": a leading type name filters the context by type.
      bool is_type = false;
      for (const auto& x : in) {
        if (IsOfType(x, name)) {
          out.push_back(x);
          is_type = true;
        }
      }
      if (is_type) return out;
      // A known type that does not match ("Encounter.id" on a Patient) selects nothing;
      // any other name is an ordinary member (arbitrary JSON may have capitalised keys).
      if (root_.registry && root_.registry->Find(name)) return out;
    }
    for (const auto& x : in) Children(x, name, &out);
    CARNET_RETURN_IF_ERROR(Grow(out));
    return out;
  }

  const Ctx& root_;

 public:
  Result<Collection> Dispatch(const Ast& a, const Ctx& c) const {
    switch (a.op) {
      case Ast::Op::kLiteral:
        return Collection{a.literal};
      case Ast::Op::kEmptySet:
        return Collection{};
      case Ast::Op::kThis:
        if (c.this_node) return Collection{*c.this_node};
        return *c.focus;
      case Ast::Op::kIndex:
        return Collection{FhirPathNode::Integer(c.index)};
      case Ast::Op::kTotal:
        return c.total ? *c.total : Collection{};
      case Ast::Op::kVariable: {
        const std::string& v = a.name;
        if (v == "resource") return Collection{ResourceNode(c.resource)};
        if (v == "rootResource") return Collection{ResourceNode(c.root_resource)};
        if (v == "context") return *c.context;
        if (v == "ucum") return Collection{FhirPathNode::String("http://unitsofmeasure.org")};
        if (v == "sct") return Collection{FhirPathNode::String("http://snomed.info/sct")};
        if (v == "loinc") return Collection{FhirPathNode::String("http://loinc.org")};
        if (v.compare(0, 3, "vs-") == 0)
          return Collection{
              FhirPathNode::String(Cat({"http://hl7.org/fhir/ValueSet/", v.substr(3)}))};
        if (v.compare(0, 4, "ext-") == 0)
          return Collection{
              FhirPathNode::String(Cat({"http://hl7.org/fhir/StructureDefinition/", v.substr(4)}))};
        auto it = c.env->variables.find(v);
        if (it != c.env->variables.end()) return it->second;
        return EvalError(Cat({"unknown variable %", v}));
      }
      case Ast::Op::kMember:
        return Member(a.name, *c.focus, true);
      case Ast::Op::kFunction:
        return Function(a, *c.focus, c);
      case Ast::Op::kInvoke: {
        auto left = Eval(*a.children[0], c);
        if (!left.ok()) return left;
        const Ast& right = *a.children[1];
        if (right.op == Ast::Op::kMember) return Member(right.name, *left, false);
        if (right.op == Ast::Op::kFunction) return Function(right, *left, c);
        // $this after a '.' (rare): the left side.
        return left;
      }
      case Ast::Op::kIndexer: {
        auto coll = Eval(*a.children[0], c);
        if (!coll.ok()) return coll;
        auto idx = Eval(*a.children[1], c);
        if (!idx.ok()) return idx;
        auto i = SingleInteger(*idx, "[]");
        if (!i.ok()) return i.status();
        if (!i->has_value() || **i < 0 || static_cast<size_t>(**i) >= coll->size())
          return Collection{};
        return Collection{(*coll)[static_cast<size_t>(**i)]};
      }
      case Ast::Op::kNegate: {
        auto v = Eval(*a.children[0], c);
        if (!v.ok()) return v;
        auto x = Single(*v, "unary -");
        if (!x.ok()) return x.status();
        if (!x->has_value()) return Collection{};
        FhirPathNode n = **x;
        if (n.kind == Kind::kInteger) {
          n.integer = -n.integer;
        } else if (n.kind == Kind::kDecimal || n.kind == Kind::kQuantity) {
          n.decimal = -n.decimal;
          n.text = n.text.empty() || n.text[0] != '-' ? Cat({"-", n.text}) : n.text.substr(1);
        } else {
          return EvalError("unary - needs a number");
        }
        return Collection{n};
      }
      case Ast::Op::kBinary:
        return Binary(a, c);
      case Ast::Op::kIsType:
      case Ast::Op::kAsType: {
        auto v = Eval(*a.children[0], c);
        if (!v.ok()) return v;
        CARNET_RETURN_IF_ERROR(CheckType(a.type_name));
        if (a.op == Ast::Op::kIsType) {
          if (v->empty()) return Collection{};
          if (v->size() > 1) return EvalError("'is' on a collection");
          return Collection{FhirPathNode::Boolean(IsOfType((*v)[0], a.type_name))};
        }
        // 'as' on several items filters them: R4 search parameter expressions such as
        // (ActivityDefinition.useContext.value as CodeableConcept) rely on it.
        Collection out;
        for (const auto& x : *v)
          if (IsOfType(x, a.type_name, true)) out.push_back(x);
        return out;
      }
    }
    return EvalError("internal: unknown node");
  }
};

Result<Collection> Evaluator::Eval(const Ast& a, const Ctx& c) const { return Dispatch(a, c); }

}  // namespace

namespace {

Result<FhirPathCollection> EvaluateAst(const Ast& root, const std::string& text,
                                       const FhirPathCollection& context,
                                       const FhirPathEnvironment& env,
                                       const JsonValue* default_resource) {
  Ctx c;
  c.env = &env;
  c.registry = env.registry;
  c.resource = env.resource ? env.resource : default_resource;
  c.root_resource = env.root_resource ? env.root_resource : c.resource;
  c.context = &context;
  c.focus = &context;
  Evaluator ev(c);
  auto r = ev.Eval(root, c);
  if (!r.ok()) return Status(r.status().code(), r.status().message(), text);
  return r;
}

}  // namespace

Result<FhirPathCollection> FhirPathExpression::Evaluate(const FhirPathCollection& context,
                                                        const FhirPathEnvironment& env) const {
  if (!root_) return Internal("FHIRPath expression not parsed");
  const JsonValue* resource = nullptr;
  if (!context.empty() && context[0].kind == FhirPathNode::Kind::kElement && context[0].json &&
      context[0].json->is_object() && context[0].json->Find("resourceType"))
    resource = context[0].json;
  return EvaluateAst(*root_, text_, context, env, resource);
}

Result<FhirPathCollection> FhirPathExpression::Evaluate(const JsonValue& resource,
                                                        const FhirPathEnvironment& env) const {
  if (!root_) return Internal("FHIRPath expression not parsed");
  Ctx c;
  c.env = &env;
  c.registry = env.registry;
  Evaluator ev(c);
  FhirPathCollection context{ev.ResourceNode(&resource)};
  return EvaluateAst(*root_, text_, context, env, &resource);
}

Result<bool> FhirPathExpression::EvaluateBoolean(const JsonValue& resource,
                                                 const FhirPathEnvironment& env) const {
  auto r = Evaluate(resource, env);
  if (!r.ok()) return r.status();
  auto b = Evaluator::ToBool(*r);
  if (!b.ok()) return Status(b.status().code(), b.status().message(), text_);
  return b->value_or(false);
}

}  // namespace carnet::model
