// Small string helpers shared by every layer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carnet {

// Escapes `s` for a JSON string literal (without the surrounding quotes). Control
// characters become \u00XX; bytes >= 0x80 pass through unchanged.
std::string JsonEscape(std::string_view s);

// Escapes `s` for XML or HTML text and attribute values: & < > " ' become entities.
std::string XmlEscape(std::string_view s);

// `s` with ASCII letters in lower case (other bytes unchanged).
std::string AsciiLower(std::string_view s);

// `bytes` as lower-case hex digits, two a byte.
std::string HexEncode(std::string_view bytes);

// `n` random bytes from the OS CSPRNG, as 2n lower-case hex digits.
std::string RandomHex(size_t n);

// RFC 3339 UTC time with milliseconds: 2026-11-25T04:12:34.123Z.
std::string FormatUtc(std::chrono::system_clock::time_point t);

}  // namespace carnet

namespace carnet {

// RFC 7231 IMF-fixdate ("Wed, 25 Nov 2026 04:12:34 GMT") of an RFC 3339 instant
// ("2026-11-25T04:12:34.123Z"); empty when the instant does not parse.
std::string HttpDateFromInstant(const std::string& instant);

// Seconds since the epoch of an RFC 3339 instant or an HTTP date; nullopt when unparsable.
std::optional<long long> EpochSeconds(const std::string& text);

// True for a valid FHIR logical id: [A-Za-z0-9\-\.]{1,64}.
bool IsValidFhirId(std::string_view id);

// A new random (version 4) UUID in lower-case 8-4-4-4-12 form.
std::string NewUuid();

// True for the 8-4-4-4-12 hexadecimal form of a UUID (either case, no urn:uuid: prefix): what
// PostgreSQL's uuid type accepts.
bool IsUuid(std::string_view s);

}  // namespace carnet

namespace carnet {

// Standard base64 (RFC 4648 section 4) with padding.
std::string Base64Encode(std::string_view bytes);
// Decodes standard base64, whitespace ignored; nullopt when malformed.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace carnet

namespace carnet {

// Appends the UTF-8 encoding of code point `cp` to *out.
void AppendUtf8(uint32_t cp, std::string* out);

// Index of the first C0 control character other than tab, LF and CR in `s`, or npos: what
// FHIR R4 strings may not hold (datatypes, "string") and XML 1.0 cannot carry; U+0000 also
// cannot be stored by PostgreSQL.
size_t FindControlCharacter(std::string_view s);

// Offset of the first XML character reference (&#N; or &#xN;) to something that is not an
// XML 1.0 Char, &#0; among them; npos when none. XML forbids them as it forbids the characters
// themselves, and pugixml would decode &#0; into a NUL that silently cuts the value short.
size_t FindForbiddenCharReference(std::string_view xml);

}  // namespace carnet

namespace carnet {

// Levenshtein distance (insertions, deletions, substitutions of bytes).
size_t EditDistance(std::string_view a, std::string_view b);

// The candidates close to `word` (an unknown flag or setting), closest first, at most `limit`:
// within an edit distance of a third of the word's length (at least 2), or containing it, or
// contained in it (a 3-letter fragment at least).
std::vector<std::string> CloseMatches(std::string_view word,
                                      const std::vector<std::string>& candidates, size_t limit = 5);

}  // namespace carnet
