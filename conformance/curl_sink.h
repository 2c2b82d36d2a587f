// libcurl write callbacks shared by the conformance engines and the integration tests' client:
// the answer's body appended to a std::string, its headers collected by lower-case name.
#pragma once

#include <cstddef>
#include <map>
#include <string>

namespace carnet::conformance {

// CURLOPT_WRITEFUNCTION; CURLOPT_WRITEDATA is a std::string*.
size_t AppendBody(char* data, size_t size, size_t n, void* body);

// CURLOPT_HEADERFUNCTION; CURLOPT_HEADERDATA is a std::map<std::string, std::string>* (name in
// lower case -> value trimmed; a repeated header keeps its last value).
size_t CollectHeader(char* data, size_t size, size_t n, void* headers);

}  // namespace carnet::conformance
