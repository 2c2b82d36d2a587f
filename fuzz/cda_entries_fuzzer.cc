// mapping/cda_entries: the level-3 entries (and a level-1 embedded body) of a CDA R2
// document, extracted into FHIR resources once the document is stored.
#include <cstdint>
#include <string_view>

#include "mapping/cda_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  (void)carnet::mapping::ExtractCdaEntries(xml, "Patient/1", "DocumentReference/d1");
  return 0;
}
