// base/json: any bytes either parse or are refused; what parses writes back to text that
// parses to the same value (the round trip FHIR's number and member order rules rely on).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = carnet::ParseJson(text);
  carnet::JsonParseOptions lenient;
  lenient.reject_duplicate_keys = false;
  lenient.max_depth = 8;
  (void)carnet::ParseJson(text, lenient);
  if (!parsed.ok()) return 0;
  for (bool pretty : {false, true}) {
    auto again = carnet::ParseJson(carnet::WriteJson(*parsed, pretty));
    if (!again.ok() || *again != *parsed) std::abort();  // the round trip lost something
  }
  return 0;
}
