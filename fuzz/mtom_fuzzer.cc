// xds/mtom: the HTTP body of a SOAP request and its Content-Type header (MTOM/XOP
// multipart/related, or plain SOAP). Input: the Content-Type header value, a newline, then
// the body. Then every attachment as an ITI-41 document would be resolved.
#include <cstdint>
#include <string_view>

#include "xds/mtom.h"
#include "xds/soap.h"

using namespace carnet::xds;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  if (nl == std::string_view::npos) {
    (void)ParseContentType(input);
    (void)ContentIdFromHref(input);
    if (auto decoded = Base64Decode(input); decoded.ok()) {
      if (Base64Decode(Base64Encode(*decoded)).value() != *decoded) __builtin_trap();
    }
    return 0;
  }
  MtomLimits limits;
  limits.max_parts = 16;
  limits.max_part_bytes = 1 << 16;
  limits.max_body_bytes = 1 << 20;
  auto message = ReadInboundMessage(input.substr(0, nl), input.substr(nl + 1), limits);
  if (!message.ok()) return 0;
  SoapParseOutcome outcome = ParseSoapRequest(std::move(*message));
  if (!outcome.request) return 0;
  // Every xop:Include of the envelope, resolved as ResolveBinary does for xds:Document.
  for (pugi::xpath_node n : outcome.request->document->select_nodes("//*[*[local-name()='Include']]"))
    (void)ResolveBinary(n.node(), *outcome.request);
  return 0;
}
