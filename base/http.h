// The HTTP request and response as carnet's own layers see them.
//
// server/ adapts Pistache to these plain structs, so that fhir/ and xds/ never include
// Pistache and can be tested by building a request by hand.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace carnet {

// Header names compared case-insensitively (RFC 9110 5.1).
bool HeaderNameEquals(std::string_view a, std::string_view b);

struct HttpRequest {
  std::string method;      // "GET", "POST"...
  std::string path;        // "/fhir/Patient/1", without the query string, not decoded
  std::string query;       // raw query string after '?', not decoded; empty if none
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string peer;        // client address, "127.0.0.1"
  std::string request_id;  // assigned by server/, echoed as X-Request-Id
  std::chrono::steady_clock::time_point received;
  // Mutual TLS: set only when the connection presented a client certificate that the TLS
  // layer verified against the configured CA (server/http_server.h).
  std::string client_cert_subject_cn;  // the certificate subject's commonName
  std::string client_cert_sha256;      // hex SHA-256 of the DER certificate

  // First header with that name, or nullptr.
  const std::string* Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;  // empty: no body type
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void SetHeader(std::string name, std::string value);
};

// A layer's entry point: fhir/ and xds/ each expose one.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Percent-decodes a query or path component ('+' is a space only when form_encoded).
std::string PercentDecode(std::string_view in, bool form_encoded);
// %XX-encodes every byte but the RFC 3986 unreserved characters (letters, digits, - . _ ~)
// and those of `also_safe` (e.g. ":," in the query strings of paging links).
std::string PercentEncode(std::string_view in, std::string_view also_safe = "");

// The raw head of a request as it arrived (request line and header lines, CRLF separated),
// which server/ captures from the bytes because Pistache loses repeated query parameters and
// re-renders headers. These read it without trusting it: any bytes give an answer.
// The request target of "METHOD SP target SP version"; empty when the line has no two spaces.
std::string RequestTargetOfHead(std::string_view head);
// The header lines ("Name: value", value trimmed of spaces and tabs), in order; lines
// without a colon, or with an empty name, are skipped.
std::vector<std::pair<std::string, std::string>> HeadersOfRequestHead(std::string_view head);

// Splits "a=1&b=2" into decoded (name, value) pairs, keeping order and repeats.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace carnet
