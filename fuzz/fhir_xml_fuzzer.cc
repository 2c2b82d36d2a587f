// fhir/xml_format: a FHIR XML resource from a client (a create or update in XML). What
// reads as a resource is also written back to XML, as a read of it in XML would.
#include <cstdint>
#include <string_view>

#include "fhir/xml_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto json = carnet::fhir::ResourceXmlToJson(xml);
  if (!json.ok()) return 0;
  (void)carnet::fhir::ResourceJsonToXml(*json, /*pretty=*/size % 2 == 0);
  return 0;
}
