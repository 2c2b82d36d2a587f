// Small string helpers shared by every layer.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace carnet {

// Escapes `s` for a JSON string literal (without the surrounding quotes). Control
// characters become \u00XX; bytes >= 0x80 pass through unchanged.
std::string JsonEscape(std::string_view s);

// `n` random bytes from the OS CSPRNG, as 2n lower-case hex digits.
std::string RandomHex(size_t n);

// RFC 3339 UTC time with milliseconds: 2026-11-25T04:12:34.123Z.
std::string FormatUtc(std::chrono::system_clock::time_point t);

}  // namespace carnet
