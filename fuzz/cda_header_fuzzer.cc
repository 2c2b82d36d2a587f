// mapping/cda_header: the header of a CDA R2 document (a bare $deposit, an ITI-41 document)
// read into XDS metadata.
#include <cstdint>
#include <string_view>

#include "mapping/cda_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto header = carnet::mapping::ReadCdaHeader(xml);
  // The HL7 TS conversion on its own too: short inputs reach its corner cases quickly.
  if (size < 64) (void)carnet::mapping::DtmFromHl7Ts(xml);
  if (header.ok()) (void)carnet::mapping::ClassCodeForType(header->entry.type_code.code);
  return 0;
}
