// base/http: the raw head of a request (request line and headers) as the server captures it
// from the socket, then its query string as the FHIR layer decodes it.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view head(reinterpret_cast<const char*>(data), size);
  carnet::HttpRequest request;
  request.headers = carnet::HeadersOfRequestHead(head);
  std::string target = carnet::RequestTargetOfHead(head);
  size_t q = target.find('?');
  request.path = target.substr(0, q);
  if (q != std::string::npos) request.query = target.substr(q + 1);
  (void)carnet::PercentDecode(request.path, false);
  for (const auto& [name, value] : carnet::ParseQuery(request.query)) (void)name, (void)value;
  (void)request.Header("Content-Type");
  return 0;
}
